/**
 * `cinf --cgroups` as text and JSON: the cgroup tree with each group's processes (systemd-cgls)
 * and its tasks, limits and usage (systemd-cgtop, one sample: cumulative CPU time, not a rate).
 * Pure: the tree was read by src/cgroup/tree.ts.
 */
import type { CgroupTreeNode } from '../cgroup/tree.js';
import { formatBytes, formatUsec } from '../util/units.js';
import { renderTable, toJson, withTreePrefix, type Column, type TableOptions } from './table.js';
import { flattenForest, type TreeNode } from './tree.js';

/** What the tree view says of a process: its pid and command. */
export interface CgroupProcess {
  pid: number;
  command: string;
}

export interface CgroupTreeContext {
  /** the container a group holds, by cgroup path */
  containerOf(node: CgroupTreeNode): string | undefined;
  processOf(pid: number): CgroupProcess;
}

export type CgroupRow =
  | { kind: 'group'; node: CgroupTreeNode; container: string | undefined; label: string }
  | { kind: 'process'; pid: number; command: string; pidWidth: number };

const group = <T>(r: CgroupRow, f: (n: CgroupTreeNode, r: Extract<CgroupRow, { kind: 'group' }>) => T): T | undefined => (r.kind === 'group' ? f(r.node, r) : undefined);

/** `0.50` CPUs, `max` */
function quotaText(n: CgroupTreeNode): string | undefined {
  const c = n.stats.cpu;
  if (!c) return undefined;
  if (c.quotaUsec === null) return 'max';
  return c.periodUsec ? (c.quotaUsec / c.periodUsec).toFixed(2) : undefined;
}

/** the figures of a controller that could not be read: `?` (unparsable) or `-` (denied) */
function failed(n: CgroupTreeNode, k: 'memory' | 'cpu' | 'pids'): string {
  const e = n.stats.errors[k];
  return e === 'PARSE' || e === 'TOO_BIG' || e === 'UNSAFE' ? '?' : '-';
}

export const CGROUP_COLUMNS: Column<CgroupRow>[] = [
  {
    id: 'CGROUP',
    help: 'the cgroup (its name under its parent) and, under it, its processes: pid and command',
    json: 'string',
    trunc: true,
    value: (r) => (r.kind === 'group' ? r.node.path : `${r.pid}`),
    text: (r) => (r.kind === 'group' ? r.label : `${String(r.pid).padStart(r.pidWidth)} ${r.command}`),
  },
  { id: 'CONTAINER', help: 'the container whose processes the group holds', json: 'string', value: (r) => group(r, (_n, g) => g.container), text: (r) => (r.kind === 'group' ? g(r.container) : '') },
  { id: 'TASKS', help: 'processes in the group and below it', align: 'right', json: 'number', value: (r) => group(r, (n) => n.tasks), text: (r) => (r.kind === 'group' ? String(r.node.tasks) : '') },
  {
    id: 'CPU',
    help: 'CPU time used by the group since it was made (cpuacct.usage, cpu.stat usage_usec)',
    align: 'right',
    json: 'number',
    value: (r) => group(r, (n) => n.cpuUsageUsec),
    text: (r) => (r.kind === 'group' ? (r.node.cpuUsageUsec !== undefined ? formatUsec(r.node.cpuUsageUsec) : failed(r.node, 'cpu')) : ''),
  },
  {
    id: 'CPU-MAX',
    help: 'CPU quota in CPUs (cpu.max, cpu.cfs_quota_us / cpu.cfs_period_us); max: none',
    align: 'right',
    json: 'string',
    value: (r) => group(r, quotaText),
    text: (r) => (r.kind === 'group' ? quotaText(r.node) ?? failed(r.node, 'cpu') : ''),
  },
  {
    id: 'MEMORY',
    help: 'memory charged to the group (memory.current, memory.usage_in_bytes)',
    align: 'right',
    json: 'number',
    value: (r) => group(r, (n) => n.stats.memory?.usageBytes),
    text: (r) => (r.kind === 'group' ? (r.node.stats.memory ? formatBytes(r.node.stats.memory.usageBytes) : failed(r.node, 'memory')) : ''),
  },
  {
    id: 'MEM-MAX',
    help: 'memory limit (memory.max, memory.limit_in_bytes); max: none',
    align: 'right',
    json: 'number',
    value: (r) => group(r, (n) => n.stats.memory?.limitBytes),
    text: (r) => (r.kind === 'group' ? (r.node.stats.memory ? (r.node.stats.memory.limitBytes === null ? 'max' : formatBytes(r.node.stats.memory.limitBytes)) : failed(r.node, 'memory')) : ''),
  },
  {
    id: 'PIDS',
    help: 'pids.current / pids.max',
    align: 'right',
    json: 'string',
    value: (r) => group(r, (n) => (n.stats.pids ? `${n.stats.pids.current}/${n.stats.pids.max ?? 'max'}` : undefined)),
    text: (r) => (r.kind === 'group' ? (r.node.stats.pids ? `${r.node.stats.pids.current}/${r.node.stats.pids.max ?? 'max'}` : failed(r.node, 'pids')) : ''),
  },
];

