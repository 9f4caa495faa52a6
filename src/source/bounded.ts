import { closeSync, constants, fstatSync, openSync, readSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import { ProcError, errnoOf } from './errors.js';
import { strerror } from '../util/strerror.js';
import { decodeBytes, encodeBytes, isWellFormed } from '../parse/text.js';

/**
 * Size caps for every file the source reads (docs/support.md, "Size caps"). A file longer than
 * its cap is an error of kind TOO_BIG for that field, never a read without end: a dump can hold
 * /dev/zero where `cmdline` should be.
 */
export const KiB = 1024;
export const MiB = 1024 * KiB;

export const READ_CAPS = {
  /**
   * `cmdline` and `environ`: exec(2) refuses an argv + envp above 3/4 of _STK_LIM (fs/exec.c,
   * bprm_stack_limits: 6 MiB), so no process started by exec has more. (A process can point
   * them elsewhere with prctl(PR_SET_MM); past the cap it reads as TOO_BIG.)
   */
  args: 6 * MiB,
  /** `mountinfo`: ~150 bytes a mount; busy container hosts reach several MiB (100k mounts ≈ 15 MiB) */
  mountinfo: 32 * MiB,
  /** every other /proc file (stat, status, cgroup, uid_map …): the kernel prints a few KiB at most */
  procSmall: 1 * MiB,
  /** a cgroupfs/sysfs file: values are a few KiB; cgroup.procs / tasks of a big root cgroup ≈ 7 bytes a task */
  sys: 4 * MiB,
  /** /etc/passwd, /etc/group */
  etc: 8 * MiB,
  /** a dump's errors.json (one entry per failed file) */
  dumpErrors: 16 * MiB,
  /** a runtime's container config on the host: docker config.v2.json, an OCI bundle's config.json (env, labels, mounts: KiBs; 4 MiB is far past any real one) */
  runtimeConfig: 4 * MiB,
  /** a small runtime state file (nerdctl's name store entry: one container id) */
  runtimeSmall: 4 * KiB,
  /** a dump's MANIFEST.json */
  dumpManifest: 1 * MiB,
} as const;

/** The cap of a file under /proc, by its last path component. */
export function procCap(rel: string): number {
  const slash = rel.lastIndexOf('/');
  const name = slash < 0 ? rel : rel.slice(slash + 1);
  if (name === 'cmdline' || name === 'environ') return READ_CAPS.args;
  if (name === 'mountinfo' || name === 'mounts' || name === 'mountstats') return READ_CAPS.mountinfo;
  return READ_CAPS.procSmall;
}

export interface BoundedReadOptions {
  /** refuse a file longer than this many bytes */
  cap: number;
  /**
   * The real (symlink-free) directory the file must stay inside, for a dump: the file actually
   * opened (after every symlink) must lie under it. Undefined: no check (the live /proc).
   */
  root?: string | undefined;
  /**
   * fstat the opened file and refuse what is not a regular file (FIFO, socket, device,
   * directory). Off only for the live /proc/<pid>/ files, which procfs always creates as
   * regular files (S_IFREG, fs/proc/base.c) and which a scan reads by the thousand.
   */
  regularOnly: boolean;
  /**
   * The file is on the live procfs or sysfs, whose files the kernel makes (regular files, symlinks
   * that stay inside): open it at once and check afterwards (one open, no O_PATH step). Without
   * it, a read with `root` or `regularOnly` resolves the path first (O_PATH: no driver open, no
   * FIFO reader registered), checks what it found and only then opens that same inode for
   * reading: a dump's symlink to a FIFO someone holds or to /dev/watchdog is never opened.
   */
  kernelFs?: boolean;
  /** classify an errno from open/read (callers under /proc/<pid>/ map ENOENT to PROCESS_GONE) */
  classify: (errno: string | undefined) => ProcError['code'];
}

/**
 * The path to hand node:fs: the string itself when it is well-formed (the common case: one native
 * check, no Buffer), else the bytes it was decoded from (encodeBytes). A cgroup directory whose
 * name is not UTF-8 reaches us as lone surrogates U+DC80–U+DCFF (decodeBytes); given to node:fs as
 * a string it would be encoded with U+FFFD (EF BF BD) in their place and name another file, or
 * none. A lone surrogate that stands for no byte is refused (UNSAFE), never guessed at.
 */
export function fsPath(path: string): string | Buffer {
  if (isWellFormed(path)) return path;
  try {
    return encodeBytes(path);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new ProcError('UNSAFE', path, `refusing path ${path}: ${e.message}`);
  }
}

/**
 * The entries of a directory (a cgroup's, a dump's), each name by its bytes: a name that is not
 * UTF-8 comes back as decodeBytes makes it (lone surrogates), so it can be opened again through
 * fsPath and two names that differ in such a byte stay two. Read as strings first — the common
 * case costs what readdirSync costs; only when a name came back holding U+FFFD (a byte that was
 * not UTF-8, or a real U+FFFD) is the directory read again as bytes.
 */
export function readdirEntries(path: string): { name: string; isDir: boolean }[] {
  const p = fsPath(path);
  const ents = readdirSync(p, { withFileTypes: true });
  if (!ents.some((d) => d.name.includes('\uFFFD'))) return ents.map((d) => ({ name: d.name, isDir: d.isDirectory() }));
  return readdirSync(p, { withFileTypes: true, encoding: 'buffer' }).map((d) => ({ name: decodeBytes(d.name), isDir: d.isDirectory() }));
}

/** readdirEntries' names alone */
export function readdirNames(path: string): string[] {
  const p = fsPath(path);
  const names = readdirSync(p);
  if (!names.some((n) => n.includes('\uFFFD'))) return names;
  return readdirSync(p, { encoding: 'buffer' }).map((n) => decodeBytes(n));
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * One read buffer per process: reads are synchronous, so it is never shared between two reads
 * in flight. It grows for the big files, up to the largest cap.
 */
let shared = Buffer.allocUnsafe(64 * KiB);

/**
 * Read a whole file, to EOF (proc files report size 0), without ever blocking or growing past
 * `cap`: opened O_NONBLOCK (a FIFO opens at once and is then refused), fstat'ed when asked,
 * checked to be inside its root when asked. Returns a view of the shared buffer: copy or decode
 * it before the next read.
 */
export function readBounded(path: string, opts: BoundedReadOptions): Buffer {
  // a dump's file (not the live procfs/sysfs): resolved O_PATH and checked before it is opened
  if (!opts.kernelFs && (opts.regularOnly || opts.root !== undefined)) {
    const { fd } = orThrow(path, opts, () => openChecked(path, opts));
    return readOpened(fd, path, { ...opts, regularOnly: false, root: undefined });
  }
  return readOpened(
    orThrow(path, opts, () => openSync(fsPath(path), OPEN_FLAGS)),
    path,
    opts,
  );
}

/** open(2)'s own errors as a ProcError naming the path (what is refused already is one) */
function orThrow<T>(path: string, opts: Pick<BoundedReadOptions, 'classify'>, open: () => T): T {
  try {
    return open();
  } catch (e) {
    if (e instanceof ProcError) throw e;
    const errno = errnoOf(e);
    throw new ProcError(opts.classify(errno), path, `cannot read ${path}: ${strerror(errno)}`, errno);
  }
}

/** O_PATH (not in node's fs.constants): a handle on the inode that opens nothing (no FIFO, no device driver) */
const O_PATH = 0o10000000;

/**
 * readBounded for a path someone else chose (a container monitor's `--bundle DIR`, its cwd): the
 * last component is not followed (a symlink is refused, never opened through), and nothing is
 * opened for reading before it is known to be a regular file (openChecked: opening an O_PATH
 * handle neither unblocks a FIFO's writer nor reaches a device's driver: /dev/watchdog stays
 * unarmed). `owner`: why a file of that uid is refused (undefined: accepted), asked before it is
 * opened for reading.
 */
export function readBoundedNoFollow(path: string, opts: Omit<BoundedReadOptions, 'regularOnly'> & { owner?: (uid: number) => string | undefined }): { data: Buffer; uid: number } {
  const { fd, uid } = orThrow(path, opts, () => openChecked(path, { ...opts, regularOnly: true, noFollow: true }));
  return { data: readOpened(fd, path, { ...opts, regularOnly: false, root: undefined }), uid };
}

/** readBounded once the file is open: fstat, root check, read to EOF within the cap; closes fd */
function readOpened(fd: number, path: string, opts: BoundedReadOptions): Buffer {
  try {
    if (opts.regularOnly) {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new ProcError('UNSAFE', path, `cannot read ${path}: not a regular file (${fileKind(st)})`);
    }
    if (opts.root !== undefined) assertInside(opts.root, openedPath(fd, path), path);
    const limit = opts.cap + 1; // one byte past the cap proves the file too big
    let len = 0;
    while (len < limit) {
      if (len === shared.length) {
        const bigger = Buffer.allocUnsafe(Math.min(shared.length * 2, limit));
        shared.copy(bigger, 0, 0, len);
        shared = bigger;
      }
      let n: number;
      try {
        n = readSync(fd, shared, len, Math.min(shared.length, limit) - len, null);
      } catch (e) {
        const errno = errnoOf(e);
        if (errno === 'EAGAIN') throw new ProcError('UNSAFE', path, `cannot read ${path}: would block (not a regular file)`, errno);
        throw new ProcError(opts.classify(errno), path, `cannot read ${path}: ${strerror(errno)}`, errno);
      }
      if (n === 0) return shared.subarray(0, len);
      len += n;
    }
    throw new ProcError('TOO_BIG', path, `cannot read ${path}: larger than its ${formatCap(opts.cap)} cap`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Open for reading only what passed the checks: resolve the path O_PATH, fstat and locate that
 * inode, then open it through /proc/self/fd/N (the inode already found, not the path again: a
 * file swapped in between is not the one opened). Throws a ProcError for what is refused, the
 * raw error of open(2) otherwise. Three syscalls more than a plain open; the live /proc and /sys
 * do not come here (kernelFs, or neither root nor regularOnly).
 */
function openChecked(
  path: string,
  opts: BoundedReadOptions & { noFollow?: boolean; owner?: (uid: number) => string | undefined },
): { fd: number; uid: number } {
  const pfd = openSync(fsPath(path), O_PATH | (opts.noFollow ? constants.O_NOFOLLOW : 0));
  try {
    const st = fstatSync(pfd);
    if (opts.regularOnly && !st.isFile()) throw new ProcError('UNSAFE', path, `cannot read ${path}: not a regular file (${fileKind(st)})`);
    // not even opened for reading when its owner is not the one expected
    const why = opts.owner?.(st.uid);
    if (why !== undefined) throw new ProcError('UNSAFE', path, `${path}: ${why}`);
    if (opts.root !== undefined) assertInside(opts.root, openedPath(pfd, path), path);
    try {
      return { fd: openSync(`/proc/self/fd/${pfd}`, OPEN_FLAGS), uid: st.uid };
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT') throw e;
    }
    // no /proc in this mount namespace: open the resolved path, not following a final symlink,
    // and keep it only if it is the inode checked above
    const fd = openSync(fsPath(realpathBytes(path)), OPEN_FLAGS | constants.O_NOFOLLOW);
    const again = fstatSync(fd);
    if (again.dev !== st.dev || again.ino !== st.ino) {
      closeSync(fd);
      throw new ProcError('UNSAFE', path, `cannot read ${path}: it changed while being opened`);
    }
    return { fd, uid: st.uid };
  } finally {
    closeSync(pfd);
  }
}

/**
 * The path the kernel opened, after every symlink (from /proc/self/fd), else realpath(3); by its
 * bytes (decodeBytes), as the root it is compared with: decoded with U+FFFD, a directory outside
 * the root whose name differs from the root's only in bytes that are not UTF-8 would pass for it.
 */
function openedPath(fd: number, path: string): string {
  try {
    const link = `/proc/self/fd/${fd}`;
    const s = readlinkSync(link);
    // as a string first (every /sys read passes here: no Buffer unless a name was not UTF-8)
    return s.includes('\uFFFD') ? decodeBytes(readlinkSync(link, { encoding: 'buffer' })) : s;
  } catch {
    return realpathBytes(path);
  }
}

/** realpath(3) by bytes (the JavaScript realpathSync decodes each component as UTF-8 and loses a byte that is not) */
function realpathBytes(path: string): string {
  const p = fsPath(path);
  const s = realpathSync.native(p);
  return s.includes('\uFFFD') ? decodeBytes(realpathSync.native(p, { encoding: 'buffer' })) : s;
}

function fileKind(st: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  return 'not a file';
}

export function formatCap(cap: number): string {
  return cap >= MiB && cap % MiB === 0 ? `${cap / MiB} MiB` : cap >= KiB && cap % KiB === 0 ? `${cap / KiB} KiB` : `${cap} bytes`;
}

/** Is `real` (an absolute, symlink-free path) `root` itself or inside it? */
export function isInside(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith('/') ? root : `${root}/`);
}

export function assertInside(root: string, real: string, shown: string): void {
  if (!isInside(root, real)) throw new ProcError('UNSAFE', shown, `cannot read ${shown}: it leads outside ${root} (to ${real})`);
}

/**
 * A path relative to a root, checked lexically: no absolute path, no `..` that climbs above the
 * root. Returns the normalized relative path (no leading `./`, no trailing `/`), '' for the root.
 */
export function confineRel(rel: string, rootShown: string): string {
  if (rel.includes('\0')) throw new ProcError('UNSAFE', rel, `refusing a path with a NUL byte under ${rootShown}`);
  if (rel === '' || rel === '.') return '';
  if (isAbsolute(rel)) throw new ProcError('UNSAFE', rel, `refusing absolute path ${rel} under ${rootShown}`);
  const n = normalize(rel).replace(/\/+$/, '');
  if (n === '..' || n.startsWith('../')) throw new ProcError('UNSAFE', rel, `refusing path ${rel}: it leaves ${rootShown}`);
  return n === '.' ? '' : n;
}

/** realpath by bytes, or undefined when it cannot be resolved (missing root: reads then fail on their own). */
export function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathBytes(path);
  } catch {
    return undefined;
  }
}
