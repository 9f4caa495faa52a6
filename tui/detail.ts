/**
 * The detail tabs of one process. `readDetail` reads it (I/O, one pid, small); `detailTab` turns
 * it into lines (pure). A process that is gone, or whose pid now belongs to a new process (start
 * time changed), is reported as gone; unreadable files show `-` with the reason.
 */
import type { ProcSource } from '../src/source/source.js';
import { readProcess } from '../src/proc/process.js';
import { commandOf, type ProcessInfo } from '../src/model/process.js';
import { readCgroupStats, type CgroupStats } from '../src/cgroup/stats.js';
import { readCgroupLayout } from '../src/inspect/host.js';
import { cgroupSysRel, hierarchyFor, hierarchyName, type CgroupLayout } from '../src/cgroup/layout.js';
import { NS_ENTRIES, NS_TYPES } from '../src/parse/ns-link.js';
import { CAP_SETS, capNames, formatMaskHex, fullMask } from '../src/parse/capabilities.js';
import { seccompModeName } from '../src/parse/proc-status.js';
import { isIdentityMap, type IdMapRange } from '../src/parse/proc-id-map.js';
import { propagationText } from '../src/parse/proc-mountinfo.js';
import { describeCapSet, limitLines } from '../src/render/story.js';
import { unknownFromCode, type ResourcesSection } from '../src/model/story.js';
import { escapeControl } from '../src/render/escape.js';
import type { Sample } from './sample.js';
import type { GroupRow } from './model.js';
import type { DetailTab } from './store.js';

/** The capabilities docker (and containerd, podman) give a container by default. */
export const DOCKER_DEFAULT_CAPS = 0x00000000a80425fbn;

export interface Detail {
  p: ProcessInfo;
  layout: CgroupLayout | undefined;
  stats: CgroupStats | undefined;
  /** read at this wall time */
  readAtMs: number;
}

const FILES = ['stat', 'status', 'cmdline', 'environ', 'ns', 'cgroup', 'mountinfo', 'uid_map', 'gid_map', 'setgroups'] as const;

/** Read a process for the detail view; undefined when it is gone or its pid was reused (start ≠). */
export function readDetail(src: ProcSource, pid: number, start: number): Detail | undefined {
  const p = readProcess(src, pid, FILES);
  if (!p || (p.stat && start >= 0 && p.stat.startTimeTicks !== start)) return undefined;
  if (!p.stat && p.errors.stat === 'PROCESS_GONE') return undefined;
  let layout: CgroupLayout | undefined;
  let stats: CgroupStats | undefined;
  try {
    layout = readCgroupLayout(src);
    if (p.cgroups) stats = readCgroupStats(src, layout, p.cgroups);
  } catch {
    /* shown as unreadable */
  }
  return { p, layout, stats, readAtMs: Date.now() };
}

const D = '-';

function why(p: ProcessInfo, file: string): string {
  const e = p.errors[file];
  if (e === 'PERMISSION_DENIED') return `${D} (permission denied reading ${file})`;
  if (e === 'PROCESS_GONE') return `${D} (process exited)`;
  if (e === 'PARSE') return `? (unexpected format in ${file})`;
  if (e === 'NOT_FOUND') return `${D} (this kernel has no ${file})`;
  return `${D} (not read)`;
}

