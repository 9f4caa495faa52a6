import { existsSync, lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ProcError, classifyDumpProcErrno, classifyProcErrno, errnoOf } from './errors.js';
import { READ_CAPS, assertInside, confineRel, fsPath, procCap, readBounded, readBoundedNoFollow, readdirEntries, readdirNames, realpathOrUndefined, type BoundedReadOptions } from './bounded.js';
import { decodeBytes, isWellFormed } from '../parse/text.js';
import { strerror } from '../util/strerror.js';
import { DumpKernelCalls, LiveKernelCalls, type LiveKernel } from './kernel.js';
import { constants as osConstants } from 'node:os';
import { errnoName, loadNative } from '../native/index.js';

/**
 * The one door to the kernel. Every read of /proc and /sys goes through a ProcSource, so the
 * same code runs on the live host (`/proc`, `/sys`) and on a captured host dump
 * (`--proc-root DIR --sys-root DIR`), where namespace entries are symlinks whose text is
 * `net:[4026531840]` and errors.json replays the errno each file gave at capture time.
 *
 * Paths are relative: `readProc('42/status')`, `readSys('fs/cgroup/memory/memory.stat')`.
 * Files are read whole, to EOF (proc files report size 0), but never past a size cap
 * (src/source/bounded.ts, READ_CAPS) and never blocking: opened O_NONBLOCK, and in a dump (and
 * under /sys) refused unless a regular file. A relative path that climbs out of its root with
 * `..` is refused; in a dump so is a symlink that leads outside it (kind UNSAFE).
 */
export interface ProcSource {
  readonly procRoot: string;
  readonly sysRoot: string;
  /** true when this is the running kernel (so ns identity can be stat'ed, pids signalled) */
  readonly isLive: boolean;
  readProc(rel: string): Buffer;
  readProcText(rel: string): string;
  /**
   * readProcText decoded by its bytes (decodeBytes): a byte that is not UTF-8 is kept as the lone
   * surrogate U+DC80+byte instead of U+FFFD. For text that names paths to open again:
   * /proc/PID/cgroup (a cgroup directory anyone with a delegated subtree can name `bad\xff`).
   */
  readProcTextBytes(rel: string): string;
  readProcLink(rel: string): string;
  listProc(rel?: string): string[];
  /**
   * Live: the owner of /proc/<pid> (one stat), which the kernel makes the process's effective uid
   * and gid whether or not it is dumpable (task_dump_owner spares that directory; root for a kernel
   * thread). A dump's directories keep no owner: NOT_SUPPORTED there (read status instead).
   */
  procOwner(pid: number): { uid: number; gid: number };
  readSysText(rel: string): string;
  /**
   * Many files at once, each as readSysText ('sys') or readProcText ('proc') reads it: its text,
   * or the ProcError that read would throw. Live with the native addon: one call on the libuv
   * threadpool (src/native/c/files.c: openat2 beneath the root, O_NONBLOCK, regular files only
   * under /sys, bounded), so a poller's few hundred counter files cost the event loop one decode
   * each; elsewhere (a dump, no addon) one synchronous read after another.
   */
  readTexts(kind: 'sys' | 'proc', rels: readonly string[]): Promise<(string | ProcError)[]>;
  listSys(rel: string): SysEntry[];
  sysExists(rel: string): boolean;
  /** st_dev of the nsfs filesystem namespaces live on, or 0 when unknown (some dumps) */
  nsfsDevice(): number;
  /** the pid /proc/self points at, if any */
  selfPid(): number | undefined;
  /** a file of the host's /etc (passwd, group): the live one, or the dump's etc/ beside proc/ */
  readEtc(rel: string): string | undefined;
  /**
   * A file a runtime leaves on the host (an absolute path: `/var/lib/docker/containers/ID/config.v2.json`,
   * a bundle's `config.json`): live, that path; in a dump, the same path under the dump's `root/`
   * beside proc/, never leaving it. Bounded by `cap`, a regular file only (no FIFO, no device).
   * Throws a ProcError (NOT_FOUND, UNSAFE, TOO_BIG…).
   */
  readHostFile(path: string, cap: number): Buffer;
  /**
   * readHostFile for a path an unprivileged process may have chosen (a container monitor's
   * `--bundle DIR`, its cwd): its last component not followed, nothing opened for reading
   * before it is known to be a regular file (src/source/bounded.ts readBoundedNoFollow), and,
   * live, refused unread (UNSAFE) unless owned by `ownerUid` (undefined: by nobody, so refused).
   * A dump keeps no owners: there the owner is not checked (its capture, live, did).
   */
  readChosenHostFile(path: string, cap: number, ownerUid: number | undefined): Buffer;
  /** the names in a host directory (live: that path; dump: under root/), [] when absent or unsafe */
  listHostDir(path: string): string[];
  /** live-only: fds, ns identity and the nsfs ioctls (src/source/kernel.ts); NOT_SUPPORTED on a dump */
  readonly kernel: LiveKernel;
}

