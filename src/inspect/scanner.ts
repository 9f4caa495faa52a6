/**
 * HostScanner: scanHost for a caller that scans again and again (the exporter on every scrape,
 * ctop every second). It keeps what it read between scans:
 *
 * - a cache of every process read whole, keyed by pid and checked by start time. The native scan
 *   (src/native/c/scan.c) is handed the known (pid, start time) pairs: a known pid gets only its
 *   /proc/PID/stat read (fresh CPU, RSS, state: ~3 system calls instead of ~16); a new pid, or a
 *   known pid whose start time differs (the pid was reused), is read whole as scanHost reads it.
 * - rolling revalidation: a process can change its namespaces (setns, unshare), cgroup (a write to
 *   cgroup.procs) or ids (setuid) without a new pid. Each scan also reads whole the known pids with
 *   pid % N === scan number % N (N = `revalidateEvery`, default 10): every process is read whole at
 *   least once every N scans. Such a change is therefore seen within N scans (10 s at a 1 s
 *   interval, 150 s at the exporter's 15 s scrape interval), not at once: that is the price of
 *   the cheap scan. A new pid, an exit, a reused pid, an exec (comm) or a new parent (ppid) is
 *   seen at the next scan.
 * - the last model: when no pid came or went, no process read whole changed and no process
 *   changed comm, ppid or zombie state, the previous model (grouping, containers, names) is
 *   returned as it was, with no model step run at all (`stats.modelReused`). Its snapshot then
 *   holds the stat of the scan that built it; `stat` holds this scan's fresh stat of every
 *   process, for what needs current figures (CPU rates, RSS, threads).
 *
 * Files other than ns, status's Uid/Gid, stat and cgroup (opts.files) are read only when a
 * process is read whole. Concurrent scan() calls share one scan in flight. Off the native path
 * (dumps, no addon, HOSTSCOPE_SCAN=ts) every scan is scanHost's full scan.
 */
import { performance } from 'node:perf_hooks';
import type { ProcSource } from '../source/source.js';
import type { ProcErrorCode } from '../source/errors.js';
import type { ProcStat } from '../parse/proc-stat.js';
import type { CgroupMembership } from '../parse/proc-cgroup.js';
import type { ProcessInfo } from '../model/process.js';
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
  type ScanOptions,
  type ScanStats,
} from './scan.js';

export interface ScannerOptions extends ScanOptions {
  /** every known process is read whole at least once every this many scans (default 10; 1: every scan) */
  revalidateEvery?: number;
}

export interface ScannerStats extends ScanStats {
  /** processes read whole this scan (new, reused pids, revalidated; every one off the native path) */
  fullReads: number;
  /** known processes of which only stat was read */
  statOnly: number;
  /** the previous model was returned unchanged (no model step ran) */
  modelReused: boolean;
}

export interface ScannerResult {
  model: HostModel;
  stats: ScannerStats;
  /** this scan's stat of every process it found (by pid); fresher than model.snapshot's when modelReused */
  stat: ReadonlyMap<number, ProcStat>;
}

interface Known {
  /** the process as last read whole (its stat is from the scan that last rebuilt the model) */
  info: ProcessInfo;
  start: number;
}

export const DEFAULT_REVALIDATE_EVERY = 10;

export class HostScanner {
  private readonly every: number;
  private inflight: Promise<ScannerResult> | undefined;
  /** pid → what was read whole; ascending pid order (the scan's order) */
  private known = new Map<number, Known>();
  /** pids to read whole next scan whatever their start time (turned zombie, stat unreadable) */
  private forceFull = new Set<number>();
  private last: HostModel | undefined;
  private scans = 0;
  private interner: NativeInterner | undefined;

