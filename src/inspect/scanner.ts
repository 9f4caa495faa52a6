/**
 * HostScanner: scanHost for a caller that scans again and again (the exporter on every scrape,
 * ctop every second). It keeps what it read between scans:
 *
 * - a cache of every process read whole, keyed by pid and checked by the d_ino of its /proc
 *   entry and its start time. The native scan (src/native/c/scan.c) is handed the known (pid,
 *   start time, d_ino) triples. A known pid that `freshStat` asks for (default: all) gets only its
 *   /proc/PID/stat read (fresh CPU, RSS, state: ~3 system calls instead of ~16); one it does not
 *   ask for gets nothing read at all when the d_ino getdents gave for its entry is the one it had
 *   (the same dentry, so the same process: docs/adr/0007, addendum 2). A new pid, a known pid
 *   whose d_ino or start time differs (the pid was reused; or its dentry was evicted), is read
 *   whole as scanHost reads it.
 * - rolling revalidation: a process can change its namespaces (setns, unshare), cgroup (a write to
 *   cgroup.procs) or ids (setuid) without a new pid. Each scan also reads whole the known pids with
 *   pid % N === scan number % N (N = `revalidateEvery`, default 10): every process is read whole at
 *   least once every N scans. A new pid is read whole at the scan that finds it and again at the
 *   next one (a process found half way through its set-up — `unshare` before its fork, a
 *   runtime's init before its setns — would otherwise keep its first namespaces for N scans). Such a change is therefore seen within N scans (10 s at a 1 s
 *   interval, 150 s at the exporter's 15 s scrape interval), not at once: that is the price of
 *   the cheap scan. A new pid, an exit, a reused pid, an exec (comm) or a new parent (ppid) is
 *   seen at the next scan; of a process outside `freshStat`, an exec, a new parent or turning
 *   zombie is seen at its revalidation (within N scans), an exit and a reused pid at the next scan.
 * - the last model: when no pid came or went, no process read whole changed and no process
 *   changed comm, ppid or zombie state, the previous model (grouping, containers, names) is
 *   returned as it was, with no model step run at all (`stats.modelReused`). When processes only
 *   came and went, each arrival like a process already in the model (the same namespace set and
 *   cgroups) and no departure pid 1 or 2, a container's init (unless its whole container left: it
 *   is dropped) or a namespace's last process (unless a dropped container's), the previous model is patched for them (patchModel: the affected groups and containers; no file
 *   read, no names read again; `stats.modelPatched`). Anything else rebuilds it (a 10,000-process
 *   host always has some churn: a rebuild per scan was most of a steady scan's cost).
 * - `stat`: this scan's stat of every process it read (decoded when asked for): those in
 *   `freshStat` and those read whole, for what needs current figures (CPU rates, RSS, threads). In model.snapshot a known process keeps the value of its
 *   last whole read (its stat then: ppid, comm and start time are checked every scan, the rest
 *   of that stat is as old as the read), so take current figures from `stat`, not the snapshot.
 *
 * Files other than ns, status's Uid/Gid, stat and cgroup (opts.files) are read only when a
 * process is read whole (every N scans, and at the scan after an exec is seen). With `bound`, a change of the reader's mountinfo rebuilds the model.
 * Names from the runtimes' files (and a container's hostname) are read when the model is
 * rebuilt: a rename with no process change shows at the next rebuild. Concurrent scan() calls share one scan in flight. Off the native path
 * (dumps, no addon, HOSTSCOPE_SCAN=ts) every scan is scanHost's full scan.
 */
import { performance } from 'node:perf_hooks';
import { CLOCK_TICKS } from '../util/sysconf.js';
import type { ProcSource } from '../source/source.js';
import { isProcError, type ProcErrorCode } from '../source/errors.js';
import type { ProcStat } from '../parse/proc-stat.js';
import type { CgroupMembership } from '../parse/proc-cgroup.js';
import { nsKey, type ProcessInfo } from '../model/process.js';
import { isContainerOfItsOwn, type Container } from '../model/containers.js';
import { isHostNs } from '../model/namespaces.js';
import type { NamespaceGroup } from '../model/namespaces.js';
import type { Snapshot } from '../proc/snapshot.js';
import { snapshotRequest, type HostModel } from './host.js';
import {
  admit,
  modelSliced,
  NativeInterner,
  nativeScanAvailable,
  readNative,
  scanHostWithStats,
  Slicer,
  snapshotOf,
  STAT_SLOT,
  type NativeRecords,
  type ScanOptions,
  type ScanStats,
} from './scan.js';

/**
 * Which known processes get their stat read every scan (fresh CPU, RSS, threads, state, comm,
 * ppid): 'all' (the default), 'none', or the processes whose pid is in the set (read at the start
 * of each scan: the caller may change the set between scans). A known process outside them costs
 * nothing but its /proc entry: it is recognised by the d_ino of that entry (see docs/adr/0007).
 */
export type FreshStat = 'all' | 'none' | ReadonlySet<number>;