export interface SysEntry {
  name: string;
  isDir: boolean;
}

export interface SourceOptions {
  procRoot?: string;
  sysRoot?: string;
}

interface Manifest {
  nsfsDev?: number;
}

/** errno recorded at capture time, keyed by `proc/<rel>` or `sys/<rel>` */
type InjectedErrors = Map<string, string>;

export class DirectoryProcSource implements ProcSource {
  readonly procRoot: string;
  readonly sysRoot: string;
  readonly isLive: boolean;
  private readonly errors: InjectedErrors;
  private readonly manifest: Manifest;
  private nsDev: number | undefined;
  readonly kernel: LiveKernel;
  /** symlink-free roots a dump's reads must stay inside (undefined: live, not checked by path) */
  private readonly realProcRoot: string | undefined;
  private readonly realSysRoot: string;
  private readonly realEtcRoot: string | undefined;
  private readonly hostFilesRoot: string;
  private readonly realHostFilesRoot: string | undefined;
  private readonly sysIsLive: boolean;

  constructor(opts: SourceOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.sysRoot = opts.sysRoot ?? '/sys';
    this.isLive = this.procRoot === '/proc';
    this.sysIsLive = this.sysRoot === '/sys';
    const hostDir = join(this.procRoot, '..');
    this.realProcRoot = this.isLive ? undefined : realpathOrUndefined(this.procRoot) ?? resolve(this.procRoot);
    this.realSysRoot = realpathOrUndefined(this.sysRoot) ?? resolve(this.sysRoot);
    this.realEtcRoot = this.isLive ? undefined : realpathOrUndefined(join(hostDir, 'etc')) ?? resolve(hostDir, 'etc');
    this.hostFilesRoot = this.isLive ? '/' : join(hostDir, 'root');
    this.realHostFilesRoot = this.isLive ? undefined : realpathOrUndefined(this.hostFilesRoot) ?? resolve(this.hostFilesRoot);
    const realHost = this.isLive ? undefined : realpathOrUndefined(hostDir) ?? resolve(hostDir);
    this.errors = this.isLive ? new Map() : readInjectedErrors(join(hostDir, 'errors.json'), realHost);
    this.manifest = this.isLive ? {} : readManifest(join(hostDir, 'MANIFEST.json'), realHost);
    this.noErrors = this.errors.size === 0;
    this.procPrefix = this.procRoot.endsWith('/') ? this.procRoot : `${this.procRoot}/`;
    this.kernel = this.isLive ? new LiveKernelCalls(this.procRoot, this.sysRoot) : new DumpKernelCalls(this.procRoot);
    this.procOpts = { cap: READ_CAPS.procSmall, root: this.realProcRoot, regularOnly: !this.isLive, classify: this.isLive ? classifyProcErrno : classifyDumpProcErrno };
    this.sysOpts = { cap: READ_CAPS.sys, root: this.realSysRoot, regularOnly: true, kernelFs: this.sysIsLive, classify: sysErrnoCode };
  }

