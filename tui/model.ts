/**
 * Pure: a pair of samples → the rows ctop shows. Rates are Δcounter / Δ(monotonic time) between
 * the two samples; with no previous sample a rate is undefined (shown "—").
 */
import type { NsType } from '../src/parse/ns-link.js';
import { NS_TYPES } from '../src/parse/ns-link.js';
import { cgroupRates } from '../src/model/rates.js';
import { CLOCK_TICKS } from '../src/util/sysconf.js';
import { procIndex, type CgroupSample, type PidIndex, type RawProc, type Sample } from './sample.js';

export const GROUP_MODES = ['container', 'ns', 'cgroup', 'pod'] as const;
export type GroupBy = (typeof GROUP_MODES)[number];

export const HOST_KEY = 'host';

/** One letter per namespace type, for the KIND column of namespace sets (`own:pmnuiU`). */
export const NS_LETTER: Record<NsType, string> = { pid: 'p', mnt: 'm', net: 'n', uts: 'u', ipc: 'i', user: 'U', cgroup: 'C', time: 'T' };

export interface GroupRow {
  key: string;
  name: string;
  /** runtime, `nsset`, `cgroup`, `pod`, or `host` */
  kind: string;
  /** indentation in the cgroup tree */
  depth: number;
  pids: number[];
  initPid: number | undefined;
  cgroupPath: string | undefined;
  /** numbers come from the group's own cgroup, or are sums over its processes */
  source: 'cgroup' | 'procs';
  /**
   * some figure is a sum over the processes (CPU without the cgroup's cpu usage, memory without its
   * memory stats, pids without its pids controller): the live poll then needs their stat (tui/fresh.ts)
   */
  sums: boolean;
  cpuPct: number | undefined;
  /** quota in CPUs, when the cgroup has one */
  quotaCpus: number | undefined;
  cpuOfQuotaPct: number | undefined;
  throttledPeriods: number | undefined;
  memBytes: number | undefined;
  memLimit: number | undefined;
  memPct: number | undefined;
  oomKills: number | undefined;
  pidsCur: number | undefined;
  pidsMax: number | undefined;
  ioReadBps: number | undefined;
  ioWriteBps: number | undefined;
  netRxBps: number | undefined;
  netTxBps: number | undefined;
  netns: number | undefined;
  psi: CgroupSample['psi'];
  ageSec: number | undefined;
  /** namespace types in which the group's init shares the host's namespace */
  sharedWithHost: NsType[];
}

export interface ProcRow {
  pid: number;
  ppid: number;
  /** tree prefix (`├─ `) for the process tree */
  prefix: string;
  nspid: number[] | undefined;
  comm: string;
  cmd: string;
  state: string;
  uid: number | undefined;
  cpuPct: number | undefined;
  rssBytes: number;
  threads: number;
  ageSec: number | undefined;
  group: string | undefined;
}

function dtSec(prev: Sample | undefined, cur: Sample): number | undefined {
  if (!prev) return undefined;
  const dt = (cur.endMs - prev.endMs) / 1000;
  return dt > 0 ? dt : undefined;
}

/** CPU % of each process between two samples (100 = one CPU); pid reuse (new start time) gives none. */
export function procCpu(prev: Sample | undefined, cur: Sample, only?: ReadonlySet<number>): Map<number, number> {
  const out = new Map<number, number>();
  const dt = dtSec(prev, cur);
  if (!prev || dt === undefined) return out;
  const before = procIndex(prev);
  for (const p of cur.procs) {
    if (only && !only.has(p.pid)) continue;
    const c = cpuOf(before.get(p.pid), p, dt);
    if (c !== undefined) out.set(p.pid, c);
  }
  return out;
}

/**
 * one process's CPU % from its previous figures: none when the pid was reused, or when either
 * sample did not read its stat (`stale`: its ticks are as of an older poll, not of that sample)
 */
function cpuOf(o: RawProc | undefined, p: RawProc, dt: number): number | undefined {
  if (!o || o.start !== p.start || o.stale || p.stale) return undefined;
  return Math.max(0, ((p.ticks - o.ticks) / CLOCK_TICKS / dt) * 100);
}

function nsSetKey(p: RawProc): string {
  return NS_TYPES.map((t) => p.ns[t] ?? '-').join('.');
}

function isHostProc(p: RawProc, host: Sample['host']): boolean {
  return NS_TYPES.every((t) => p.ns[t] === undefined || host[t] === undefined || p.ns[t] === host[t]);
}