function kv(pairs: [string, string][]): string[] {
  const w = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${escapeControl(v)}`);
}

function mapText(map: IdMapRange[] | undefined): string[] {
  if (!map) return [D];
  if (map.length === 0) return ['(empty: nothing mapped yet)'];
  if (isIdentityMap(map)) return ['0 0 4294967295  (identity: the initial user namespace)'];
  return map.map((r) => `inside ${r.inside} → outside ${r.outside}, ${r.count} id${r.count === 1 ? '' : 's'}`);
}

export interface TabContext {
  sample: Sample | undefined;
  groups: GroupRow[];
  showEnv: boolean;
}

/** The lines of one tab. */
export function detailTab(d: Detail, tab: DetailTab, ctx: TabContext): string[] {
  const { p } = d;
  const st = p.status;
  switch (tab) {
    case 'overview': {
      const group = ctx.groups.find((g) => g.key !== 'host' && g.pids.includes(p.pid));
      const pairs: [string, string][] = [
        ['pid', String(p.pid)],
        ['pid in its namespaces', st?.nsPid ? st.nsPid.join(' → ') : why(p, 'status')],
        ['command', commandOf(p) || why(p, 'cmdline')],
        ['name', p.stat?.comm ?? st?.name ?? D],
        ['state', st ? `${st.state} (${st.stateName})` : p.stat?.state ?? why(p, 'stat')],
        ['parent', String(p.stat?.ppid ?? st?.ppid ?? D)],
        ['threads', String(st?.threads ?? p.stat?.numThreads ?? D)],
        ['uid (real eff saved fs)', st ? [st.uid.real, st.uid.effective, st.uid.saved, st.uid.fs].join(' ') : why(p, 'status')],
        ['gid (real eff saved fs)', st ? [st.gid.real, st.gid.effective, st.gid.saved, st.gid.fs].join(' ') : why(p, 'status')],
        ['memory (VmRSS)', st?.memoryBytes.vmRssBytes !== undefined ? `${Math.round(st.memoryBytes.vmRssBytes / 1024)} KiB` : D],
        ['group', group ? `${group.name} (${group.kind}, ${group.pids.length} processes)` : 'host: all its namespaces are the host’s'],
      ];
      return kv(pairs);
    }
    case 'namespaces': {
      if (!p.ns) return [why(p, 'ns')];
      const out = ['TYPE               INODE        SHARED WITH'];
      for (const e of NS_ENTRIES) {
        const id = p.ns[e];
        if (!id) {
          if (p.errors[`ns/${e}`]) out.push(`${e.padEnd(18)} ${D.padStart(11)}  ${why(p, `ns/${e}`)}`);
          continue;
        }
        let shared: string;
        if (e.endsWith('_for_children')) shared = p.ns[id.type]?.inode === id.inode ? 'same as its own' : 'children get a new one';
        else {
          const host = ctx.sample?.host[id.type] === id.inode;
          const others = ctx.sample ? groupsHolding(ctx, id.type, id.inode, p.pid) : [];
          shared = host ? 'host' : others.length ? `own; also ${others.join(', ')}` : 'own';
          if (host && others.length) shared = `host (and ${others.length} group${others.length === 1 ? '' : 's'})`;
        }
        out.push(`${e.padEnd(18)} ${String(id.inode).padStart(11)}  ${shared}`);
      }
      return out;
    }
    case 'cgroups': {
      const out: string[] = [];
      if (p.cgroups && d.layout) {
        out.push(`cgroup layout: ${d.layout.mode === 'hybrid' ? 'v1 + v2 hybrid' : d.layout.mode}`);
        for (const line of p.cgroups) {
          const h = hierarchyFor(d.layout, line);
          const dir = h ? cgroupSysRel(h, line.path) : undefined;
          out.push(`  ${escapeControl((h ? hierarchyName(h) : line.controllers.join(',') || `hierarchy ${line.hierarchyId}`).padEnd(18))} ${escapeControl(line.path)}${dir ? `  (/sys/${escapeControl(dir)})` : ''}`);
        }
      } else out.push(why(p, 'cgroup'));
      out.push('', 'limits and usage:');
      out.push(...(d.stats ? limitLines(resourcesOf(d.stats)).map((l) => `  ${l}`) : [`  ${D} (no cgroup stats readable)`]));
      return out;
    }
    case 'capabilities': {
      if (!st) return [why(p, 'status')];
      const full = fullMask();
      const masks: Record<string, bigint | undefined> = { inheritable: st.capInh, permitted: st.capPrm, effective: st.capEff, bounding: st.capBnd, ambient: st.capAmb };
      const out: string[] = [];
      for (const set of CAP_SETS) {
        const m = masks[set];
        if (m === undefined) continue;
        out.push(`${set.padEnd(11)} ${formatMaskHex(m)}  ${describeCapSet(m, full)}`);
      }
      const eff = st.capEff;
      const extra = capNames(eff & ~DOCKER_DEFAULT_CAPS);
      const missing = capNames(DOCKER_DEFAULT_CAPS & ~eff);
      out.push('', `against docker's default set (${formatMaskHex(DOCKER_DEFAULT_CAPS)}):`);
      out.push(`  more:  ${extra.length ? extra.join(',') : '(none)'}`);
      out.push(`  fewer: ${missing.length ? missing.join(',') : '(none)'}`);
      return out;
    }
    case 'security':
      if (!st) return [why(p, 'status')];
      return kv([
        ['seccomp', `${seccompModeName(st.seccomp)}${st.seccompFilters ? ` (${st.seccompFilters} filter${st.seccompFilters === 1 ? '' : 's'})` : ''}`],
        ['no_new_privs', st.noNewPrivs === undefined ? 'unsupported' : st.noNewPrivs ? 'yes' : 'no'],
        ['tracer pid', String(st.tracerPid)],
      ]);
    case 'idmaps':
      return [
        'uid_map',
        ...(p.uidMap ? mapText(p.uidMap) : [why(p, 'uid_map')]).map((l) => `  ${l}`),
        'gid_map',
        ...(p.gidMap ? mapText(p.gidMap) : [why(p, 'gid_map')]).map((l) => `  ${l}`),
        `setgroups  ${p.setgroups ?? why(p, 'setgroups')}`,
      ];
    case 'environment': {
      if (!p.environ) return [why(p, 'environ')];
      if (p.environ.length === 0) return ['(empty)'];
      const head = ctx.showEnv ? '(values shown: e hides them)' : '(values hidden: e shows them)';
      return [head, ...p.environ.map((e) => escapeControl(e.value === undefined ? e.key : `${e.key}=${ctx.showEnv ? e.value : '•••'}`))];
    }
    case 'mounts': {
      if (!p.mounts) return [why(p, 'mountinfo')];
      return [`${p.mounts.length} mounts  (MOUNTPOINT  FSTYPE  SOURCE  OPTIONS  PROPAGATION)`, ...p.mounts.map((m) => escapeControl(`${m.mountPoint}  ${m.fsType}  ${m.source || D}  ${m.mountOptions.join(',')}  ${propagationText(m.propagation)}`))];
    }
  }
}

