import type { ProcSource } from '../source/source.js';
import { NS_TYPES, type NsEntry, type NsType } from '../parse/ns-link.js';
import { parseMountInfo, type MountInfo } from '../parse/proc-mountinfo.js';
import { isProcError } from '../source/errors.js';
import { readProcess, withFiles, type ProcFile } from '../proc/process.js';
import { nsKey, type ProcessInfo } from '../model/process.js';
import { takeSnapshot, type Snapshot } from '../proc/snapshot.js';
import { addBoundNamespaces, buildNamespaceIndexSteps, drain, findHostReferenceSteps, type HostReference, type NamespaceGroup } from '../model/namespaces.js';
import { buildContainersSteps, type Container } from '../model/containers.js';
import { applyNames, type NameFiles } from '../model/container-names.js';
import { readNameFiles } from './names.js';

/** containers whose runtime files one step of modelSteps reads */
const NAME_CHUNK = 20;
import { detectCgroupLayout, type CgroupLayout } from '../cgroup/layout.js';

/** The host at one moment: processes, the host's reference namespaces, namespaces and containers. */
export interface HostModel {
  snapshot: Snapshot;
  ref: HostReference;
  namespaces: NamespaceGroup[];
  nsByKey: Map<string, NamespaceGroup>;
  containers: Container[];
  containerOf: Map<number, Container>;
  /** why a runtime's file was not used to name a container (shown by --debug) */
  notes: string[];
}

export interface InspectOptions {
  /** files to read for every process (ns always; stat when containers or the host flag need it) */
  files?: readonly ProcFile[];
  /** namespace types to index; default all */
  types?: readonly NsType[];
  /** group processes into containers (reads every process's cgroup file) */
  containers?: boolean;
  /** leave the reading process itself out */
  excludeSelf?: boolean;
  /** also the namespaces kept by bind mounts (from the reader's mountinfo) */
  bound?: boolean;
  /** with containers: the UTS hostname of containers (by key) read beforehand (src/inspect/uts.ts) */
  utsHostnames?: ReadonlyMap<string, string>;
}

/**
 * Read the host and build the model. Reads only what is asked; a container's hostname comes from
 * its init's environ (HOSTNAME, as docker sets it), read only for those inits.
 */
export function inspectHost(src: ProcSource, opts: InspectOptions = {}): HostModel {
  return modelFromSnapshot(src, takeSnapshot(src, snapshotRequest(opts)), opts);
}

/** What inspectHost reads of every process for these options (scanHost reads the same). */
export function snapshotRequest(opts: InspectOptions): { files: ProcFile[]; nsEntries: NsEntry[] } {
  const files = new Set<ProcFile>(['ns', ...(opts.files ?? [])]);
  // containers need every parent pid (to find inits) and cgroup (to name runtimes)
  if (opts.containers) files.add('stat').add('cgroup');
  return { files: [...files], nsEntries: opts.containers ? [...NS_TYPES, 'pid_for_children'] : [...NS_TYPES] };
}

/** The model from a snapshot read with snapshotRequest(opts): shared by inspectHost and scanHost. */
export function modelFromSnapshot(src: ProcSource, scanned: Snapshot, opts: InspectOptions = {}): HostModel {
  return drain(modelSteps(src, scanned, opts));
}

/**
 * modelFromSnapshot in steps: each `yield` is a point where an asynchronous caller (scanHost) may
 * let the event loop run before the next phase.
 */
