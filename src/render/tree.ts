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
  const walk = (nodes: TreeNode<R>[], indent: string, depth: number): void => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      out.push({ row: n.row, prefix: depth === 0 ? '' : `${indent}${last ? '└─' : '├─'}` });
      walk(n.children, depth === 0 ? '' : `${indent}${last ? '  ' : '│ '}`, depth + 1);
    });
  };
  walk(forest, '', 0);
  return out;
}

/** Nested JSON objects: `toObject(row)` plus "children" where there are any. */
export function forestToJson<R>(forest: TreeNode<R>[], toObject: (r: R) => Record<string, unknown>): Record<string, unknown>[] {
  return forest.map((n) => ({ ...toObject(n.row), ...(n.children.length ? { children: forestToJson(n.children, toObject) } : {}) }));
}
