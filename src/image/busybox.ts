/**
 * A minimal root filesystem from the host's busybox-static: bin/busybox, one symlink per applet
 * at the path `busybox --list-full` gives (bin/sh, usr/bin/env, sbin/ifconfig …), /etc/passwd and
 * /etc/group with root and nobody, hostname, hosts, an empty resolv.conf, and the empty mount
 * points a runtime needs (proc, sys, dev, tmp 1777). It is the default image of `hostscope run`,
 * built once and cached under /var/lib/hostscope/rootfs/busybox-<sha256 prefix>-r<N>.
 */
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { readInto } from '../util/read-fd.js';
import { ImageError } from './errors.js';

export const DEFAULT_BUSYBOX = '/bin/busybox';
export const DEFAULT_CACHE_DIR = '/var/lib/hostscope/rootfs';
/** bump when the layout below changes: the cache key carries it */
export const ROOTFS_REVISION = 1;

const MISSING = 'install the busybox-static package (apt-get install -y busybox-static)';
const MAX_BUSYBOX_BYTES = 64 * 1024 * 1024;

export interface BusyboxOptions {
  /** the busybox binary; default /bin/busybox */
  busybox?: string;
  /** /etc/hostname; default 'hostscope' */
  hostname?: string;
}

export interface BusyboxRootfs {
  dir: string;
  busyboxSha256: string;
  /** applet links made; undefined when an existing cache entry was reused */
  applets: number | undefined;
}

interface Checked {
  path: string;
  bytes: Buffer;
  sha256: string;
}

