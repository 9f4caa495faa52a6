/**
 * scanHost: the host model without holding the event loop, for ctop (polls every second, answers
 * keys within 100 ms) and the exporter. Two paths, one result:
 *
 * - native: on the live /proc with the addon loaded, src/native/c/scan.c lists /proc and reads the
 *   ns links, the Uid/Gid lines of status, stat and cgroup of every process on the libuv
 *   threadpool and hands back one Float64Array (+ errno slots + a byte table of strings); this
 *   module turns it into the same ProcessInfo values the TypeScript reader makes.
 * - TypeScript: anywhere else (dumps, no addon), the ordinary reader, in slices of a few
 *   milliseconds separated by setImmediate, so timers and input still run during a scan.
 *
 * Both end in modelFromSnapshot (src/inspect/host.ts), the code inspectHost uses.
 *
 * What still holds the event loop at 10,000 processes is the garbage collector, not these slices:
 * every young-generation scavenge copies what the scan has built so far and is still alive (the
 * model is the result: it all stays alive), and a slice cannot cut a scavenge. The scan keeps that
 * small (no heap box per stat field, no property array per process, see decodeStat and Shape);
 * what is left scales with the young generation V8 lets grow (16 MB semi-spaces by default): a
 * process that must never stall long caps it on node's command line (--max-semi-space-size, or a
 * Worker's resourceLimits.maxYoungGenerationSizeMb).
 */
import { performance } from 'node:perf_hooks';
import type { ProcSource } from '../source/source.js';
import { classifyProcErrno, isProcError, type ProcErrorCode } from '../source/errors.js';
import { NS_ENTRIES, entryType, type NsEntry, type NsType } from '../parse/ns-link.js';
import type { IdQuad } from '../parse/proc-status.js';
import { parseProcCgroup, type CgroupMembership } from '../parse/proc-cgroup.js';
import { decodeBytes } from '../parse/text.js';
import type { ProcStat } from '../parse/proc-stat.js';
import { listPids, readInto, readProcess, sealProcess, type ProcFile } from '../proc/process.js';
import type { Snapshot } from '../proc/snapshot.js';
import type { NsId, ProcessInfo } from '../model/process.js';
import { errnoName, loadNative } from '../native/index.js';
import { modelSteps, snapshotRequest, type HostModel, type InspectOptions } from './host.js';

export interface ScanOptions extends InspectOptions {
  /**
   * 'auto' (default): native when live and loaded; 'native' fails when it cannot; 'ts' never uses
   * it. Without this option, HOSTSCOPE_SCAN=ts in the environment means 'ts'.
   */
  path?: 'auto' | 'native' | 'ts';
  /** longest slice of JavaScript work between two yields to the event loop, ms (default 5) */
  sliceMs?: number;
  /**
   * measure each slice's CPU time (ScanSlice.cpuMs; default true when sliced): two getrusage calls
   * a slice, which sum every thread and cost most while the native scan's threads run — the
   * exporter, which never reads the figure, turns it off
   */
  sliceCpu?: boolean;
}

/** How a scan went: which path, and how long its JavaScript slices held the event loop. */
export interface ScanStats {
  path: 'native' | 'ts';
  /** the longest stretch of synchronous work this scan did on the event loop, ms */
  longestSliceMs: number;
  /** every slice, for tests and the bench that attribute a stall of the event loop to the scan */
  slices: ScanSlice[];
  /**
   * the nice value the native scan's reading thread ran at (scan.c: the process's own + 10, so the
   * event loop's thread wins a busy core; undefined off the native path or when unknown)
   */
  readerNice?: number;
}

/** One stretch of synchronous work on the event loop. */
export interface ScanSlice {
  /** performance.now() at its start and end */
  start: number;
  end: number;
  /**
   * CPU time of the process meanwhile (user + system, every thread): what it cost, not how long the
   * OS let it wait. NaN for a scan that is not sliced (sliceMs Infinity: a one-shot CLI) or not
   * measured (sliceCpu false), which does not measure it (getrusage sums every thread: ~1 ms a call here while the scan's thread runs).
   */
  cpuMs: number;
}

/** The files scan.c reads; anything else is read by the TypeScript reader afterwards. */
const NATIVE_FILES: Partial<Record<ProcFile, number>> = { ids: 1, stat: 2, cgroup: 4, owner: 8 };

/** What scan.c hands back: records (doubles), error slots (int32) and a byte table of strings. */
interface RawScan {
  count: number;
  records: ArrayBuffer;
  errors: ArrayBuffer;
  strings: ArrayBuffer;
  /** the nice value the reading thread ran at (absent when unknown) */
  nice?: number;
}

