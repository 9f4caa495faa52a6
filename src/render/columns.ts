import type { Column } from './table.js';
import type { NamespaceGroup } from '../model/namespaces.js';
import type { Container } from '../model/containers.js';
import { commandOf, effectiveUid, type ProcessInfo } from '../model/process.js';
import { capNames, formatMaskHex } from '../parse/capabilities.js';
import { seccompModeName } from '../parse/proc-status.js';
import type { CgroupMembership } from '../parse/proc-cgroup.js';
import type { ProcFile } from '../proc/process.js';
import { lsmLabelOf, type LsmLabels, type LsmState } from '../parse/lsm-attr.js';

/**
 * What a column needs read. The views read exactly the union of their chosen columns' needs;
 * nothing else decides what is read.
 */
export interface ColumnReads {
  /** files of the process the row shows (a namespace's lowest pid; a process row's process) */
  files?: readonly ProcFile[];
  /** files of every process of the scan (a column that sums over a namespace's processes) */
  scanFiles?: readonly ProcFile[];
  /** containers must be found (every process's stat and cgroup) */
  containers?: boolean;
  /** lsns's parent/owner namespace relations (the nsfs ioctls) */
  relations?: boolean;
}

export type ReadingColumn<R> = Column<R> & ColumnReads;

/** The union of what the chosen columns need. */
export function columnReads(cols: readonly ColumnReads[]): { files: ProcFile[]; scanFiles: ProcFile[]; containers: boolean; relations: boolean } {
  const files = new Set<ProcFile>();
  const scanFiles = new Set<ProcFile>();
  for (const c of cols) {
    for (const f of c.files ?? []) files.add(f);
    for (const f of c.scanFiles ?? []) scanFiles.add(f);
  }
  return { files: [...files], scanFiles: [...scanFiles], containers: cols.some((c) => c.containers), relations: cols.some((c) => c.relations) };
}

/** A namespace with what the list view says of it. */
export interface NsRow {
  group: NamespaceGroup;
  /** sorted unique effective uids of its processes */
  users: number[];
  userName(uid: number | undefined): string | undefined;
  containers: Container[];
  /** lsns's PNS/ONS, when asked for and readable (live host, native addon) */
  relations?: { parent: number; owner: number } | undefined;
}

const euid = effectiveUid;

/** `namespace/pod` for a Kubernetes pod, `compose:project` for a compose project, the pod uid when only the cgroup names it */
export function podOf(c: Container): string | undefined {
  if (c.pod !== undefined) return c.podNamespace !== undefined ? `${c.podNamespace}/${c.pod}` : c.pod;
  if (c.project !== undefined) return `compose:${c.project}`;
  return undefined;
}

function uniq(xs: (string | undefined)[]): string[] {
  return [...new Set(xs.filter((x): x is string => x !== undefined))];
}

function listText(xs: string[]): string {
  return xs.length === 0 ? '-' : xs.length > 3 ? `${xs.slice(0, 3).join(',')},+${xs.length - 3}` : xs.join(',');
}

/** a label; `-` when there is none (no LSM, not present, denied, gone); `?` when it could not be read as text */
function lsmText(l: LsmLabels | undefined): string {
  const label = lsmLabelOf(l);
  if (label !== undefined) return label;
  const bad = (st: LsmState | undefined) => st !== undefined && 'error' in st && (st.error === 'PARSE' || st.error === 'TOO_BIG' || st.error === 'UNSAFE' || st.error === 'IO');
  return l && (bad(l.current) || bad(l.apparmor)) ? '?' : '-';
}