  private readonly noErrors: boolean;
  private readonly procPrefix: string;
  private readonly procOpts: BoundedReadOptions;
  private readonly sysOpts: BoundedReadOptions;

  private injected(kind: 'proc' | 'sys', rel: string): void {
    if (this.noErrors) return;
    const errno = this.errors.get(`${kind}/${rel}`);
    if (errno !== undefined) throw procErrorFromErrno(`${kind === 'proc' ? this.procRoot : this.sysRoot}/${rel}`, errno);
  }

  /** A relative proc path, checked: live paths are ours (pid/file), a dump's come from its files. */
  private procRel(rel: string): string {
    return this.isLive && !rel.includes('..') ? rel : confineRel(rel, this.procRoot);
  }

  /** Read a whole proc file, bounded (a view of the shared read buffer: decode before the next read). */
  private readProcBounded(rel: string): Buffer {
    const r = this.procRel(rel);
    this.injected('proc', r);
    return readBounded(this.procPrefix + r, { ...this.procOpts, cap: procCap(r) });
  }

  readProc(rel: string): Buffer {
    return Buffer.from(this.readProcBounded(rel));
  }

  readProcText(rel: string): string {
    return this.readProcBounded(rel).toString('utf8');
  }

  readProcTextBytes(rel: string): string {
    // decoded from the shared read buffer: no copy (the cgroup file of every process, in a scan)
    return decodeBytes(this.readProcBounded(rel));
  }

  readProcLink(rel: string): string {
    const r = this.procRel(rel);
    this.injected('proc', r);
    const path = this.procPrefix + r;
    try {
      // a dump's directories must not be symlinks out of it (the link itself is only read)
      if (this.realProcRoot !== undefined) this.assertDirInside(this.realProcRoot, dirname(path), path);
      return readlinkSync(path);
    } catch (e) {
      if (e instanceof ProcError) throw e;
      throw procErrorFromErrno(path, errnoOf(e));
    }
  }

  /** last directory checked by assertDirInside: the ten ns links of a pid share theirs */
  private lastDirChecked = '';

  private assertDirInside(root: string, dir: string, shown: string): void {
    if (dir === this.lastDirChecked) return;
    const real = realpathOrUndefined(dir);
    if (real !== undefined) {
      assertInside(root, real, shown);
      this.lastDirChecked = dir;
    }
  }

  procOwner(pid: number): { uid: number; gid: number } {
    const path = `${this.procPrefix}${pid}`;
    if (!this.isLive) throw new ProcError('NOT_SUPPORTED', path, `${path}: a dump keeps no owner of a process directory`);
    this.injected('proc', String(pid));
    try {
      const st = statSync(path);
      return { uid: st.uid, gid: st.gid };
    } catch (e) {
      throw procErrorFromErrno(path, errnoOf(e));
    }
  }

  listProc(rel = ''): string[] {
    const r = rel === '' ? '' : this.procRel(rel);
    const path = join(this.procRoot, r);
    try {
      if (this.realProcRoot !== undefined && r !== '') this.assertDirInside(this.realProcRoot, path, path);
      return readdirSync(path);
    } catch (e) {
      if (e instanceof ProcError) throw e;
      const errno = errnoOf(e);
      throw new ProcError(r === '' ? 'IO' : classifyProcErrno(errno), path, `cannot read ${path}: ${strerror(errno)}`, errno);
    }
  }

  readSysText(rel: string): string {
    const r = confineRel(rel, this.sysRoot);
    this.injected('sys', r);
    return readBounded(join(this.sysRoot, r), this.sysOpts).toString('utf8');
  }

