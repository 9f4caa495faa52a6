/**
 * The process story (src/inspect/story.ts) as text, one section at a time, and as JSON.
 * Pure: the sections hold everything; nothing here reads.
 */
import { formatMaskHex } from '../parse/capabilities.js';
import { isIdentityMap, type IdMapRange } from '../parse/proc-id-map.js';
import { propagationText, type MountInfo } from '../parse/proc-mountinfo.js';
import { formatBytes, formatUsec } from '../util/units.js';
import {
  storySection,
  unknownMark,
  type CgroupMembershipFact,
  type NamespacesSection,
  type OverviewSection,
  type ProcessStory,
  type ResourcesSection,
  type StorySection,
  type Unknown,
} from '../model/story.js';
import { escapeControl } from './escape.js';
import { capNames } from '../parse/capabilities.js';
import { displayWidth, renderTable, sliceWidth, toJson, type Column } from './table.js';

export { describeCapSet } from '../model/story.js';

export interface StoryRenderOptions {
  /** tell the environment section (when the story has one) */
  env?: boolean;
  /** tell the mounts section (when the story has one) */
  mounts?: boolean;
  /**
   * storySectionLines: no line wider than this many terminal columns (tables give up their
   * path columns' middles first, other lines are cut with `…`). For a screen (ctop's detail tabs).
   */
  width?: number;
  /** environment: print `KEY=•••` until asked (ctop's `e`) */
  maskEnv?: boolean;
  /** capabilities: also what the effective set has more or fewer than docker's default set */
  dockerDefault?: boolean;
}

/** The capabilities docker (and containerd, podman) give a container by default. */
export const DOCKER_DEFAULT_CAPS = 0x00000000a80425fbn;

const DASH = '-';

/** `- (permission denied)`, `? (unexpected format)`, `- (process exited)`, `- (not available from this source)`; a plain `-` otherwise. */
export function unknownText(u: Unknown | undefined): string {
  if (!u) return DASH;
  if (u.reason === 'denied' || u.reason === 'unparsable' || u.reason === 'gone' || u.reason === 'unavailable') return `${unknownMark(u)} (${u.because})`;
  return DASH;
}

function mapText(map: IdMapRange[] | undefined): string {
  if (!map) return DASH;
  if (map.length === 0) return '(empty: nothing mapped yet)';
  if (isIdentityMap(map)) return '0 0 4294967295 (identity: the initial user namespace)';
  return map.map((r) => `${r.inside} ${r.outside} ${r.count}`).join('; ');
}

function block(title: string, body: string[]): string {
  return `${title}\n${body.map((l) => (l === '' ? '' : `  ${l}`)).join('\n')}\n`;
}

/** A line cut to `width` terminal columns (`…` at the cut); as is without a width. */
function cut(line: string, width: number | undefined): string {
  if (width === undefined || displayWidth(line) <= width) return line;
  return width <= 1 ? '…'.slice(0, width) : `${sliceWidth(line, width - 1)}…`;
}

function kv(pairs: [string, string][]): string[] {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
}

function tableLines<R>(rows: R[], cols: Column<R>[], width?: number): string[] {
  return renderTable(rows, cols, width === undefined ? {} : { width }).trimEnd().split('\n');
}

/** The first line: `PID 1234  redis-server  redis-server *:6379`. */
export function storyHeadline(o: OverviewSection): string {
  return escapeControl(`PID ${o.pid}  ${o.name ?? '?'}  ${o.command}`);
}

function containerText(o: OverviewSection): string {
  const c = o.container;
  switch (c.kind) {
    case 'container':
      return `${c.name} (${c.runtime}${c.id && c.id !== c.name ? ` ${c.id}` : ''}, init pid ${c.initPid}, ${c.processes} process${c.processes === 1 ? '' : 'es'})`;
    case 'host':
      return 'none: all its namespaces are the host’s';
    case 'none':
      return `none found (its own ${c.ownTypes.join(', ')} namespace${c.ownTypes.length === 1 ? '' : 's'})`;
    case 'unknown':
      return `unknown: ${c.because}`;
  }
}

