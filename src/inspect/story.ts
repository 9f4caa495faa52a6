/**
 * Reading the whole story of one process (`cinf --pid P`, ctop's detail tabs) as plain data: a list of
 * named sections, each carrying what it knows and, for what it does not, why ("denied", "process
 * exited", …). Reading happens here; src/render/story.ts only turns sections into text, and
 * `storyJson` is the same data for `--json`.
 *
 * The section type (`StorySection`, a union keyed by `id`) is the stable interface for a second
 * renderer: add fields, never rename or remove them.
 */
import type { ProcSource } from '../source/source.js';
import {
  describeCapSet,
  unknownFromCode,
  type CapSetFact,
  type CapabilitiesSection,
  type CgroupsSection,
  type ContainerFact,
  type NamedId,
  type NamespacesSection,
  type NsEntryFact,
  type OverviewSection,
  type ProcessStory,
  type ResourcesSection,
  type SecuritySection,
  type StorySection,
  type Unknown,
  type UserNamespaceSection,
  type WithAbsDir,
} from '../model/story.js';
import type { LsmState } from '../parse/lsm-attr.js';
import { NS_ENTRIES, entryType, type NsType } from '../parse/ns-link.js';
import { CAP_SETS, capNames, fullMask, type CapSet } from '../parse/capabilities.js';
import { seccompModeName } from '../parse/proc-status.js';
import { commandOf, nsKey, type ProcessInfo } from '../model/process.js';
import { isHostNs, type HostReference, type NamespaceGroup } from '../model/namespaces.js';
import type { Container } from '../model/containers.js';
import { cgroupSysRel, hierarchyFor, hierarchyName, type CgroupLayout } from '../cgroup/layout.js';
import { readCgroupStats, type CgroupStats } from '../cgroup/stats.js';
import { readProcess, PROC_FILES } from '../proc/process.js';
import { UserNames } from '../proc/users.js';
import { inspectHost, readCgroupLayout } from './host.js';

/** The story's data types live in model/ (pure); re-exported so one import serves a consumer. */
export * from '../model/story.js';

// ---------------------------------------------------------------------------------------------
// Reading

export interface StoryOptions {
  /** read and tell the environment */
  env?: boolean;
  /** read and tell the mount table */
  mounts?: boolean;
  /**
   * what the story needs of the host — the reference, who is in each namespace, each pid's
   * container — already known (a HostModel, or ctop's facts from its last sample): else the host
   * is read here
   */
  host?: StoryHostFacts;
  /** the process's start time (clock ticks after boot) the caller saw: a pid reused since is "no such process" */
  expectStart?: number;
  /** the cgroup layout, when already known */
  layout?: CgroupLayout;
}

/**
 * Read one process and tell its story. Undefined when there is no such process (or it exited
 * before its first file could be read).
 */
export function readStory(src: ProcSource, pid: number, opts: StoryOptions = {}): ProcessStory | undefined {
  const files = PROC_FILES.filter((f) => (f !== 'environ' || opts.env) && (f !== 'mountinfo' || opts.mounts));
  const p = readProcess(src, pid, files, { verifyIdentity: true });
  if (!p || (!p.stat && !p.status)) return undefined;
  if (opts.expectStart !== undefined && opts.expectStart >= 0 && p.stat && p.stat.startTimeTicks !== opts.expectStart) return undefined;
  // the host reference, "who else shares it" and the container need every process's namespaces
  const host = opts.host ?? inspectHost(src, { containers: true });
  const layout = opts.layout ?? readCgroupLayout(src);
  const users = new UserNames(src);
  return buildStory(p, {
    ref: host.ref,
    nsGroups: host.nsByKey,
    containerOf: host.containerOf,
    layout,
    stats: p.cgroups ? readCgroupStats(src, layout, p.cgroups) : { errors: {} },
    userName: (u) => users.name(u),
    env: opts.env === true,
    mounts: opts.mounts === true,
  });
}

