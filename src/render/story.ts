import { NS_ENTRIES } from '../parse/ns-link.js';
import { CAP_SETS, capNames, formatMaskHex, fullMask } from '../parse/capabilities.js';
import { seccompModeName } from '../parse/proc-status.js';
import { isIdentityMap, type IdMapRange } from '../parse/proc-id-map.js';
import { propagationText } from '../parse/proc-mountinfo.js';
import { commandOf, type ProcessInfo } from '../model/process.js';
import { isHostNs, type HostReference, type NamespaceGroup } from '../model/namespaces.js';
import type { Container } from '../model/containers.js';
import type { CgroupLayout } from '../cgroup/layout.js';
import type { CgroupStats } from '../cgroup/stats.js';
import { formatBytes, formatUsec } from '../util/units.js';
import { escapeControl } from './escape.js';
import { renderTable, toJson, type Column } from './table.js';

/** Everything `cinf --pid P` tells of one process. */
export interface ProcessStory {
  p: ProcessInfo;
  ref: HostReference;
  container: Container | undefined;
  layout: CgroupLayout;
  /** each /proc/<pid>/cgroup line with its hierarchy name and directory (relative to the sys root) */
  cgroups: { hierarchy: string; path: string; dir: string | undefined }[];
  stats: CgroupStats;
  /** every namespace's process count, to say who else shares it */
  nsGroups: Map<string, NamespaceGroup>;
  userName(uid: number | undefined): string | undefined;
}

export interface StoryOptions {
  env?: boolean;
  mounts?: boolean;
  width?: number;
}

const DENIED = '-';

function denied(p: ProcessInfo, file: string): string | undefined {
  const e = p.errors[file];
  if (e === 'PERMISSION_DENIED') return `${DENIED} (permission denied)`;
  if (e === 'PARSE') return '? (unexpected format)';
  if (e === 'PROCESS_GONE') return `${DENIED} (process exited)`;
  if (e === 'TOO_BIG') return '? (larger than its size cap)';
  if (e === 'UNSAFE') return '? (refused: not a regular file, or outside the dump)';
  if (e === 'IO') return '? (read error)';
  return undefined;
}

function idText(id: number, name: string | undefined): string {
  return name !== undefined && name !== String(id) ? `${id}(${name})` : String(id);
}

function mapText(map: IdMapRange[] | undefined): string {
  if (!map) return DENIED;
  if (map.length === 0) return '(empty: nothing mapped yet)';
  if (isIdentityMap(map)) return '0 0 4294967295 (identity: the initial user namespace)';
  return map.map((r) => `${r.inside} ${r.outside} ${r.count}`).join('; ');
}

function section(title: string, body: string[]): string {
  return `${title}\n${body.map((l) => (l === '' ? '' : `  ${l}`)).join('\n')}\n`;
}

function kv(pairs: [string, string][]): string[] {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
}