interface ScanBinding {
  scan(
    nsMask: number,
    files: number,
    knownPids?: Int32Array,
    knownStarts?: Float64Array,
    every?: number,
    phase?: number,
    knownInos?: Float64Array,
    knownFresh?: Uint8Array,
  ): Promise<RawScan>;
  /** the pids of /proc (ascending) and the d_ino of each entry */
  scanList(): Promise<{ count: number; pids: ArrayBuffer; inos: ArrayBuffer }>;
  /** scan() of exactly these pids (a part of scanList's), on one thread */
  scanPids(nsMask: number, files: number, pids: Int32Array, inos: Float64Array): Promise<RawScan>;
  scanLayout(): Layout;
}

interface Layout {
  version: number;
  recordLength: number;
  errorLength: number;
  ns: number;
  uid: number;
  gid: number;
  stat: number;
  statLength: number;
  cgroupOffset: number;
  mode: number;
  commHash: number;
  ino: number;
  errIds: number;
  errStat: number;
  errCgroup: number;
  owner: number;
  nsSame: number;
  errOwner: number;
  errNotAsked: number;
  errParse: number;
  errTooBig: number;
}

const LAYOUT_VERSION = 4;

let scanBinding: ScanBinding | null | undefined;
let layout: Layout | undefined;

/** The addon's scan, when the addon is built and has it (an older build does not). */
function nativeScan(): ScanBinding | undefined {
  if (scanBinding !== undefined) return scanBinding ?? undefined;
  const b = loadNative() as unknown as Partial<ScanBinding> | undefined;
  if (b && typeof b.scan === 'function' && typeof b.scanLayout === 'function' && typeof b.scanList === 'function' && typeof b.scanPids === 'function') {
    const l = b.scanLayout();
    if (l.version === LAYOUT_VERSION && l.statLength === 21) {
      layout = l;
      scanBinding = b as ScanBinding;
      return scanBinding;
    }
  }
  scanBinding = null;
  return undefined;
}

/** Would scanHost take the native path for this source? */
export function nativeScanAvailable(src: ProcSource): boolean {
  return src.isLive && src.procRoot === '/proc' && nativeScan() !== undefined;
}

/** Yield to the event loop once a slice of work has run for `sliceMs`. */
export class Slicer {
  private start = performance.now();
  private readonly measured: boolean;
  private cpu: NodeJS.CpuUsage | undefined;
  readonly slices: ScanSlice[] = [];
  /** the native reading thread's nice value (ScanStats.readerNice) */
  readerNice: number | undefined;
  constructor(
    private readonly sliceMs: number,
    measureCpu = true,
  ) {
    this.measured = measureCpu && sliceMs !== Infinity;
    this.cpu = this.measured ? process.cpuUsage() : undefined;
  }
  due(): boolean {
    // sliceMs Infinity (a one-shot CLI: cinf): never, without reading the clock per process
    return this.sliceMs !== Infinity && performance.now() - this.start >= this.sliceMs;
  }
  /** the current slice ends (the event loop is about to be free) */
  pause(): void {
    const c = this.cpu && process.cpuUsage(this.cpu);
    this.slices.push({ start: this.start, end: performance.now(), cpuMs: c ? (c.user + c.system) / 1000 : NaN });
  }
  /** a new slice starts (we hold the event loop again) */
  resume(): void {
    this.start = performance.now();
    if (this.measured) this.cpu = process.cpuUsage();
  }
  async yield(): Promise<void> {
    this.pause();
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.resume();
  }
  /**
   * Wait for work on the threadpool (the native scan) with the event loop free. Its promise settles
   * in libuv's poll phase, and a setImmediate queued there runs in the same loop iteration's check
   * phase, before any timer: a slice started there and the slice after its first yield would hold
   * the loop back to back (two slices, one stall). So the work resumes only after one hop to the
   * check phase; from there, each yield lets the next iteration's timers and input run first.
   */
  async io<T>(work: Promise<T>): Promise<T> {
    this.pause();
    try {
      return await work;
    } finally {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.resume();
    }
  }
  stats(path: 'native' | 'ts'): ScanStats {
    return { path, longestSliceMs: Math.max(0, ...this.slices.map((s) => s.end - s.start)), slices: this.slices, ...(this.readerNice === undefined ? {} : { readerNice: this.readerNice }) };
  }
}

/**
 * The host model, read without blocking the event loop for more than a slice (~5 ms) at a time.
 * Same options and same result as inspectHost.
 */
export async function scanHost(src: ProcSource, opts: ScanOptions = {}): Promise<HostModel> {
  return (await scanHostWithStats(src, opts)).model;
}