/** The host facts a story reads: a HostModel has them; ctop builds them from a sample (lookups only). */
export interface StoryHostFacts {
  ref: HostReference;
  nsByKey: Pick<ReadonlyMap<string, NamespaceGroup>, 'get'>;
  containerOf: Pick<ReadonlyMap<number, Container>, 'get'>;
}

export interface StoryInputs {
  ref: HostReference;
  nsGroups: Pick<ReadonlyMap<string, NamespaceGroup>, 'get'>;
  containerOf: Pick<ReadonlyMap<number, Container>, 'get'>;
  layout: CgroupLayout;
  stats: CgroupStats;
  userName(uid: number): string | undefined;
  env: boolean;
  mounts: boolean;
}

/** Assemble the sections from what was read (pure: no I/O). */
export function buildStory(p: ProcessInfo, i: StoryInputs): ProcessStory {
  const sections: StorySection[] = [
    overview(p, i),
    namespaces(p, i),
    cgroups(p, i),
    resources(p, i),
    capabilities(p),
    security(p),
    userNamespace(p),
  ];
  if (i.env) sections.push({ id: 'environment', title: 'ENVIRONMENT', vars: p.environ, unknown: fileUnknown(p, 'environ') });
  if (i.mounts) sections.push({ id: 'mounts', title: 'MOUNTS', mounts: p.mounts, unknown: fileUnknown(p, 'mountinfo') });
  return { pid: p.pid, sections, cgroupMode: i.layout.mode, errors: { ...p.errors } };
}

/** Why `file` is missing: its recorded error, else "not read". */
function fileUnknown(p: ProcessInfo, file: string): Unknown | undefined {
  const e = p.errors[file];
  return e ? unknownFromCode(e) : undefined;
}

function orNotRead(u: Unknown | undefined, present: boolean): Unknown | undefined {
  return present ? undefined : u ?? { reason: 'not-read', because: 'not read' };
}

function named(id: number, i: StoryInputs): NamedId {
  return { id, name: i.userName(id) };
}

function overview(p: ProcessInfo, i: StoryInputs): OverviewSection {
  const st = p.status;
  const c = i.containerOf.get(p.pid);
  return {
    id: 'overview',
    title: 'PROCESS',
    pid: p.pid,
    name: p.stat?.comm ?? st?.name ?? p.comm,
    command: commandOf(p),
    cmdline: p.cmdline,
    state: st ? { code: st.state, name: st.stateName } : p.stat ? { code: p.stat.state, name: undefined } : undefined,
    ppid: p.stat?.ppid ?? st?.ppid,
    threads: st?.threads ?? p.stat?.numThreads,
    nsPid: st?.nsPid,
    uid: st ? { real: named(st.uid.real, i), effective: named(st.uid.effective, i), saved: named(st.uid.saved, i), fs: named(st.uid.fs, i) } : undefined,
    gid: st?.gid,
    groups: st?.groups,
    kernelThread: st?.kthread === true,
    container: c
      ? { kind: 'container', name: c.name, runtime: c.runtime, id: c.id, initPid: c.initPid, processes: c.pids.length }
      : containerlessFact(p, i.ref),
    status: orNotRead(fileUnknown(p, 'status'), st !== undefined),
  };
}

/**
 * A process in no container: "all its namespaces are the host's" only when they were read and
 * are; with none (or some) read, say what is unknown.
 */
function containerlessFact(p: ProcessInfo, ref: HostReference): ContainerFact {
  const own: NsType[] = [];
  const unread: string[] = [];
  for (const entry of NS_ENTRIES) {
    if (entry.endsWith('_for_children')) continue;
    const id = p.ns?.[entry];
    const err = p.errors[`ns/${entry}`];
    if (id) {
      if (!isHostNs(ref, id)) own.push(id.type);
    } else if (err && err !== 'NOT_FOUND') unread.push(entry);
  }
  if (!p.ns || Object.keys(p.ns).length === 0) {
    const code = p.errors.ns ?? Object.entries(p.errors).find(([k, v]) => k.startsWith('ns/') && v !== 'NOT_FOUND')?.[1];
    return { kind: 'unknown', because: `its namespaces could not be read${code ? ` (${unknownFromCode(code).because})` : ''}` };
  }
  if (own.length > 0) return { kind: 'none', ownTypes: own };
  if (unread.length > 0) return { kind: 'unknown', because: `its ${unread.join(', ')} namespace${unread.length === 1 ? '' : 's'} could not be read` };
  return { kind: 'host' };
}