function overviewLines(o: OverviewSection): string[] {
  const rows: [string, string][] = [
    ['state', o.state ? (o.state.name !== undefined ? `${o.state.code} (${o.state.name})` : o.state.code) : DASH],
    ['parent', String(o.ppid ?? DASH)],
    ['threads', String(o.threads ?? DASH)],
  ];
  if (o.nsPid && o.nsPid.length > 1) rows.push(['pid in its namespaces', o.nsPid.join(' → ')]);
  if (o.uid && o.gid && o.groups) {
    const u = o.uid;
    const idText = (x: { id: number; name: string | undefined }) => (x.name !== undefined && x.name !== String(x.id) ? `${x.id}(${x.name})` : String(x.id));
    rows.push(['uid (real eff saved fs)', [u.real, u.effective, u.saved, u.fs].map(idText).join(' ')]);
    rows.push(['gid (real eff saved fs)', [o.gid.real, o.gid.effective, o.gid.saved, o.gid.fs].join(' ')]);
    rows.push(['groups', o.groups.length ? o.groups.join(' ') : '(none)']);
  } else rows.push(['status', unknownText(o.status)]);
  if (o.kernelThread) rows.push(['kernel thread', 'yes']);
  rows.push(['container', containerText(o)]);
  return kv(rows.map(([k, v]) => [k, escapeControl(v)]));
}

function referenceText(s: NamespacesSection): string {
  const r = s.reference;
  return (
    (r.pid === undefined ? `host = ${r.how}` : r.how === 'pid 1' ? 'host = pid 1' : `host = pid ${r.pid} (${r.how})`) +
    (r.initialPidNs ? '' : "; this /proc is a container's: its pid namespace is not the initial one")
  );
}

const SHARING_TEXT = { host: 'host', own: 'own', 'same-as-own': 'same as own', 'new-for-children': 'children get a new one', unknown: '?' } as const;

function namespaceLines(s: NamespacesSection, width: number | undefined): string[] {
  type Row = { entry: string; inode: string; shared: string; nprocs: string };
  const rows: Row[] = s.entries.map((e) => {
    if (e.unknown) {
      const mark = unknownMark(e.unknown);
      return { entry: e.entry, inode: mark, shared: e.unknown.because, nprocs: mark };
    }
    if (e.tid !== undefined) return { entry: `${e.type} (thread ${e.tid})`, inode: String(e.inode), shared: SHARING_TEXT[e.sharing], nprocs: '' };
    // a namespace of its own that other containers are in too (a pod's network, --net container:X)
    const also = e.sharing === 'own' && e.otherContainers.length > 0 ? ` (also ${e.otherContainers.join(', ')})` : '';
    return { entry: e.entry, inode: String(e.inode), shared: SHARING_TEXT[e.sharing] + also, nprocs: e.processes === undefined ? '' : String(e.processes) };
  });
  if (s.unknown && s.entries.length === 0) rows.push({ entry: 'all', inode: unknownMark(s.unknown), shared: s.unknown.because, nprocs: unknownMark(s.unknown) });
  const cols: Column<Row>[] = [
    { id: 'TYPE', help: '', json: 'string', value: (r) => r.entry },
    { id: 'NS', help: '', json: 'number', align: 'right', value: (r) => r.inode },
    { id: 'SHARED', help: '', json: 'string', value: (r) => r.shared },
    { id: 'NPROCS', help: '', json: 'number', align: 'right', value: (r) => r.nprocs },
  ];
  // NPROCS before SHARED would keep the numbers aligned; cinf's order is kept for its goldens
  return tableLines(rows, cols, width);
}

function cgroupLines(s: Extract<StorySection, { id: 'cgroups' }>, width: number | undefined): string[] {
  let body: string[];
  if (s.unknown) body = [unknownText(s.unknown)];
  else {
    const cols: Column<CgroupMembershipFact>[] = [
      { id: 'HIERARCHY', help: '', json: 'string', value: (r) => r.hierarchy },
      { id: 'PATH', help: '', json: 'string', trunc: 'middle', value: (r) => r.path },
      { id: 'DIRECTORY', help: '', json: 'string', trunc: 'middle', value: (r) => r.dir ?? '(not mounted here)' },
    ];
    body = tableLines(s.memberships, cols, width);
  }
  return body;
}

