import { closeSync, existsSync, lstatSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ProcError, classifyProcErrno, errnoOf } from './errors.js';
import { strerror } from '../util/strerror.js';
import { DumpKernelCalls, LiveKernelCalls, type LiveKernel } from './kernel.js';

/**
 * The one door to the kernel. Every read of /proc and /sys goes through a ProcSource, so the
 * same code runs on the live host (`/proc`, `/sys`) and on a captured host dump
 * (`--proc-root DIR --sys-root DIR`), where namespace entries are symlinks whose text is
 * `net:[4026531840]` and errors.json replays the errno each file gave at capture time.
 *
 * Paths are relative: `readProc('42/status')`, `readSys('fs/cgroup/memory/memory.stat')`.
 * Files are read whole, to EOF (proc files report size 0).
 */
export interface ProcSource {
  readonly procRoot: string;
  readonly sysRoot: string;
  /** true when this is the running kernel (so ns identity can be stat'ed, pids signalled) */
  readonly isLive: boolean;
  readProc(rel: string): Buffer;
  readProcText(rel: string): string;
  readProcLink(rel: string): string;
  listProc(rel?: string): string[];
  readSysText(rel: string): string;
  listSys(rel: string): SysEntry[];
  sysExists(rel: string): boolean;
  /** st_dev of the nsfs filesystem namespaces live on, or 0 when unknown (some dumps) */
  nsfsDevice(): number;
  /** the pid /proc/self points at, if any */
  selfPid(): number | undefined;
  /** a file of the host's /etc (passwd, group): the live one, or the dump's etc/ beside proc/ */
  readEtc(rel: string): string | undefined;
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
type InjectedErrors = Record<string, string>;

export class DirectoryProcSource implements ProcSource {
  readonly procRoot: string;
  readonly sysRoot: string;
  readonly isLive: boolean;
  private readonly errors: InjectedErrors;
  private readonly manifest: Manifest;
  private nsDev: number | undefined;
  readonly kernel: LiveKernel;

  constructor(opts: SourceOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.sysRoot = opts.sysRoot ?? '/sys';
    this.isLive = this.procRoot === '/proc';
    const hostDir = join(this.procRoot, '..');
    this.errors = this.isLive ? {} : readJsonIfExists<InjectedErrors>(join(hostDir, 'errors.json')) ?? {};
    this.manifest = this.isLive ? {} : readJsonIfExists<Manifest>(join(hostDir, 'MANIFEST.json')) ?? {};
    this.noErrors = Object.keys(this.errors).length === 0;
    this.procPrefix = this.procRoot.endsWith('/') ? this.procRoot : `${this.procRoot}/`;
    this.kernel = this.isLive ? new LiveKernelCalls(this.procRoot, this.sysRoot) : new DumpKernelCalls(this.procRoot);
  }

  private readonly noErrors: boolean;
  private readonly procPrefix: string;

  private injected(kind: 'proc' | 'sys', rel: string): void {
    if (this.noErrors) return;
    const errno = this.errors[`${kind}/${rel}`];
    if (errno !== undefined) throw procErrorFromErrno(`${kind === 'proc' ? this.procRoot : this.sysRoot}/${rel}`, errno);
  }

  /**
   * Read a whole proc file into the shared buffer; returns its length. /proc files report size 0,
   * so read to EOF, growing the buffer for the big ones (mountinfo can pass 1 MiB).
   */
  private readIntoBuffer(rel: string): number {
    this.injected('proc', rel);
    const path = this.procPrefix + rel;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw procErrorFromErrno(path, errnoOf(e));
    }
    try {
      let len = 0;
      for (;;) {
        if (len === this.buf.length) {
          const bigger = Buffer.allocUnsafe(this.buf.length * 2);
          this.buf.copy(bigger, 0, 0, len);
          this.buf = bigger;
        }
        const n = readSync(fd, this.buf, len, this.buf.length - len, null);
        if (n === 0) return len;
        len += n;
      }
    } catch (e) {
      throw procErrorFromErrno(path, errnoOf(e));
    } finally {
      closeSync(fd);
    }
  }

  private buf = Buffer.allocUnsafe(64 * 1024);

  readProc(rel: string): Buffer {
    const len = this.readIntoBuffer(rel);
    return Buffer.from(this.buf.subarray(0, len));
  }

  readProcText(rel: string): string {
    const len = this.readIntoBuffer(rel);
    return this.buf.toString('utf8', 0, len);
  }

  readProcLink(rel: string): string {
    this.injected('proc', rel);
    const path = this.procPrefix + rel;
    try {
      return readlinkSync(path);
    } catch (e) {
      throw procErrorFromErrno(path, errnoOf(e));
    }
  }

  listProc(rel = ''): string[] {
    const path = join(this.procRoot, rel);
    try {
      return readdirSync(path);
    } catch (e) {
      const errno = errnoOf(e);
      throw new ProcError(rel === '' ? 'IO' : classifyProcErrno(errno), path, `cannot read ${path}: ${strerror(errno)}`, errno);
    }
  }

  readSysText(rel: string): string {
    this.injected('sys', rel);
    const path = join(this.sysRoot, rel);
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw sysErrorFromErrno(path, errnoOf(e));
    }
  }

  listSys(rel: string): SysEntry[] {
    const path = join(this.sysRoot, rel);
    try {
      return readdirSync(path, { withFileTypes: true }).map((d) => ({ name: d.name, isDir: d.isDirectory() }));
    } catch (e) {
      throw sysErrorFromErrno(path, errnoOf(e));
    }
  }

  sysExists(rel: string): boolean {
    return existsSync(join(this.sysRoot, rel));
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
      return readFileSync(this.isLive ? join('/etc', rel) : join(this.procRoot, '..', 'etc', rel), 'utf8');
    } catch {
      return undefined;
    }
  }

  selfPid(): number | undefined {
    try {
      const target = this.isLive ? readlinkSync(join(this.procRoot, 'self')) : readSelfLink(this.procRoot);
      const pid = Number(target);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }
}

function readSelfLink(procRoot: string): string {
  const path = join(procRoot, 'self');
  return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : '';
}

function readJsonIfExists<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function procErrorFromErrno(path: string, errno: string | undefined): ProcError {
  return new ProcError(classifyProcErrno(errno), path, `cannot read ${path}: ${strerror(errno)}`, errno);
}

function sysErrorFromErrno(path: string, errno: string | undefined): ProcError {
  const code = errno === 'ENOENT' ? 'NOT_FOUND' : errno === 'EACCES' || errno === 'EPERM' ? 'PERMISSION_DENIED' : 'IO';
  return new ProcError(code, path, `cannot read ${path}: ${strerror(errno)}`, errno);
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