export function renderStory(s: ProcessStory, opts: StoryOptions = {}): string {
  const { p } = s;
  const st = p.status;
  const out: string[] = [];
  const name = p.stat?.comm ?? st?.name ?? p.comm ?? '?';
  out.push(`${escapeControl(`PID ${p.pid}  ${name}  ${commandOf(p)}`)}\n`);

  const proc: [string, string][] = [
    ['state', st ? `${st.state} (${st.stateName})` : p.stat?.state ?? DENIED],
    ['parent', String(p.stat?.ppid ?? st?.ppid ?? DENIED)],
    ['threads', String(st?.threads ?? p.stat?.numThreads ?? DENIED)],
  ];
  if (st?.nsPid && st.nsPid.length > 1) proc.push(['pid in its namespaces', st.nsPid.join(' → ')]);
  if (st) {
    proc.push(['uid (real eff saved fs)', [st.uid.real, st.uid.effective, st.uid.saved, st.uid.fs].map((u) => idText(u, s.userName(u))).join(' ')]);
    proc.push(['gid (real eff saved fs)', [st.gid.real, st.gid.effective, st.gid.saved, st.gid.fs].join(' ')]);
    proc.push(['groups', st.groups.length ? st.groups.join(' ') : '(none)']);
  } else proc.push(['status', denied(p, 'status') ?? DENIED]);
  if (st?.kthread) proc.push(['kernel thread', 'yes']);
  proc.push([
    'container',
    s.container
      ? `${s.container.name} (${s.container.runtime}${s.container.id && s.container.id !== s.container.name ? ` ${s.container.id}` : ''}, init pid ${s.container.initPid}, ${s.container.pids.length} process${s.container.pids.length === 1 ? "" : "es"})`
      : Object.entries(p.errors).some(([k, c]) => k.startsWith('ns') && c !== 'NOT_FOUND')
        ? 'unknown: not every namespace could be read'
        : 'none: all its namespaces are the host’s',
  ]);
  out.push(section('PROCESS', kv(proc.map(([k, v]) => [k, escapeControl(v)]))));

  // namespaces
  const refText =
    (s.ref.pid === undefined ? `host = ${s.ref.how}` : s.ref.how === 'pid 1' ? 'host = pid 1' : `host = pid ${s.ref.pid} (${s.ref.how})`) +
    (s.ref.initialPidNs ? '' : "; this /proc is a container's: its pid namespace is not the initial one");
  const nsRows: { entry: string; inode: string; shared: string; nprocs: string }[] = [];
  for (const entry of NS_ENTRIES) {
    const id = p.ns?.[entry];
    const err = p.errors[`ns/${entry}`];
    if (!id) {
      if (err === 'PERMISSION_DENIED') nsRows.push({ entry, inode: DENIED, shared: 'permission denied', nprocs: DENIED });
      // docs/errors.md: what could not be parsed or read is shown as `?`, never left out
      else if (err !== undefined && err !== 'NOT_FOUND' && err !== 'PROCESS_GONE') nsRows.push({ entry, inode: '?', shared: err === 'PARSE' ? 'unexpected format' : err === 'UNSAFE' ? 'refused' : 'unreadable', nprocs: '?' });
      continue;
    }
    const g = s.nsGroups.get(`${id.type}:${id.dev}:${id.inode}`);
    const isChildren = entry.endsWith('_for_children');
    const sameAsOwn = isChildren && p.ns?.[id.type]?.inode === id.inode;
    nsRows.push({
      entry,
      inode: String(id.inode),
      shared: isChildren ? (sameAsOwn ? 'same as own' : 'children get a new one') : isHostNs(s.ref, id) ? 'host' : 'own',
      nprocs: isChildren ? '' : String(g?.pids.length ?? 1),
    });
  }
  if (!p.ns && p.errors.ns) nsRows.push({ entry: 'all', inode: DENIED, shared: p.errors.ns, nprocs: DENIED });
  for (const th of p.threads ?? []) {
    for (const [t, id] of Object.entries(th.ns)) {
      if (p.ns?.[t as keyof typeof p.ns]?.inode === id.inode) continue;
      nsRows.push({ entry: `${t} (thread ${th.tid})`, inode: String(id.inode), shared: isHostNs(s.ref, id) ? 'host' : 'own', nprocs: '' });
    }
  }
  const nsCols: Column<(typeof nsRows)[number]>[] = [
    { id: 'TYPE', help: '', json: 'string', value: (r) => r.entry },
    { id: 'NS', help: '', json: 'number', align: 'right', value: (r) => r.inode },
    { id: 'SHARED', help: '', json: 'string', value: (r) => r.shared },
    { id: 'NPROCS', help: '', json: 'number', align: 'right', value: (r) => r.nprocs },
  ];
  out.push(section(`NAMESPACES (${refText})`, renderTable(nsRows, nsCols).trimEnd().split('\n')));

  // cgroups
  const cgBody: string[] = [];
  if (p.cgroups) {
    const cols: Column<(typeof s.cgroups)[number]>[] = [
      { id: 'HIERARCHY', help: '', json: 'string', value: (r) => r.hierarchy },
      { id: 'PATH', help: '', json: 'string', value: (r) => r.path },
      { id: 'DIRECTORY', help: '', json: 'string', value: (r) => (r.dir === undefined ? '(not mounted here)' : `/sys/${r.dir}`) },
    ];
    cgBody.push(...renderTable(s.cgroups, cols).trimEnd().split('\n'));
  } else cgBody.push(denied(p, 'cgroup') ?? DENIED);
  out.push(section(`CGROUPS (${s.layout.mode === 'hybrid' ? 'v1 + v2 hybrid' : s.layout.mode})`, cgBody));

  out.push(section('LIMITS AND USAGE', limitLines(s.stats)));

  // capabilities
  const capBody: string[] = [];
  if (st) {
    const masks: Record<string, bigint | undefined> = {
      inheritable: st.capInh,
      permitted: st.capPrm,
      effective: st.capEff,
      bounding: st.capBnd,
      ambient: st.capAmb,
    };
    const full = fullMask();
    for (const set of CAP_SETS) {
      const m = masks[set];
      if (m === undefined) continue;
      capBody.push(`${set.padEnd(11)} ${formatMaskHex(m)}  ${describeCapSet(m, full)}`);
      continue;
    }
  } else capBody.push(denied(p, 'status') ?? DENIED);
  out.push(section('CAPABILITIES', capBody));

  const sec: [string, string][] = st
    ? [
        ['seccomp', `${seccompModeName(st.seccomp)}${st.seccompFilters ? ` (${st.seccompFilters} filter${st.seccompFilters === 1 ? '' : 's'})` : ''}`],
        ['no_new_privs', st.noNewPrivs === undefined ? 'unsupported' : st.noNewPrivs ? 'yes' : 'no'],
      ]
    : [['seccomp', denied(p, 'status') ?? DENIED]];
  out.push(section('SECURITY', kv(sec)));

  out.push(
    section(
      'USER NAMESPACE',
      kv([
        ['uid_map', denied(p, 'uid_map') ?? mapText(p.uidMap)],
        ['gid_map', denied(p, 'gid_map') ?? mapText(p.gidMap)],
        ['setgroups', denied(p, 'setgroups') ?? p.setgroups ?? DENIED],
      ]),
    ),
  );

  if (opts.env) {
    const body = p.environ
      ? p.environ.length === 0
        ? ['(empty)']
        : p.environ.map((e) => escapeControl(e.value === undefined ? e.key : `${e.key}=${e.value}`))
      : [denied(p, 'environ') ?? DENIED];
    out.push(section('ENVIRONMENT', body));
  }
  if (opts.mounts) {
    let body: string[];
    if (p.mounts) {
      const cols: Column<NonNullable<ProcessInfo['mounts']>[number]>[] = [
        { id: 'ID', help: '', json: 'number', align: 'right', value: (m) => m.mountId },
        { id: 'MOUNTPOINT', help: '', json: 'string', value: (m) => m.mountPoint },
        { id: 'FSTYPE', help: '', json: 'string', value: (m) => m.fsType },
        { id: 'SOURCE', help: '', json: 'string', value: (m) => (m.source === '' ? '-' : m.source) },
        { id: 'ROOT', help: '', json: 'string', value: (m) => m.root },
        { id: 'OPTIONS', help: '', json: 'string', value: (m) => m.mountOptions.join(',') },
        { id: 'PROPAGATION', help: '', json: 'string', value: (m) => propagationText(m.propagation) },
      ];
      body = renderTable(p.mounts, cols).trimEnd().split('\n');
    } else body = [denied(p, 'mountinfo') ?? DENIED];
    out.push(section('MOUNTS', body));
  }
  return out.join('\n');
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

function limit(n: number | null | undefined, fmt: (n: number) => string): string {
  return n === null ? 'unlimited' : n === undefined ? '-' : fmt(n);
}

/** Each figure with the directory it was read from (escaped: cgroup names are anyone's). */
export function limitLines(stats: CgroupStats): string[] {
  return limitLinesRaw(stats).map(escapeControl);
}

function limitLinesRaw(stats: CgroupStats): string[] {
  const lines: string[] = [];
  const m = stats.memory;
  if (m) {
    const pct = m.limitBytes ? ` (${((m.workingSetBytes / m.limitBytes) * 100).toFixed(1)}% of limit)` : '';
    lines.push(
      `memory  usage ${formatBytes(m.usageBytes)}, working set ${formatBytes(m.workingSetBytes)}${pct}, limit ${limit(m.limitBytes, formatBytes)}` +
        `${m.oomKills !== undefined ? `, oom kills ${m.oomKills}` : ''}${m.limitHits !== undefined ? `, limit hit ${m.limitHits}×` : ''}  [v${m.version} ${m.dir}]`,
    );
  } else if (stats.errors.memory) lines.push(`memory  ${stats.errors.memory === 'PERMISSION_DENIED' ? '- (permission denied)' : '? (unreadable)'}`);
  const c = stats.cpu;
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
  } else if (stats.errors.cpu) lines.push(`cpu     ${stats.errors.cpu === 'PERMISSION_DENIED' ? '- (permission denied)' : '? (unreadable)'}`);
  const pd = stats.pids;
  if (pd) lines.push(`pids    current ${pd.current}, max ${limit(pd.max, String)}  [v${pd.version} ${pd.dir}]`);
  const io = stats.io;
  if (io) lines.push(`io      read ${formatBytes(io.readBytes)} (${io.readOps} ops), write ${formatBytes(io.writeBytes)} (${io.writeOps} ops)  [v${io.version} ${io.dir}]`);
  if (lines.length === 0) lines.push('(no resource controllers reachable for this process)');
  return lines;
}