export function* modelSteps(src: ProcSource, scanned: Snapshot, opts: InspectOptions = {}): Generator<void, HostModel> {
  const files = new Set(snapshotRequest(opts).files);
  // a snapshot is a value: what changes here makes a new one (the scanned one is left as it was)
  let processes = scanned.processes;
  if (opts.excludeSelf && scanned.selfPid !== undefined) processes = processes.filter((p) => p.pid !== scanned.selfPid);
  // the host reference is kthreadd or pid 1: only their stat is needed when no view asked for all
  if (!files.has('stat') && processes.some((p, i) => i < 2 && p.pid <= 2)) {
    const copy = processes.slice();
    for (let i = 0; i < 2 && i < copy.length; i++) if (copy[i]!.pid <= 2) copy[i] = withFiles(src, copy[i]!, ['stat']);
    processes = copy;
  }
  const snapshot: Snapshot = processes === scanned.processes ? scanned : { ...scanned, processes };
  const ref = yield* findHostReferenceSteps(snapshot);
  let namespaces = yield* buildNamespaceIndexSteps(snapshot, ref, opts.types ?? NS_TYPES);
  if (opts.bound) namespaces = addBoundNamespaces(namespaces, readOwnMounts(src), ref, opts.types ?? NS_TYPES);
  const found = opts.containers
    ? yield* buildContainersSteps(snapshot, ref, {
        // the init's environ is read aside (not kept in the snapshot)
        hostnameOf: (p: ProcessInfo) => withFiles(src, p, ['environ']).environ?.find((e) => e.key === 'HOSTNAME')?.value,
        // NSpid of the few candidate inits (pid 1 of a container's pid namespace), read only for them
        nsPidOf: (p: ProcessInfo) => p.status?.nsPid ?? readProcess(src, p.pid, ['status'])?.status?.nsPid,
      })
    : [];
  // names, images, pods and projects from what the runtimes leave on disk (no daemon)
  const notes: string[] = [];
  let containers = found;
  if (found.length > 0) {
    yield;
    // readNameFiles looks processes up only along each container's init → parent chain (its
    // monitor, names.ts monitorOf: at most 64 hops): handing it those chains, not all 10,000
    // processes, keeps its pid index small (the whole list was the longest step of a scan)
    // both readers list processes in pid order: looked up by bisection (a Map of 10,000 pids is
    // ~0.5 MB that a scavenge during the scan copies, issue 6); by a Map when out of order
    const procs = snapshot.processes;
    let sorted = true;
    for (let i = 1; i < procs.length && sorted; i++) sorted = procs[i - 1]!.pid < procs[i]!.pid;
    let byPid: ((pid: number) => ProcessInfo | undefined) | undefined;
    if (sorted) byPid = (pid) => bisectPid(procs, pid);
    else {
      const index = new Map<number, ProcessInfo>();
      let n = 0;
      for (const p of procs) {
        if (++n % 1024 === 0) yield;
        index.set(p.pid, p);
      }
      byPid = (pid) => index.get(pid);
    }
    const chains = new Map<number, ProcessInfo>();
    for (const c of found) {
      let p = byPid(c.initPid);
      for (let hops = 0; p && hops <= 65; hops++) {
        chains.set(p.pid, p);
        const ppid = p.stat?.ppid ?? p.status?.ppid;
        p = ppid === undefined ? undefined : byPid(ppid);
      }
    }
    yield;
    // the runtimes' files of NAME_CHUNK containers per step (100 containers' reads were one step
    // of ~15 ms: a scan must not hold the event loop that long)
    const chainList = [...chains.values()];
    const files = new Map<string, NameFiles>();
    for (let i = 0; i < found.length; i += NAME_CHUNK) {
      const read = readNameFiles(src, chainList, found.slice(i, i + NAME_CHUNK), opts.utsHostnames ? { utsHostnames: opts.utsHostnames } : {});
      for (const [k, v] of read.files) files.set(k, v);
      notes.push(...read.notes);
      yield;
    }
    containers = applyNames(found, files, notes);
  }
  yield;
  const nsByKey = new Map(namespaces.map((g) => [nsKey(g.ns), g]));
  // containerIndex(containers), in steps: one entry per containerised process
  const containerOf = new Map<number, Container>();
  let n = 0;
  for (const c of containers) {
    for (const pid of c.pids) {
      if (++n % 1024 === 0) yield;
      containerOf.set(pid, c);
    }
  }
  return { notes, snapshot, ref, namespaces, nsByKey, containers, containerOf };
}

/** The process with this pid in a list sorted by pid (undefined: none). */
function bisectPid(procs: readonly ProcessInfo[], pid: number): ProcessInfo | undefined {
  let lo = 0;
  let hi = procs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const p = procs[mid]!;
    if (p.pid === pid) return p;
    if (p.pid < pid) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** The reader's own mount table (a dump's proc/self is the capturing process): [] if unreadable. */
export function readOwnMounts(src: ProcSource): MountInfo[] {
  try {
    return parseMountInfo(src.readProcTextBytes('self/mountinfo'), 'self/mountinfo');
  } catch (e) {
    if (isProcError(e)) return [];
    throw e;
  }
}

/** The cgroup layout, from the reader's own mountinfo (so it works on dumps too). */
export function readCgroupLayout(src: ProcSource): CgroupLayout {
  return detectCgroupLayout(readOwnMounts(src));
}
