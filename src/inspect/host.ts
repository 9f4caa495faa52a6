import type { ProcSource } from '../source/source.js';
import { NS_TYPES, type NsEntry, type NsType } from '../parse/ns-link.js';
import { parseMountInfo, type MountInfo } from '../parse/proc-mountinfo.js';
import { isProcError } from '../source/errors.js';
import { ensureFiles, readInto, readProcess, type ProcFile } from '../proc/process.js';
import { nsKey, type ProcessInfo } from '../model/process.js';
import { takeSnapshot, type Snapshot } from '../proc/snapshot.js';
import { addBoundNamespaces, buildNamespaceIndex, findHostReference, type HostReference, type NamespaceGroup } from '../model/namespaces.js';
import { buildContainers, containerIndex, type Container } from '../model/containers.js';
import { detectCgroupLayout, type CgroupLayout } from '../cgroup/layout.js';

/** The host at one moment: processes, the host's reference namespaces, namespaces and containers. */
export interface HostModel {
  snapshot: Snapshot;
  ref: HostReference;
  namespaces: NamespaceGroup[];
  nsByKey: Map<string, NamespaceGroup>;
  containers: Container[];
  containerOf: Map<number, Container>;
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
export function modelFromSnapshot(src: ProcSource, snapshot: Snapshot, opts: InspectOptions = {}): HostModel {
  const files = new Set(snapshotRequest(opts).files);
  if (opts.excludeSelf && snapshot.selfPid !== undefined) snapshot.processes = snapshot.processes.filter((p) => p.pid !== snapshot.selfPid);
  // the host reference is kthreadd or pid 1: only their stat is needed when no view asked for all
  if (!files.has('stat')) for (const p of snapshot.processes.slice(0, 2)) if (p.pid <= 2) ensureFiles(src, p, ['stat']);
  const ref = findHostReference(snapshot);
  let namespaces = buildNamespaceIndex(snapshot, ref, opts.types ?? NS_TYPES);
  if (opts.bound) namespaces = addBoundNamespaces(namespaces, readOwnMounts(src), ref, opts.types ?? NS_TYPES);
  const containers = opts.containers
    ? buildContainers(snapshot, ref, {
        hostnameOf: (p: ProcessInfo) => {
          if (!p.environ && p.errors.environ === undefined) readInto(src, p, ['environ']);
          return p.environ?.find((e) => e.key === 'HOSTNAME')?.value;
        },
        // NSpid of the few candidate inits (pid 1 of a container's pid namespace), read only for them
        nsPidOf: (p: ProcessInfo) => p.status?.nsPid ?? readProcess(src, p.pid, ['status'])?.status?.nsPid,
      })
    : [];
  return {
    snapshot,
    ref,
    namespaces,
    nsByKey: new Map(namespaces.map((g) => [nsKey(g.ns), g])),
    containers,
    containerOf: containerIndex(containers),
  };
}

/** The reader's own mount table (a dump's proc/self is the capturing process): [] if unreadable. */
export function readOwnMounts(src: ProcSource): MountInfo[] {
  try {
    return parseMountInfo(src.readProcText('self/mountinfo'), 'self/mountinfo');
  } catch (e) {
    if (isProcError(e)) return [];
    throw e;
  }
}

/** The cgroup layout, from the reader's own mountinfo (so it works on dumps too). */
export function readCgroupLayout(src: ProcSource): CgroupLayout {
  return detectCgroupLayout(readOwnMounts(src));
}