export interface ScannerOptions extends ScanOptions {
  /** every known process is read whole at least once every this many scans (default 10; 1: every scan) */
  revalidateEvery?: number;
  /** which known processes get their stat read each scan (default 'all'; see FreshStat) */
  freshStat?: FreshStat;
  /**
   * a known process younger than this (seconds since it started, by its start time and
   * /proc/uptime) is read whole at every scan, whatever `revalidateEvery` says (default 0: only
   * at the scan that finds it and the next one). Namespace and cgroup changes of a living process
   * happen in practice right after its fork (a runtime's init, `unshare`, `nsenter`, a service
   * manager's set-up): this sees them at the next scan, and lets the rotation of older processes
   * be slow.
   */
  youngSeconds?: number;
}

export interface ScannerStats extends ScanStats {
  /** processes read whole this scan (new, reused pids, revalidated; every one off the native path) */
  fullReads: number;
  /** known processes of which only stat was read */
  statOnly: number;
  /** known processes outside freshStat recognised by their /proc entry's d_ino: nothing of them was read */
  unread: number;
  /** the previous model was returned unchanged (no model step ran) */
  modelReused: boolean;
  /** processes only came and went, each like one already there: the previous model was updated for them (patchModel), not rebuilt */
  modelPatched: boolean;
}

export interface ScannerResult {
  model: HostModel;
  stats: ScannerStats;
  /**
   * this scan's stat (by pid) of every process it read this scan: those freshStat asks for and
   * those read whole (new, reused, revalidated); fresher than model.snapshot's (see above). With
   * freshStat 'all' (the default) that is every process found.
   */
  stat: ScanStatMap;
}

interface Known {
  /** the process as the model holds it (read whole; its stat from then, or from when its comm, ppid or state last moved) */
  info: ProcessInfo;
  start: number;
  ppid: number;
  /** FNV-1a of comm, as scan.c computes it */
  commHash: number;
  zombie: boolean;
  /** the d_ino of its /proc entry when last seen (0: unknown) */
  ino: number;
  /** the number of the last scan that found it (HostScanner.gen) */
  seen: number;
}

export const DEFAULT_REVALIDATE_EVERY = 10;

/** pid → this scan's stat; numThreads(pid) reads that one figure without decoding the rest */
export interface ScanStatMap extends ReadonlyMap<number, ProcStat> {
  numThreads(pid: number): number | undefined;
}

/** A ScanStatMap over stat values already decoded (the TypeScript path). */
class DecodedStats extends Map<number, ProcStat> implements ScanStatMap {
  numThreads(pid: number): number | undefined {
    return this.get(pid)?.numThreads;
  }
}

export class HostScanner {
  private readonly every: number;
  private inflight: Promise<ScannerResult> | undefined;
  /** pid → what was read whole; ascending pid order (the scan's order) */
  private known = new Map<number, Known>();
  /** pids to read whole next scan whatever their start time (turned zombie, stat unreadable) */
  private forceFull = new Set<number>();
  private last: HostModel | undefined;
  private scans = 0;
  /** scans started (Known.seen) */
  private gen = 0;
  /** no known pid is above this (it may be above them all: departures do not lower it) */
  private topPid = 0;
  private interner: NativeInterner | undefined;
  /** with opts.bound: the reader's mountinfo as of the last scan */
  private mounts: string | undefined;

