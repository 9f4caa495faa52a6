import { INIT_NS_INODE, NS_TYPES, parseNsLink, type NsEntry, type NsType } from '../parse/ns-link.js';
import type { MountInfo } from '../parse/proc-mountinfo.js';
import { isKernelThread } from '../parse/proc-stat.js';
import { namespacesOf, nsKey, type NsId, type ProcessInfo } from '../model/process.js';
import type { Snapshot } from '../proc/snapshot.js';

/** One namespace and the processes in it. */
export interface NamespaceGroup {
  ns: NsId;
  key: string;
  /** numerically sorted */
  pids: number[];
  processes: ProcessInfo[];
  /** the lowest pid, as lsns's PID column; undefined for a namespace no process is in */
  lowest: ProcessInfo | undefined;
  /** where an nsfs file of it is bind-mounted (`ip netns add`, docker's /run/docker/netns) */
  bindMounts: string[];
  /** threads in it whose process is not (read with 'tasks'); `lowest` is then their process */
  threads: { pid: number; tid: number }[];
  /** is this the host's namespace of its type (see findHostReference)? */
  isHost: boolean;
}

/**
 * What "the host" is, per namespace type. PID 1 is not always readable (EACCES even for root
 * here) nor always the host's init (inside a container), so: kthreadd if visible (kernel threads
 * live in the initial namespaces), else PID 1, else the kernel's fixed initial inode, else the
 * most populated namespace of the type.
 */
export interface HostReference {
  ns: Partial<Record<NsType, NsId>>;
  /** which process it was taken from, and why, for the user */
  pid: number | undefined;
  how: 'kthreadd' | 'pid 1' | 'initial inodes' | 'most populated';
  /**
   * false when the reference's pid namespace is not the kernel's initial one: this /proc is a
   * container's (the tool runs inside one, or reads its dump), and "host" means that container
   */
  initialPidNs: boolean;
}

export function findHostReference(snapshot: Snapshot): HostReference {
  return drain(findHostReferenceSteps(snapshot));
}

/** How many processes a *Steps generator handles between two yields. */
export const STEP_PROCESSES = 32;

/** Run a *Steps generator to its end (the synchronous callers). */
export function drain<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** findHostReference, yielding every STEP_PROCESSES processes (scanHost lets the event loop run there). */
export function* findHostReferenceSteps(snapshot: Snapshot): Generator<void, HostReference> {
  const procs = snapshot.processes;
  const kthreadd = procs.find((p) => p.stat?.ppid === 0 && p.pid !== 1 && (isKernelThread(p.stat) || p.status?.kthread === true || p.stat.comm === 'kthreadd'));
  const pid1 = procs.find((p) => p.pid === 1);
  const full = (p: ProcessInfo | undefined): boolean => !!p && Object.keys(namespacesOf(p)).length >= 6;
  let ref: HostReference;
  if (full(kthreadd)) ref = { ns: { ...namespacesOf(kthreadd!) }, pid: kthreadd!.pid, how: 'kthreadd', initialPidNs: true };
  else if (full(pid1)) ref = { ns: { ...namespacesOf(pid1!) }, pid: 1, how: 'pid 1', initialPidNs: true };
  else ref = { ns: {}, pid: undefined, how: 'initial inodes', initialPidNs: true };
  // types still unknown (e.g. the kernel thread's mnt is hidden): initial inode or most populated
  const counts = new Map<string, { id: NsId; n: number }>();
  let i = 0;
  for (const p of NS_TYPES.every((t) => ref.ns[t]) ? [] : procs) {
    if (++i % STEP_PROCESSES === 0) yield;
    for (const id of Object.values(namespacesOf(p))) {
      const k = nsKey(id);
      const c = counts.get(k);
      if (c) c.n++;
      else counts.set(k, { id, n: 1 });
    }
  }
  for (const t of NS_TYPES) {
    if (ref.ns[t]) continue;
    const all = [...counts.values()].filter((c) => c.id.type === t);
    const init = all.find((c) => c.id.inode === INIT_NS_INODE[t]);
    const pick = init ?? all.sort((a, b) => b.n - a.n)[0];
    if (pick) {
      ref.ns[t] = pick.id;
      if (!init && ref.how === 'initial inodes') ref.how = 'most populated';
    }
  }
  ref.initialPidNs = ref.ns.pid === undefined || ref.ns.pid.inode === INIT_NS_INODE.pid;
  return ref;
}