function namespaces(p: ProcessInfo, i: StoryInputs): NamespacesSection {
  const entries: NsEntryFact[] = [];
  const mine = i.containerOf.get(p.pid)?.key;
  const others = (g: NamespaceGroup | undefined): string[] => {
    if (!g) return [];
    const names = new Set<string>();
    for (const pid of g.pids) {
      const c = i.containerOf.get(pid);
      if (c && c.key !== mine) names.add(c.name);
    }
    return [...names].sort();
  };
  for (const entry of NS_ENTRIES) {
    const id = p.ns?.[entry];
    const type = entryType(entry);
    const isChildren = entry.endsWith('_for_children');
    if (!id) {
      const err = p.errors[`ns/${entry}`];
      // absent (the kernel lacks the type; pid_for_children before the first fork): no row
      if (err && err !== 'NOT_FOUND' && p.ns) {
        entries.push({ entry, type, inode: undefined, dev: undefined, sharing: 'unknown', isHost: undefined, processes: undefined, otherContainers: [], unknown: unknownFromCode(err) });
      }
      continue;
    }
    const g = i.nsGroups.get(nsKey(id));
    const sameAsOwn = isChildren && p.ns?.[type]?.inode === id.inode;
    entries.push({
      entry,
      type,
      inode: id.inode,
      dev: id.dev,
      sharing: isChildren ? (sameAsOwn ? 'same-as-own' : 'new-for-children') : isHostNs(i.ref, id) ? 'host' : 'own',
      isHost: isHostNs(i.ref, id),
      processes: isChildren ? undefined : g?.pids.length ?? 1,
      otherContainers: isChildren ? [] : others(g),
      unknown: undefined,
    });
  }
  for (const th of p.threads ?? []) {
    for (const [t, id] of Object.entries(th.ns)) {
      if (p.ns?.[t as NsType]?.inode === id.inode) continue;
      entries.push({
        entry: t as NsType,
        type: t as NsType,
        tid: th.tid,
        inode: id.inode,
        dev: id.dev,
        sharing: isHostNs(i.ref, id) ? 'host' : 'own',
        isHost: isHostNs(i.ref, id),
        processes: undefined,
        otherContainers: [],
        unknown: undefined,
      });
    }
  }
  let unknown: Unknown | undefined;
  if (!p.ns) unknown = p.errors.ns ? unknownFromCode(p.errors.ns) : { reason: 'not-read', because: 'not read' };
  else if (Object.keys(p.ns).length === 0) {
    // every entry failed: one reason for the whole directory
    const code = Object.entries(p.errors).find(([k, v]) => k.startsWith('ns/') && v !== 'NOT_FOUND')?.[1];
    if (code) unknown = unknownFromCode(code);
  }
  return {
    id: 'namespaces',
    title: 'NAMESPACES',
    reference: { pid: i.ref.pid, how: i.ref.how, initialPidNs: i.ref.initialPidNs },
    entries,
    unknown,
  };
}

function cgroups(p: ProcessInfo, i: StoryInputs): CgroupsSection {
  const memberships = (p.cgroups ?? []).map((line) => {
    const h = hierarchyFor(i.layout, line);
    const dir = h ? cgroupSysRel(h, line.path) : undefined;
    return { hierarchy: h ? hierarchyName(h) : line.controllers.join(',') || 'unified', path: line.path, dir: dir === undefined ? null : `/sys/${dir}` };
  });
  return { id: 'cgroups', title: 'CGROUPS', mode: i.layout.mode, memberships, unknown: orNotRead(fileUnknown(p, 'cgroup'), p.cgroups !== undefined) };
}