export const NS_COLUMNS: ReadingColumn<NsRow>[] = [
  { id: 'NS', help: 'namespace identifier (inode number)', align: 'right', json: 'number', value: (r) => r.group.ns.inode },
  { id: 'TYPE', help: 'kind of namespace', json: 'string', value: (r) => r.group.ns.type },
  { id: 'NPROCS', help: 'number of processes in the namespace', align: 'right', json: 'number', value: (r) => r.group.pids.length },
  { id: 'USERS', scanFiles: ['owner'], help: 'effective uids of its processes', json: 'array', value: (r) => r.users, text: (r) => (r.users.length ? r.users.join(',') : '-') },
  { id: 'PID', help: 'lowest PID in the namespace', align: 'right', json: 'number', value: (r) => r.group.lowest?.pid },
  { id: 'PPID', files: ['stat'], help: 'PPID of the PID', align: 'right', json: 'number', value: (r) => r.group.lowest?.stat?.ppid ?? r.group.lowest?.status?.ppid },
  { id: 'UID', files: ['ids'], help: 'effective uid of the PID', align: 'right', json: 'number', value: (r) => (r.group.lowest ? euid(r.group.lowest) : undefined) },
  { id: 'USER', files: ['ids'], help: 'user name of the PID', json: 'string', value: (r) => (r.group.lowest ? r.userName(euid(r.group.lowest)) : undefined) },
  {
    id: 'PATH',
    help: 'path to the namespace (a bind mount when no process is in it)',
    json: 'string',
    trunc: 'middle',
    value: (r) => {
      const g = r.group;
      if (g.pids.length === 0 && g.threads.length > 0) return `/proc/${g.threads[0]!.pid}/task/${g.threads[0]!.tid}/ns/${g.ns.type}`;
      return g.lowest ? `/proc/${g.lowest.pid}/ns/${g.ns.type}` : g.bindMounts[0];
    },
  },
  {
    id: 'THREADS',
    scanFiles: ['tasks'],
    help: 'threads in it whose process is not (cinf --threads): pid/tid',
    json: 'array',
    value: (r) => r.group.threads.map((t) => `${t.pid}/${t.tid}`),
    text: (r) => (r.group.threads.length === 0 ? '-' : r.group.threads.length > 3 ? `${r.group.threads.slice(0, 3).map((t) => `${t.pid}/${t.tid}`).join(',')},+${r.group.threads.length - 3}` : r.group.threads.map((t) => `${t.pid}/${t.tid}`).join(',')),
  },
  { id: 'NSFS', help: 'where the namespace is bind-mounted (ip netns, docker)', json: 'array', value: (r) => r.group.bindMounts, text: (r) => r.group.bindMounts.join(',') || '-' },
  { id: 'DEV', help: 'device number of nsfs (namespace identity is dev + inode)', align: 'right', json: 'number', value: (r) => r.group.ns.dev },
  { id: 'HOST', help: "yes if this is the host's namespace of its type", json: 'boolean', value: (r) => r.group.isHost, text: (r) => (r.group.isHost ? 'yes' : 'no') },
  {
    id: 'CONTAINER',
    containers: true,
    help: "containers whose processes are in it ('(host)' for the host's namespaces)",
    json: 'array',
    value: (r) => (r.group.isHost ? [] : r.containers.map((c) => c.name)),
    text: (r) => (r.group.isHost ? '(host)' : r.containers.length === 0 ? '-' : r.containers.length > 3 ? `${r.containers.slice(0, 3).map((c) => c.name).join(',')},+${r.containers.length - 3}` : r.containers.map((c) => c.name).join(',')),
  },
  {
    id: 'POD',
    containers: true,
    help: 'Kubernetes pods (namespace/name) or compose projects of its containers',
    json: 'array',
    value: (r) => (r.group.isHost ? [] : uniq(r.containers.map(podOf))),
    text: (r) => listText(r.group.isHost ? [] : uniq(r.containers.map(podOf))),
  },
  {
    id: 'IMAGE',
    containers: true,
    help: 'images of its containers (as the runtime recorded them)',
    json: 'array',
    value: (r) => (r.group.isHost ? [] : uniq(r.containers.map((c) => c.image))),
    text: (r) => listText(r.group.isHost ? [] : uniq(r.containers.map((c) => c.image))),
  },
  { id: 'LABEL', files: ['lsm'], help: 'LSM label of the PID (attr/current, else attr/apparmor/current)', json: 'string', value: (r) => lsmLabelOf(r.group.lowest?.lsm), text: (r) => lsmText(r.group.lowest?.lsm) },
  { id: 'PNS', relations: true, help: 'parent namespace identifier (inode number), 0 when none', align: 'right', json: 'number', value: (r) => r.relations?.parent },
  { id: 'ONS', relations: true, help: 'owner user namespace identifier (inode number), 0 for the initial one', align: 'right', json: 'number', value: (r) => r.relations?.owner },
  { id: 'CMD', files: ['cmdline'], help: 'command line of the PID', json: 'string', trunc: true, value: (r) => (r.group.lowest ? commandOf(r.group.lowest) : undefined) },
];

export const NS_DEFAULT = ['NS', 'TYPE', 'NPROCS', 'USERS', 'PID', 'CMD'];

/** A process with what the per-namespace view says of it. */
export interface ProcRow {
  p: ProcessInfo;
  container: Container | undefined;
  userName(uid: number | undefined): string | undefined;
}