interface Bucket {
  key: string;
  name: string;
  kind: string;
  depth: number;
  procs: RawProc[];
  initPid?: number;
  cgroupPath?: string;
  /** pids of all descendants (cgroup roll-up) */
  rollup?: RawProc[];
}

/** processes (or groups) handled between two yields of buildGroupsSteps */
const GROUP_STEP = 2000;

/** The processes of a sample grouped the given way (no metrics yet). */
function* bucketize(cur: Sample, by: GroupBy): Generator<void, Bucket[]> {
  const procs: RawProc[] = [];
  for (const p of cur.procs) if (!p.kthread) procs.push(p);
  const out = new Map<string, Bucket>();
  const add = (key: string, init: () => Omit<Bucket, 'procs'>, p: RawProc): void => {
    let b = out.get(key);
    if (!b) out.set(key, (b = { ...init(), procs: [] }));
    b.procs.push(p);
  };
  const ctrByKey = new Map(cur.containers.map((c) => [c.key, c]));
  const hostBucket = (): Omit<Bucket, 'procs'> => ({ key: HOST_KEY, name: 'host', kind: 'host', depth: 0 });
  let n = 0;
  if (by === 'container' || by === 'pod') {
    for (const p of procs) {
      if (++n % GROUP_STEP === 0) yield;
      const c = p.ctr ? ctrByKey.get(p.ctr) : undefined;
      if (!c) add(HOST_KEY, hostBucket, p);
      else if (by === 'pod' && c.pod) add(`pod:${c.pod}`, () => ({ key: `pod:${c.pod}`, name: c.pod!, kind: 'pod', depth: 0 }), p);
      else add(c.key, () => ({ key: c.key, name: c.name, kind: c.runtime, depth: 0, initPid: c.initPid }), p);
    }
    // a container whose last process left this poll (an OOM kill: sample.ts endedCg), once more,
    // without processes, with its cgroup's final figures
    for (const c of cur.containers) if (c.endedCg !== undefined && !out.has(c.key) && (by === 'container' || !c.pod)) out.set(c.key, { key: c.key, name: c.name, kind: c.runtime, depth: 0, initPid: undefined, cgroupPath: c.endedCg, procs: [] }); // ended: its init is gone (the pid may be another process's now)
  } else if (by === 'ns') {
    const ctrByPid = new Map(cur.containers.filter((c) => c.endedCg === undefined).map((c) => [c.initPid, c]));
    for (const p of procs) {
      if (++n % GROUP_STEP === 0) yield;
      if (isHostProc(p, cur.host)) {
        add(HOST_KEY, hostBucket, p);
        continue;
      }
      const k = `ns:${nsSetKey(p)}`;
      add(k, () => ({ key: k, name: '', kind: 'nsset', depth: 0 }), p);
    }
    for (const b of out.values()) {
      if (b.key === HOST_KEY) continue;
      // the init: the member whose parent is outside the set
      const pids = new Set(b.procs.map((p) => p.pid));
      const init = b.procs.filter((p) => !pids.has(p.ppid)).sort((a, z) => a.pid - z.pid)[0] ?? b.procs[0]!;
      b.initPid = init.pid;
      const c = (init.ctr && ctrByKey.get(init.ctr)) || ctrByPid.get(init.pid);
      b.name = c ? c.name : init.comm;
      const differ = NS_TYPES.filter((t) => init.ns[t] !== undefined && init.ns[t] !== cur.host[t]);
      b.kind = `own:${differ.map((t) => NS_LETTER[t]).join('')}`;
      if (init.cg) b.cgroupPath = init.cg;
    }
  } else {
    // cgroup tree: every path with processes and its ancestors, rolled up
    for (const p of procs) {
      if (++n % GROUP_STEP === 0) yield;
      const path = p.cg ?? '/';
      add(path, () => ({ key: path, name: path, kind: 'cgroup', depth: 0, cgroupPath: path }), p);
    }
    const tree = new Map<string, Bucket>();
    for (const b of out.values()) {
      const parts = b.key === '/' ? [] : b.key.split('/').filter(Boolean);
      for (let i = 0; i <= parts.length; i++) {
        const path = i === 0 ? '/' : `/${parts.slice(0, i).join('/')}`;
        let node = tree.get(path);
        if (!node) tree.set(path, (node = { key: path, name: i === 0 ? '/' : parts[i - 1]!, kind: 'cgroup', depth: i, procs: [], rollup: [], cgroupPath: path }));
        node.rollup!.push(...b.procs);
        if (i === parts.length) node.procs.push(...b.procs);
      }
    }
    // depth-first order, children by name
    const kids = new Map<string, string[]>();
    for (const path of tree.keys()) {
      if (path === '/') continue;
      const parent = path.slice(0, path.lastIndexOf('/')) || '/';
      if (!kids.has(parent)) kids.set(parent, []);
      kids.get(parent)!.push(path);
    }
    const ordered: Bucket[] = [];
    const walk = (path: string): void => {
      const n = tree.get(path);
      if (!n) return;
      ordered.push(n);
      for (const k of (kids.get(path) ?? []).sort()) walk(k);
    };
    walk('/');
    return ordered;
  }
  return [...out.values()];
}

