/**
 * The process story as plain data: the types every renderer of `cinf --pid` and ctop's detail tabs
 * share, and small pure helpers on them. src/inspect/story.ts reads and fills these in;
 * src/render/story.ts turns them into text and JSON.
 *
 * Stable interface: a section is told by its `id` (the `StorySection` union). Fields may be added;
 * none is renamed or removed without changing every renderer. A value that could not be known is
 * `undefined` next to an `Unknown` saying why.
 */
import type { ProcErrorCode } from '../source/errors.js';
import type { NsEntry, NsType } from '../parse/ns-link.js';
import { capNames, type CapSet } from '../parse/capabilities.js';
import type { IdQuad } from '../parse/proc-status.js';
import type { EnvEntry } from '../parse/proc-environ.js';
import type { IdMapRange } from '../parse/proc-id-map.js';
import type { MountInfo } from '../parse/proc-mountinfo.js';
import type { CgroupLayout } from '../cgroup/layout.js';
import type { CpuStats, IoStats, MemoryStats, PidsStats } from '../cgroup/stats.js';

// ---------------------------------------------------------------------------------------------
// The data

/** Why something is not known. `because` is a short phrase fit to print after a `-` or `?`. */
export interface Unknown {
  reason: 'denied' | 'gone' | 'unparsable' | 'absent' | 'unavailable' | 'io' | 'not-read';
  because: string;
}

/** The text a renderer prints for an unknown value: `-` for denied/gone/absent, `?` for unparsable. */
export function unknownMark(u: Unknown): '-' | '?' {
  return u.reason === 'unparsable' ? '?' : '-';
}

export function unknownFromCode(code: ProcErrorCode): Unknown {
  switch (code) {
    case 'PERMISSION_DENIED':
      return { reason: 'denied', because: 'permission denied' };
    case 'PARSE':
      return { reason: 'unparsable', because: 'unexpected format' };
    case 'PROCESS_GONE':
      return { reason: 'gone', because: 'process exited' };
    case 'NOT_FOUND':
      return { reason: 'absent', because: 'not present' };
    case 'IO':
      return { reason: 'io', because: 'read error' };
    case 'NOT_SUPPORTED':
      return { reason: 'unavailable', because: 'not available from this source' };
    case 'TOO_BIG':
      return { reason: 'unparsable', because: 'larger than its size cap' };
    case 'UNSAFE':
      return { reason: 'unparsable', because: 'refused: not a regular file, or outside the dump' };
  }
}

/** An id with its name when the user database has one (uids only). */
export interface NamedId {
  id: number;
  name: string | undefined;
}

export type ContainerFact =
  | { kind: 'container'; name: string; runtime: string; id: string | undefined; initPid: number; processes: number }
  /** in no container: every namespace that could be read is the host's */
  | { kind: 'host' }
  /** in no container found, but some namespace is its own (ip netns, unshare of one type) */
  | { kind: 'none'; ownTypes: NsType[] }
  /** the namespaces could not be read: nothing can be said */
  | { kind: 'unknown'; because: string };

export interface OverviewSection {
  id: 'overview';
  title: 'PROCESS';
  pid: number;
  name: string | undefined;
  command: string;
  cmdline: string[] | undefined;
  /** one-letter state and its name (name only when status was read) */
  state: { code: string; name: string | undefined } | undefined;
  ppid: number | undefined;
  threads: number | undefined;
  /** NSpid: the pid in each nested pid namespace, outermost first */
  nsPid: number[] | undefined;
  /** real, effective, saved, fs */
  uid: { real: NamedId; effective: NamedId; saved: NamedId; fs: NamedId } | undefined;
  gid: IdQuad | undefined;
  groups: number[] | undefined;
  kernelThread: boolean;
  container: ContainerFact;
  /** set when /proc/PID/status could not be read (uid, gid, groups and state name then unknown) */
  status: Unknown | undefined;
}

export type NsSharing =
  /** the host's namespace of its type */
  | 'host'
  /** not the host's */
  | 'own'
  /** a *_for_children entry equal to the process's own namespace */
  | 'same-as-own'
  /** a *_for_children entry that differs: its next children get a new namespace */
  | 'new-for-children'
  | 'unknown';

export interface NsEntryFact {
  /** `pid`, `pid_for_children`, … */
  entry: NsEntry;
  type: NsType;
  /** set for a thread's own namespace (cinf --threads), where it differs from its process's */
  tid?: number;
  inode: number | undefined;
  dev: number | undefined;
  sharing: NsSharing;
  /** is it the host's namespace of its type (also for *_for_children entries); undefined when unknown */
  isHost: boolean | undefined;
  /** processes in this namespace (not for *_for_children entries) */
  processes: number | undefined;
  /** containers other than this process's own that have processes in it (a pod's shared net, …) */
  otherContainers: string[];
  unknown: Unknown | undefined;
}

export interface NamespacesSection {
  id: 'namespaces';
  title: 'NAMESPACES';
  /** what "host" means here */
  reference: { pid: number | undefined; how: string; initialPidNs: boolean };
  entries: NsEntryFact[];
  /** the whole ns directory was unreadable */
  unknown: Unknown | undefined;
}