function limit(n: number | null | undefined, fmt: (n: number) => string): string {
  return n === null ? 'unlimited' : n === undefined ? DASH : fmt(n);
}

function unreadable(u: Unknown): string {
  return u.reason === 'denied' ? '- (permission denied)' : '? (unreadable)';
}

/** The LIMITS AND USAGE lines (each figure labelled with the directory it came from). */
export function limitLines(s: ResourcesSection): string[] {
  const lines: string[] = [];
  const m = s.memory;
  if (m) {
    const pct = m.limitBytes ? ` (${((m.workingSetBytes / m.limitBytes) * 100).toFixed(1)}% of limit)` : '';
    lines.push(
      `memory  usage ${formatBytes(m.usageBytes)}, working set ${formatBytes(m.workingSetBytes)}${pct}, limit ${limit(m.limitBytes, formatBytes)}` +
        `${m.oomKills !== undefined ? `, oom kills ${m.oomKills}` : ''}${m.limitHits !== undefined ? `, limit hit ${m.limitHits}×` : ''}  [v${m.version} ${m.dir}]`,
    );
  } else if (s.unknown.memory) lines.push(`memory  ${unreadable(s.unknown.memory)}`);
  const c = s.cpu;
  if (c) {
    const quota = c.quotaUsec === null ? 'no quota' : `quota ${(c.quotaUsec / (c.periodUsec ?? 100000)).toFixed(2)} CPUs`;
    const weight = c.weight !== undefined ? `weight ${c.weight}` : c.shares !== undefined ? `shares ${c.shares}` : '';
    const thr = c.nrThrottled !== undefined ? `, throttled ${c.nrThrottled}/${c.nrPeriods ?? 0} periods (${formatUsec(c.throttledUsec ?? 0)})` : '';
    if (c.usageFrom.dir === c.dir) lines.push(`cpu     usage ${formatUsec(c.usageUsec)}, ${[weight, quota].filter(Boolean).join(', ')}${thr}  [v${c.version} ${c.dir}]`);
    else {
      // cpu and cpuacct mounted apart: each figure labelled with the hierarchy it came from
      lines.push(`cpu     usage ${formatUsec(c.usageUsec)}  [v${c.usageFrom.version} ${c.usageFrom.dir}]`);
      lines.push(`        ${[weight, quota].filter(Boolean).join(', ')}${thr}  [v${c.version} ${c.dir}]`);
    }
  } else if (s.unknown.cpu) lines.push(`cpu     ${unreadable(s.unknown.cpu)}`);
  const pd = s.pids;
  if (pd) lines.push(`pids    current ${pd.current}, max ${limit(pd.max, String)}  [v${pd.version} ${pd.dir}]`);
  const io = s.io;
  if (io) lines.push(`io      read ${formatBytes(io.readBytes)} (${io.readOps} ops), write ${formatBytes(io.writeBytes)} (${io.writeOps} ops)  [v${io.version} ${io.dir}]`);
  if (lines.length === 0) lines.push('(no resource controllers reachable for this process)');
  // directory names come from the host (anyone who can name a cgroup): escape them
  return lines.map(escapeControl);
}

function mountLines(mounts: MountInfo[], width: number | undefined): string[] {
  const cols: Column<MountInfo>[] = [
    { id: 'ID', help: '', json: 'number', align: 'right', value: (m) => m.mountId },
    { id: 'MOUNTPOINT', help: '', json: 'string', trunc: 'middle', value: (m) => m.mountPoint },
    { id: 'FSTYPE', help: '', json: 'string', value: (m) => m.fsType },
    { id: 'SOURCE', help: '', json: 'string', trunc: 'middle', value: (m) => (m.source === '' ? '-' : m.source) },
    { id: 'ROOT', help: '', json: 'string', trunc: 'middle', value: (m) => m.root },
    { id: 'OPTIONS', help: '', json: 'string', trunc: true, value: (m) => m.mountOptions.join(',') },
    { id: 'PROPAGATION', help: '', json: 'string', value: (m) => propagationText(m.propagation) },
  ];
  return tableLines(mounts, cols, width);
}

