/**
 * One poll of the host as plain, serialisable data: raw counters only (never rates), so that a
 * recording holds the same thing the live view holds, and rates are computed at view time from a
 * pair of samples (as below does). Built from inspectHost; the only I/O of ctop's data path.
 */
import { textAhead, type ProcSource } from '../src/source/source.js';
import { isProcError, type ProcError } from '../src/source/errors.js';
import { withFiles } from '../src/proc/process.js';
import { inspectHost, readCgroupLayout, type HostModel } from '../src/inspect/host.js';
import { UtsNameCache, withUtsNames } from '../src/inspect/uts.js';
import type { HostReference } from '../src/model/namespaces.js';
import { NS_TYPES, type NsType } from '../src/parse/ns-link.js';
import { isKernelThread, type ProcStat } from '../src/parse/proc-stat.js';
import { commandOf, type ProcessInfo } from '../src/model/process.js';
import { readCgroupStats, type CgroupStats } from '../src/cgroup/stats.js';
import type { CgroupLayout } from '../src/cgroup/layout.js';
import { netTotals, parseNetDev } from '../src/parse/proc-net-dev.js';
import { parsePressure } from '../src/parse/pressure.js';
import { PAGE_SIZE } from '../src/util/sysconf.js';
import { indexOfPid, type FreshStat, type ScannerOptions } from '../src/inspect/scanner.js';

export const SAMPLE_VERSION = 1;

export interface RawProc {
  pid: number;
  ppid: number;
  comm: string;
  /** command line, at most CMD_MAX characters */
  cmd: string;
  state: string;
  /** utime + stime, clock ticks */
  ticks: number;
  /** start time, clock ticks after boot (with pid: the process's identity) */
  start: number;
  rssBytes: number;
  threads: number;
  uid?: number;
  /** pid in each pid namespace, outermost first (status NSpid) */
  nspid?: number[];
  /** namespace inodes by type */
  ns: Partial<Record<NsType, number>>;
  /** the cgroup path people mean (v2 path, else the most specific v1 one) */
  cg?: string;
  /** key of its container, if in one */
  ctr?: string;
  kthread?: boolean;
  /**
   * its stat was not read this poll (ctop reads it only for the processes the view needs: see
   * tui/fresh.ts): ticks, RSS, threads and state are as of the last poll that read it, and no
   * CPU % is computed against or from this sample
   */
  stale?: boolean;
  /** files that could not be read, and why (PERMISSION_DENIED, …) */
  errors?: Record<string, string>;
}

export interface RawContainer {
  key: string;
  name: string;
  runtime: string;
  id?: string;
  pod?: string;
  initPid: number;
  cgroupPath?: string;
  /**
   * none of its processes is left this poll (its only one was OOM-killed, say): it is kept for
   * this one poll, without processes, with the final figures of this resource cgroup (a `cg` of
   * its processes, in `cgroups`), the kill count among them
   */
  endedCg?: string;
}

export interface CgroupSample extends CgroupStats {
  /** PSI avg10 (% of time some task stalled), v2 only */
  psi?: { cpu?: number; memory?: number; io?: number };
}

export interface Sample {
  v: number;
  /** monotonic clock (ms) when the scan started and ended: rates use these, never the wall clock */
  startMs: number;
  endMs: number;
  /** wall clock at the end, for display and for jumping in a recording */
  wallMs: number;
  /** seconds since boot at the end of the scan (for ages), if readable */
  uptimeSec?: number;
  ncpu: number;
  cgroupMode: string;
  /** the host's namespace inodes by type (PID 1's / kthreadd's) */
  host: Partial<Record<NsType, number>>;
  /** where `host` came from (the story's "host = pid 1") and the nsfs device of its inodes */
  hostRef?: { pid?: number; how: HostReference['how']; initialPidNs: boolean; nsDev?: number };
  procs: RawProc[];
  containers: RawContainer[];
  /** stats by cgroup path (the `cg` of the processes) */
  cgroups: Record<string, CgroupSample>;
  /** received/sent bytes by network namespace inode */
  net: Record<string, { rx: number; tx: number }>;
  vanished: number;
  denied: number;
  /** an old sample kept in the live history for its sparkline values only: processes dropped */
  thin?: boolean;
}