/** The story's resources section from stats read here (dirs made absolute, as the story shows them). */
function resourcesOf(st: CgroupStats): ResourcesSection {
  const abs = <T extends { dir: string }>(x: T | undefined): T | undefined => (x ? { ...x, dir: `/sys/${x.dir}` } : undefined);
  const unknown: ResourcesSection['unknown'] = {};
  for (const [k, code] of Object.entries(st.errors)) if (code) unknown[k as keyof typeof unknown] = unknownFromCode(code);
  return { id: 'resources', title: 'LIMITS AND USAGE', memory: abs(st.memory), cpu: abs(st.cpu), pids: abs(st.pids), io: abs(st.io), unknown, cgroupUnknown: undefined };
}

function groupsHolding(ctx: TabContext, type: (typeof NS_TYPES)[number], inode: number, self: number): string[] {
  const byPid = new Map(ctx.sample!.procs.map((q) => [q.pid, q]));
  const names: string[] = [];
  for (const g of ctx.groups) {
    if (g.key === 'host' || g.pids.includes(self)) continue;
    if (g.pids.some((pid) => byPid.get(pid)?.ns[type] === inode)) names.push(g.name);
  }
  return names;
}

/** The detail as recorded in a sample (replay: the live process is not read). */
export function recordedOverview(sample: Sample, pid: number): string[] | undefined {
  const p = sample.procs.find((q) => q.pid === pid);
  if (!p) return undefined;
  return [
    '(from the recording: only what each sample keeps)',
    ...kv([
      ['pid', String(p.pid)],
      ['pid in its namespaces', p.nspid ? p.nspid.join(' → ') : D],
      ['command', p.cmd || `[${p.comm}]`],
      ['state', p.state],
      ['parent', String(p.ppid)],
      ['threads', String(p.threads)],
      ['uid', p.uid === undefined ? D : String(p.uid)],
      ['cgroup', p.cg ?? D],
      ...NS_TYPES.filter((t) => p.ns[t] !== undefined).map((t): [string, string] => [`ns ${t}`, `${p.ns[t]}${sample.host[t] === p.ns[t] ? ' (host)' : ''}`]),
    ]),
  ];
}