export async function scanHostWithStats(src: ProcSource, opts: ScanOptions = {}): Promise<{ model: HostModel; stats: ScanStats }> {
  const req = snapshotRequest(opts);
  // HOSTSCOPE_SCAN=ts forces the TypeScript reader (the bench compares the two paths with it)
  const path = opts.path ?? (process.env.HOSTSCOPE_SCAN === 'ts' ? 'ts' : 'auto');
  const useNative = path === 'native' || (path !== 'ts' && nativeScanAvailable(src));
  if (useNative && !nativeScanAvailable(src)) throw new Error('scan: the native scan needs the live /proc and the native addon');
  const slicer = new Slicer(opts.sliceMs ?? 5, opts.sliceCpu ?? true);
  const snapshot = useNative ? await nativeSnapshot(src, req, slicer) : await tsSnapshot(src, req, slicer);
  // the model's phases (host reference, namespace index, containers) with a yield between each
  const model = await modelSliced(src, snapshot, opts, slicer);
  slicer.pause();
  return { model, stats: slicer.stats(useNative ? 'native' : 'ts') };
}

/** scanHost's steps after the snapshot: the model's phases with a yield between each. */
export async function modelSliced(src: ProcSource, snapshot: Snapshot, opts: InspectOptions, slicer: Slicer): Promise<HostModel> {
  const steps = modelSteps(src, snapshot, opts);
  let step = steps.next();
  while (!step.done) {
    if (slicer.due()) await slicer.yield();
    step = steps.next();
  }
  return step.value;
}