/** read the binary (bounded) and check it is a static ELF executable: no PT_INTERP */
function checkBusybox(path: string): Checked {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageError('BUSYBOX', `no busybox at ${path}: ${MISSING}`);
    throw new ImageError('BUSYBOX', `cannot open ${path}: ${(e as Error).message}`);
  }
  let bytes: Buffer;
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new ImageError('BUSYBOX', `${path} is not a regular file: ${MISSING}`);
    if (st.size > MAX_BUSYBOX_BYTES) throw new ImageError('BUSYBOX', `${path} is larger than ${MAX_BUSYBOX_BYTES} bytes`);
    bytes = Buffer.alloc(st.size);
    bytes = bytes.subarray(0, readInto(fd, bytes));
  } finally {
    fs.closeSync(fd);
  }
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) throw new ImageError('BUSYBOX', `${path} is not an ELF executable: ${MISSING}`);
  if (bytes[4] === 2 && bytes[5] === 1) {
    // 64-bit little endian: walk the program headers for PT_INTERP (3)
    const phoff = Number(bytes.readBigUInt64LE(32));
    const phentsize = bytes.readUInt16LE(54);
    const phnum = bytes.readUInt16LE(56);
    for (let i = 0; i < phnum; i++) {
      const off = phoff + i * phentsize;
      if (off + 4 > bytes.length) break;
      if (bytes.readUInt32LE(off) === 3) throw new ImageError('BUSYBOX', `${path} is dynamically linked and would not run in an empty rootfs: ${MISSING}`);
    }
  }
  return { path, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** `busybox --list-full`: applet paths, each checked to be a plain name under a bin dir */
function listApplets(path: string): string[] {
  let out: string;
  try {
    out = execFileSync(path, ['--list-full'], { encoding: 'utf8', timeout: 10_000, maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    throw new ImageError('BUSYBOX', `${path} --list-full failed (${(e as Error).message.split('\n')[0]}): ${MISSING}`);
  }
  const applets = out
    .split('\n')
    .filter((l) => l !== '')
    .filter((l) => /^(bin|sbin|usr\/bin|usr\/sbin)\/[^/\0]+$/.test(l) && !/\/\.\.?$/.test(l) && !l.endsWith('/busybox'));
  if (!applets.includes('bin/sh')) throw new ImageError('BUSYBOX', `${path} has no sh applet: ${MISSING}`);
  return applets;
}

function populate(root: string, bb: Checked, applets: string[], opts: BusyboxOptions): void {
  const dir = (rel: string, mode = 0o755): void => {
    fs.mkdirSync(join(root, rel), { recursive: true });
    fs.chmodSync(join(root, rel), mode);
  };
  const file = (rel: string, text: string | Buffer, mode = 0o644): void => {
    fs.writeFileSync(join(root, rel), text, { flag: 'wx', mode });
    fs.chmodSync(join(root, rel), mode);
  };
  fs.chmodSync(root, 0o755);
  for (const d of ['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'home', 'var', 'run']) dir(d);
  dir('root', 0o700);
  dir('tmp', 0o1777);
  dir('var/tmp', 0o1777);
  file('bin/busybox', bb.bytes, 0o755);
  for (const a of applets) fs.symlinkSync('/bin/busybox', join(root, a));
  file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  file('etc/group', 'root:x:0:\nnobody:x:65534:\n');
  file('etc/hostname', `${opts.hostname ?? 'hostscope'}\n`);
  file('etc/hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  file('etc/resolv.conf', '');
}

function tempBeside(target: string): string {
  return join(dirname(target), `.${basename(target)}.build-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Build the rootfs into `dir` (which must not exist, or be empty): built in a temp dir beside it
 * and renamed into place, so a crash never leaves a half-built tree under the name.
 */
export function buildBusyboxRootfs(dir: string, opts: BusyboxOptions = {}): BusyboxRootfs {
  const target = resolve(dir);
  const bb = checkBusybox(opts.busybox ?? DEFAULT_BUSYBOX);
  const applets = listApplets(bb.path);
  const st = fs.lstatSync(target, { throwIfNoEntry: false });
  if (st && !(st.isDirectory() && fs.readdirSync(target).length === 0)) throw new ImageError('EXISTS', `${target}: exists and is not an empty directory`);
  const tmp = tempBeside(target);
  fs.mkdirSync(tmp, 0o700);
  try {
    populate(tmp, bb, applets, opts);
    if (st) fs.rmdirSync(target);
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { dir: target, busyboxSha256: bb.sha256, applets: applets.length };
}

export interface CacheOptions extends BusyboxOptions {
  /** default /var/lib/hostscope/rootfs, or $HOSTSCOPE_ROOTFS_CACHE */
  cacheDir?: string;
}

/**
 * The cached default rootfs: made once per busybox binary (its sha256 names the dir) and reused.
 * Two builders racing both build; the first rename wins and the loser's tree is removed.
 */
export function defaultBusyboxRootfs(opts: CacheOptions = {}): BusyboxRootfs {
  const cache = resolve(opts.cacheDir ?? process.env.HOSTSCOPE_ROOTFS_CACHE ?? DEFAULT_CACHE_DIR);
  const bb = checkBusybox(opts.busybox ?? DEFAULT_BUSYBOX);
  const dir = join(cache, `busybox-${bb.sha256.slice(0, 16)}-r${ROOTFS_REVISION}`);
  const complete = (): boolean => fs.lstatSync(join(dir, 'bin/busybox'), { throwIfNoEntry: false })?.isFile() === true && fs.lstatSync(dir).isDirectory();
  if (fs.lstatSync(dir, { throwIfNoEntry: false }) && complete()) return { dir, busyboxSha256: bb.sha256, applets: undefined };
  fs.mkdirSync(cache, { recursive: true, mode: 0o755 });
  const applets = listApplets(bb.path);
  const tmp = tempBeside(dir);
  fs.mkdirSync(tmp, 0o700);
  try {
    populate(tmp, bb, applets, opts);
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      fs.rmSync(tmp, { recursive: true, force: true }); // someone else finished first
      if (!complete()) throw new ImageError('EXISTS', `${dir}: exists in the rootfs cache but is not a complete rootfs; remove it`);
      return { dir, busyboxSha256: bb.sha256, applets: undefined };
    }
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { dir, busyboxSha256: bb.sha256, applets: applets.length };
}