/**
 * cgroups in one cell: the path most controllers share, then the exceptions, e.g.
 * `/ (memory:/process_api/973c…)`. The full list is in JSON.
 */
export function cgroupSummary(lines: CgroupMembership[] | undefined): string {
  if (!lines || lines.length === 0) return '-';
  const byPath = new Map<string, string[]>();
  for (const l of lines) {
    const name = l.hierarchyId === 0 ? '0' : l.controllers.join(',');
    const list = byPath.get(l.path) ?? [];
    list.push(name);
    byPath.set(l.path, list);
  }
  const paths = [...byPath.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  const [main, ...rest] = paths;
  if (rest.length === 0) return main![0];
  return `${main![0]} (${rest.map(([p, names]) => `${names.join('+')}:${p}`).join(' ')})`;
}

export const PROC_COLUMNS: ReadingColumn<ProcRow>[] = [
  { id: 'PID', help: 'process id (in the reader’s pid namespace)', align: 'right', json: 'number', value: (r) => r.p.pid },
  { id: 'PPID', files: ['stat'], help: 'parent process id', align: 'right', json: 'number', value: (r) => r.p.stat?.ppid ?? r.p.status?.ppid },
  { id: 'NAME', files: ['stat'], help: 'command name (comm)', json: 'string', value: (r) => r.p.stat?.comm ?? r.p.status?.name ?? r.p.comm },
  { id: 'CMD', files: ['cmdline'], help: 'command line', json: 'string', trunc: true, value: (r) => commandOf(r.p) },
  { id: 'NTHREADS', files: ['status'], help: 'number of threads', align: 'right', json: 'number', value: (r) => r.p.status?.threads ?? r.p.stat?.numThreads },
  {
    id: 'CGROUPS',
    files: ['cgroup'],
    help: 'cgroup paths (the common one, then exceptions)',
    json: 'array',
    trunc: 'middle',
    value: (r) => r.p.cgroups?.map((l) => `${l.hierarchyId}:${l.controllers.join(',')}:${l.path}`),
    text: (r) => (r.p.errors.cgroup === 'PERMISSION_DENIED' ? '-' : cgroupSummary(r.p.cgroups)),
  },
  {
    id: 'STATE',
    files: ['status'],
    help: 'process state',
    json: 'string',
    value: (r) => (r.p.status ? `${r.p.status.state} (${r.p.status.stateName})` : r.p.stat?.state),
  },
  { id: 'NSPID', files: ['status'], help: 'pid inside its own pid namespace', align: 'right', json: 'number', value: (r) => r.p.status?.nsPid?.at(-1) },
  { id: 'UID', files: ['ids'], help: 'effective uid', align: 'right', json: 'number', value: (r) => euid(r.p) },
  { id: 'USER', files: ['ids'], help: 'effective user name', json: 'string', value: (r) => r.userName(euid(r.p)) },
  { id: 'CAPEFF', files: ['status'], help: 'effective capabilities (hex)', json: 'string', value: (r) => (r.p.status ? formatMaskHex(r.p.status.capEff) : undefined) },
  { id: 'CAPS', files: ['status'], help: 'effective capabilities (names)', json: 'array', value: (r) => (r.p.status ? capNames(r.p.status.capEff) : undefined) },
  { id: 'SECCOMP', files: ['status'], help: 'seccomp mode', json: 'string', value: (r) => (r.p.status ? seccompModeName(r.p.status.seccomp) : undefined) },
  { id: 'NNP', files: ['status'], help: 'no_new_privs set', json: 'boolean', value: (r) => r.p.status?.noNewPrivs, text: (r) => (r.p.status?.noNewPrivs === undefined ? '-' : r.p.status.noNewPrivs ? 'yes' : 'no') },
  { id: 'LABEL', files: ['lsm'], help: 'LSM label: /proc/PID/attr/current (SELinux, AppArmor, Smack), else attr/apparmor/current', json: 'string', value: (r) => lsmLabelOf(r.p.lsm), text: (r) => lsmText(r.p.lsm) },
  { id: 'CONTAINER', containers: true, help: 'container the process belongs to', json: 'string', value: (r) => r.container?.name },
  { id: 'POD', containers: true, help: "its container's Kubernetes pod (namespace/name) or compose project", json: 'string', value: (r) => (r.container ? podOf(r.container) : undefined) },
  { id: 'IMAGE', containers: true, help: "its container's image", json: 'string', value: (r) => r.container?.image },
];

export const PROC_DEFAULT = ['PID', 'PPID', 'NAME', 'CMD', 'NTHREADS', 'CGROUPS', 'STATE'];