const CMD_MAX = 512;

export interface SampleOptions {
  /** monotonic clock, ms (injected for tests) */
  now?: () => number;
  wallNow?: () => number;
  ncpu?: number;
}

export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

/** Scan the host (synchronously) into a Sample. */
export function takeSample(src: ProcSource, opts: SampleOptions = {}): Sample {
  const now = opts.now ?? monotonicMs;
  const startMs = now();
  const model = inspectHost(src, { files: ['stat', 'status', 'cmdline', 'cgroup'], containers: true, excludeSelf: true });
  const layout = readCgroupLayout(src);
  const s = sampleFromModel(src, model, layout, startMs, opts);
  s.endMs = now();
  return s;
}

/**
 * takeSample with containers named as cinf, nsenter-ts and the exporter name them (an unnamed
 * sandbox by the hostname of its uts namespace, src/inspect/uts.ts): ctop's batch output.
 */
export async function takeNamedSample(src: ProcSource, opts: SampleOptions = {}): Promise<Sample> {
  const now = opts.now ?? monotonicMs;
  const startMs = now();
  const model = await withUtsNames(src, inspectHost(src, { files: ['stat', 'status', 'cmdline', 'cgroup'], containers: true, excludeSelf: true }), utsCacheOf(src));
  const layout = readCgroupLayout(src);
  const s = sampleFromModel(src, model, layout, startMs, opts);
  s.endMs = now();
  return s;
}

/** the hostnames of unnamed containers each source's polls read (one child per uts namespace, src/inspect/uts.ts) */
const utsCaches = new WeakMap<ProcSource, UtsNameCache>();
function utsCacheOf(src: ProcSource): UtsNameCache {
  let c = utsCaches.get(src);
  if (!c) utsCaches.set(src, (c = new UtsNameCache()));
  return c;
}

/** Which processes are worth their status (NSpid) and cmdline: the ones a view shows. */
export type Wanted = (pid: number, ppid: number) => boolean;

export interface ScanSampleOptions extends SampleOptions {
  /** read status + cmdline only for these (default: none; the rest show their comm) */
  wanted?: Wanted;
  /**
   * this scan's stat of each process (HostScanner's: fresher than the model's when it reused the
   * model). A process it does not hold had no stat read this scan: it keeps its last figures,
   * marked `stale`. Without it (takeSample, tests) every process's stat is the model's, fresh.
   */
  stat?: ReadonlyMap<number, ProcStat>;
  /** which known processes get their stat read this scan (HostScanner's freshStat; default 'all') */
  freshStat?: FreshStat;
  /**
   * cgroup and /proc/PID/net/dev texts read ahead in one batch (scanSample: the files the last
   * poll wanted): a file found here is not read again; any other is read as before
   */
  ahead?: { sys: ReadonlyMap<string, string | ProcError>; proc: ReadonlyMap<string, string | ProcError> };
}

/**
 * The live poll: scanHost (the native scan on the libuv threadpool when available, else the
 * sliced TypeScript reader) reads ns, ids, stat and cgroup of every process without holding the
 * event loop; status and cmdline are read only for the processes `wanted` names (rows a view
 * shows), cgroup stats once per cgroup, /net/dev once per network namespace.
 */