  async readTexts(kind: 'sys' | 'proc', rels: readonly string[]): Promise<(string | ProcError)[]> {
    const out: (string | ProcError | undefined)[] = new Array(rels.length).fill(undefined);
    const live = kind === 'sys' ? this.sysIsLive : this.isLive;
    // a dump's injected errors (errors.json) apply even to a live /sys beside it: read one at a time
    const b = live && this.noErrors && rels.length > 1 ? batchReader() : undefined;
    if (b) {
      const idx: number[] = [];
      const names: string[] = [];
      let cap = BATCH_CAP;
      for (let i = 0; i < rels.length; i++) {
        let r: string;
        try {
          r = kind === 'sys' ? confineRel(rels[i]!, this.sysRoot) : this.procRel(rels[i]!);
        } catch (e) {
          if (!(e instanceof ProcError)) throw e;
          out[i] = e;
          continue;
        }
        // read alone below, as readSysText would: an empty path, a NUL; thread-self, which names
        // the reading thread (the batch runs on another); and a path with a byte that is not UTF-8
        // (a lone surrogate: N-API would hand scan.c EF BF BD for it, fsPath gives the byte)
        if (r === '' || r.includes('\0') || r === 'thread-self' || r.startsWith('thread-self/') || !isWellFormed(r)) continue;
        idx.push(i);
        names.push(r);
        if (kind === 'proc') cap = Math.min(cap, procCap(r));
      }
      // in chunks: one call's memory stays bounded (BATCH_FILES × BATCH_CAP at most)
      for (let from = 0; from < idx.length; from += BATCH_FILES) {
        const to = Math.min(idx.length, from + BATCH_FILES);
        let got: { data: ArrayBuffer; ends: ArrayBuffer; codes: ArrayBuffer } | undefined;
        try {
          got = await b.readFiles(kind === 'sys' ? this.sysRoot : this.procRoot, `${names.slice(from, to).join('\0')}\0`, to - from, cap, kind === 'sys');
        } catch (e) {
          // no openat2 (ENOSYS: before Linux 5.6) or a seccomp filter refusing it (EPERM, EACCES):
          // no more batches; anything else (root unreadable, no memory): this one fails
          const errno = (e as { errno?: number }).errno;
          if (errno === ENOSYS_ERRNO || errno === osConstants.errno.EPERM || errno === osConstants.errno.EACCES) batch = null;
          continue; // one at a time below
        }
        const data = Buffer.from(got.data);
        const ends = new Int32Array(got.ends);
        const codes = new Int32Array(got.codes);
        let start = 0;
        for (let j = from; j < to; j++) {
          const code = codes[j - from]!;
          const end = ends[j - from]!;
          if (code === 0) out[idx[j]!] = data.toString('utf8', start, end);
          else if (COMMON_ERRNOS.has(code)) {
            const path = kind === 'sys' ? join(this.sysRoot, names[j]!) : this.procPrefix + names[j]!;
            const errno = errnoName(code);
            out[idx[j]!] = new ProcError((kind === 'sys' ? this.sysOpts : this.procOpts).classify(errno), path, `cannot read ${path}: ${strerror(errno)}`, errno);
          }
          // anything else (not a regular file, would block, past the batch's cap, a link that
          // leaves the root): read alone below, which gives the exact answer
          start = end;
        }
      }
    }
    let alone = 0;
    for (let i = 0; i < rels.length; i++) {
      if (out[i] !== undefined) continue;
      // a long run of reads one at a time lets the event loop in now and then
      if (++alone % 64 === 0) await new Promise((r) => setImmediate(r));
      try {
        out[i] = kind === 'sys' ? this.readSysText(rels[i]!) : this.readProcText(rels[i]!);
      } catch (e) {
        if (!(e instanceof ProcError)) throw e;
        out[i] = e;
      }
    }
    return out as (string | ProcError)[];
  }

  listSys(rel: string): SysEntry[] {
    const path = join(this.sysRoot, confineRel(rel, this.sysRoot));
    try {
      if (!this.sysIsLive) this.assertDirInside(this.realSysRoot, path, path);
      return readdirEntries(path);
    } catch (e) {
      if (e instanceof ProcError) throw e;
      throw sysErrorFromErrno(path, errnoOf(e));
    }
  }