export function isHostNs(ref: HostReference, id: NsId): boolean {
  const h = ref.ns[id.type];
  return !!h && h.inode === id.inode && h.dev === id.dev;
}

/**
 * Group processes by namespace (type, dev, inode). The *_for_children entries are not counted:
 * a process is in its `pid` namespace, not in the one its children will get.
 */
export function buildNamespaceIndex(snapshot: Snapshot, ref: HostReference, types: readonly NsType[] = NS_TYPES): NamespaceGroup[] {
  return drain(buildNamespaceIndexSteps(snapshot, ref, types));
}

/** buildNamespaceIndex, yielding every STEP_PROCESSES processes. */
export function* buildNamespaceIndexSteps(snapshot: Snapshot, ref: HostReference, types: readonly NsType[] = NS_TYPES): Generator<void, NamespaceGroup[]> {
  const groups = new Map<string, NamespaceGroup>();
  const wanted = new Set(types);
  const order = NS_TYPES.filter((t) => wanted.has(t));
  // by inode first (a number: no key string per process and namespace), then inode, type and dev
  const byInode = new Map<number, NamespaceGroup[]>();
  // the native scan shares one NsId object per namespace: the group of the last one seen of each
  // type is found again without a lookup (neighbouring pids are mostly in the same namespaces)
  const lastId: (NsId | undefined)[] = [];
  const lastGroup: (NamespaceGroup | undefined)[] = [];
  // the groups of each namespace record met: the native scan shares one record per set of
  // namespaces (a container's processes), whose next process only joins them
  const groupsOf = new Map<object, NamespaceGroup[]>();
  const procs = snapshot.processes;
  // indexed (a for-of makes an iterator call per process where cinf runs without TurboFan)
  for (let i = 0; i < procs.length; i++) {
    if ((i + 1) % STEP_PROCESSES === 0) yield;
    const p = procs[i]!;
    const ns = p.ns;
    if (!ns) continue;
    const known = groupsOf.get(ns);
    if (known) {
      for (let k = 0; k < known.length; k++) {
        const g = known[k]!;
        g.pids.push(p.pid);
        g.processes.push(p);
        if (p.pid < g.lowest!.pid) g.lowest = p;
      }
      continue;
    }
    const mine: NamespaceGroup[] = [];
    groupsOf.set(ns, mine);
    for (let ti = 0; ti < order.length; ti++) {
      const id = nsOfType(ns, order[ti]!);
      if (!id) continue;
      let g: NamespaceGroup | undefined;
      if (lastId[ti] === id) g = lastGroup[ti];
      else {
        g = sameNamespace(byInode.get(inodeKey(id.inode)), id);
        if (g) {
          lastId[ti] = id;
          lastGroup[ti] = g;
        }
      }
      if (!g) {
        const key = nsKey(id);
        g = { ns: id, key, pids: [], processes: [], lowest: p, bindMounts: [], threads: [], isHost: isHostNs(ref, id) };
        groups.set(key, g);
        const same = byInode.get(inodeKey(id.inode));
        if (same) same.push(g);
        else byInode.set(inodeKey(id.inode), [g]);
        lastId[ti] = id;
        lastGroup[ti] = g;
      }
      g.pids.push(p.pid);
      g.processes.push(p);
      if (p.pid < g.lowest!.pid) g.lowest = p;
      mine.push(g);
    }
  }
  // threads that are where their process is not
  for (const p of snapshot.processes) {
    for (const th of p.threads ?? []) {
      for (const id of Object.values(th.ns)) {
        if (!wanted.has(id.type) || p.ns?.[id.type]?.inode === id.inode) continue;
        const key = nsKey(id);
        let g = groups.get(key);
        if (!g) {
          g = { ns: id, key, pids: [], processes: [], lowest: p, bindMounts: [], threads: [], isHost: isHostNs(ref, id) };
          groups.set(key, g);
        }
        g.threads.push({ pid: p.pid, tid: th.tid });
        if (g.pids.length === 0 && p.pid < g.lowest!.pid) g.lowest = p;
      }
    }
  }
  const out = [...groups.values()];
  // processes come in pid order from both readers: a group's pids are then sorted already (the
  // host's user namespace holds 10,000 of them); sort only those that are not
  let n = 0;
  for (const g of out) {
    n += g.pids.length;
    if (n >= STEP_PROCESSES * 32) {
      n = 0;
      yield;
    }
    if (!ascending(g.pids)) g.pids.sort((a, b) => a - b);
  }
  // lsns order: by inode, then type
  return sortGroups(out);
}