  constructor(
    private readonly src: ProcSource,
    private readonly opts: ScannerOptions = {},
  ) {
    const n = opts.revalidateEvery ?? DEFAULT_REVALIDATE_EVERY;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`revalidateEvery must be a positive integer, not ${n}`);
    this.every = n;
    const y = opts.youngSeconds ?? 0;
    if (!(y >= 0 && y <= 86400)) throw new RangeError(`youngSeconds must be 0 to 86400, not ${y}`);
    const f = opts.freshStat;
    if (f !== undefined && f !== 'all' && f !== 'none' && !(f instanceof Set)) throw new TypeError(`freshStat must be 'all', 'none' or a Set of pids, not ${String(f)}`);
  }

  /** Which path scans take: native (incremental) or ts (a full scan each time). */
  get path(): 'native' | 'ts' {
    const p = this.opts.path ?? (process.env.HOSTSCOPE_SCAN === 'ts' ? 'ts' : 'auto');
    if (p === 'native') return 'native';
    return p !== 'ts' && nativeScanAvailable(this.src) ? 'native' : 'ts';
  }

  /** Scans completed so far. */
  get scansDone(): number {
    return this.scans;
  }

  /** One scan; a call while one runs gets that scan's result. */
  scan(): Promise<ScannerResult> {
    if (!this.inflight) {
      this.inflight = this.run().finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  private async run(): Promise<ScannerResult> {
    if (this.path === 'ts') {
      const { model, stats } = await scanHostWithStats(this.src, { ...this.opts, path: 'ts' });
      this.scans++;
      const stat = new DecodedStats();
      for (const p of model.snapshot.processes) if (p.stat) stat.set(p.pid, p.stat);
      return { model, stats: { ...stats, fullReads: model.snapshot.processes.length, statOnly: 0, unread: 0, modelReused: false, modelPatched: false }, stat };
    }
    if (!nativeScanAvailable(this.src)) throw new Error('scan: the native scan needs the live /proc and the native addon');
    return this.runNative();
  }

  private async runNative(): Promise<ScannerResult> {
    const src = this.src;
    const req = snapshotRequest(this.opts);
    const slicer = new Slicer(this.opts.sliceMs ?? 5, this.opts.sliceCpu ?? true);
    const monoStartMs = performance.now();
    this.interner ??= new NativeInterner(src.nsfsDevice());
    const interner = this.interner;
    // the known pids with a start time, ascending (the map is kept in scan order)
    const pids = new Int32Array(this.known.size);
    const starts = new Float64Array(this.known.size);
    const inos = new Float64Array(this.known.size);
    const want = this.opts.freshStat ?? 'all';
    const fresh = want === 'all' ? undefined : new Uint8Array(this.known.size);
    const set = typeof want === 'string' ? undefined : want;
    let nk = 0;
    // a process this young is read whole this scan (by start time, in clock ticks since boot)
    const youngTicks = (this.opts.youngSeconds ?? 0) * CLOCK_TICKS;
    const now = youngTicks > 0 && this.known.size > 0 ? uptimeTicks(src) : undefined;
    const bornAfter = now === undefined ? Infinity : now - youngTicks;
    for (const [pid, k] of this.known) {
      if (this.forceFull.has(pid) || Number.isNaN(k.start) || k.start > bornAfter) continue;
      pids[nk] = pid;
      starts[nk] = k.start;
      inos[nk] = k.ino;
      if (set?.has(pid)) fresh![nk] = 1;
      nk++;
    }
    const phase = this.scans % this.every;
    const recs = await readNative(
      src,
      req,
      slicer,
      interner,
      nk > 0 ? { pids: pids.subarray(0, nk), starts: starts.subarray(0, nk), every: this.every, phase, inos: inos.subarray(0, nk), fresh: fresh?.subarray(0, nk) } : undefined,
    );
    // cleared once the read is done (a read that fails leaves the pids to read whole next scan)
    this.forceFull = new Set();
    try {
      return await this.afterRead(recs, slicer, counts0(), monoStartMs);
    } catch (e) {
      // this.known may be half updated, and has moved on past `last` (the next scan, finding
      // nothing new, would return an older model as current): start afresh (every process read
      // whole next scan, the model rebuilt)
      this.known = new Map();
      this.topPid = 0;
      this.last = undefined;
      throw e;
    }
  }

  /**
   * The scan's records → this.known (updated in place: a known process found again is marked
   * with this scan's number, a new one merged in pid order, one not found deleted as a departure)
   * and the model: reused, patched or rebuilt. On a steady host nothing but the marks is written:
   * no 10,000-entry map or process list is made per scan (only a rebuild lists the processes).
   */
  private async afterRead(recs: NativeRecords, slicer: Slicer, counts: { vanished: number; denied: number }, monoStartMs: number): Promise<ScannerResult> {
    const src = this.src;
    const interner = this.interner!;
    const gen = ++this.gen;
    const known = this.known;

    /** a change the model must be rebuilt for (anything but processes coming and going) */
    let changed = this.last === undefined;
    /** processes read whole for the first time this scan (new pids), and the new values of replaced ones */
    const arrivals: ProcessInfo[] = [];
    /** processes gone since the last scan (pushed after the loop), and the old values of replaced ones (pushed in it) */
    const departures: ProcessInfo[] = [];
    let fullReads = 0;
    let statOnly = 0;
    let unread = 0;
    /** known processes found again this scan (marked `seen`) */
    let kept = 0;
    /** pids not known before, found this scan, ascending (the records' order), with what is now known of them */
    const added: Known[] = [];
    const addedPids: number[] = [];
    /** admit's output for one record */
    const one: ProcessInfo[] = [];
    /** pid → record, for the stat of this scan */
    const index = new Map<number, number>();
    for (let i = 0; i < recs.count; i++) {
      if ((i & 255) === 0 && slicer.due()) await slicer.yield();
      const pid = recs.pid(i);
      const old = known.get(pid);
      if (recs.untouched(i)) {
        // the same /proc dentry as last scan: the same process, nothing read (outside freshStat)
        unread++;
        if (!old) {
          changed = true; // cannot happen: scan.c skips only known pids
          continue;
        }
        old.seen = gen;
        kept++;
        continue;
      }
      if (recs.statOnly(i)) {
        statOnly++;
        if (!old) {
          changed = true; // cannot happen: scan.c reads only known pids this way
          continue;
        }
        const err = recs.statError(i);
        if (err !== undefined) {
          if (err === 'PROCESS_GONE') {
            // gone: a departure (not in `next`)
            counts.vanished++;
            continue;
          }
          changed = true;
          // stat unreadable now (denied?): keep what was read whole, read it whole next scan
          old.seen = gen;
          kept++;
          this.forceFull.add(pid);
          continue;
        }
        index.set(pid, i);
        old.ino = recs.ino(i);
        const state = recs.statField(i, STAT_SLOT.state);
        const zombie = state === Z || state === X;
        if (zombie) this.forceFull.add(pid);
        // a kernel thread's comm names the work it does now (kworker/0:3-events, …-mm_percpu_wq): it
        // changes all the time and never moves a process in the model, so it is not watched
        const ppid = recs.statField(i, STAT_SLOT.ppid);
        const kthread = ppid === 2 || pid === 2;
        if (ppid === old.ppid && (kthread || recs.commHash(i) === old.commHash) && zombie === old.zombie) {
          old.seen = gen;
          kept++;
          continue;
        }
        // an exec (comm), a new parent or a zombie: the model uses those; take this stat, and read
        // the process whole next scan (an exec changes its cmdline and other files asked for)
        changed = true;
        if (!kthread && recs.commHash(i) !== old.commHash) this.forceFull.add(pid);
        const info = withStat(old.info, recs.stat(i));
        // a new value for a known pid: same place in the map
        known.set(pid, knownOf(info, recs.commHash(i), recs.ino(i), gen));
        kept++;
        continue;
      }
      fullReads++;
      one.length = 0;
      admit(recs.full(i), counts, one);
      if (one.length === 0) continue; // vanished while read (a known one: a departure)
      const info = one[0]!;
      if (info.stat) index.set(pid, i);
      let now: Known;
      if (old && sameProcess(old.info, info)) {
        // revalidated, unchanged: the model keeps its value
        old.ino = recs.ino(i);
        old.seen = gen;
        kept++;
        now = old;
      } else {
        if (old && samePlace(old.info, info)) {
          // the same process (start, parent, zombie state, errors) after an exec, a setns, a
          // cgroup move or a setuid: patched as the old value leaving and the new one arriving
          // (patchModel: rebuilt unless its new namespaces and cgroups are some other process's,
          // and it is not a container's init nor a namespace's last process)
          departures.push(old.info);
          arrivals.push(info);
        } else if (old) changed = true;
        else arrivals.push(info);
        now = knownOf(info, info.stat ? recs.commHash(i) : 0, recs.ino(i), gen);
        if (old) {
          known.set(pid, now);
          kept++;
        } else {
          added.push(now);
          addedPids.push(pid);
        }
      }
      if (!info.stat || info.stat.state === 'Z' || info.stat.state === 'X') this.forceFull.add(pid);
      // a process seen for the first time may be half way through setting itself up (`unshare`
      // before its fork, a runtime's init before its setns): read it whole once more next scan
      // (not after the first scan: every process is new to it, nearly all long set up)
      if (this.scans > 0 && (!old || old.start !== now.start)) this.forceFull.add(pid);
    }
    // a known process not found this scan has exited (not found, or gone while read)
    if (kept !== known.size) {
      for (const [pid, k] of known) {
        if (k.seen === gen) continue;
        departures.push(k.info);
        known.delete(pid);
      }
    }
    // new pids in pid order (scan.c is handed the known pids ascending): appended when above every
    // known one (the kernel hands out pids upwards until they wrap), else merged into a new map
    if (added.length > 0) {
      if (addedPids[0]! > this.topPid) for (let j = 0; j < added.length; j++) known.set(addedPids[j]!, added[j]!);
      else this.known = mergeKnown(known, addedPids, added);
      this.topPid = Math.max(this.topPid, addedPids[addedPids.length - 1]!);
    }
    // with `bound`, the model also holds namespaces kept by bind mounts (no process in them): a
    // mount or unmount (ip netns add/delete) changes the model without any process changing
    if (this.opts.bound) {
      const mounts = ownMountsText(src);
      if (mounts !== this.mounts) changed = true;
      this.mounts = mounts;
    }
    this.scans++;
    /** this scan's processes in pid order (a known one as last read whole, unless what the model uses of its stat moved): listed for a rebuild only */
    const listProcesses = (): ProcessInfo[] => Array.from(this.known.values(), (k) => k.info);

    // (a model step that throws below leaves no `last` for the next scan: runNative's catch)
    const last = this.last;
    let model: HostModel;
    let patched = false;
    const moved = arrivals.length > 0 || departures.length > 0;
    let done = false;
    if (!changed && !moved && last) {
      model = last;
      done = true;
    } else if (!changed && last) {
      // only processes came and went: the model updated for them, when each is like one already
      // in it (the same namespaces and cgroups: the same groups and container), else rebuilt
      const excluded = this.opts.excludeSelf ? process.pid : undefined;
      const steps = patchModelSteps(last, arrivals, departures, excluded, this.opts.bound === true);
      let step = steps.next();
      while (!step.done) {
        if (slicer.due()) await slicer.yield();
        step = steps.next();
      }
      const p = step.value;
      if (p) {
        const snapshot: Snapshot = await snapshotOf(src, p.processes, counts, monoStartMs, slicer);
        model = { ...p.model, snapshot };
        this.last = model;
        patched = true;
        done = true;
        if (interner.size > 4 * this.known.size + 4096) this.interner = undefined;
      }
    }
    if (!done) {
      const processes = listProcesses();
      const snapshot: Snapshot = await snapshotOf(src, processes, counts, monoStartMs, slicer);
      model = await modelSliced(src, snapshot, this.opts, slicer);
      this.last = model;
      // shared values of processes long gone would pile up: start afresh past a bound
      if (interner.size > 4 * processes.length + 4096) this.interner = undefined;
    }
    slicer.pause();
    return { model: model!, stats: { ...slicer.stats('native'), fullReads, statOnly, unread, modelReused: !changed && !moved, modelPatched: patched }, stat: new StatView(index, recs) };
  }
}

/**
 * The previous model with processes that came and went, when that changes no structure: every
 * arrival has a twin in the model (a process with the same namespace set and cgroup list: the
 * native scan shares those values, so identity says it), and is then in the twin's namespace
 * groups and container (unless the twin is a container on its own: isContainerOfItsOwn); no departure is pid 1 or 2 (the host reference), a container's init
 * unless its whole container left (then dropped, with the namespaces only its processes held, as a
 * rebuild drops them), or the last process of a namespace group outside such a container. Cost: the affected groups and containers, and one pass
 * over the process list; no file is read. Undefined when a rebuild is needed.
 */
export function patchModel(
  m: HostModel,
  arrivals: readonly ProcessInfo[],
  departures: readonly ProcessInfo[],
  excluded: number | undefined,
  bound = false,
): PatchResult | undefined {
  const it = patchModelSteps(m, arrivals, departures, excluded, bound);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

type PatchResult = { model: Omit<HostModel, 'snapshot'>; processes: ProcessInfo[] };

/** processes handled between two yields of patchModelSteps */
const PATCH_STEP = 1024;

/**
 * patchModel in steps: a `yield` every PATCH_STEP processes of the passes over the whole list (the
 * twins, the host-wide groups a process joins or leaves, the container index, the process list),
 * so HostScanner lets timers and input run between them (issue 6: at 10,000 processes, one go held
 * the event loop for tens of milliseconds on every poll where processes came and went).
 */
export function* patchModelSteps(
  m: HostModel,
  arrivals: readonly ProcessInfo[],
  departures: readonly ProcessInfo[],
  excluded: number | undefined,
  /** the model lists namespaces held by bind mounts (ScanOptions.bound): an emptied namespace may stay */
  bound = false,
): Generator<void, PatchResult | undefined> {
  if (m.namespaces.some((g) => g.threads.length > 0)) return undefined; // threads (tasks) asked for: not patched
  const old = m.snapshot.processes;
  const twins = new Map<object, Map<object | undefined, ProcessInfo>>();
  let lastNs: object | undefined;
  let lastCg: object | undefined;
  let n = 0;
  for (const p of old) {
    if (++n % PATCH_STEP === 0) yield;
    // neighbouring pids mostly share both values: one lookup per run of them
    if (!p.ns || (p.ns === lastNs && p.cgroups === lastCg)) continue;
    lastNs = p.ns;
    lastCg = p.cgroups;
    let byCg = twins.get(p.ns);
    if (!byCg) twins.set(p.ns, (byCg = new Map()));
    if (!byCg.has(p.cgroups)) byCg.set(p.cgroups, p);
  }
  /** group → pids leaving it, processes joining it */
  const groupOut = new Map<NamespaceGroup, Set<number>>();
  const groupIn = new Map<NamespaceGroup, ProcessInfo[]>();
  const contOut = new Map<Container, Set<number>>();
  const contIn = new Map<Container, number[]>();
  const groupsOf = (p: ProcessInfo): NamespaceGroup[] => {
    const out: NamespaceGroup[] = [];
    for (const v of Object.values(p.ns ?? {})) {
      const g = v ? m.nsByKey.get(nsKey(v)) : undefined;
      if (g && !out.includes(g) && sortedHas(g.pids, p.pid)) out.push(g);
    }
    return out;
  };
  const gone = new Set<number>();
  /** containers whose init left: patched only when every process of theirs left (see below) */
  const initGone: Container[] = [];
  for (const d of departures) {
    const i = indexOfPid(old, d.pid);
    if (i < 0) continue; // never in the model (the reader itself)
    if (d.pid <= 2) return undefined;
    const k = m.containerOf.get(d.pid);
    if (k && k.initPid === d.pid) initGone.push(k);
    gone.add(d.pid);
    for (const g of groupsOf(old[i]!)) addTo(groupOut, g, d.pid, () => new Set<number>());
    if (k) addTo(contOut, k, d.pid, () => new Set<number>());
  }
  const joining: ProcessInfo[] = [];
  for (const a of arrivals) {
    if (a.pid === excluded) continue;
    if (a.pid <= 2 || !a.ns || !a.stat || (indexOfPid(old, a.pid) >= 0 && !gone.has(a.pid))) return undefined;
    if (!isEmptyRecord(a.errors)) {
      // a process caught exiting (its namespace links but user and pid gone): in no container
      // when what is left is the host's, only in those host groups (a rebuild puts it there)
      const gs = exitingInHostGroups(m, a);
      if (!gs) return undefined;
      for (const g of gs) addTo(groupIn, g, a, () => [] as ProcessInfo[]);
      joining.push(a);
      continue;
    }
    const t = twins.get(a.ns)?.get(a.cgroups);
    if (t === undefined) return undefined;
    for (const g of groupsOf(t)) addTo(groupIn, g, a, () => [] as ProcessInfo[]);
    const k = m.containerOf.get(t.pid);
    // a twin that is a container on its own (only user/cgroup/time namespaces its own): the
    // arrival is another container, which a rebuild makes
    if (k && isContainerOfItsOwn(t, m.ref)) return undefined;
    // a process that joined a container by setns (not by fork) may have started before its init:
    // where the init is the earliest member with its parent outside (a container without a pid
    // namespace of its own, src/model/containers.ts), it would be the init now, and the name with
    // it (a rebuild decides)
    if (k && gone.has(a.pid) && m.containerOf.get(a.pid) !== k && k.sharedWithHost.includes('pid')) {
      const init = old[indexOfPid(old, k.initPid)];
      if (!init?.stat || a.stat.startTimeTicks <= init.stat.startTimeTicks) return undefined;
    }
    if (k) addTo(contIn, k, a.pid, () => [] as number[]);
    joining.push(a);
  }
  // a container whose init left is gone whole or rebuilt: with every process of its gone and none
  // joining, a rebuild would make the other containers as they are (it was a union-find cluster of
  // its own: none of its processes shared a namespace with another container's) and drop it, with
  // the namespaces only its processes held (emptied below); one that lent its pod name to others
  // (groupPods: a pod uid and namespace, a sandbox's network namespace) is rebuilt
  const dropped = new Set<Container>();
  for (const k of initGone) {
    if (contIn.has(k) || contOut.get(k)?.size !== k.pids.length || k.podNamespace !== undefined) return undefined;
    dropped.add(k);
  }
  // the groups and containers that changed, as new values (the previous model is left as it was)
  const newGroup = new Map<NamespaceGroup, NamespaceGroup>();
  const emptied = new Set<NamespaceGroup>();
  for (const g of new Set([...groupOut.keys(), ...groupIn.keys()])) {
    const out = groupOut.get(g);
    // a host-wide group (the host's user or time namespace) holds nearly every process
    const kept = out ? yield* filterSteps(g.processes, (p) => !out.has(p.pid)) : g.processes;
    yield;
    const processes = mergeByPid(kept, groupIn.get(g) ?? []);
    if (processes.length === 0) {
      // a namespace left empty: gone from the model, when every process in it was a dropped
      // container's and no bind mount can hold it (bound: the model lists such namespaces)
      if (bound || dropped.size === 0 || !g.processes.every((p) => dropped.has(m.containerOf.get(p.pid)!))) return undefined;
      emptied.add(g);
      continue;
    }
    const pids = new Array<number>(processes.length);
    for (let i = 0; i < processes.length; i++) {
      if ((i + 1) % PATCH_STEP === 0) yield;
      pids[i] = processes[i]!.pid;
    }
    newGroup.set(g, { ...g, pids, processes, lowest: processes[0] });
  }
  const newCont = new Map<Container, Container>();
  for (const k of new Set([...contOut.keys(), ...contIn.keys()])) {
    if (dropped.has(k)) continue;
    const out = contOut.get(k);
    const pids = [...(out ? k.pids.filter((p) => !out.has(p)) : k.pids), ...(contIn.get(k) ?? [])].sort((x, y) => x - y);
    newCont.set(k, Object.freeze({ ...k, pids }));
  }
  yield;
  const namespaces = (emptied.size > 0 ? m.namespaces.filter((g) => !emptied.has(g)) : m.namespaces).map((g) => newGroup.get(g) ?? g);
  const nsByKey = newGroup.size === 0 && emptied.size === 0 ? m.nsByKey : new Map(namespaces.map((g) => [nsKey(g.ns), g]));
  const containers = (dropped.size > 0 ? m.containers.filter((k) => !dropped.has(k)) : m.containers).map((k) => newCont.get(k) ?? k);
  // the container index: a copy only when a container changed (one entry a process in one; a
  // process that left a container made that container a new value)
  let containerOf = m.containerOf;
  if (newCont.size > 0 || dropped.size > 0) {
    const copy = new Map<number, Container>();
    n = 0;
    for (const [pid, k] of m.containerOf) {
      if (++n % PATCH_STEP === 0) yield;
      if (!gone.has(pid)) copy.set(pid, newCont.get(k) ?? k);
    }
    for (const k of newCont.values()) for (const pid of k.pids) copy.set(pid, k);
    containerOf = copy;
  }
  const kept = gone.size > 0 ? yield* filterSteps(old, (p) => !gone.has(p.pid)) : old;
  yield;
  const processes = mergeByPid(kept, joining);
  return { model: { ref: m.ref, namespaces, nsByKey, containers, containerOf, notes: m.notes }, processes };
}

/** xs.filter(keep), yielding every PATCH_STEP items */
function* filterSteps<T>(xs: readonly T[], keep: (x: T) => boolean): Generator<void, T[]> {
  const out: T[] = [];
  for (let i = 0; i < xs.length; i++) {
    if ((i + 1) % PATCH_STEP === 0) yield;
    if (keep(xs[i]!)) out.push(xs[i]!);
  }
  return out;
}

function addTo<K, V, C extends { add?: (v: V) => unknown; push?: (v: V) => unknown }>(map: Map<K, C>, key: K, v: V, make: () => C): void {
  let c = map.get(key);
  if (!c) map.set(key, (c = make()));
  if (c.add) c.add(v);
  else c.push!(v);
}

/** two lists each in ascending pid order → one */
function mergeByPid(a: readonly ProcessInfo[], b: readonly ProcessInfo[]): ProcessInfo[] {
  if (b.length === 0) return a.slice();
  const bs = [...b].sort((x, y) => x.pid - y.pid);
  const out: ProcessInfo[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < bs.length) {
    if (j >= bs.length || (i < a.length && a[i]!.pid < bs[j]!.pid)) out.push(a[i++]!);
    else out.push(bs[j++]!);
  }
  return out;
}

/** index of `pid` in a list in ascending pid order (a snapshot's processes, a sample's), -1 when absent */
export function indexOfPid(ps: readonly { readonly pid: number }[], pid: number): number {
  let lo = 0;
  let hi = ps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ps[mid]!.pid < pid) lo = mid + 1;
    else hi = mid;
  }
  return lo < ps.length && ps[lo]!.pid === pid ? lo : -1;
}