export async function scanSample(src: ProcSource, opts: ScanSampleOptions = {}): Promise<Sample> {
  const now = opts.now ?? monotonicMs;
  const startMs = now();
  const { HostScanner } = await import('../src/inspect/scanner.js');
  let entry = scanners.get(src);
  if (!entry) {
    const sopts: ScannerOptions = { files: ['ids', 'stat', 'cgroup'], containers: true, excludeSelf: true };
    entry = { scanner: new HostScanner(src, sopts), opts: sopts };
    scanners.set(src, entry);
  }
  // read at the start of each scan (HostScanner's freshStat may change between scans)
  entry.opts.freshStat = opts.freshStat ?? 'all';
  // the cgroup and net/dev files the last poll wanted, read in one batch on the threadpool while
  // the scan runs (each cgroup's counters, or its whole set when its turn for limits comes)
  const [{ model: scanned, stat, stats }, ahead] = await Promise.all([entry.scanner.scan(), readAhead(src)]);
  // containers named as cinf, nsenter-ts and the exporter name them (cached per uts namespace)
  const model = await withUtsNames(src, scanned, utsCacheOf(src));
  await new Promise((r) => setImmediate(r));
  let layout = layouts.get(src);
  if (!layout || !stats.modelReused) layouts.set(src, (layout = readCgroupLayout(src)));
  const it = sampleSteps(src, model, layout, startMs, { ...opts, wanted: opts.wanted ?? (() => false), stat, ...(ahead ? { ahead } : {}) });
  for (;;) {
    const r = it.next();
    if (r.done) {
      r.value.endMs = now();
      return r.value;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * What each source's last poll read of every cgroup (by cgroup path: the files of a counters-only
 * read and of a whole one) and of the network namespaces (net/dev paths), for readAhead.
 */
interface Wants {
  cg: Map<string, { counters?: string[]; full?: string[] }>;
  net: string[];
}
const wants = new WeakMap<ProcSource, Wants>();

/** The files the last poll of `src` wanted, read in one batch (undefined before any poll). */
async function readAhead(src: ProcSource): Promise<ScanSampleOptions['ahead']> {
  const w = wants.get(src);
  const was = lastCg.get(src);
  if (!w || !was) return undefined;
  // once each: on a v1 host many cgroups share a hierarchy's directory (cpuacct's root, blkio's)
  const wanted = new Set<string>();
  for (const [path, c] of was) {
    const learned = w.cg.get(path);
    if (!learned) continue;
    const full = c.age + 1 >= CG_FULL_EVERY;
    const files = (full ? learned.full : learned.counters) ?? learned.full ?? learned.counters;
    if (files) for (const f of files) wanted.add(f);
  }
  const sys = [...wanted];
  const [s, p] = await Promise.all([src.readTexts('sys', sys), src.readTexts('proc', w.net)]);
  const out = { sys: new Map<string, string | ProcError>(), proc: new Map<string, string | ProcError>() };
  for (let i = 0; i < sys.length; i++) out.sys.set(sys[i]!, s[i]!);
  for (let i = 0; i < w.net.length; i++) out.proc.set(w.net[i]!, p[i]!);
  return out;
}

/** the incremental scanner of each source the live poll reads (HostScanner keeps what it read between scans) */
const scanners = new WeakMap<ProcSource, { scanner: import('../src/inspect/scanner.js').HostScanner; opts: ScannerOptions }>();
/** the cgroup layout (mount table) of each source, read again whenever the scanner rebuilt its model */
const layouts = new WeakMap<ProcSource, CgroupLayout>();

/**
 * The RawProc of each pid in the last sample of a source: a process whose figures did not change
 * (most of them: sleepers) keeps the same object, so the history's samples share it instead of
 * holding thousands of copies, and the poll allocates (and later collects) far less. With it, the
 * parts of the process it was made from (the scanner keeps a known process's ns, ids and cgroups
 * objects between scans): when they are the same objects, only the stat figures are compared.
 */
interface Last {
  raw: RawProc;
  ns: ProcessInfo['ns'];
  ids: ProcessInfo['ids'];
  cgroups: ProcessInfo['cgroups'];
  errors: ProcessInfo['errors'];
  ctr: string | undefined;
}
const lastRaw = new WeakMap<ProcSource, Map<number, Last>>();

/**
 * The cgroup stats of each source's last poll read whole, by cgroup path, and how many polls ago:
 * limits, quota, shares, pids.max and the like are read whole every CG_FULL_EVERY polls (within
 * 10 s at -d 1, as the scanner's revalidation), the counters (usage, throttling, pids.current, IO
 * bytes) every poll (src/cgroup/stats.ts).
 */
const lastCg = new WeakMap<ProcSource, Map<string, { full: CgroupStats; age: number }>>();
/** the containers of each source's last sample (for one whose last process left: sampleSteps) */
const lastContainers = new WeakMap<ProcSource, RawContainer[]>();
const CG_FULL_EVERY = 10;

/** A sample's processes looked up by pid. */
export interface PidIndex {
  get(pid: number): RawProc | undefined;
}

/**
 * Each sample's processes by pid. A live or replayed sample lists them in ascending pid order (the
 * scan's order): a binary search over that list, no table of every process kept per sample in
 * the history (at 10,000 processes each Map was ~450 KB, made every poll and kept for 6 samples).
 * A sample not in that order (made by hand) gets a Map.
 */
const indexes = new WeakMap<Sample, PidIndex>();

class SortedPids implements PidIndex {
  constructor(private readonly procs: readonly RawProc[]) {}
  get(pid: number): RawProc | undefined {
    const i = indexOfPid(this.procs, pid);
    return i < 0 ? undefined : this.procs[i];
  }
}

export function procIndex(s: Sample): PidIndex {
  let m = indexes.get(s);
  if (!m) {
    let sorted = true;
    for (let i = 1; i < s.procs.length && sorted; i++) sorted = s.procs[i - 1]!.pid < s.procs[i]!.pid;
    if (sorted) m = new SortedPids(s.procs);
    else {
      const map = new Map<number, RawProc>();
      for (const p of s.procs) map.set(p.pid, p);
      m = map;
    }
    indexes.set(s, m);
  }
  return m;
}

function stripStale(o: RawProc): RawProc {
  if (!o.stale) return o;
  const { stale: _s, ...rest } = o;
  return rest;
}

function sameRaw(o: RawProc, p: ProcessInfo, cmd: string | undefined, cg: string | undefined, ctr: string | undefined, uid: number | undefined, nspid: number[] | undefined, hasErrors: boolean): boolean {
  const st = p.stat;
  if (!st || o.errors || hasErrors) return false;
  if (!sameStat(o, st)) return false;
  if (o.cg !== cg || o.ctr !== ctr || o.uid !== uid) return false;
  // status and cmdline were read for this one (a shown row): its command and NSpid are fresh
  if (cmd !== undefined && o.cmd !== cmd) return false;
  if (nspid !== undefined && (o.nspid === undefined || o.nspid.length !== nspid.length || o.nspid.some((x, i) => x !== nspid[i]))) return false;
  for (const t of NS_TYPES) if (o.ns[t] !== p.ns?.[t]?.inode) return false;
  return true;
}

function sameStat(o: RawProc, st: ProcStat): boolean {
  return !o.stale && o.start === st.startTimeTicks && o.ticks === st.utimeTicks + st.stimeTicks && o.rssBytes === st.rssPages * PAGE_SIZE && o.state === st.state && o.threads === st.numThreads && o.ppid === st.ppid && o.comm === st.comm;
}

/** Build the sample from a host model in one go (takeSample, tests). */
export function sampleFromModel(src: ProcSource, model: HostModel, layout: CgroupLayout, startMs: number, opts: ScanSampleOptions = {}): Sample {
  const it = sampleSteps(src, model, layout, startMs, opts);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

/** processes (or cgroups, net namespaces) handled between two yields of sampleSteps */
const STEP = 1000;
const STEP_IO = 16;

/**
 * sampleFromModel in steps: it yields every STEP processes and every STEP_IO cgroups or network
 * namespaces read, so the live poll (scanSample) lets keys through in between — on 10,000
 * processes one go held the event loop for hundreds of milliseconds.
 */
export function* sampleSteps(src: ProcSource, model: HostModel, layout: CgroupLayout, startMs: number, opts: ScanSampleOptions = {}): Generator<void, Sample> {
  const procs: RawProc[] = [];
  const repOfCg = new Map<string, ProcessInfo>();
  const repOfNet = new Map<number, number>();
  const before = lastRaw.get(src);
  const now = new Map<number, Last>();
  const want = opts.freshStat ?? 'all';
  /** a known process carried over from the last sample as `r` (its last raw `o`, or a copy) */
  const keep = (q0: ProcessInfo, last: Last, o: RawProc, r: RawProc): void => {
    now.set(q0.pid, r === o ? last : { ...last, raw: r });
    procs.push(r);
    if (!r.kthread && r.cg !== undefined && q0.cgroups && !repOfCg.has(r.cg)) repOfCg.set(r.cg, q0);
    if (!r.kthread && r.ns.net !== undefined && !repOfNet.has(r.ns.net)) repOfNet.set(r.ns.net, r.pid);
  };
  let n = 0;
  /** processes not in the last sample */
  let arrivals = 0;
  for (const q0 of model.snapshot.processes) {
    if (++n % STEP === 0) yield;
    // its stat was read this scan and the view asked for it (one read whole only to revalidate it
    // stays stale: its figures would move for nothing on screen, and grow a recording's deltas)
    const read = !opts.stat || (opts.stat.has(q0.pid) && (want === 'all' || (want !== 'none' && want.has(q0.pid))));
    // (a stat read only to revalidate the process is not decoded: it would not be used)
    const fresh = read ? (opts.stat?.get(q0.pid) ?? q0.stat) : q0.stat;
    const wanted = opts.wanted && fresh && !isKernelThread(fresh) && opts.wanted(q0.pid, fresh.ppid);
    const last = before?.get(q0.pid);
    if (last === undefined) arrivals++;
    const ctr = model.containerOf.get(q0.pid)?.key;
    // not read this scan (outside freshStat), known as it was: its last figures, marked stale
    if (!read && !wanted && last && last.ns === q0.ns && last.ids === q0.ids && last.cgroups === q0.cgroups && last.errors === q0.errors && last.ctr === ctr) {
      const o = last.raw;
      keep(q0, last, o, o.stale ? o : { ...o, stale: true });
      continue;
    }
    // fast path: not a shown row, and the scanner handed the same ns, ids, cgroups and errors
    // objects as last time (a known process of which only stat was read): only stat can differ
    if (!wanted && last && fresh && last.ns === q0.ns && last.ids === q0.ids && last.cgroups === q0.cgroups && last.errors === q0.errors && last.ctr === ctr && !last.raw.nspid && last.raw.comm === fresh.comm) {
      const o = last.raw;
      keep(q0, last, o, sameStat(o, fresh) ? o : { ...stripStale(o), ppid: fresh.ppid, state: fresh.state, ticks: fresh.utimeTicks + fresh.stimeTicks, start: fresh.startTimeTicks, rssBytes: fresh.rssPages * PAGE_SIZE, threads: fresh.numThreads });
      continue;
    }
    const q = fresh && fresh !== q0.stat ? { ...q0, stat: fresh } : q0;
    const p = wanted ? withFiles(src, q, ['status', 'cmdline']) : q;
    const st = p.stat;
    const status = p.status;
    const kthread = (st && isKernelThread(st)) || status?.kthread === true;
    const cg = resourceCgroupPath(p);
    const uid = status ? status.uid.real : p.ids ? p.ids.uid.real : undefined;
    let hasErrors = false;
    for (const k in p.errors) {
      const c = p.errors[k];
      if (c !== undefined && c !== 'NOT_FOUND') hasErrors = true;
    }
    const old = last?.raw;
    // the command line and NSpid were read this time (a shown row, or takeSample): compare them
    const cmd = wanted || p.cmdline !== undefined || !old ? truncate(commandOf(p), CMD_MAX) : undefined;
    let r: RawProc;
    if (old && read && sameRaw(old, p, cmd, cg, ctr, uid, status?.nsPid, hasErrors) && (status !== undefined || !old.nspid)) r = old;
    else {
      const ns = rawNs(p.ns);
      r = {
        pid: p.pid,
        ppid: st?.ppid ?? status?.ppid ?? 0,
        comm: st?.comm ?? status?.name ?? '?',
        cmd: cmd ?? truncate(commandOf(p), CMD_MAX),
        state: st?.state ?? status?.state ?? '?',
        ticks: st ? st.utimeTicks + st.stimeTicks : 0,
        start: st?.startTimeTicks ?? 0,
        rssBytes: st ? st.rssPages * PAGE_SIZE : 0,
        threads: st?.numThreads ?? status?.threads ?? 0,
        ns,
      };
      if (uid !== undefined) r.uid = uid;
      if (status?.nsPid) r.nspid = status.nsPid;
      if (cg !== undefined) r.cg = cg;
      if (kthread) r.kthread = true;
      if (ctr !== undefined) r.ctr = ctr;
      if (hasErrors) {
        const errs = Object.entries(p.errors).filter(([, c]) => c !== undefined && c !== 'NOT_FOUND');
        r.errors = Object.fromEntries(errs) as Record<string, string>;
      }
      // its stat was not read this scan (the model's is older than what the last poll showed)
      if (!read) {
        if (old && old.start === r.start) {
          r.ticks = old.ticks;
          r.rssBytes = old.rssBytes;
          r.state = old.state;
          r.threads = old.threads;
        }
        r.stale = true;
      }
    }
    now.set(p.pid, { raw: r, ns: q0.ns, ids: q0.ids, cgroups: q0.cgroups, errors: q0.errors, ctr });
    procs.push(r);
    if (!kthread && cg !== undefined && p.cgroups && !repOfCg.has(cg)) repOfCg.set(cg, p);
    const net = r.ns.net;
    if (!kthread && net !== undefined && !repOfNet.has(net)) repOfNet.set(net, p.pid);
  }
  lastRaw.set(src, now);
  // a cgroup that lost a process since the last poll is read whole now, not at its turn: an OOM
  // kill ends a process, and the kill count is among the figures read whole only every
  // CG_FULL_EVERY polls (a kill showed up to 10 s late). The kernel counts the kill before the
  // victim dies, so the poll that sees it gone sees the count. (Only polls where some process left
  // look for which: the last sample's size plus the arrivals is this one's size otherwise.)
  const lost = new Set<string>();
  /** a process that left a cgroup no process stands for now (below: its container's last one) */
  const lastOut: Last[] = [];
  if (before && before.size + arrivals !== now.size)
    for (const [pid, l] of before)
      if (l.raw.cg !== undefined && !now.has(pid)) {
        lost.add(l.raw.cg);
        if (!repOfCg.has(l.raw.cg) && l.ctr !== undefined && !l.raw.kthread && l.cgroups) lastOut.push(l);
      }
  const cgroups: Record<string, CgroupSample> = {};
  const cgBefore = lastCg.get(src);
  const cgNow = new Map<string, { full: CgroupStats; age: number }>();
  const wantsBefore = wants.get(src);
  const wantsNow: Wants = { cg: new Map(), net: [] };
  // a yield every STEP_IO cgroups read one file at a time; one read ahead (parsing only) counts
  // an eighth of that
  let work = 0;
  n = 0;
  for (const [path, p] of repOfCg) {
    n++;
    work += opts.ahead && wantsBefore?.cg.has(path) ? 1 : 8;
    if (work >= STEP_IO * 8) {
      work = 0;
      yield;
    }
    const wanted: string[] = [];
    const was = cgBefore?.get(path);
    // the counters every poll; the rest (limits, …) whole every CG_FULL_EVERY polls, a cgroup
    // at a time (staggered by its place in the list), and at once for a cgroup not seen before
    // or one that lost a process
    const full = !was || was.age + 1 >= CG_FULL_EVERY || lost.has(path);
    try {
      const read = readCgroupStats(src, layout, p.cgroups!, full ? undefined : was.full, { ...(opts.ahead ? { pre: opts.ahead.sys } : {}), wanted });
      cgNow.set(path, full ? { full: read, age: was ? 0 : n % CG_FULL_EVERY } : { full: was.full, age: was.age + 1 });
      const stats: CgroupSample = read;
      const psi = readPsi(src, stats, opts.ahead?.sys, wanted);
      if (psi) stats.psi = psi;
      cgroups[path] = stats;
    } catch (e) {
      if (!isProcError(e)) throw e;
    }
    const learned = { ...wantsBefore?.cg.get(path) };
    if (full) learned.full = wanted;
    else learned.counters = wanted;
    wantsNow.cg.set(path, learned);
  }
  lastCg.set(src, cgNow);
  // a cgroup that lost its last process (the OOM kill of a container's only one): no process
  // stands for it any more, so it is read whole here through the cgroups of the one that left —
  // while the runtime has not removed it yet — and its container kept for this poll with the
  // final kill count (a container that ended with none is let go as before)
  const ended: RawContainer[] = [];
  if (lastOut.length) {
    const live = new Set(model.containers.map((c) => c.key));
    const prevCtrs = new Map((lastContainers.get(src) ?? []).map((c) => [c.key, c]));
    for (const l of lastOut) {
      const path = l.raw.cg!;
      const c = prevCtrs.get(l.ctr!);
      if (!c || live.has(c.key) || cgroups[path] || ended.some((e) => e.key === c.key)) continue;
      try {
        const stats: CgroupSample = readCgroupStats(src, layout, l.cgroups!);
        // only a kill since the last figure known for the cgroup (the count is its lifetime's: a
        // container killed once long ago that now ends normally is let go at once)
        const kills = stats.memory?.oomKills;
        const before = cgBefore?.get(path)?.full.memory?.oomKills;
        if (!kills || (before !== undefined && kills <= before)) continue;
        const psi = readPsi(src, stats);
        if (psi) stats.psi = psi;
        cgroups[path] = stats;
        ended.push({ ...c, endedCg: path });
      } catch (e) {
        if (!isProcError(e)) throw e;
      }
    }
  }
  const net: Record<string, { rx: number; tx: number }> = {};
  n = 0;
  for (const [inode, pid] of repOfNet) {
    if (++n % (opts.ahead ? STEP_IO * 8 : STEP_IO) === 0) yield;
    const rel = `${pid}/net/dev`;
    wantsNow.net.push(rel);
    try {
      const t = netTotals(parseNetDev(textAhead(src, 'proc', rel, opts.ahead?.proc), rel));
      net[String(inode)] = { rx: t.rxBytes, tx: t.txBytes };
    } catch (e) {
      if (!isProcError(e)) throw e;
    }
  }
  wants.set(src, wantsNow);
  const host: Partial<Record<NsType, number>> = {};
  for (const t of NS_TYPES) if (model.ref.ns[t]) host[t] = model.ref.ns[t]!.inode;
  const nsDev = Object.values(model.ref.ns)[0]?.dev;
  const hostRef: NonNullable<Sample['hostRef']> = { how: model.ref.how, initialPidNs: model.ref.initialPidNs };
  if (model.ref.pid !== undefined) hostRef.pid = model.ref.pid;
  if (nsDev !== undefined) hostRef.nsDev = nsDev;
  const uptime = readUptime(src);
  const sample: Sample = {
    v: SAMPLE_VERSION,
    startMs,
    endMs: startMs,
    wallMs: (opts.wallNow ?? Date.now)(),
    ...(uptime !== undefined ? { uptimeSec: uptime } : {}),
    ncpu: opts.ncpu ?? countCpus(src),
    cgroupMode: layout.mode,
    host,
    hostRef,
    procs,
    containers: [
      ...model.containers.map((c) => ({
        key: c.key,
        name: c.name,
        runtime: c.runtime,
        ...(c.id ? { id: c.id } : {}),
        ...(c.pod ? { pod: c.pod } : {}),
        initPid: c.initPid,
        ...(c.cgroupPath ? { cgroupPath: c.cgroupPath } : {}),
      })),
      ...ended,
    ],
    cgroups,
    net,
    vanished: model.snapshot.vanished,
    denied: model.snapshot.denied,
  };
  lastContainers.set(src, sample.containers);
  return sample;
}

/**
 * The cgroup whose numbers are the process's: the most specific path among the hierarchies that
 * carry resource controllers (a named v1 hierarchy such as name=systemd has none), else the v2
 * path. On a hybrid host the systemd path is longer but says nothing about memory or CPU.
 */
export function resourceCgroupPath(p: ProcessInfo): string | undefined {
  if (!p.cgroups || p.cgroups.length === 0) return undefined;
  // the scanner keeps a known process's cgroups array between scans: work it out once per array
  const had = cgPathOf.get(p.cgroups);
  if (had !== undefined) return had;
  const path = resourcePath(p.cgroups);
  cgPathOf.set(p.cgroups, path);
  return path;
}

const cgPathOf = new WeakMap<object, string>();

function resourcePath(cgroups: NonNullable<ProcessInfo['cgroups']>): string {
  const p = { cgroups };
  const v1 = p.cgroups.filter((c) => c.hierarchyId !== 0 && c.controllers.length > 0 && !c.controllers.some((x) => x.startsWith('name=')));
  if (v1.length > 0) return [...v1].sort((a, b) => b.path.length - a.path.length)[0]!.path;
  return p.cgroups.find((c) => c.hierarchyId === 0)?.path ?? p.cgroups[0]!.path;
}

/**
 * A RawProc's namespace inodes: one shared (frozen) object per namespace set the scanner handed
 * (it shares one ns object among the processes of a set), not one per process: 10,000 processes
 * made 10,000 objects and 80,000 boxed inode numbers (inodes are above 2^31).
 */
function rawNs(ns: ProcessInfo['ns']): Partial<Record<NsType, number>> {
  if (!ns) return {};
  const had = rawNsOf.get(ns);
  if (had) return had;
  const out: Partial<Record<NsType, number>> = {};
  for (const t of NS_TYPES) {
    const id = ns[t];
    if (id) out[t] = id.inode;
  }
  Object.freeze(out);
  rawNsOf.set(ns, out);
  return out;
}

const rawNsOf = new WeakMap<object, Partial<Record<NsType, number>>>();

function truncate(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n);
}

function readPsi(src: ProcSource, stats: CgroupStats, ahead?: ReadonlyMap<string, string | ProcError>, wanted?: string[]): CgroupSample['psi'] {
  const out: NonNullable<CgroupSample['psi']> = {};
  const dirs: [keyof typeof out, string | undefined][] = [
    ['cpu', stats.cpu?.version === 2 ? stats.cpu.dir : undefined],
    ['memory', stats.memory?.version === 2 ? stats.memory.dir : undefined],
    ['io', stats.io?.version === 2 ? stats.io.dir : undefined],
  ];
  let any = false;
  for (const [k, dir] of dirs) {
    if (dir === undefined) continue;
    try {
      // dir is as the host names it (/sys/fs/cgroup/…): the read is relative to the sys root
      const rel = `${dir.replace(/^\/sys\//, '')}/${k}.pressure`;
      wanted?.push(rel);
      out[k] = parsePressure(textAhead(src, 'sys', rel, ahead), `${dir}/${k}.pressure`).some.avg10;
      any = true;
    } catch (e) {
      if (!isProcError(e)) throw e;
    }
  }
  return any ? out : undefined;
}

function readUptime(src: ProcSource): number | undefined {
  try {
    const n = Number(src.readProcText('uptime').trim().split(/\s+/)[0]);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function countCpus(src: ProcSource): number {
  try {
    const n = src.readProcText('stat').split('\n').filter((l) => /^cpu\d+\s/.test(l)).length;
    return n > 0 ? n : 1;
  } catch {
    return 1;
  }
}
