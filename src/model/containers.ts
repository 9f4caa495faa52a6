import { NS_TYPES, type NsEntry, type NsType } from '../parse/ns-link.js';
import { namespacesOf, nsKey, type NsId, type ProcessInfo } from '../model/process.js';
import type { Snapshot } from '../proc/snapshot.js';
import { containerFromCgroups, type Runtime } from './cgroup-names.js';
import { isKernelThread } from '../parse/proc-stat.js';
import { STEP_PROCESSES, drain, isHostNs, type HostReference } from './namespaces.js';

/** A container is a set of processes: this is how hostscope finds them without asking a daemon. */
export interface Container {
  /**
   * stable key: `docker:<id>` for a recognised runtime (`docker:<id>@<cgroup dir>` when two cgroup
   * directories claim that id: they are two containers), else `ns:<type>:<inode>` of the init
   */
  key: string;
  /** what people call it: short runtime id, nspawn/lxc name, else hostname or init command */
  name: string;
  runtime: Runtime | 'unknown';
  /** full runtime id when recognised */
  id: string | undefined;
  /** the Kubernetes pod's name when a runtime file names it (src/model/container-names.ts), else the pod uid of the cgroup path */
  pod: string | undefined;
  /** the pod uid of the cgroup path, when `pod` holds the pod's name */
  podUid?: string | undefined;
  /** the pod's Kubernetes namespace */
  podNamespace?: string | undefined;
  /** the image the runtime says it was made from (docker Config.Image, CRI image-name) */
  image?: string | undefined;
  /** the compose project (com.docker.compose.project) */
  project?: string | undefined;
  /** the compose service (com.docker.compose.service) */
  service?: string | undefined;
  /** docker labels or OCI annotations, as read */
  labels?: Record<string, string> | undefined;
  /** where `name` came from when not the cgroup path: docker-config, oci-annotations, conmon, nerdctl, uts-hostname */
  nameSource?: string | undefined;
  /**
   * pid 1 of the container's own pid namespace (the outermost non-host pid namespace of its
   * members; NSpid ending in 1), never a process outside it — so not the `unshare --fork --pid`
   * parent, which stays in the host's. Without a pid namespace of its own: the member whose parent
   * is outside the container. Ties: earliest started, then lowest pid.
   */
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
const JOINING: readonly NsEntry[] = ['pid', 'mnt', 'net', 'uts', 'ipc', 'pid_for_children'];

/**
 * A process that is a container of its own (key `ns:<type>:<pid>` below), whatever else shares its
 * namespaces: its cgroups name no runtime's container and only user, cgroup or time namespaces
 * differ from the host's. Another process with the same namespaces and cgroups is another container.
 */
export function isContainerOfItsOwn(p: ProcessInfo, ref: HostReference): boolean {
  const ns = p.ns;
  if (!ns || containerFromCgroups(p.cgroups)) return false;
  for (const entry of JOINING) {
    const id = ns[entry];
    if (id && !isHostNs(ref, id)) return false;
  }
  return true;
}

/**
 * The union-find key of a namespace. The native scan shares one NsId per namespace among all its
 * processes, so the string is made once per namespace, not once per process and entry.
 */
const joinKeys = new WeakMap<NsId, string>();
function joinKey(id: NsId): string {
  let k = joinKeys.get(id);
  if (k === undefined) joinKeys.set(id, (k = `ns:${id.type}:${id.inode}`));
  return k;
}

/**
 * Group every process whose namespaces differ from the host's into containers: first by the
 * container id its cgroup path names (docker, podman, kubernetes, containerd, nspawn, lxc), then,
 * for the rest, processes that share any non-host pid/mnt/net/uts/ipc namespace are one container
 * (so `unshare --fork --pid` and its child land together).
 */
export interface ContainerOptions {
  /** the hostname of a container's init, when known (default: HOSTNAME from its environ, if read) */
  hostnameOf?: (p: ProcessInfo) => string | undefined;
  /** NSpid of a candidate init, when known (default: from its status, if read) */
  nsPidOf?: (p: ProcessInfo) => number[] | undefined;
}

export function buildContainers(snapshot: Snapshot, ref: HostReference, opts: ContainerOptions = {}): Container[] {
  return drain(buildContainersSteps(snapshot, ref, opts));
}

/** buildContainers, yielding every STEP_PROCESSES processes (scanHost lets the event loop run there). */
export function* buildContainersSteps(snapshot: Snapshot, ref: HostReference, opts: ContainerOptions = {}): Generator<void, Container[]> {
  const hostnameOf = opts.hostnameOf ?? ((p: ProcessInfo) => envValue(p, 'HOSTNAME'));
  const nsPidOf = opts.nsPidOf ?? ((p: ProcessInfo) => p.status?.nsPid);
  // pid → process, made in steps too (10,000 entries are a slice of their own)
  const byPid = new Map<number, ProcessInfo>();
  let n = 0;
  for (const p of snapshot.processes) {
    if (++n % (STEP_PROCESSES * 8) === 0) yield;
    byPid.set(p.pid, p);
  }
  const members = new Map<string, ProcessInfo[]>();
  const meta = new Map<string, { runtime: Runtime | 'unknown'; id?: string; name?: string; pod?: string; path?: string }>();
  // `runtime:id` → how many cgroup directories claim it (more than one: the keys keep `@dir`)
  const dirsOfId = new Map<string, number>();

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
    // (no object per process here: at 10,000 processes this loop is most of a scan's model)
    const ns = p.ns;
    if (!ns) continue;
    let firstOwn: NsId | undefined;
    for (const t of NS_TYPES) {
      const id = ns[t];
      if (id && !isHostNs(ref, id)) {
        firstOwn = id;
        break;
      }
    }
    if (!firstOwn) continue;
    const cg = containerFromCgroups(p.cgroups);
    if (cg) {
      // one container per cgroup directory: another directory claiming the same id (a user's
      // delegated subtree, a rootless runtime) is another container, never merged into this one
      const key = `${cg.runtime}:${cg.id}@${cg.dir}`;
      push(members, key, p);
      if (!meta.has(key)) {
        meta.set(key, { runtime: cg.runtime, id: cg.id, name: cg.name, ...(cg.pod ? { pod: cg.pod } : {}), path: cg.path });
        const idKey = `${cg.runtime}:${cg.id}`;
        dirsOfId.set(idKey, (dirsOfId.get(idKey) ?? 0) + 1);
      }
      continue;
    }
    const keys: string[] = [];
    for (const entry of JOINING) {
      const id = ns[entry];
      if (!id || isHostNs(ref, id)) continue;
      const k = joinKey(id);
      if (!parent.has(k)) parent.set(k, k);
      keys.push(k);
    }
    if (keys.length === 0) {
      // only user/cgroup/time namespaces differ: a sandboxed process on its own
      const k = `ns:${firstOwn.type}:${p.pid}`;
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
  for (const [key, all] of members) {
    const m = meta.get(key)!;
    const idKey = m.id ? (dirsOfId.get(`${m.runtime}:${m.id}`)! > 1 ? key : `${m.runtime}:${m.id}`) : undefined;
    // a cgroup-named container is one process tree: unrelated pid namespaces in its cgroup are
    // as many containers (same id: naming it is then ambiguous), never one whose init is the oldest
    const parts = idKey !== undefined ? pidTrees(all, byPid, ref) : [{ procs: all, suffix: '' }];
    for (const { procs, suffix } of parts) {
    // each container reads its init's files (environ, status): a step of its own
    yield;
    const pids = procs.map((p) => p.pid).sort((a, b) => a - b);
    const init = pickInit(procs, byPid, ref, nsPidOf);
    const hostname = m.name === undefined ? hostnameOf(init) : undefined;
    const ns = namespacesOf(init);
    const initName = init.stat?.comm ?? init.comm ?? init.status?.name ?? String(init.pid);
    out.push({
      key: idKey !== undefined ? idKey + suffix : `ns:${firstDiffering(ns, ref)}`,
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
  }
  return out.sort((a, b) => a.initPid - b.initPid);
}

/**
 * The process trees of a cgroup-named container: its members' pid namespaces, each nested one
 * with the one its roots' parents are in, up to the tops (those no root's parent is in another
 * member namespace). One top (the usual case, nested sandboxes included): one part, as it was.
 * Several: a part per top, with its nested namespaces and the processes outside any (an
 * `unshare --fork` parent) whose child is in it, and a part for those left (keys `…/pid:<inode>`,
 * `…/host`). Stop 20, finding 1: processes placed in a container's cgroup by whoever can write it
 * never become its init because their pid 1 is older.
 */
function pidTrees(procs: ProcessInfo[], byPid: Map<number, ProcessInfo>, ref: HostReference): { procs: ProcessInfo[]; suffix: string }[] {
  const inNs = new Map<string, ProcessInfo[]>();
  for (const p of procs) {
    const id = p.ns?.pid;
    if (id && !isHostNs(ref, id)) push(inNs, nsKey(id), p);
  }
  if (inNs.size < 2) return [{ procs, suffix: '' }];
  const parentNsKey = (p: ProcessInfo): string | undefined => {
    const pp = ppidOf(p);
    const id = pp === undefined ? undefined : byPid.get(pp)?.ns?.pid;
    return id ? nsKey(id) : undefined;
  };
  const up = new Map<string, string | undefined>();
  for (const [k, ps] of inNs) up.set(k, ps.map(parentNsKey).find((pk) => pk !== undefined && pk !== k && inNs.has(pk)));
  const topOf = (k: string): string => {
    let t = k;
    // bounded: a cycle (impossible in a kernel, possible in a hostile dump) stops where it began
    for (let hops = 0; hops < inNs.size; hops++) {
      const u = up.get(t);
      if (u === undefined || u === k) break;
      t = u;
    }
    return t;
  };
  const tops = new Set([...inNs.keys()].map(topOf));
  if (tops.size < 2) return [{ procs, suffix: '' }];
  const part = new Map<ProcessInfo, string>();
  for (const [k, ps] of inNs) for (const p of ps) part.set(p, topOf(k));
  // processes outside any member pid namespace: with the tree of a child of theirs
  const members = new Set(procs);
  for (const [p, top] of [...part]) {
    // up the parents while they are members in no pid namespace of the container's (each once)
    let q = byPid.get(ppidOf(p) ?? 0);
    while (q && members.has(q) && !part.has(q)) {
      part.set(q, top);
      q = byPid.get(ppidOf(q) ?? 0);
    }
  }
  const out = new Map<string, ProcessInfo[]>();
  for (const p of procs) push(out, part.get(p) ?? '', p);
  return [...out].map(([top, ps]) => ({ procs: ps, suffix: top === '' ? '/host' : `/${top.replace(/^ns:/, '')}` }));
}

const ppidOf = (p: ProcessInfo): number | undefined => p.stat?.ppid ?? p.status?.ppid;
const startOf = (p: ProcessInfo): number => p.stat?.startTimeTicks ?? Number.MAX_SAFE_INTEGER;
const earliest = (a: ProcessInfo, b: ProcessInfo): number => startOf(a) - startOf(b) || a.pid - b.pid;

/** Bug 2 (issue 6): the init of a container is inside its own pid namespace, never the process that made it. */
function pickInit(procs: ProcessInfo[], byPid: Map<number, ProcessInfo>, ref: HostReference, nsPidOf: (p: ProcessInfo) => number[] | undefined): ProcessInfo {
  // the members' pid namespaces other than the host's, by key
  const inNs = new Map<string, ProcessInfo[]>();
  for (const p of procs) {
    const id = p.ns?.pid;
    if (id && !isHostNs(ref, id)) push(inNs, nsKey(id), p);
  }
  if (inNs.size > 0) {
    // a namespace's roots: its members whose parent is in another pid namespace (its pid 1, and
    // processes that setns()'d in: nsenter -p, docker exec)
    const parentNsKey = (p: ProcessInfo): string | undefined => {
      const pp = ppidOf(p);
      const id = pp === undefined ? undefined : byPid.get(pp)?.ns?.pid;
      return id ? nsKey(id) : undefined;
    };
    const rootsOf = (key: string): ProcessInfo[] => inNs.get(key)!.filter((p) => parentNsKey(p) !== key);
    // the container's own: an outermost one, whose roots' parents are not in another member pid namespace
    const keys = [...inNs.keys()];
    const outer = keys.filter((k) => rootsOf(k).some((r) => { const pk = parentNsKey(r); return pk === undefined || !inNs.has(pk); }));
    const candidates = (outer.length > 0 ? outer : keys).flatMap((k) => {
      const roots = rootsOf(k);
      return roots.length > 0 ? roots : inNs.get(k)!;
    });
    // one candidate (the usual case): it is the init whatever its NSpid says, so no status is read
    if (candidates.length === 1) return candidates[0]!;
    const one = candidates.filter((p) => nsPidOf(p)?.at(-1) === 1).sort(earliest)[0];
    return one ?? candidates.sort(earliest)[0]!;
  }
  // no pid namespace of its own (docker --pid=host, unshare --net): the member whose parent is outside
  const set = new Set(procs.map((p) => p.pid));
  const inits = procs.filter((p) => !set.has(ppidOf(p) ?? 0)).sort(earliest);
  return inits[0] ?? [...procs].sort(earliest)[0]!;
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