  sysExists(rel: string): boolean {
    let path: string;
    try {
      path = join(this.sysRoot, confineRel(rel, this.sysRoot));
    } catch {
      return false;
    }
    try {
      if (!existsSync(fsPath(path))) return false;
    } catch {
      return false; // a lone surrogate that stands for no byte: no such file
    }
    if (this.sysIsLive) return true;
    const real = realpathOrUndefined(path);
    return real !== undefined && (real === this.realSysRoot || real.startsWith(`${this.realSysRoot}/`));
  }

  nsfsDevice(): number {
    if (this.nsDev !== undefined) return this.nsDev;
    this.nsDev = this.manifest.nsfsDev ?? 0;
    if (this.isLive) {
      try {
        this.nsDev = statSync(join(this.procRoot, 'self/ns/net')).dev;
      } catch {
        /* no nsfs: leave 0 */
      }
    }
    return this.nsDev;
  }

  readEtc(rel: string): string | undefined {
    try {
      const r = confineRel(rel, 'etc');
      const path = this.isLive ? join('/etc', r) : join(this.procRoot, '..', 'etc', r);
      return readBounded(path, { cap: READ_CAPS.etc, root: this.realEtcRoot, regularOnly: true, classify: sysErrnoCode }).toString('utf8');
    } catch {
      return undefined;
    }
  }

  /** an absolute host path → the path to open (a dump's under root/), checked lexically */
  private hostPath(path: string): string {
    if (!path.startsWith('/')) throw new ProcError('UNSAFE', path, `refusing relative host path ${path}`);
    return join(this.hostFilesRoot, confineRel(path.replace(/^\/+/, ''), this.isLive ? '/' : this.hostFilesRoot));
  }

  readHostFile(path: string, cap: number): Buffer {
    const full = this.hostPath(path);
    return Buffer.from(readBounded(full, { cap, root: this.realHostFilesRoot, regularOnly: true, classify: sysErrnoCode }));
  }

  readChosenHostFile(path: string, cap: number, ownerUid: number | undefined): Buffer {
    const full = this.hostPath(path);
    const owner = (uid: number): string | undefined => (!this.isLive || uid === ownerUid ? undefined : `owned by uid ${uid}, not by the uid its monitor runs as (${ownerUid ?? 'unknown'}): ignored`);
    return Buffer.from(readBoundedNoFollow(full, { cap, root: this.realHostFilesRoot, classify: sysErrnoCode, owner }).data);
  }

  listHostDir(path: string): string[] {
    try {
      const full = this.hostPath(path);
      if (this.realHostFilesRoot !== undefined) {
        const real = realpathOrUndefined(full);
        if (real === undefined) return [];
        assertInside(this.realHostFilesRoot, real, full);
      }
      return readdirNames(full).sort();
    } catch {
      return [];
    }
  }

  selfPid(): number | undefined {
    try {
      const target = this.isLive ? readlinkSync(join(this.procRoot, 'self')) : readSelfLink(this.procRoot);
      return /^[1-9][0-9]{0,9}$/.test(target) && Number(target) <= 0xffffffff ? Number(target) : undefined;
    } catch {
      return undefined;
    }
  }
}

function readSelfLink(procRoot: string): string {
  const path = join(procRoot, 'self');
  return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : '';
}