function g(s: string | undefined): string {
  return s ?? '-';
}

/** the figures first, the tree last (as ps --forest and lsns put the command): a long command line pads nothing */
export const CGROUP_DEFAULT = ['TASKS', 'CPU', 'CPU-MAX', 'MEMORY', 'MEM-MAX', 'PIDS', 'CONTAINER', 'CGROUP'];

/** The tree as rows, each group followed by its processes, then its subgroups (systemd-cgls's order). */
export function cgroupForest(root: CgroupTreeNode, ctx: CgroupTreeContext): TreeNode<CgroupRow>[] {
  const one = (n: CgroupTreeNode, isRoot: boolean): TreeNode<CgroupRow> => {
    const name = isRoot ? n.path : n.path.slice(n.path.lastIndexOf('/') + 1);
    const hidden = n.hiddenGroups > 0 ? ` (+${n.hiddenGroups} group${n.hiddenGroups === 1 ? '' : 's'} below)` : '';
    const pidWidth = Math.max(0, ...n.pids.map((p) => String(p).length));
    const procs: TreeNode<CgroupRow>[] = n.pids.map((pid) => ({ row: { kind: 'process', pid, command: ctx.processOf(pid).command, pidWidth }, children: [] }));
    return { row: { kind: 'group', node: n, container: ctx.containerOf(n), label: `${name}${hidden}` }, children: procs };
  };
  // a stack, not recursion: a dump can nest groups two thousand deep
  const top = one(root, true);
  const stack: [CgroupTreeNode, TreeNode<CgroupRow>][] = [[root, top]];
  while (stack.length > 0) {
    const [n, t] = stack.pop()!;
    for (const c of n.children) {
      const ct = one(c, false);
      t.children.push(ct);
      stack.push([c, ct]);
    }
  }
  return [top];
}

export function renderCgroupTree(root: CgroupTreeNode, ctx: CgroupTreeContext, cols: Column<CgroupRow>[], opts: TableOptions): string {
  const flat = flattenForest(cgroupForest(root, ctx));
  const prefixes = new Map(flat.map((f) => [f.row, f.prefix]));
  const withTree = cols.some((c) => c.id === 'CGROUP') ? withTreePrefix(cols, 'CGROUP', (r) => prefixes.get(r) ?? '') : cols;
  return renderTable(flat.map((f) => f.row), withTree, opts);
}

/** One group as JSON: what it is, its figures (each with the directory it came from), its processes and subgroups. */
export function cgroupTreeJson(root: CgroupTreeNode, ctx: CgroupTreeContext): unknown {
  const one = (n: CgroupTreeNode): Record<string, unknown> & { children: unknown[] } => ({
    path: n.path,
    directory: n.rel === undefined ? null : `/sys/${n.rel}`,
    container: ctx.containerOf(n) ?? null,
    tasks: n.tasks,
    processes: n.pids.map((pid) => ctx.processOf(pid)),
    memory: n.stats.memory ?? null,
    cpu: n.stats.cpu ? { ...n.stats.cpu, usageUsec: n.cpuUsageUsec ?? null } : null,
    pids: n.stats.pids ?? null,
    io: n.stats.io ?? null,
    errors: n.stats.errors,
    hiddenGroups: n.hiddenGroups,
    children: [],
  });
  // a stack, not recursion (nor toJson's): values go through toJson one group at a time
  const safe = (n: CgroupTreeNode): Record<string, unknown> & { children: unknown[] } => ({ ...(toJson(one(n)) as Record<string, unknown>), children: [] });
  const top = safe(root);
  const stack: [CgroupTreeNode, { children: unknown[] }][] = [[root, top]];
  while (stack.length > 0) {
    const [n, o] = stack.pop()!;
    for (const c of n.children) {
      const co = safe(c);
      o.children.push(co);
      stack.push([c, co]);
    }
  }
  return top;
}