/**
 * How many (non-kernel) processes sit in each cgroup path of a sample with its sub-cgroups, to tell
 * whether a group owns its cgroup (below) without a pass over every process or path per group.
 */
function countByCgroup(cur: Sample): Map<string, number> {
  const here = new Map<string, number>();
  for (const p of cur.procs) if (!p.kthread && p.cg !== undefined) here.set(p.cg, (here.get(p.cg) ?? 0) + 1);
  // the count of each path with its sub-cgroups: added to the path and each of its ancestors (once
  // per path, not once per group and path)
  const out = new Map<string, number>();
  for (const [cg, c] of here) {
    for (let q = cg; q.length > 1; q = q.slice(0, Math.max(1, q.lastIndexOf('/')))) {
      out.set(q, (out.get(q) ?? 0) + c);
      if (q.lastIndexOf('/') <= 0) break;
    }
  }
  return out;
}

/** Is `path`'s cgroup (with its sub-cgroups) made only of these processes? Then its stats are theirs. */
function ownsCgroup(path: string | undefined, members: RawProc[], perPath: Map<string, number>): boolean {
  if (path === undefined || path === '/') return false;
  const prefix = `${path}/`;
  const under = (cg: string | undefined): boolean => cg !== undefined && (cg === path || cg.startsWith(prefix));
  // every process under the path is a member iff as many members as processes are under it
  const total = perPath.get(path) ?? 0;
  let mine = 0;
  for (const p of members) if (!p.kthread && under(p.cg)) mine++;
  return mine === total;
}

