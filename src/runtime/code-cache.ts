/**
 * Run a CommonJS bundle through a V8 code cache (vm.Script cachedData): Node 20 has no module
 * compile cache, and compiling the runc-ts bundle — and, worse, every function it calls lazily —
 * is most of what runc-ts costs beyond Node's own start (docs/runtime.md "Speed").
 *
 * The cache is what V8 compiled during a whole earlier run (createCachedData() at exit, so it holds
 * the functions that run called, not only the top level), one file per verb, in a directory
 * beside the bundle. It is trusted no more than the bundle itself:
 * - the directory must be a real directory (not a symlink) owned by the effective user or root,
 *   not writable by group or others; the file is opened O_NOFOLLOW|O_NONBLOCK, must be a regular
 *   file with the same owner rule and mode, and at most MAX_CACHE_BYTES;
 * - its header names the Node version, the arch and the bundle file's identity (device, inode,
 *   size, mtime): V8 itself checks only its own version, flags and the source's *length*, so a
 *   rebuilt bundle of the same length would otherwise run stale code;
 * - V8 checks the rest and may reject it (script.cachedDataRejected): then the bundle is compiled
 *   from source as if there were no cache.
 * Any failure to read, verify or write a cache is ignored: the bundle then runs uncached.
 * A cache missing, stale or rejected is written again when the process exits (temp file, rename),
 * only where the directory rules above hold (or the directory can be made so).
 *
 * This module is the whole of the bin's own code: it loads nothing but Node builtins already in
 * memory at start (fs, path, vm, module).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { createRequire } from 'node:module';
import { readInto } from '../util/read-fd.js';

export const MAX_CACHE_BYTES = 32 * 1024 * 1024;
const MAGIC = 'hostscope-code-cache 1';

export interface CachedRun {
  /** why the cache was not used, or 'used' */
  cache: 'used' | 'missing' | 'stale' | 'rejected' | 'untrusted' | 'unreadable' | 'off';
  /** write a fresh cache now (called at exit when the cache was not used); true when written */
  save: () => boolean;
}

export interface CacheOptions {
  /** the cache directory (made 0700 when missing) */
  dir: string;
  /** the cache's name in it, e.g. the verb: [a-z0-9-] only */
  name: string;
  euid?: number;
}

function trusted(st: fs.Stats, euid: number): boolean {
  return (st.uid === euid || st.uid === 0) && (st.mode & 0o022) === 0;
}

/** the bundle's identity, as the cache header records it */
function identity(st: fs.Stats): string {
  return `${process.version} ${process.arch} ${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

function readCache(file: string, header: string, euid: number): { data?: Buffer; why: CachedRun['cache'] } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    return { why: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable' };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || !trusted(st, euid) || st.size > MAX_CACHE_BYTES) return { why: 'untrusted' };
    const buf = Buffer.allocUnsafe(st.size);
    const n = readInto(fd, buf);
    const nl = buf.indexOf(10);
    if (nl < 0 || nl > 512 || buf.toString('latin1', 0, nl) !== header) return { why: 'stale' };
    return { data: buf.subarray(nl + 1, n), why: 'used' };
  } catch {
    return { why: 'unreadable' };
  } finally {
    fs.closeSync(fd);
  }
}

/** the cache directory, usable when it exists (or could be made) with the trust rules */
function cacheDirOk(dir: string, euid: number, make: boolean): boolean {
  try {
    const st = fs.lstatSync(dir);
    return st.isDirectory() && trusted(st, euid);
  } catch (e) {
    if (!make || (e as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
      return cacheDirOk(dir, euid, false);
    } catch {
      return false;
    }
  }
}

/**
 * Compile and run `file` (a CommonJS bundle, read as latin1: it must be ASCII) as a CommonJS
 * module, with its V8 code cache when one is usable. Returns once the bundle's top level ran.
 */
export function runCached(file: string, opts: CacheOptions | undefined): CachedRun {
  const euid = opts?.euid ?? process.geteuid?.() ?? 0;
  const fd = fs.openSync(file, fs.constants.O_RDONLY);
  let st: fs.Stats;
  let source: string;
  try {
    st = fs.fstatSync(fd);
    source = fs.readFileSync(fd, 'latin1');
  } finally {
    fs.closeSync(fd);
  }
  const header = `${MAGIC} ${identity(st)}`;
  const cacheFile = opts && /^[a-z0-9-]{1,40}$/.test(opts.name) ? path.join(opts.dir, `${opts.name}.v8`) : undefined;
  let why: CachedRun['cache'] = 'off';
  let cachedData: Buffer | undefined;
  if (cacheFile && opts) {
    if (!cacheDirOk(opts.dir, euid, false)) why = 'missing';
    else ({ data: cachedData, why } = readCache(cacheFile, header, euid));
  }
  // the wrapper keeps the bundle's first line on line 1: its stack traces' line numbers stay right
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  if (cachedData && script.cachedDataRejected) why = 'rejected';
  const fn = script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void;
  const save = (): boolean => {
    if (!cacheFile || !opts || !cacheDirOk(opts.dir, euid, true)) return false;
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      const data = script.createCachedData();
      const out = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
      try {
        fs.writeSync(out, `${header}\n`, null, 'latin1');
        fs.writeSync(out, data);
      } finally {
        fs.closeSync(out);
      }
      fs.renameSync(tmp, cacheFile);
      return true;
    } catch {
      try {
        fs.unlinkSync(tmp);
      } catch {
        /* never made */
      }
      return false;
    }
  };
  const mod = { exports: {} };
  fn.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  return { cache: why, save };
}