/** The title line of a section as cinf prints it: `NAMESPACES (host = pid 1)`, `CGROUPS (v2)`. */
export function storySectionTitle(section: StorySection): string {
  if (section.id === 'namespaces') return `${section.title} (${referenceText(section)})`;
  if (section.id === 'cgroups') return `${section.title} (${section.mode === 'hybrid' ? 'v1 + v2 hybrid' : section.mode})`;
  return section.title;
}

/**
 * The body of one section as lines: escaped (no host byte reaches the terminal raw), without the
 * title and without indentation, each at most `opts.width` columns when given. cinf indents
 * these under the title (renderStorySection); ctop shows them as a detail tab, one <Text> each.
 */
export function storySectionLines(section: StorySection, opts: StoryRenderOptions = {}): string[] {
  const w = opts.width;
  let lines: string[];
  switch (section.id) {
    case 'overview':
      lines = overviewLines(section);
      break;
    case 'namespaces':
      return namespaceLines(section, w);
    case 'cgroups':
      return cgroupLines(section, w);
    case 'resources':
      lines = limitLines(section);
      break;
    case 'capabilities':
      lines = section.unknown ? [unknownText(section.unknown)] : section.sets.map((c) => `${c.set.padEnd(11)} ${formatMaskHex(c.mask)}  ${c.summary}`);
      if (opts.dockerDefault && !section.unknown) {
        const eff = section.sets.find((c) => c.set === 'effective')?.mask;
        if (eff !== undefined) {
          const more = capNames(eff & ~DOCKER_DEFAULT_CAPS);
          const fewer = capNames(DOCKER_DEFAULT_CAPS & ~eff);
          lines.push('', `effective against docker's default set (${formatMaskHex(DOCKER_DEFAULT_CAPS)}):`);
          lines.push(`  more:  ${more.length ? more.join(',') : '(none)'}`, `  fewer: ${fewer.length ? fewer.join(',') : '(none)'}`);
        }
      }
      break;
    case 'security': {
      const rows: [string, string][] = section.unknown
        ? [['seccomp', unknownText(section.unknown)]]
        : [
            [
              'seccomp',
              `${section.seccomp?.mode ?? DASH}${section.seccomp?.filters ? ` (${section.seccomp.filters} filter${section.seccomp.filters === 1 ? '' : 's'})` : ''}`,
            ],
            ['no_new_privs', section.noNewPrivs === 'unsupported' ? 'unsupported' : section.noNewPrivs === undefined ? DASH : section.noNewPrivs ? 'yes' : 'no'],
          ];
      // attr/current: the label, or why there is none (no LSM on this kernel: `- (no LSM …)`)
      if (section.lsm) rows.push(['lsm label', section.lsm.label]);
      else if (section.lsmUnknown?.reason === 'absent' && section.lsmUnknown.because.startsWith('no LSM')) rows.push(['lsm label', `- (${section.lsmUnknown.because})`]);
      else if (section.lsmUnknown && section.lsmUnknown.reason !== 'absent') rows.push(['lsm label', unknownText(section.lsmUnknown)]);
      // AppArmor's own label only where the kernel has AppArmor and it says something attr/current did not
      if (section.apparmor && section.apparmor.label !== section.lsm?.label) rows.push(['apparmor', section.apparmor.label]);
      else if (section.apparmorUnknown && section.apparmorUnknown.reason !== 'absent') rows.push(['apparmor', unknownText(section.apparmorUnknown)]);
      lines = kv(rows.map(([k, v]) => [k, escapeControl(v)]));
      break;
    }
    case 'user-namespace':
      lines = kv([
        ['uid_map', section.unknown.uidMap ? unknownText(section.unknown.uidMap) : mapText(section.uidMap)],
        ['gid_map', section.unknown.gidMap ? unknownText(section.unknown.gidMap) : mapText(section.gidMap)],
        ['setgroups', section.unknown.setgroups ? unknownText(section.unknown.setgroups) : section.setgroups ?? DASH],
      ]);
      break;
    case 'environment':
      lines = section.vars
        ? section.vars.length === 0
          ? ['(empty)']
          : section.vars.map((e) => escapeControl(e.value === undefined ? e.key : `${e.key}=${opts.maskEnv ? '•••' : e.value}`))
        : [unknownText(section.unknown)];
      break;
    case 'mounts':
      return section.mounts ? mountLines(section.mounts, w) : [cut(unknownText(section.unknown), w)];
  }
  return w === undefined ? lines : lines.map((l) => cut(l, w));
}