export interface CgroupMembershipFact {
  /** `memory`, `cpu,cpuacct`, `unified`, or `name=systemd` */
  hierarchy: string;
  /** the path /proc/PID/cgroup gives */
  path: string;
  /** absolute directory under the sys root (`/sys/fs/cgroup/…`), null when not mounted here */
  dir: string | null;
}

export interface CgroupsSection {
  id: 'cgroups';
  title: 'CGROUPS';
  mode: CgroupLayout['mode'];
  memberships: CgroupMembershipFact[];
  unknown: Unknown | undefined;
}

/** Figures of one controller; `dir` is absolute (`/sys/fs/cgroup/…`), the directory they came from. */
export type WithAbsDir<T extends { dir: string }> = Omit<T, 'dir'> & { dir: string };

export interface ResourcesSection {
  id: 'resources';
  title: 'LIMITS AND USAGE';
  memory: WithAbsDir<MemoryStats> | undefined;
  cpu: WithAbsDir<CpuStats> | undefined;
  pids: WithAbsDir<PidsStats> | undefined;
  io: WithAbsDir<IoStats> | undefined;
  /** per controller: why its figures are missing */
  unknown: Partial<Record<'memory' | 'cpu' | 'pids' | 'io', Unknown>>;
  /** the process's cgroup file itself was unreadable */
  cgroupUnknown: Unknown | undefined;
}

export interface CapSetFact {
  set: CapSet;
  mask: bigint;
  names: string[];
  /** `all`, `all except cap_sys_resource`, `(none)` or the list */
  summary: string;
}

export interface CapabilitiesSection {
  id: 'capabilities';
  title: 'CAPABILITIES';
  /** the five sets in CAP_SETS order; a set the kernel does not report (ambient before 4.3) is absent */
  sets: CapSetFact[];
  unknown: Unknown | undefined;
}

export interface SecuritySection {
  id: 'security';
  title: 'SECURITY';
  seccomp: { mode: string; filters: number | undefined } | undefined;
  /** undefined: the kernel does not report it (before 4.10) */
  noNewPrivs: boolean | 'unsupported' | undefined;
  /** set when status could not be read (seccomp and no_new_privs unknown) */
  unknown: Unknown | undefined;
  /** the LSM label (/proc/PID/attr/current): AppArmor profile, SELinux context */
  lsm: { label: string } | undefined;
  /** why there is no label: `absent` with "no LSM …" when the kernel answers EINVAL, else the read's reason */
  lsmUnknown: Unknown | undefined;
  /** AppArmor's own label (/proc/PID/attr/apparmor/current), on kernels with AppArmor built in */
  apparmor?: { label: string } | undefined;
  apparmorUnknown?: Unknown | undefined;
}

export interface UserNamespaceSection {
  id: 'user-namespace';
  title: 'USER NAMESPACE';
  uidMap: IdMapRange[] | undefined;
  gidMap: IdMapRange[] | undefined;
  setgroups: 'allow' | 'deny' | undefined;
  unknown: Partial<Record<'uidMap' | 'gidMap' | 'setgroups', Unknown>>;
}

export interface EnvironmentSection {
  id: 'environment';
  title: 'ENVIRONMENT';
  vars: EnvEntry[] | undefined;
  unknown: Unknown | undefined;
}

export interface MountsSection {
  id: 'mounts';
  title: 'MOUNTS';
  mounts: MountInfo[] | undefined;
  unknown: Unknown | undefined;
}

/** One section of the story. Renderers switch on `id`. */
export type StorySection =
  | OverviewSection
  | NamespacesSection
  | CgroupsSection
  | ResourcesSection
  | CapabilitiesSection
  | SecuritySection
  | UserNamespaceSection
  | EnvironmentSection
  | MountsSection;

export type StorySectionId = StorySection['id'];

/** The order sections are told in. */
export const STORY_SECTION_IDS: readonly StorySectionId[] = [
  'overview',
  'namespaces',
  'cgroups',
  'resources',
  'capabilities',
  'security',
  'user-namespace',
  'environment',
  'mounts',
];

/** Everything `cinf --pid P` tells of one process. */
export interface ProcessStory {
  pid: number;
  /** in STORY_SECTION_IDS order; environment and mounts only when asked for */
  sections: StorySection[];
  /** the cgroup layout the figures were read through */
  cgroupMode: CgroupLayout['mode'];
  /** raw read failures per file (`status`, `ns/net`, …), as the reader recorded them */
  errors: Partial<Record<string, ProcErrorCode>>;
}

/** The section with this id, typed. */
export function storySection<I extends StorySectionId>(story: ProcessStory, id: I): Extract<StorySection, { id: I }> | undefined {
  return story.sections.find((s) => s.id === id) as Extract<StorySection, { id: I }> | undefined;
}

/**
 * Name a set the short way when most bits are on: `all`, `all except cap_sys_resource`,
 * else the list. Bits above the known capabilities are always named by number.
 */
export function describeCapSet(m: bigint, full: bigint): string {
  if (m === 0n) return '(none)';
  const extra = m & ~full ? `,${capNames(m & ~full).join(',')}` : '';
  const missing = capNames(full & ~m);
  if (missing.length === 0) return `all${extra}`;
  if (missing.length <= 5) return `all except ${missing.join(',')}${extra}`;
  return capNames(m).join(',');
}

