import type { ProcSource } from '../source/source.js';
import { isProcError } from '../source/errors.js';
import type { CgroupMembership } from '../parse/proc-cgroup.js';
import { cgroupSysRel, hierarchyFor, isPlainCgroupPath, type CgroupHierarchy, type CgroupLayout } from './layout.js';
import { readCgroupStats, type CgroupStats } from './stats.js';

/**
 * One cgroup of a hierarchy as `cinf --cgroups` shows it (systemd-cgls + systemd-cgtop in one
 * view): its processes, the processes below it, and its limits and usage.
 */
export interface CgroupTreeNode {
  /** the cgroup path in the hierarchy (`/system.slice/docker-….scope`); `/` for the root */
  path: string;
  /** the cgroup directory relative to the sys root, or undefined when it is not there (a dump without it) */
  rel: string | undefined;
  depth: number;
  /** pids whose cgroup in this hierarchy is exactly this one, ascending */
  pids: number[];
  /** processes here and in every group below, shown or not (systemd-cgtop's Tasks, recursive) */
  tasks: number;
  children: CgroupTreeNode[];
  /** subgroups not shown: below --depth, or past the node cap */
  hiddenGroups: number;
  stats: CgroupStats;
  /**
   * CPU time used, when a usage file was there to read: v2 cpu.stat, v1 cpuacct.usage (a v1 cpu
   * hierarchy without cpuacct beside it at this path has none, and 0 would be a lie)
   */
  cpuUsageUsec: number | undefined;
}

export interface CgroupTreeOptions {
  /** levels below the start shown; undefined: all */
  depth?: number | undefined;
  /** cgroups shown at most (a hostile or huge tree must not exhaust memory); default MAX_TREE_NODES */
  maxNodes?: number;
}

/** Cgroups one view shows at most: past it the rest is counted, not read. */
export const MAX_TREE_NODES = 5000;

/**
 * Each process's cgroup path in hierarchy `h`, from its /proc/PID/cgroup lines (as read by the
 * reader, so relative to the reader's cgroup namespace). A `/..` path (another cgroup namespace)
 * or one with `.`/`..` components is left out: it names no directory under the mount.
 */
export function membersOf(layout: CgroupLayout, h: CgroupHierarchy, processes: readonly { pid: number; cgroups?: CgroupMembership[] | undefined }[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const p of processes) {
    for (const line of p.cgroups ?? []) {
      if (hierarchyFor(layout, line) !== h) continue;
      if (line.path.startsWith('/..') || !isPlainCgroupPath(line.path)) continue;
      out.set(p.pid, line.path.length > 1 ? line.path.replace(/\/+$/, '') : line.path);
    }
  }
  return out;
}

function isUnder(path: string, start: string): boolean {
  return start === '/' ? path.startsWith('/') : path === start || path.startsWith(`${start}/`);
}

function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/**
 * The cgroup tree of one hierarchy from `start` down: its directories (read through the source,
 * never following a symlink, never leaving the mount: names come from readdir, so no component
 * is `.` or `..`), and the groups that only the processes' cgroup files name (a dump without the
 * directory). Each shown group's limits and usage come from the same path in each controller's
 * hierarchy (src/cgroup/stats.ts), so a v1 memory view also shows that group's cpu and pids.
 * Undefined when `start` is neither a directory nor any process's cgroup.
 */