/** Group rows of `cur`, rates against `prev` (in one go: tests, --once). */
export function buildGroups(prev: Sample | undefined, cur: Sample, by: GroupBy): GroupRow[] {
  const it = buildGroupsSteps(prev, cur, by);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

/**
 * buildGroups in steps: it yields every GROUP_STEP processes (and every few groups), so the live
 * poll builds the rows of a new sample between keys instead of in one stretch of the main thread.
 */
export function* buildGroupsSteps(prev: Sample | undefined, cur: Sample, by: GroupBy): Generator<void, GroupRow[]> {
  const dt = dtSec(prev, cur);
  const buckets = yield* bucketize(cur, by);
  yield;
  const byPid = procIndex(cur);
  const before = prev ? procIndex(prev) : undefined;
  yield;
  const perPath = by === 'cgroup' ? new Map<string, number>() : countByCgroup(cur);
  yield;
  // a container's cgroup is its init's (the resource cgroup, see sample.ts)
  for (const b of buckets) if (b.cgroupPath === undefined && b.initPid !== undefined) b.cgroupPath = byPid.get(b.initPid)?.cg;
  const rows: GroupRow[] = [];
  let done = 0;
  for (const b of buckets) {
    done += (b.rollup ?? b.procs).length;
    if (done >= GROUP_STEP) {
      done = 0;
      yield;
    }
    rows.push(groupRow(b, by, cur, prev, before, dt, byPid, perPath));
  }
  return rows;
}

/**
 * cpu and cpuacct mounted apart: is the usage directory the group's own cgroup in cpuacct's
 * hierarchy, as the cpu directory is in cpu's? Both must end with the group's cgroup path and what
 * is left (each hierarchy's mount) must be siblings: /sys/fs/cgroup/cpu + /x and
 * /sys/fs/cgroup/cpuacct + /x, not cpuacct's root /sys/fs/cgroup/cpuacct against a group named
 * /cpuacct, nor /sys/fs/cgroup/cpuacct/a + /x.
 */
function sameCgroupApart(cpuDir: string, usageDir: string, cgPath: string): boolean {
  if (!cpuDir.endsWith(cgPath) || !usageDir.endsWith(cgPath)) return false;
  const cpuMount = cpuDir.slice(0, -cgPath.length);
  const acctMount = usageDir.slice(0, -cgPath.length);
  const parent = (d: string): string => d.slice(0, Math.max(0, d.lastIndexOf('/')));
  return cpuMount !== '' && acctMount !== '' && parent(cpuMount) === parent(acctMount) && cpuMount !== acctMount;
}

function groupRow(b: Bucket, by: GroupBy, cur: Sample, prev: Sample | undefined, before: PidIndex | undefined, dt: number | undefined, byPid: PidIndex, perPath: Map<string, number>): GroupRow {
  {
    const all = b.rollup ?? b.procs;
    const init = b.initPid !== undefined ? byPid.get(b.initPid) : undefined;
    const cgPath = b.cgroupPath;
    const owned = b.key !== HOST_KEY && (by === 'cgroup' ? cgPath !== '/' : ownsCgroup(cgPath, all, perPath));
    const stats = owned && cgPath !== undefined ? cur.cgroups[cgPath] : undefined;
    const prevStats = owned && cgPath !== undefined ? prev?.cgroups[cgPath] : undefined;
    let cpuPct: number | undefined;
    let cpuOfQuotaPct: number | undefined;
    let throttled: number | undefined;
    let ioR: number | undefined;
    let ioW: number | undefined;
    let oom: number | undefined;
    // the usage figures must be the group's own cgroup's: where cpu and cpuacct are mounted apart
    // (v1 hybrid) a process can sit in its own cpu cgroup and in cpuacct's root, whose usage is the
    // whole host's (it showed 122 % for a sleeping container)
    // (a sample without usageFrom, from a hand-made or older recording: the cpu directory's own)
    const usageDir = stats?.cpu ? ((stats.cpu as { usageFrom?: { dir: string } }).usageFrom?.dir ?? stats.cpu.dir) : undefined;
    const cpuOwn = stats?.cpu !== undefined && (cgPath === '/' || usageDir === stats.cpu.dir || (cgPath !== undefined && sameCgroupApart(stats.cpu.dir, usageDir!, cgPath)));
    if (stats?.cpu && dt !== undefined) {
      const r = cgroupRates(prevStats, stats, dt * 1000);
      cpuPct = cpuOwn ? r.cpuPercent : undefined;
      cpuOfQuotaPct = cpuOwn ? r.cpuOfQuotaPercent : undefined;
      throttled = r.throttledPeriods;
      ioR = r.readBytesPerSec;
      ioW = r.writeBytesPerSec;
    }
    if (!cpuOwn && dt !== undefined) {
      let sum = 0;
      let any = false;
      for (const p of all) {
        const c = before ? cpuOf(before.get(p.pid), p, dt) : undefined;
        if (c !== undefined) {
          sum += c;
          any = true;
        }
      }
      cpuPct = any ? sum : undefined;
    }
    if (stats?.memory) oom = stats.memory.oomKills;
    const quotaCpus = stats?.cpu?.quotaUsec && stats.cpu.periodUsec ? stats.cpu.quotaUsec / stats.cpu.periodUsec : undefined;
    const memBytes = stats?.memory ? stats.memory.workingSetBytes : all.reduce((a, p) => a + p.rssBytes, 0);
    const memLimit = stats?.memory?.limitBytes ?? undefined;
    const netns = init?.ns.net ?? (b.key !== HOST_KEY ? all[0]?.ns.net : cur.host.net);
    let netRx: number | undefined;
    let netTx: number | undefined;
    if (netns !== undefined && dt !== undefined) {
      const n1 = cur.net[String(netns)];
      const n0 = prev?.net[String(netns)];
      if (n1 && n0 && n1.rx >= n0.rx && n1.tx >= n0.tx) {
        netRx = (n1.rx - n0.rx) / dt;
        netTx = (n1.tx - n0.tx) / dt;
      }
    }
    const oldest = init ?? all.reduce<RawProc | undefined>((a, p) => (!a || p.start < a.start ? p : a), undefined);
    const ageSec = cur.uptimeSec !== undefined && oldest ? Math.max(0, cur.uptimeSec - oldest.start / CLOCK_TICKS) : undefined;
    const ref = init ?? all[0];
    return {
      key: b.key,
      name: b.name,
      kind: b.kind,
      depth: b.depth,
      pids: all.map((p) => p.pid).sort((x, y) => x - y),
      initPid: b.initPid,
      cgroupPath: cgPath,
      source: stats ? 'cgroup' : 'procs',
      sums: !cpuOwn || !stats?.memory || !stats.pids,
      cpuPct,
      quotaCpus,
      cpuOfQuotaPct,
      throttledPeriods: throttled,
      memBytes,
      memLimit,
      memPct: memLimit ? (memBytes / memLimit) * 100 : undefined,
      oomKills: oom,
      pidsCur: stats?.pids?.current ?? all.reduce((a, p) => a + (p.threads || 1), 0),
      pidsMax: stats?.pids?.max ?? undefined,
      ioReadBps: ioR,
      ioWriteBps: ioW,
      netRxBps: netRx,
      netTxBps: netTx,
      netns,
      psi: stats?.psi,
      ageSec,
      // (a container without processes left, endedCg: none known)
      sharedWithHost: b.key === HOST_KEY ? [...NS_TYPES] : !ref ? [] : NS_TYPES.filter((t) => ref.ns[t] !== undefined && ref.ns[t] === cur.host[t]),
    } satisfies GroupRow;
  }
}

/** The processes of a group as a tree (parents before children), with CPU % against `prev`. */
/** the process tree's indentation stops growing here (32 levels) */
const MAX_TREE_LEAD = 96;

export function buildProcRows(prev: Sample | undefined, cur: Sample, pids: ReadonlySet<number> | undefined, groupOf?: Map<number, string>): ProcRow[] {
  const cpu = procCpu(prev, cur, pids);
  const procs = cur.procs.filter((p) => (pids ? pids.has(p.pid) : !p.kthread));
  const inSet = new Set(procs.map((p) => p.pid));
  const children = new Map<number, RawProc[]>();
  const roots: RawProc[] = [];
  for (const p of procs) {
    if (inSet.has(p.ppid) && p.ppid !== p.pid) {
      if (!children.has(p.ppid)) children.set(p.ppid, []);
      children.get(p.ppid)!.push(p);
    } else roots.push(p);
  }
  const out: ProcRow[] = [];
  const age = (p: RawProc): number | undefined => (cur.uptimeSec !== undefined ? Math.max(0, cur.uptimeSec - p.start / CLOCK_TICKS) : undefined);
  // depth-first with a stack, not recursion: a chain of thousands of processes (a local user can
  // nest them; a hostile recording can claim it) overflowed the call stack. Each pid is drawn once
  // (a cycle or a repeated pid, which a race or a recording can give, ends there) and the tree's
  // indentation stops growing past MAX_TREE_LEAD characters.
  const seen = new Set<number>();
  const walk = (root: RawProc): void => {
    const stack: [RawProc, string, string][] = [[root, '', '']];
    while (stack.length) {
      const [p, lead, prefix] = stack.pop()!;
      if (seen.has(p.pid)) continue;
      seen.add(p.pid);
      out.push({
        pid: p.pid,
        ppid: p.ppid,
        prefix,
        nspid: p.nspid,
        comm: p.comm,
        cmd: p.cmd,
        state: p.state,
        uid: p.uid,
        cpuPct: cpu.get(p.pid),
        rssBytes: p.rssBytes,
        threads: p.threads,
        ageSec: age(p),
        group: groupOf?.get(p.pid),
      });
      const kids = (children.get(p.pid) ?? []).filter((k) => !seen.has(k.pid)).sort((a, b) => a.pid - b.pid);
      const deep = lead.length >= MAX_TREE_LEAD;
      for (let i = kids.length - 1; i >= 0; i--) {
        const last = i === kids.length - 1;
        stack.push([kids[i]!, deep ? lead : lead + (last ? '   ' : '│  '), lead + (last ? '└─ ' : '├─ ')]);
      }
    }
  };
  for (const r of roots.sort((a, b) => a.pid - b.pid)) walk(r);
  // processes no root reaches (a cycle of parents, from a race between reads or a recording)
  if (seen.size < inSet.size) for (const p of [...procs].sort((a, b) => a.pid - b.pid)) if (!seen.has(p.pid)) walk(p);
  return out;
}