/**
 * byInode's key: the inode wrapped to 32 bits. nsfs inodes (~4026531840) are past a small
 * integer's range, and a Map looks such a number up boxed: one allocation per lookup, ~16,000
 * lookups at 2,000 processes whose neighbours are in other namespaces. Inodes 2^32 apart share a
 * key: sameNamespace compares the whole inode.
 */
function inodeKey(inode: number): number {
  return inode | 0;
}

/** the group in `same` of exactly this namespace (a loop, not find(): no closure per lookup) */
function sameNamespace(same: NamespaceGroup[] | undefined, id: NsId): NamespaceGroup | undefined {
  if (!same) return undefined;
  for (let k = 0; k < same.length; k++) {
    const x = same[k]!;
    if (x.ns.inode === id.inode && x.ns.type === id.type && x.ns.dev === id.dev) return x;
  }
  return undefined;
}

/**
 * ns[type] as a named property load per type: `ns[type]` with the type changing in a loop is a
 * megamorphic keyed load, the slowest part of indexing 10,000 processes (8 loads a process).
 */
function nsOfType(ns: Partial<Record<NsEntry, NsId>>, type: NsType): NsId | undefined {
  switch (type) {
    case 'mnt':
      return ns.mnt;
    case 'net':
      return ns.net;
    case 'time':
      return ns.time;
    case 'cgroup':
      return ns.cgroup;
    case 'pid':
      return ns.pid;
    case 'user':
      return ns.user;
    case 'uts':
      return ns.uts;
    case 'ipc':
      return ns.ipc;
    default:
      return ns[type as NsType];
  }
}

function ascending(xs: readonly number[]): boolean {
  for (let i = 1; i < xs.length; i++) if (xs[i - 1]! > xs[i]!) return false;
  return true;
}

/**
 * Namespaces kept alive by a bind mount of their nsfs file (mountinfo fstype `nsfs`, root
 * `net:[4026532410]`): added to the index with no process when none is in them, and their mount
 * points recorded either way — lsns 2.39's -P, and what `ip netns add` makes.
 */
export function addBoundNamespaces(groups: NamespaceGroup[], mounts: MountInfo[], ref: HostReference, types: readonly NsType[] = NS_TYPES): NamespaceGroup[] {
  const byKey = new Map(groups.map((g) => [g.key, g]));
  const wanted = new Set(types);
  for (const m of mounts) {
    if (m.fsType !== 'nsfs') continue;
    let link;
    try {
      link = parseNsLink(m.root);
    } catch {
      continue;
    }
    if (!wanted.has(link.type)) continue;
    const id: NsId = { type: link.type, inode: link.inode, dev: encodeDev(m.major, m.minor) };
    const key = nsKey(id);
    let g = byKey.get(key);
    if (!g) {
      g = { ns: id, key, pids: [], processes: [], lowest: undefined, bindMounts: [], threads: [], isHost: isHostNs(ref, id) };
      byKey.set(key, g);
      groups.push(g);
    }
    if (!g.bindMounts.includes(m.mountPoint)) g.bindMounts.push(m.mountPoint);
  }
  return sortGroups(groups);
}

/** st_dev as the kernel encodes it (new_encode_dev), from mountinfo's major:minor */
export function encodeDev(major: number, minor: number): number {
  return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
}

function sortGroups(out: NamespaceGroup[]): NamespaceGroup[] {
  return out.sort((a, b) => a.ns.inode - b.ns.inode || NS_TYPES.indexOf(a.ns.type) - NS_TYPES.indexOf(b.ns.type) || a.ns.dev - b.ns.dev);
}

/** Every namespace with this inode (several types can never share one, but dumps can lie). */
export function findNamespaces(groups: NamespaceGroup[], inode: number): NamespaceGroup[] {
  return groups.filter((g) => g.ns.inode === inode);
}