/** takeSnapshot's rule: a process gone between two of its files is skipped whole, a zombie kept. */
export function admit(info: ProcessInfo | undefined, counts: { vanished: number; denied: number }, out: ProcessInfo[]): void {
  if (!info) {
    counts.vanished++;
    return;
  }
  if (isEmpty(info.errors)) {
    out.push(info);
    return;
  }
  const codes = Object.values(info.errors) as ProcErrorCode[];
  const state = info.status?.state ?? info.stat?.state;
  if (codes.includes('PROCESS_GONE') && state !== 'Z' && state !== 'X') {
    counts.vanished++;
    return;
  }
  if (codes.includes('PERMISSION_DENIED')) counts.denied++;
  out.push(info);
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/** every recorded error is PROCESS_GONE (or there is none) */
function allGoneOrNone(errors: ProcessInfo['errors']): boolean {
  for (const k in errors) if (errors[k] !== 'PROCESS_GONE') return false;
  return true;
}

export async function snapshotOf(src: ProcSource, processes: ProcessInfo[], counts: { vanished: number; denied: number }, monoStartMs: number, slicer: Slicer): Promise<Snapshot> {
  // a snapshot is a value: every process frozen, in slices like the rest (thousands of objects)
  for (const p of processes) {
    if (slicer.due()) await slicer.yield();
    sealProcess(p);
  }
  const selfPid = src.isLive ? process.pid : src.selfPid();
  return { processes, vanished: counts.vanished, denied: counts.denied, selfPid, takenAtMs: Date.now(), monoStartMs, monoEndMs: performance.now() };
}

/** The TypeScript reader, sliced. */
export async function tsSnapshot(src: ProcSource, req: { files: ProcFile[]; nsEntries: NsEntry[] }, slicer: Slicer): Promise<Snapshot> {
  const monoStartMs = performance.now();
  const pids = listPids(src);
  const processes: ProcessInfo[] = [];
  const counts = { vanished: 0, denied: 0 };
  for (const pid of pids) {
    if (slicer.due()) await slicer.yield();
    admit(readProcess(src, pid, req.files, { nsEntries: req.nsEntries }), counts, processes);
  }
  return snapshotOf(src, processes, counts, monoStartMs, slicer);
}

/** An error slot of scan.c as the ProcErrorCode the TypeScript reader would have recorded. */
function codeOf(l: Layout, err: number): ProcErrorCode {
  if (err === l.errParse) return 'PARSE';
  if (err === l.errTooBig) return 'IO';
  return classifyProcErrno(errnoName(err));
}

function errnoNameOf(err: number): string | undefined {
  return err > 0 ? errnoName(err) : undefined;
}

/**
 * Values many processes share, made once and shared (nothing mutates them): one NsId per
 * namespace, one ids record per set of ids, one cgroup list per cgroup file text. At 10,000
 * processes that is ~100,000 fewer objects for the garbage collector. A HostScanner keeps one
 * across scans (so an unchanged process's values are the same objects scan after scan).
 */
export class NativeInterner {
  readonly cgroups = new Map<string, CgroupMembership[]>();
  private readonly nsSets = new Map<string, Partial<Record<NsEntry, NsId>>>();
  private readonly nsIds = new Map<number, NsId>();
  private readonly idSets = new Map<string, { uid: IdQuad; gid: IdQuad }>();
  private readonly owners = new Map<number, Map<number, { uid: number; gid: number }>>();
  private readonly uniformIds = new Map<number, Map<number, { uid: IdQuad; gid: IdQuad }>>();
  constructor(private readonly dev: number) {}
  /** entries kept (a long-lived interner is cleared by its owner past a bound) */
  get size(): number {
    return this.cgroups.size + this.nsSets.size + this.nsIds.size + this.idSets.size + this.uniformIds.size + this.owners.size;
  }
  clear(): void {
    this.cgroups.clear();
    this.nsSets.clear();
    this.nsIds.clear();
    this.idSets.clear();
    this.uniformIds.clear();
    this.owners.clear();
  }
  /** one frozen owner record per (uid, gid) */
  owner(uid: number, gid: number): { uid: number; gid: number } {
    let byGid = this.owners.get(uid);
    if (!byGid) this.owners.set(uid, (byGid = new Map()));
    let v = byGid.get(gid);
    if (!v) byGid.set(gid, (v = Object.freeze({ uid, gid })));
    return v;
  }
  /**
   * One frozen namespace record per set of namespaces (a container's processes share theirs):
   * the record is looked up by its inodes in `entries` order.
   */
  nsSet(ns: Partial<Record<NsEntry, NsId>>, entries: readonly { entry: NsEntry }[]): Partial<Record<NsEntry, NsId>> {
    let key = '';
    for (const x of entries) key += `${ns[x.entry]!.inode},`;
    let v = this.nsSets.get(key);
    if (!v) this.nsSets.set(key, (v = Object.freeze(ns)));
    return v;
  }
  nsId(type: NsType, inode: number): NsId {
    // keyed by the inode wrapped to 32 bits: nsfs inodes (~4026531840) are past a small integer,
    // and a Map boxes such a key on every lookup (8 a process); a collision gets its own value
    let id = this.nsIds.get(inode | 0);
    // an inode is one namespace on nsfs; a type mismatch (never seen live) gets its own value
    if (id === undefined || id.type !== type || id.inode !== inode) {
      id = { type, inode, dev: this.dev };
      if (!this.nsIds.has(inode | 0)) this.nsIds.set(inode | 0, id);
    }
    return id;
  }
  // the usual process has one uid and one gid in all four slots: those sets are found by number
  // (no key string per process); any other set by its eight numbers
  ids(ur: number, ue: number, us: number, uf: number, gr: number, ge: number, gs: number, gf: number): { uid: IdQuad; gid: IdQuad } {
    const make = () => ({ uid: { real: ur, effective: ue, saved: us, fs: uf }, gid: { real: gr, effective: ge, saved: gs, fs: gf } });
    if (ur === ue && ur === us && ur === uf && gr === ge && gr === gs && gr === gf) {
      let byGid = this.uniformIds.get(ur);
      if (!byGid) this.uniformIds.set(ur, (byGid = new Map()));
      let v = byGid.get(gr);
      if (!v) byGid.set(gr, (v = make()));
      return v;
    }
    const key = `${ur} ${ue} ${us} ${uf} ${gr} ${ge} ${gs} ${gf}`;
    let v = this.idSets.get(key);
    if (!v) this.idSets.set(key, (v = make()));
    return v;
  }
}

/** What the caller of readNative already knows: those pids get only their stat read (scan.c). */
export interface NativeKnown {
  /** ascending */
  pids: Int32Array;
  /** each pid's start time (stat field 22, ticks) */
  starts: Float64Array;
  /** a known pid with pid % every === phase is read whole anyway (rolling revalidation; 0: never) */
  every: number;
  phase: number;
  /** each pid's d_ino at the last scan (0: unknown) */
  inos: Float64Array;
  /**
   * per known pid, 1: read its stat (same start time: the same process); 0: read nothing when its
   * /proc entry has the same d_ino (the same dentry, so the same process), read it whole when not.
   * Undefined: every known pid gets its stat read.
   */
  fresh: Uint8Array | undefined;
}

/**
 * One native scan's records, in pid order, decoded on demand: a process read whole (full), or a
 * known process of which only stat was read (statOnly; its figures read straight from the record).
 */
type NsByHash = Map<number, { rec: Float64Array; at: number; ns: Partial<Record<NsEntry, NsId>> }[]>;

export class NativeRecords {
  readonly count: number;
  private readonly rec: Float64Array;
  private readonly errs: Int32Array;
  private readonly strings: Buffer;
  private readonly l: Layout;
  private readonly entries: { entry: NsEntry; type: NsType; slot: number; key: string }[];
  /** cgroup text offset → its parse (or why it failed) */
  private readonly cgroupAt = new Map<number, CgroupMembership[] | ProcErrorCode>();
  /** how full() makes a process of this request (see Shape) */
  private readonly shape: Shape | undefined;
  private readonly scratch: ProcessInfo = { pid: 0, errors: {}, ns: undefined, ids: undefined, stat: undefined, cgroups: undefined, owner: undefined };
  /** the shared namespace record of a record decoded (scan.c's nsSame slot points at those) */
  private readonly nsAt = new Map<number, Partial<Record<NsEntry, NsId>>>();
  constructor(
    raw: RawScan,
    private readonly src: ProcSource,
    private readonly req: { files: ProcFile[]; nsEntries: NsEntry[] },
    private readonly interner: NativeInterner,
    /**
     * The namespace records met by a hash of their inodes, each with the record (array and offset)
     * of a process that has it: a process whose entries all read gets the record of a process with
     * the same inodes (what nsSet would return) without an NsId lookup or a key string per
     * process. Shared by the parts of one scan read in parts (nativeSnapshot).
     */
    private readonly nsByHash: NsByHash = new Map(),
    /** comm strings by hash, shared like nsByHash */
    private readonly comms: CommCache = new Map(),
  ) {
    this.count = raw.count;
    this.rec = new Float64Array(raw.records);
    this.errs = new Int32Array(raw.errors);
    this.strings = Buffer.from(raw.strings);
    this.l = layout!;
    this.entries = req.nsEntries.map((e) => ({ entry: e, type: entryType(e), slot: NS_ENTRIES.indexOf(e), key: `ns/${e}` }));
    this.shape = shapeOf(req.files);
  }
  pid(i: number): number {
    return this.rec[i * this.l.recordLength]! | 0;
  }
  /** a known process of which only stat was read */
  statOnly(i: number): boolean {
    return this.rec[i * this.l.recordLength + this.l.mode] === 1;
  }
  /** a known process (same d_ino as last scan) of which nothing was read */
  untouched(i: number): boolean {
    return this.rec[i * this.l.recordLength + this.l.mode] === 2;
  }
  /** the d_ino of the process's /proc entry this scan (its dentry's inode) */
  ino(i: number): number {
    return this.rec[i * this.l.recordLength + this.l.ino]!;
  }
  /** why stat could not be read (undefined: it was) */
  statError(i: number): ProcErrorCode | undefined {
    const err = this.errs[i * this.l.errorLength + this.l.errStat]!;
    return err === 0 || err === this.l.errNotAsked ? undefined : codeOf(this.l, err);
  }
  /** stat fields by their S_* slot (valid when stat was read) */
  statField(i: number, slot: number): number {
    return this.rec[i * this.l.recordLength + this.l.stat + slot]!;
  }
  commHash(i: number): number {
    return this.rec[i * this.l.recordLength + this.l.commHash]!;
  }
  /** the hash of the inodes of the process at record `r` (errors at `e`), or undefined when an entry did not read */
  private nsHash(r: number, e: number): number | undefined {
    const { rec, errs, entries } = this;
    const ns = this.l.ns;
    let h = 0;
    for (let xi = 0; xi < entries.length; xi++) {
      const slot = entries[xi]!.slot;
      if (errs[e + slot] !== 0) return undefined;
      h = (Math.imul(h, 31) + (rec[r + ns + slot]! | 0)) | 0;
    }
    return h;
  }
  /** the shared record of a process with the inodes of the one at record `r`, if one was made */
  private knownNs(h: number, r: number): Partial<Record<NsEntry, NsId>> | undefined {
    const cands = this.nsByHash.get(h);
    if (!cands) return undefined;
    const { rec, entries } = this;
    const ns = this.l.ns;
    next: for (let k = 0; k < cands.length; k++) {
      const c = cands[k]!;
      const at = c.at;
      const other = c.rec;
      for (let xi = 0; xi < entries.length; xi++) {
        const slot = entries[xi]!.slot;
        if (rec[r + ns + slot] !== other[at + ns + slot]) continue next;
      }
      return cands[k]!.ns;
    }
    return undefined;
  }
  stat(i: number): ProcStat {
    return decodeStat(this.rec, i * this.l.recordLength + this.l.stat, this.strings);
  }
  /** a process read whole, as the TypeScript reader makes it (undefined: it vanished) */
  full(i: number): ProcessInfo | undefined {
    const { rec, errs, strings, l, req, interner } = this;
    const r = i * l.recordLength;
    const e = i * l.errorLength;
    const shape = this.shape;
    // a request of a known shape is decoded into a scratch record (reused: it never leaves here),
    // then made into a process by one literal (see Shape); any other, field by field
    const info: ProcessInfo = shape ? this.scratch : { pid: 0, errors: NO_ERRORS };
    if (shape) {
      info.errors = NO_ERRORS;
      info.ns = info.ids = info.stat = info.cgroups = info.owner = undefined;
    }
    info.pid = rec[r]! | 0;
    let errors: Record<string, ProcErrorCode> | undefined;
    let readAny = false;
    // indexed loops: a for-of here makes an iterator result per file and entry of every process
    for (let fi = 0; fi < req.files.length; fi++) {
      const file = req.files[fi]!;
      if (file === 'ns') {
        // an earlier record of this result with the same inodes (scan.c found it): its record
        const same = rec[r + l.nsSame]!;
        const shared = same >= 0 ? this.nsAt.get(same) : undefined;
        if (shared) {
          info.ns = shared;
          readAny = true;
          continue;
        }
        const h = this.nsHash(r, e);
        const known = h === undefined ? undefined : this.knownNs(h, r);
        if (known) {
          info.ns = known;
          this.nsAt.set(i, known);
          readAny = true;
          continue;
        }
        // as readNamespaces: ENOENT of one entry is "not there"; none left means the process is gone
        const ns: Partial<Record<NsEntry, NsId>> = {};
        let got = 0;
        let allGone = true;
        const entries = this.entries;
        for (let xi = 0; xi < entries.length; xi++) {
          const x = entries[xi]!;
          const err = errs[e + x.slot]!;
          if (err === 0) {
            ns[x.entry] = interner.nsId(x.type, rec[r + l.ns + x.slot]!);
            got++;
            continue;
          }
          const code = codeOf(l, err);
          const c = code === 'PROCESS_GONE' && errnoNameOf(err) === 'ENOENT' ? 'NOT_FOUND' : code;
          (errors ??= {})[x.key] = c;
          if (c !== 'NOT_FOUND' && c !== 'PROCESS_GONE') allGone = false;
        }
        if (got === 0 && allGone) (errors ??= {}).ns = 'PROCESS_GONE';
        else if (got === this.entries.length) {
          info.ns = interner.nsSet(ns, this.entries);
          this.nsAt.set(i, info.ns);
          if (h !== undefined) {
            const cands = this.nsByHash.get(h);
            if (cands) cands.push({ rec, at: r, ns: info.ns });
            else this.nsByHash.set(h, [{ rec, at: r, ns: info.ns }]);
          }
        } else info.ns = ns;
        readAny ||= got > 0;
        continue;
      }
      if (NATIVE_FILES[file] === undefined) {
        // (no shape when a file is not scan.c's: info.errors is then a fresh object of its own)
        if (info.errors === NO_ERRORS) info.errors = errors ??= {};
        readAny = readInto(this.src, info, [file], { nsEntries: req.nsEntries }) || readAny;
        continue;
      }
      const slot = file === 'ids' ? l.errIds : file === 'stat' ? l.errStat : file === 'owner' ? l.errOwner : l.errCgroup;
      const err = errs[e + slot]!;
      if (err !== 0) {
        (errors ??= {})[file] = codeOf(l, err);
        continue;
      }
      if (file === 'ids') {
        const u = r + l.uid;
        const g = r + l.gid;
        info.ids = interner.ids(rec[u]!, rec[u + 1]!, rec[u + 2]!, rec[u + 3]!, rec[g]!, rec[g + 1]!, rec[g + 2]!, rec[g + 3]!);
      } else if (file === 'owner') info.owner = interner.owner(rec[r + l.owner]!, rec[r + l.owner + 1]!);
      else if (file === 'stat') info.stat = decodeStat(rec, r + l.stat, strings, rec[r + l.commHash]!, this.comms);
      else {
        // scan.c stores each distinct cgroup text once: one string and one parse per text, not per
        // process (10,000 strings of ~1 KiB each were most of what the garbage collector copied)
        const off = rec[r + l.cgroupOffset]!;
        let parsed = this.cgroupAt.get(off);
        if (parsed === undefined) {
          // by its bytes: a cgroup directory named with a byte that is not UTF-8 keeps it (src/parse/text.ts)
          const text = decodeBytes(strings, off, off + rec[r + l.cgroupOffset + 1]!);
          parsed = interner.cgroups.get(text);
          if (!parsed) {
            try {
              // values are not mutated: shared by every process with this text
              parsed = parseProcCgroup(text, `${info.pid}/cgroup`);
            } catch (x) {
              if (!isProcError(x)) throw x;
              parsed = x.code;
            }
            if (typeof parsed !== 'string') interner.cgroups.set(text, parsed);
          }
          this.cgroupAt.set(off, parsed);
        }
        if (typeof parsed === 'string') {
          info.errors.cgroup = parsed;
          continue;
        }
        info.cgroups = parsed;
      }
      readAny = true;
    }
    // most processes have no error: they share one frozen empty record (one object fewer each)
    info.errors = errors && !isEmpty(errors) ? errors : NO_ERRORS;
    if (!readAny && allGoneOrNone(info.errors)) return undefined;
    return shape ? shape.make(info) : info;
  }
}

/**
 * The process of a request whose files are all scan.c's, in one of the usual orders (ctop's and
 * the bench's, the exporter's, cinf's), made by one object literal: a literal `{ pid, errors }`
 * with the fields added one by one keeps those past its own two in a separate property array, one
 * more object per process for the garbage collector to copy during a scan (issue 6). Keys in the
 * order the TypeScript reader adds them (its order of files); a field not read is left out, as it
 * leaves it.
 */
interface Shape {
  make(s: ProcessInfo): ProcessInfo;
}

const SHAPES: Record<string, Shape['make']> = {
  'ns,ids,stat,cgroup': (s) =>
    s.ns !== undefined && s.ids !== undefined && s.stat !== undefined && s.cgroups !== undefined
      ? { pid: s.pid, errors: s.errors, ns: s.ns, ids: s.ids, stat: s.stat, cgroups: s.cgroups }
      : fieldByField(s, ['ns', 'ids', 'stat', 'cgroups']),
  'ns,stat,cgroup': (s) =>
    s.ns !== undefined && s.stat !== undefined && s.cgroups !== undefined
      ? { pid: s.pid, errors: s.errors, ns: s.ns, stat: s.stat, cgroups: s.cgroups }
      : fieldByField(s, ['ns', 'stat', 'cgroups']),
  'ns,owner': (s) => (s.ns !== undefined && s.owner !== undefined ? { pid: s.pid, errors: s.errors, ns: s.ns, owner: s.owner } : fieldByField(s, ['ns', 'owner'])),
  ns: (s) => (s.ns !== undefined ? { pid: s.pid, errors: s.errors, ns: s.ns } : { pid: s.pid, errors: s.errors }),
};

function shapeOf(files: readonly ProcFile[]): Shape | undefined {
  const make = SHAPES[files.join(',')];
  return make && { make };
}

/** the process with those fields that were read, in this order */
function fieldByField(s: ProcessInfo, fields: (keyof ProcessInfo)[]): ProcessInfo {
  const out: ProcessInfo = { pid: s.pid, errors: s.errors };
  for (const f of fields) if (s[f] !== undefined) (out as unknown as Record<string, unknown>)[f] = s[f];
  return out;
}

const NO_ERRORS: ProcessInfo['errors'] = Object.freeze({});

/** The native scan on the threadpool (the event loop is free meanwhile). */
export async function readNative(
  src: ProcSource,
  req: { files: ProcFile[]; nsEntries: NsEntry[] },
  slicer: Slicer,
  interner: NativeInterner,
  known: NativeKnown | undefined,
): Promise<NativeRecords> {
  const b = nativeScan()!;
  const { ns, fileMask } = nativeMasks(req);
  const raw = await slicer.io(known ? b.scan(ns, fileMask, known.pids, known.starts, known.every, known.phase, known.inos, known.fresh) : b.scan(ns, fileMask));
  if (raw.nice !== undefined) slicer.readerNice = raw.nice;
  return new NativeRecords(raw, src, req, interner);
}

/** scan.c's masks for a request: the ns entries (none when 'ns' is not asked) and the files it reads */
function nativeMasks(req: { files: ProcFile[]; nsEntries: NsEntry[] }): { ns: number; fileMask: number } {
  let nsMask = 0;
  for (const e of req.nsEntries) nsMask |= 1 << NS_ENTRIES.indexOf(e);
  let fileMask = 0;
  for (const f of req.files) fileMask |= NATIVE_FILES[f] ?? 0;
  return { ns: req.files.includes('ns') ? nsMask : 0, fileMask };
}

/** pids in the first part of a scan read in parts: small, so decoding starts early */
const FIRST_PART = 256;
/** pids in each later part */
const PART = 1024;

/**
 * The native scan, decoded into ProcessInfo values (sliced: 10,000 processes take a while). Read in
 * parts, one thread reading part k+1 in the kernel while this one decodes part k: the two cores do
 * different work. (scan()'s two reading threads contend in the kernel — every process of a
 * namespace takes and drops a reference on the same namespace — and cost ~1/3 more CPU than one.)
 */
async function nativeSnapshot(src: ProcSource, req: { files: ProcFile[]; nsEntries: NsEntry[] }, slicer: Slicer): Promise<Snapshot> {
  const monoStartMs = performance.now();
  const b = nativeScan()!;
  const { ns, fileMask } = nativeMasks(req);
  const interner = new NativeInterner(src.nsfsDevice());
  const nsByHash: NsByHash = new Map();
  const comms: CommCache = new Map();
  const processes: ProcessInfo[] = [];
  const counts = { vanished: 0, denied: 0 };
  const listed = await slicer.io(b.scanList());
  const pids = new Int32Array(listed.pids);
  const inos = new Float64Array(listed.inos);
  let from = 0;
  const nextPart = (n: number): Promise<RawScan> | undefined => {
    if (from >= pids.length) return undefined;
    const to = Math.min(pids.length, from + n);
    const p = b.scanPids(ns, fileMask, pids.subarray(from, to), inos.subarray(from, to));
    from = to;
    return p;
  };
  let next = nextPart(FIRST_PART);
  while (next) {
    const raw = await slicer.io(next);
    if (raw.nice !== undefined) slicer.readerNice = raw.nice;
    // the next part is read while this one is decoded
    next = nextPart(PART);
    const recs = new NativeRecords(raw, src, req, interner, nsByHash, comms);
    for (let i = 0; i < recs.count; i++) {
      if ((i & 15) === 0 && slicer.due()) await slicer.yield();
      admit(recs.full(i), counts, processes);
    }
  }
  return snapshotOf(src, processes, counts, monoStartMs, slicer);
}

/** S_* slots of scan.c's stat fields that callers read straight from a record */
export const STAT_SLOT = { state: 1, ppid: 2, numThreads: 14, startTimeTicks: 15 } as const;

/**
 * comm strings already decoded, by scan.c's hash of their bytes (10,000 processes have a few dozen
 * distinct names: one string each, not one per process, for the garbage collector to copy), each
 * with where its bytes are, to compare before it is shared (a hash can collide)
 */
export type CommCache = Map<number, { bytes: Buffer; off: number; len: number; text: string }>;

function commOf(strings: Buffer, off: number, len: number, hash: number | undefined, cache: CommCache | undefined): string {
  if (cache === undefined || hash === undefined) return decodeBytes(strings, off, off + len);
  const c = cache.get(hash);
  if (c !== undefined && c.len === len && strings.compare(c.bytes, c.off, c.off + len, off, off + len) === 0) return c.text;
  const text = decodeBytes(strings, off, off + len);
  if (c === undefined) cache.set(hash, { bytes: strings, off, len, text });
  return text;
}

/**
 * A record's number as a small integer (a Smi) when it is one. A number read from a Float64Array
 * is a heap double; stored into a new object's field it makes V8 give that field the double
 * representation, and then every ProcStat made afterwards (the TypeScript reader's too: they share
 * a map) carries a heap box per field, whatever its value. At 10,000 processes that was ~180,000
 * boxes, most of what a scavenge copied during a one-shot scan (its pauses of 15–40 ms were the
 * event-loop stalls, issue 6). Only what cannot be a Smi (vsizeBytes of a big process) stays a double.
 */
function small(x: number): number {
  const i = x | 0;
  return i === x ? i : x;
}

/** The S_* slots of scan.c, in order (read in place: no closure, no array per process) */
function decodeStat(rec: Float64Array, s: number, strings: Buffer, hash?: number, cache?: CommCache): ProcStat {
  const commOff = rec[s + 19]!;
  const processor = rec[s + 18]!;
  return {
    pid: small(rec[s]!),
    comm: commOf(strings, commOff, rec[s + 20]!, hash, cache),
    state: String.fromCharCode(rec[s + 1]!),
    ppid: small(rec[s + 2]!),
    pgrp: small(rec[s + 3]!),
    session: small(rec[s + 4]!),
    ttyNr: small(rec[s + 5]!),
    tpgid: small(rec[s + 6]!),
    flags: small(rec[s + 7]!),
    minflt: small(rec[s + 8]!),
    majflt: small(rec[s + 9]!),
    utimeTicks: small(rec[s + 10]!),
    stimeTicks: small(rec[s + 11]!),
    priority: small(rec[s + 12]!),
    nice: small(rec[s + 13]!),
    numThreads: small(rec[s + 14]!),
    startTimeTicks: small(rec[s + 15]!),
    vsizeBytes: small(rec[s + 16]!),
    rssPages: small(rec[s + 17]!),
    processor: Number.isNaN(processor) ? undefined : small(processor),
  };
}