/** One section as text: its title line and its indented body, ending in a newline. */
export function renderStorySection(section: StorySection, opts: StoryRenderOptions = {}): string {
  return block(storySectionTitle(section), storySectionLines(section, { ...opts, width: undefined }));
}

/** The whole story as text: the headline, then each section (environment and mounts only when asked). */
export function renderStory(story: ProcessStory, opts: StoryRenderOptions = {}): string {
  const out: string[] = [];
  const o = storySection(story, 'overview');
  if (o) out.push(`${storyHeadline(o)}\n`);
  for (const s of story.sections) {
    if (s.id === 'environment' && !opts.env) continue;
    if (s.id === 'mounts' && !opts.mounts) continue;
    out.push(renderStorySection(s, opts));
  }
  return out.join('\n');
}

/** The story as JSON (BigInt masks as hex strings): the sections' data in cinf's JSON shape. */
export function storyJson(story: ProcessStory): unknown {
  const o = storySection(story, 'overview')!;
  const ns = storySection(story, 'namespaces')!;
  const cg = storySection(story, 'cgroups')!;
  const res = storySection(story, 'resources')!;
  const caps = storySection(story, 'capabilities')!;
  const sec = storySection(story, 'security')!;
  const userns = storySection(story, 'user-namespace')!;
  const env = storySection(story, 'environment');
  const mounts = storySection(story, 'mounts');
  const c = o.container;
  return toJson({
    pid: o.pid,
    name: o.name,
    cmdline: o.cmdline,
    state: o.state?.code,
    ppid: o.ppid,
    threads: o.threads,
    uid: o.uid ? { real: o.uid.real.id, effective: o.uid.effective.id, saved: o.uid.saved.id, fs: o.uid.fs.id } : undefined,
    gid: o.gid,
    groups: o.groups,
    nspid: o.nsPid,
    container: c.kind === 'container' ? { name: c.name, runtime: c.runtime, id: c.id ?? null, initPid: c.initPid } : null,
    hostReference: { pid: ns.reference.pid ?? null, how: ns.reference.how, initialPidNamespace: ns.reference.initialPidNs },
    namespaces: Object.fromEntries(
      ns.entries.filter((e) => e.tid === undefined && e.inode !== undefined).map((e) => [e.entry, { inode: e.inode, dev: e.dev, host: e.isHost }]),
    ),
    cgroupMode: cg.mode,
    cgroups: cg.memberships,
    resources: { memory: res.memory, cpu: res.cpu, pids: res.pids, io: res.io },
    capabilities: caps.unknown ? null : Object.fromEntries(caps.sets.map((s) => [s.set, { mask: s.mask, names: s.names }])),
    seccomp: sec.seccomp ? { mode: sec.seccomp.mode, filters: sec.seccomp.filters ?? null } : null,
    noNewPrivs: typeof sec.noNewPrivs === 'boolean' ? sec.noNewPrivs : null,
    ...(sec.lsm ? { lsm: sec.lsm.label } : {}),
    lsmLabels: { current: sec.lsm?.label ?? null, apparmor: sec.apparmor?.label ?? null },
    uidMap: userns.uidMap ?? null,
    gidMap: userns.gidMap ?? null,
    setgroups: userns.setgroups ?? null,
    environ: env?.vars ?? null,
    mounts: mounts?.mounts ?? null,
    errors: story.errors,
  });
}