/** A dump's JSON file, bounded and refused unless a regular file inside the dump; undefined if absent or bad. */
function readDumpJson(path: string, cap: number, root: string | undefined): unknown {
  try {
    return JSON.parse(readBounded(path, { cap, root, regularOnly: true, classify: sysErrnoCode }).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** errors.json: `{ "proc/42/status": "EACCES" }`; anything that is not a string errno is ignored. */
function readInjectedErrors(path: string, root: string | undefined): InjectedErrors {
  const out: InjectedErrors = new Map();
  const json = readDumpJson(path, READ_CAPS.dumpErrors, root);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return out;
  for (const [k, v] of Object.entries(json)) if (typeof v === 'string' && /^E[A-Z0-9]{1,15}$/.test(v)) out.set(k, v);
  return out;
}

function readManifest(path: string, root: string | undefined): Manifest {
  const json = readDumpJson(path, READ_CAPS.dumpManifest, root);
  if (typeof json !== 'object' || json === null) return {};
  const dev = (json as { nsfsDev?: unknown }).nsfsDev;
  return typeof dev === 'number' && Number.isSafeInteger(dev) && dev >= 0 ? { nsfsDev: dev } : {};
}

/** A file's text from texts read ahead (readTexts; the read's error thrown), else read now. */
export function textAhead(src: ProcSource, kind: 'sys' | 'proc', rel: string, ahead: ReadonlyMap<string, string | ProcError> | undefined): string {
  const t = ahead?.get(rel);
  if (t === undefined) return kind === 'sys' ? src.readSysText(rel) : src.readProcText(rel);
  if (typeof t === 'string') return t;
  throw t;
}

/** readTexts' batch: files past this are read alone (with their own, larger cap) */
const BATCH_CAP = 64 * 1024;
/** files per native call */
const BATCH_FILES = 2048;
/** the errors readTexts takes from a batch as they are; any other file is read alone again */
const COMMON_ERRNOS = new Set([osConstants.errno.ENOENT, osConstants.errno.ESRCH, osConstants.errno.EACCES, osConstants.errno.EPERM]);
const ENOSYS_ERRNO = osConstants.errno.ENOSYS;

interface BatchReader {
  readFiles(root: string, names: string, count: number, cap: number, regularOnly: boolean): Promise<{ data: ArrayBuffer; ends: ArrayBuffer; codes: ArrayBuffer }>;
}

let batch: BatchReader | null | undefined;

/** the addon's readFiles, when the addon is built and has it */
function batchReader(): BatchReader | undefined {
  if (batch === undefined) {
    const b = loadNative() as unknown as Partial<BatchReader> | undefined;
    batch = b && typeof b.readFiles === 'function' ? (b as BatchReader) : null;
  }
  return batch ?? undefined;
}

function sysErrnoCode(errno: string | undefined): ProcError['code'] {
  if (errno === 'ENOENT') return 'NOT_FOUND';
  if (errno === 'EACCES' || errno === 'EPERM') return 'PERMISSION_DENIED';
  if (errno === 'ELOOP' || errno === 'ENXIO') return 'UNSAFE';
  return 'IO';
}

export function procErrorFromErrno(path: string, errno: string | undefined): ProcError {
  return new ProcError(classifyProcErrno(errno), path, `cannot read ${path}: ${strerror(errno)}`, errno);
}

function sysErrorFromErrno(path: string, errno: string | undefined): ProcError {
  return new ProcError(sysErrnoCode(errno), path, `cannot read ${path}: ${strerror(errno)}`, errno);
}

/** Check that the roots exist and look like proc/sys; a clear one-line error otherwise. */
export function openSource(opts: SourceOptions = {}): DirectoryProcSource {
  const procRoot = opts.procRoot ?? '/proc';
  try {
    if (!statSync(procRoot).isDirectory()) throw new ProcError('IO', procRoot, `${procRoot} is not a directory`);
  } catch (e) {
    if (e instanceof ProcError) throw e;
    throw new ProcError('IO', procRoot, `cannot open proc root ${procRoot}: ${strerror(errnoOf(e))}`, errnoOf(e));
  }
  const src = new DirectoryProcSource(opts);
  if (!src.isLive && src.listProc().every((n) => !/^\d+$/.test(n))) {
    throw new ProcError('IO', procRoot, `${procRoot} holds no process directories: not a proc dump`);
  }
  return src;
}