/** The whole story as JSON (BigInt masks as hex strings). */
export function storyJson(s: ProcessStory): unknown {
  const { p } = s;
  const st = p.status;
  return toJson({
    pid: p.pid,
    name: p.stat?.comm ?? st?.name,
    cmdline: p.cmdline,
    state: st?.state ?? p.stat?.state,
    ppid: p.stat?.ppid ?? st?.ppid,
    threads: st?.threads,
    uid: st?.uid,
    gid: st?.gid,
    groups: st?.groups,
    nspid: st?.nsPid,
    container: s.container ? { name: s.container.name, runtime: s.container.runtime, id: s.container.id ?? null, initPid: s.container.initPid } : null,
    hostReference: { pid: s.ref.pid ?? null, how: s.ref.how, initialPidNamespace: s.ref.initialPidNs },
    namespaces: Object.fromEntries(
      NS_ENTRIES.filter((e) => p.ns?.[e]).map((e) => {
        const id = p.ns![e]!;
        return [e, { inode: id.inode, dev: id.dev, host: isHostNs(s.ref, id) }];
      }),
    ),
    cgroupMode: s.layout.mode,
    cgroups: s.cgroups.map((c) => ({ ...c, dir: c.dir === undefined ? null : `/sys/${c.dir}` })),
    resources: { memory: s.stats.memory, cpu: s.stats.cpu, pids: s.stats.pids, io: s.stats.io },
    capabilities: st
      ? Object.fromEntries(
          (
            [
              ['inheritable', st.capInh],
              ['permitted', st.capPrm],
              ['effective', st.capEff],
              ['bounding', st.capBnd],
              ['ambient', st.capAmb],
            ] as const
          )
            .filter(([, m]) => m !== undefined)
            .map(([k, m]) => [k, { mask: m, names: capNames(m!) }]),
        )
      : null,
    seccomp: st ? { mode: seccompModeName(st.seccomp), filters: st.seccompFilters ?? null } : null,
    noNewPrivs: st?.noNewPrivs ?? null,
    uidMap: p.uidMap ?? null,
    gidMap: p.gidMap ?? null,
    setgroups: p.setgroups ?? null,
    environ: p.environ ?? null,
    mounts: p.mounts ?? null,
    errors: p.errors,
  });
}

