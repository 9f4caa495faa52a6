/**
 * Tables drawn as trees, as lsns -T does: rows nest under a parent row, children in the order
 * given, glyphs `├─ └─ │` in one column, and JSON nests children under "children".
 */
export interface TreeNode<R> {
  row: R;
  children: TreeNode<R>[];
}

/**
 * Build a forest: `parentOf` names a row's parent (or undefined for a root); a parent that is
 * not among the rows, or a cycle, makes the row a root. Order is kept from `rows`.
 */
export function buildForest<R>(rows: R[], parentOf: (r: R, index: number) => number | undefined): TreeNode<R>[] {
  const nodes = rows.map((row) => ({ row, children: [] as TreeNode<R>[] }));
  const roots: TreeNode<R>[] = [];
  rows.forEach((r, i) => {
    const p = parentOf(r, i);
    // walk up to make sure i is not its own ancestor
    let q = p;
    const seen = new Set([i]);
    while (q !== undefined && !seen.has(q)) {
      seen.add(q);
      q = parentOf(rows[q]!, q);
    }
    if (p === undefined || q !== undefined) roots.push(nodes[i]!);
    else nodes[p]!.children.push(nodes[i]!);
  });
  return roots;
}

/** Depth-first rows with the glyphs to put before the tree column's text. */
export function flattenForest<R>(forest: TreeNode<R>[]): { row: R; prefix: string }[] {
  const out: { row: R; prefix: string }[] = [];
  // a stack of (node, its siblings' indent, is it the last, depth), not recursion: a tree can be
  // thousands deep (a dump's cgroup path, a chain of processes)
  const stack: { n: TreeNode<R>; indent: string; last: boolean; depth: number }[] = [];
  const pushAll = (nodes: TreeNode<R>[], indent: string, depth: number): void => {
    for (let i = nodes.length - 1; i >= 0; i--) stack.push({ n: nodes[i]!, indent, last: i === nodes.length - 1, depth });
  };
  pushAll(forest, '', 0);
  while (stack.length > 0) {
    const { n, indent, last, depth } = stack.pop()!;
    out.push({ row: n.row, prefix: depth === 0 ? '' : `${indent}${last ? '└─' : '├─'}` });
    pushAll(n.children, depth === 0 ? '' : `${indent}${last ? '  ' : '│ '}`, depth + 1);
  }
  return out;
}

/** Nested JSON objects: `toObject(row)` plus "children" where there are any. */
export function forestToJson<R>(forest: TreeNode<R>[], toObject: (r: R) => Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const stack: [TreeNode<R>[], Record<string, unknown>[]][] = [[forest, out]];
  while (stack.length > 0) {
    const [nodes, into] = stack.pop()!;
    for (const n of nodes) {
      const o = toObject(n.row);
      if (n.children.length) {
        const children: Record<string, unknown>[] = [];
        o.children = children;
        stack.push([n.children, children]);
      }
      into.push(o);
    }
  }
  return out;
}