export function readCgroupTree(src: ProcSource, layout: CgroupLayout, h: CgroupHierarchy, start: string, members: ReadonlyMap<number, string>, opts: CgroupTreeOptions = {}): CgroupTreeNode | undefined {
  if (!isPlainCgroupPath(start)) return undefined;
  const startPath = start.length > 1 ? start.replace(/\/+$/, '') : start;
  const rootRel = cgroupSysRel(h, startPath);
  if (rootRel === undefined) return undefined;
  const maxDepth = opts.depth ?? Infinity;
  const maxNodes = opts.maxNodes ?? MAX_TREE_NODES;
  const exists = src.sysExists(rootRel);
  const memberPaths = [...members.entries()].filter(([, p]) => isUnder(p, startPath));
  if (!exists && memberPaths.length === 0) return undefined;

  const byPath = new Map<string, CgroupTreeNode>();
  /** each node's children by name and its parent: placing a process costs a lookup a level, no path string built */
  const kids = new Map<CgroupTreeNode, Map<string, CgroupTreeNode>>();
  const parentOf = new Map<CgroupTreeNode, CgroupTreeNode>();
  /** groups counted in a parent's hiddenGroups (listed, or named by a process's cgroup file) */
  const hiddenPaths = new Set<string>();
  const node = (path: string, rel: string | undefined, depth: number): CgroupTreeNode => {
    const n: CgroupTreeNode = { path, rel, depth, pids: [], tasks: 0, children: [], hiddenGroups: 0, stats: { errors: {} }, cpuUsageUsec: undefined };
    byPath.set(path, n);
    kids.set(n, new Map());
    return n;
  };
  const adopt = (parent: CgroupTreeNode, name: string, c: CgroupTreeNode): void => {
    kids.get(parent)!.set(name, c);
    parentOf.set(c, parent);
  };
  const root = node(startPath, exists ? rootRel : undefined, 0);

  // the directories, breadth first, so a node cap keeps the upper levels
  const queue: CgroupTreeNode[] = exists ? [root] : [];
  let head = 0;
  while (head < queue.length) {
    const n = queue[head++]!;
    let names: string[];
    try {
      names = src.listSys(n.rel!).filter((e) => e.isDir).map((e) => e.name).sort(byCodeUnit);
    } catch (e) {
      // removed while we walked, or not ours to list: the group stays, without children
      if (!isProcError(e)) throw e;
      continue;
    }
    for (const name of names) {
      const path = childPath(n.path, name);
      if (n.depth >= maxDepth || byPath.size >= maxNodes) {
        n.hiddenGroups++;
        hiddenPaths.add(path);
        continue;
      }
      const c = node(path, `${n.rel}/${name}`, n.depth + 1);
      n.children.push(c);
      adopt(n, name, c);
      queue.push(c);
    }
  }

  // the processes: each under its own group, or counted in the deepest shown ancestor
  for (const [pid, path] of memberPaths) {
    const rest = startPath === '/' ? path.slice(1) : path.slice(startPath.length + 1);
    const parts = rest === '' ? [] : rest.split('/');
    let n = root;
    n.tasks++;
    let placed = true;
    for (const part of parts) {
      let c = kids.get(n)!.get(part);
      if (!c) {
        // a group only the process's cgroup file names (not listed: absent from the dump, or made since)
        const p = childPath(n.path, part);
        if (n.depth >= maxDepth || byPath.size >= maxNodes) {
          if (!hiddenPaths.has(p)) n.hiddenGroups++;
          hiddenPaths.add(p);
          placed = false;
          break;
        }
        const rel = n.rel === undefined ? undefined : `${n.rel}/${part}`;
        c = node(p, rel !== undefined && src.sysExists(rel) ? rel : undefined, n.depth + 1);
        insertSorted(n.children, c);
        adopt(n, part, c);
      }
      n = c;
      n.tasks++;
    }
    if (placed) n.pids.push(pid);
  }

  // limits and usage of each shown group, read at the same path in every hierarchy; a group with a
  // directory in no hierarchy (a dump's process naming a path that is not there) has nothing to
  // read, and neither has any group below it. Parents come first in byPath (made top-down).
  const nowhere = new Set<CgroupTreeNode>();
  for (const n of byPath.values()) {
    n.pids.sort((a, b) => a - b);
    const parent = parentOf.get(n);
    if ((parent !== undefined && nowhere.has(parent)) || (n.rel === undefined && !layout.hierarchies.some((x) => isThere(src, x, n.path)))) {
      nowhere.add(n);
      continue;
    }
    const lines: CgroupMembership[] = layout.hierarchies.map((x) => ({ hierarchyId: x.version === 2 ? 0 : 1, controllers: x.controllers, path: n.path }));
    n.stats = readCgroupStats(src, layout, lines);
    const cpu = n.stats.cpu;
    if (cpu) n.cpuUsageUsec = cpu.version === 2 || src.sysExists(`${cpu.usageFrom.dir.slice('/sys/'.length)}/cpuacct.usage`) ? cpu.usageUsec : undefined;
  }
  return root;
}

/** the group's directory in hierarchy `x` is there */
function isThere(src: ProcSource, x: CgroupHierarchy, path: string): boolean {
  const rel = cgroupSysRel(x, path);
  return rel !== undefined && src.sysExists(rel);
}

/** insert keeping children in code-unit order of their paths (one splice, not a sort a child) */
function insertSorted(children: CgroupTreeNode[], c: CgroupTreeNode): void {
  let lo = 0;
  let hi = children.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byCodeUnit(children[mid]!.path, c.path) <= 0) lo = mid + 1;
    else hi = mid;
  }
  children.splice(lo, 0, c);
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Depth-first, parents before children: every shown node. */
export function walkTree(root: CgroupTreeNode): CgroupTreeNode[] {
  const out: CgroupTreeNode[] = [];
  // a stack, not recursion: a dump can nest groups two thousand deep
  const stack = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    out.push(n);
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return out;
}