  constructor(
    private readonly src: ProcSource,
    private readonly opts: ScannerOptions = {},
  ) {
    const n = opts.revalidateEvery ?? DEFAULT_REVALIDATE_EVERY;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`revalidateEvery must be a positive integer, not ${n}`);
    this.every = n;
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
      const stat = new Map<number, ProcStat>();
      for (const p of model.snapshot.processes) if (p.stat) stat.set(p.pid, p.stat);
      return { model, stats: { ...stats, fullReads: model.snapshot.processes.length, statOnly: 0, modelReused: false }, stat };
    }
    if (!nativeScanAvailable(this.src)) throw new Error('scan: the native scan needs the live /proc and the native addon');
    return this.runNative();
  }

  private async runNative(): Promise<ScannerResult> {
    const src = this.src;
    const req = snapshotRequest(this.opts);
    const slicer = new Slicer(this.opts.sliceMs ?? 5);
    const monoStartMs = performance.now();
    this.interner ??= new NativeInterner(src.nsfsDevice());
    const interner = this.interner;
    // the known pids with a start time, ascending (the map is kept in scan order)
    const pids: number[] = [];
    const starts: number[] = [];
    for (const [pid, k] of this.known) {
      if (this.forceFull.has(pid)) continue;
      pids.push(pid);
      starts.push(k.start);
    }
    const phase = this.scans % this.every;
    this.forceFull = new Set();

    let changed = this.last === undefined;
    let fullReads = 0;
    let statOnly = 0;
    let seenKnown = 0;
    const counts = { vanished: 0, denied: 0 };
    const stat = new Map<number, ProcStat>();
    /** this scan's processes in pid order: a fresh ProcessInfo (read whole) or a known one with its new stat */
    const found: (ProcessInfo | { old: ProcessInfo; stat: ProcStat })[] = [];
    const next = new Map<number, Known>();
    const full: ProcessInfo[] = [];

    await readNative(
      src,
      req,
      slicer,
      interner,
      pids.length > 0 ? { pids: Int32Array.from(pids), starts: Float64Array.from(starts), every: this.every, phase } : undefined,
      (r) => {
        const old = this.known.get(r.pid);
        if (old) seenKnown++;
        if (r.full) {
          fullReads++;
          const before = full.length;
          admit(r.info, counts, full);
          if (full.length === before) {
            // vanished while read
            if (old) changed = true;
            return;
          }
          const info = full[before]!;
          found.push(info);
          if (info.stat) stat.set(info.pid, info.stat);
          if (!old || !sameProcess(old.info, info)) changed = true;
          if (info.stat && (info.stat.state === 'Z' || info.stat.state === 'X')) this.forceFull.add(info.pid);
          if (info.stat) next.set(info.pid, { info, start: info.stat.startTimeTicks });
          else {
            // no start time: read whole again next scan (kept for the model meanwhile)
            next.set(info.pid, { info, start: Number.NaN });
            this.forceFull.add(info.pid);
          }
          return;
        }
        statOnly++;
        if (!old) {
          changed = true; // cannot happen: scan.c reads only known pids this way
          return;
        }
        if (!r.stat) {
          if (r.error === 'PROCESS_GONE') {
            counts.vanished++;
            changed = true;
            return;
          }
          // stat unreadable now (denied?): keep what was read whole, read it whole next scan
          changed = true;
          found.push(old.info);
          next.set(r.pid, old);
          this.forceFull.add(r.pid);
          return;
        }
        stat.set(r.pid, r.stat);
        const was = old.info.stat;
        if (!was || was.ppid !== r.stat.ppid || was.comm !== r.stat.comm || (was.state === 'Z') !== (r.stat.state === 'Z')) changed = true;
        if (r.stat.state === 'Z' || r.stat.state === 'X') this.forceFull.add(r.pid);
        found.push({ old: old.info, stat: r.stat });
        next.set(r.pid, old);
      },
    );
    // a known process not found this time has exited
    if (seenKnown !== this.known.size) changed = true;
    this.scans++;

    let model: HostModel;
    if (!changed && this.last) {
      model = this.last;
      // the identities stay those of the model's processes
      this.known = next;
    } else {
      // the model's processes: fresh stat on what was known; the cache then holds exactly these
      const processes: ProcessInfo[] = [];
      const cache = new Map<number, Known>();
      for (let i = 0; i < found.length; i++) {
        if ((i & 255) === 0 && slicer.due()) await slicer.yield();
        const f = found[i]!;
        const p = 'old' in f ? withStat(f.old, f.stat) : f;
        processes.push(p);
        const k = next.get(p.pid)!;
        cache.set(p.pid, { info: p, start: k.start });
      }
      const snapshot: Snapshot = await snapshotOf(src, processes, counts, monoStartMs, slicer);
      model = await modelSliced(src, snapshot, this.opts, slicer);
      this.last = model;
      this.known = cache;
      // shared values of processes long gone would pile up: start afresh past a bound
      if (interner.size > 4 * processes.length + 4096) this.interner = undefined;
    }
    slicer.pause();
    return { model, stats: { ...slicer.stats('native'), fullReads, statOnly, modelReused: !changed }, stat };
  }
}

/** The known process with a fresh stat (a new frozen value; the old one is left as it was). */
function withStat(p: ProcessInfo, stat: ProcStat): ProcessInfo {
  return Object.freeze({ ...p, stat });
}

/** Did a process read whole again keep what the model groups by (namespaces, ids, cgroups, errors, start, parent, comm)? */
export function sameProcess(a: ProcessInfo, b: ProcessInfo): boolean {
  if (a.stat?.startTimeTicks !== b.stat?.startTimeTicks || a.stat?.ppid !== b.stat?.ppid || a.stat?.comm !== b.stat?.comm) return false;
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
