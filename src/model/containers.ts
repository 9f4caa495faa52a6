import { NS_TYPES, type NsType } from '../parse/ns-link.js';
import { namespacesOf, type NsId, type ProcessInfo } from '../model/process.js';
import type { Snapshot } from '../proc/snapshot.js';
import { containerFromCgroups, type Runtime } from './cgroup-names.js';
import { isKernelThread } from '../parse/proc-stat.js';
import { STEP_PROCESSES, drain, isHostNs, type HostReference } from './namespaces.js';

/** A container is a set of processes: this is how hostscope finds them without asking a daemon. */
export interface Container {
  /** stable key: `docker:<id>` for a recognised runtime, else `ns:<type>:<inode>` of the init */
  key: string;
  /** what people call it: short runtime id, nspawn/lxc name, else hostname or init command */
  name: string;
  runtime: Runtime | 'unknown';
  /** full runtime id when recognised */
  id: string | undefined;
  pod: string | undefined;
  /** the member whose parent is outside the container (lowest if several) */
  initPid: number;
  pids: number[];
  /** the init's cgroup path the name came from, or its unified/first cgroup path */
  cgroupPath: string | undefined;
  hostname: string | undefined;
  namespaces: Partial<Record<NsType, NsId>>;
  /** the types in which the init shares the host's namespace */
  sharedWithHost: NsType[];
}

/** Namespace types whose sharing makes two processes one container (user ns is often shared by many). */
const JOINING: readonly string[] = ['pid', 'mnt', 'net', 'uts', 'ipc', 'pid_for_children'];

/**
 * Group every process whose namespaces differ from the host's into containers: first by the
 * container id its cgroup path names (docker, podman, kubernetes, containerd, nspawn, lxc), then,
 * for the rest, processes that share any non-host pid/mnt/net/uts/ipc namespace are one container
 * (so `unshare --fork --pid` and its child land together).
 */
export interface ContainerOptions {
  /** the hostname of a container's init, when known (default: HOSTNAME from its environ, if read) */
  hostnameOf?: (p: ProcessInfo) => string | undefined;
}

export function buildContainers(snapshot: Snapshot, ref: HostReference, opts: ContainerOptions = {}): Container[] {
  return drain(buildContainersSteps(snapshot, ref, opts));
}

/** buildContainers, yielding every STEP_PROCESSES processes (scanHost lets the event loop run there). */
export function* buildContainersSteps(snapshot: Snapshot, ref: HostReference, opts: ContainerOptions = {}): Generator<void, Container[]> {
  const hostnameOf = opts.hostnameOf ?? ((p: ProcessInfo) => envValue(p, 'HOSTNAME'));
  const byPid = new Map(snapshot.processes.map((p) => [p.pid, p]));
  const members = new Map<string, ProcessInfo[]>();
  const meta = new Map<string, { runtime: Runtime | 'unknown'; id?: string; name?: string; pod?: string; path?: string }>();

  // union-find over namespace keys for the unrecognised processes
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let r = k;
    while (parent.get(r) !== r) r = parent.get(r) ?? r;
    parent.set(k, r);
    return r;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  };
  const pending: { p: ProcessInfo; keys: string[] }[] = [];

  let i = 0;
  for (const p of snapshot.processes) {
    if (++i % STEP_PROCESSES === 0) yield;
    if (p.pid === snapshot.selfPid) continue;
    // kernel threads are never containers (kdevtmpfs has a mount namespace of its own)
    if ((p.stat && isKernelThread(p.stat)) || p.status?.kthread) continue;
    const own = namespacesOf(p);
    const differs = Object.values(own).some((id) => !isHostNs(ref, id));
    if (!differs) continue;
    const cg = containerFromCgroups(p.cgroups);
    if (cg) {
      const key = `${cg.runtime}:${cg.id}`;
      push(members, key, p);
      if (!meta.has(key)) meta.set(key, { runtime: cg.runtime, id: cg.id, name: cg.name, ...(cg.pod ? { pod: cg.pod } : {}), path: cg.path });
      continue;
    }
    const keys: string[] = [];
    for (const [entry, id] of Object.entries(p.ns ?? {})) {
      if (!JOINING.includes(entry) || !id || isHostNs(ref, id)) continue;
      const k = `ns:${id.type}:${id.inode}`;
      if (!parent.has(k)) parent.set(k, k);
      keys.push(k);
    }
    if (keys.length === 0) {
      // only user/cgroup/time namespaces differ: a sandboxed process on its own
      const k = `ns:${Object.values(own).find((id) => !isHostNs(ref, id))!.type}:${p.pid}`;
      parent.set(k, k);
      keys.push(k);
    }
    for (const k of keys.slice(1)) union(keys[0]!, k);
    pending.push({ p, keys });
  }
  for (const { p, keys } of pending) {
    const root = find(keys[0]!);
    push(members, root, p);
    if (!meta.has(root)) meta.set(root, { runtime: 'unknown' });
  }

  const out: Container[] = [];
  for (const [key, procs] of members) {
    const pids = procs.map((p) => p.pid).sort((a, b) => a - b);
    const set = new Set(pids);
    const inits = procs.filter((p) => !set.has(p.stat?.ppid ?? p.status?.ppid ?? 0)).sort((a, b) => a.pid - b.pid);
    const init = inits[0] ?? byPid.get(pids[0]!)!;
    const m = meta.get(key)!;
    const hostname = m.name === undefined ? hostnameOf(init) : undefined;
    const ns = namespacesOf(init);
    const initName = init.stat?.comm ?? init.comm ?? init.status?.name ?? String(init.pid);
    out.push({
      key: m.id ? key : `ns:${firstDiffering(ns, ref)}`,
      name: m.name ?? hostname ?? initName,
      runtime: m.runtime,
      id: m.id,
      pod: m.pod,
      initPid: init.pid,
      pids,
      cgroupPath: m.path ?? mainCgroupPath(init),
      hostname,
      namespaces: ns,
      sharedWithHost: NS_TYPES.filter((t) => ns[t] && isHostNs(ref, ns[t])),
    });
  }
  return out.sort((a, b) => a.initPid - b.initPid);
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

function firstDiffering(ns: Partial<Record<NsType, NsId>>, ref: HostReference): string {
  for (const t of ['pid', 'mnt', 'net', 'uts', 'ipc', 'user', 'cgroup', 'time'] as const) {
    const id = ns[t];
    if (id && !isHostNs(ref, id)) return `${t}:${id.inode}`;
  }
  const any = Object.values(ns)[0];
  return any ? `${any.type}:${any.inode}` : 'unknown';
}

function envValue(p: ProcessInfo, key: string): string | undefined {
  return p.environ?.find((e) => e.key === key)?.value;
}

/** The cgroup path people mean: the v2 one if not `/`, else the most specific v1 one. */
export function mainCgroupPath(p: ProcessInfo): string | undefined {
  if (!p.cgroups || p.cgroups.length === 0) return undefined;
  const v2 = p.cgroups.find((c) => c.hierarchyId === 0);
  if (v2 && v2.path !== '/') return v2.path;
  const longest = [...p.cgroups].sort((a, b) => b.path.length - a.path.length)[0]!;
  return longest.path;
}

/** pid → its container, for views that look up every process. */
export function containerIndex(containers: Container[]): Map<number, Container> {
  const m = new Map<number, Container>();
  for (const c of containers) for (const pid of c.pids) m.set(pid, c);
  return m;
}