function sortedHas(xs: readonly number[], x: number): boolean {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo < xs.length && xs[lo] === x;
}

/**
 * The groups of an arrival read while it exited: after exit_task_namespaces() its ns links other
 * than user and pid are gone (ENOENT, NOT_FOUND), and a scan of the host sees it so for a moment
 * (a short-lived command's every run could rebuild the model). When every error is such a link
 * and every namespace left is the host's (so buildContainers makes it no container and the host
 * reference cannot move), it is in exactly the host groups of those namespaces; undefined otherwise.
 */
function exitingInHostGroups(m: HostModel, a: ProcessInfo): NamespaceGroup[] | undefined {
  for (const k in a.errors) if (!k.startsWith('ns/') || a.errors[k as keyof typeof a.errors] !== 'NOT_FOUND') return undefined;
  if (!a.stat || a.stat.ppid === 2) return undefined;
  const out: NamespaceGroup[] = [];
  for (const v of Object.values(a.ns ?? {})) {
    if (!v) continue;
    if (!isHostNs(m.ref, v)) return undefined;
    const g = m.nsByKey.get(nsKey(v));
    if (!g) return undefined;
    if (!out.includes(g)) out.push(g);
  }
  return out.length > 0 ? out : undefined;
}

function isEmptyRecord(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

const Z = 'Z'.charCodeAt(0);
const X = 'X'.charCodeAt(0);

function knownOf(info: ProcessInfo, commHash: number, ino: number, seen: number): Known {
  const st = info.stat;
  return { info, start: st ? st.startTimeTicks : Number.NaN, ppid: st ? st.ppid : -1, commHash, zombie: st ? st.state === 'Z' || st.state === 'X' : false, ino, seen };
}

/** `known` (ascending pids) with `pids` (ascending, none in it) and their values, as one map in pid order */
function mergeKnown(known: ReadonlyMap<number, Known>, pids: readonly number[], values: readonly Known[]): Map<number, Known> {
  const out = new Map<number, Known>();
  let j = 0;
  for (const [pid, k] of known) {
    while (j < pids.length && pids[j]! < pid) {
      out.set(pids[j]!, values[j]!);
      j++;
    }
    out.set(pid, k);
  }
  for (; j < pids.length; j++) out.set(pids[j]!, values[j]!);
  return out;
}

const counts0 = (): { vanished: number; denied: number } => ({ vanished: 0, denied: 0 });

/** This scan's stat of every process, decoded from the scan's records when asked for. */
class StatView implements ScanStatMap {
  private readonly decoded = new Map<number, ProcStat>();
  constructor(
    private readonly index: ReadonlyMap<number, number>,
    private readonly recs: NativeRecords,
  ) {}
  get size(): number {
    return this.index.size;
  }
  has(pid: number): boolean {
    return this.index.has(pid);
  }
  /** one figure straight from the record, without decoding the whole stat (the exporter's thread counts) */
  numThreads(pid: number): number | undefined {
    const i = this.index.get(pid);
    return i === undefined ? undefined : this.recs.statField(i, STAT_SLOT.numThreads);
  }
  get(pid: number): ProcStat | undefined {
    let v = this.decoded.get(pid);
    if (v) return v;
    const i = this.index.get(pid);
    if (i === undefined) return undefined;
    v = Object.freeze(this.recs.stat(i));
    this.decoded.set(pid, v);
    return v;
  }
  *entries(): MapIterator<[number, ProcStat]> {
    for (const pid of this.index.keys()) yield [pid, this.get(pid)!];
  }
  keys(): MapIterator<number> {
    return this.index.keys();
  }
  *values(): MapIterator<ProcStat> {
    for (const pid of this.index.keys()) yield this.get(pid)!;
  }
  [Symbol.iterator](): MapIterator<[number, ProcStat]> {
    return this.entries();
  }
  forEach(cb: (value: ProcStat, key: number, map: ReadonlyMap<number, ProcStat>) => void, thisArg?: unknown): void {
    for (const pid of this.index.keys()) cb.call(thisArg, this.get(pid)!, pid, this);
  }
}

/** the time since boot in clock ticks (/proc/uptime; undefined when unreadable: nobody then counts as young) */
function uptimeTicks(src: ProcSource): number | undefined {
  try {
    const t = Number(src.readProcText('uptime').split(' ')[0]);
    return Number.isFinite(t) && t > 0 ? t * CLOCK_TICKS : undefined;
  } catch (e) {
    if (isProcError(e)) return undefined;
    throw e;
  }
}

function ownMountsText(src: ProcSource): string | undefined {
  try {
    return src.readProcText('self/mountinfo');
  } catch (e) {
    if (isProcError(e)) return undefined;
    throw e;
  }
}

/** The known process with a fresh stat (a new frozen value; the old one is left as it was). */
function withStat(p: ProcessInfo, stat: ProcStat): ProcessInfo {
  return Object.freeze({ ...p, stat });
}

/**
 * Is `b` the process `a` was, changed only in what patchModel can move it by (comm, namespaces,
 * ids, cgroups): the same start time and parent (a container's init is picked by its parent), the
 * same zombie state, the same files readable.
 */
function samePlace(a: ProcessInfo, b: ProcessInfo): boolean {
  if (!a.stat || !b.stat) return false;
  if (a.stat.startTimeTicks !== b.stat.startTimeTicks || a.stat.ppid !== b.stat.ppid) return false;
  const za = a.stat.state === 'Z' || a.stat.state === 'X';
  const zb = b.stat.state === 'Z' || b.stat.state === 'X';
  return !za && !zb && sameRecord(a.errors, b.errors);
}

/** Did a process read whole again keep what the model groups by (namespaces, ids, cgroups, errors, start, parent, comm)? */
export function sameProcess(a: ProcessInfo, b: ProcessInfo): boolean {
  if (a.stat?.startTimeTicks !== b.stat?.startTimeTicks || a.stat?.ppid !== b.stat?.ppid) return false;
  // a kernel thread's comm is the work it does now (see above): not a change
  const kthread = a.pid === 2 || a.stat?.ppid === 2;
  if (!kthread && a.stat?.comm !== b.stat?.comm) return false;
  if ((a.stat?.state === 'Z') !== (b.stat?.state === 'Z')) return false;
  if (!sameRecord(a.errors, b.errors)) return false;
  if ((a.ns === undefined) !== (b.ns === undefined)) return false;
  if (a.ns && b.ns) {
    const ka = Object.keys(a.ns);
    if (ka.length !== Object.keys(b.ns).length) return false;
    for (const k of ka) {
      const x = a.ns[k as keyof typeof a.ns];
      const y = b.ns[k as keyof typeof b.ns];
      if (!x || !y || x.inode !== y.inode || x.type !== y.type || x.dev !== y.dev) return false;
    }
  }
  if (a.ids !== b.ids) {
    if (!a.ids || !b.ids) return false;
    for (const w of ['uid', 'gid'] as const)
      for (const s of ['real', 'effective', 'saved', 'fs'] as const) if (a.ids[w][s] !== b.ids[w][s]) return false;
  }
  return sameCgroups(a.cgroups, b.cgroups);
}

function sameRecord(a: Readonly<Record<string, ProcErrorCode | undefined>>, b: Readonly<Record<string, ProcErrorCode | undefined>>): boolean {
  let n = 0;
  for (const k in a) {
    n++;
    if (a[k] !== b[k]) return false;
  }
  for (const _ in b) n--;
  return n === 0;
}

function sameCgroups(a: readonly CgroupMembership[] | undefined, b: readonly CgroupMembership[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.hierarchyId !== y.hierarchyId || x.path !== y.path || x.controllers.length !== y.controllers.length) return false;
    for (let j = 0; j < x.controllers.length; j++) if (x.controllers[j] !== y.controllers[j]) return false;
  }
  return true;
}