/** the stats already name their directories as the host does (`/sys/fs/cgroup/…`) */
function absDir<T extends { dir: string }>(x: T | undefined): WithAbsDir<T> | undefined {
  return x;
}

function resources(p: ProcessInfo, i: StoryInputs): ResourcesSection {
  const unknown: ResourcesSection['unknown'] = {};
  for (const [k, code] of Object.entries(i.stats.errors)) if (code) unknown[k as keyof typeof unknown] = unknownFromCode(code);
  return {
    id: 'resources',
    title: 'LIMITS AND USAGE',
    memory: absDir(i.stats.memory),
    cpu: absDir(i.stats.cpu),
    pids: absDir(i.stats.pids),
    io: absDir(i.stats.io),
    unknown,
    cgroupUnknown: orNotRead(fileUnknown(p, 'cgroup'), p.cgroups !== undefined),
  };
}

function capabilities(p: ProcessInfo): CapabilitiesSection {
  const st = p.status;
  const sets: CapSetFact[] = [];
  if (st) {
    const masks: Record<CapSet, bigint | undefined> = {
      inheritable: st.capInh,
      permitted: st.capPrm,
      effective: st.capEff,
      bounding: st.capBnd,
      ambient: st.capAmb,
    };
    const full = fullMask();
    for (const set of CAP_SETS) {
      const mask = masks[set];
      if (mask === undefined) continue;
      sets.push({ set, mask, names: capNames(mask), summary: describeCapSet(mask, full) });
    }
  }
  return { id: 'capabilities', title: 'CAPABILITIES', sets, unknown: orNotRead(fileUnknown(p, 'status'), st !== undefined) };
}

function security(p: ProcessInfo): SecuritySection {
  const st = p.status;
  return {
    id: 'security',
    title: 'SECURITY',
    seccomp: st ? { mode: seccompModeName(st.seccomp), filters: st.seccompFilters } : undefined,
    noNewPrivs: st ? (st.noNewPrivs === undefined ? 'unsupported' : st.noNewPrivs) : undefined,
    unknown: orNotRead(fileUnknown(p, 'status'), st !== undefined),
    lsm: p.lsm && 'label' in p.lsm.current ? p.lsm.current : undefined,
    lsmUnknown: lsmUnknown(p, p.lsm?.current),
    apparmor: p.lsm && 'label' in p.lsm.apparmor ? p.lsm.apparmor : undefined,
    apparmorUnknown: lsmUnknown(p, p.lsm?.apparmor),
  };
}

/** why an attr file gave no label: no LSM (EINVAL), not there, or its read error */
function lsmUnknown(p: ProcessInfo, st: LsmState | undefined): Unknown | undefined {
  if (!st) return orNotRead(fileUnknown(p, 'lsm'), false);
  if ('label' in st) return undefined;
  if ('none' in st) return st.none === 'no-lsm' ? { reason: 'absent', because: 'no LSM keeps a label: the kernel answers EINVAL' } : { reason: 'absent', because: 'not present' };
  return unknownFromCode(st.error);
}

function userNamespace(p: ProcessInfo): UserNamespaceSection {
  const unknown: UserNamespaceSection['unknown'] = {};
  const u = orNotRead(fileUnknown(p, 'uid_map'), p.uidMap !== undefined);
  const g = orNotRead(fileUnknown(p, 'gid_map'), p.gidMap !== undefined);
  const s = orNotRead(fileUnknown(p, 'setgroups'), p.setgroups !== undefined);
  if (u) unknown.uidMap = u;
  if (g) unknown.gidMap = g;
  if (s) unknown.setgroups = s;
  return { id: 'user-namespace', title: 'USER NAMESPACE', uidMap: p.uidMap, gidMap: p.gidMap, setgroups: p.setgroups, unknown };
}
