/**
 * Apply tar layers to a root directory the way an OCI runtime's image unpacker must
 * (image-spec layer.md): regular files, dirs, symlinks, hard links, whiteouts `.wh.NAME` and
 * opaque dirs `.wh..wh..opq`, device nodes and FIFOs skipped with a count — and no write ever
 * lands outside the root.
 *
 * How a write is kept inside (Node has no openat(2), so it is emulated):
 * - entry names are cleaned lexically; an absolute name or any `..` component is refused;
 * - the entry's parent is resolved inside the root with secureJoin (src/runtime/securejoin.ts:
 *   a symlink planted by an earlier entry or layer resolves as if the root were `/`, as umoci and
 *   docker's chrootarchive do);
 * - the resolved parent is then opened component by component from an fd of the root with
 *   O_DIRECTORY|O_NOFOLLOW (a symlink anywhere is ELOOP, never followed), and every create,
 *   unlink, link and symlink goes through `/proc/self/fd/<parent fd>/<name>`: the kernel looks up
 *   `<name>` in the very directory we checked, and the final component is never followed
 *   (O_CREAT|O_EXCL|O_NOFOLLOW for files; an existing entry is removed first, never written
 *   through, so a planted symlink or a hard link to a lower file is replaced, not modified);
 * - a hard link's target is resolved the same way and must already exist in the tree.
 */
import * as fs from 'node:fs';
import { secureJoin, SecureJoinError, type PathView } from '../runtime/securejoin.js';
import { ImageError, shown } from './errors.js';
import type { TarEntry, TarHandler } from './tar.js';

const C = fs.constants;
const DIR_FLAGS = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW;
const FILE_FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;

/** an OCI linux.uidMappings / gidMappings entry */
export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface ExtractOptions {
  /** chown entries to their (mapped) ids; default: when running as root */
  chown?: boolean;
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  /** stop past this many bytes of file data in all layers (a decompression bomb) */
  maxBytes?: number;
}

export interface ExtractStats {
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  whiteouts: number;
  opaqueDirs: number;
  /** character/block devices and FIFOs, not created */
  skippedDevices: number;
  /** hard links to a skipped device, aufs `.wh..wh.` metadata: not created */
  skippedOther: number;
  /** pax xattr records seen and not applied */
  xattrsIgnored: number;
  bytes: number;
}

export const DEFAULT_MAX_BYTES = 64 * 1024 ** 3;

const lat = (s: string): Buffer => Buffer.from(s, 'latin1');

function mapId(id: number, maps: IdMapping[] | undefined, what: string, name: string): number {
  if (!maps || maps.length === 0) return id;
  for (const m of maps) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID);
  throw new ImageError('UNSAFE', `${what} ${id} of ${shown(name)} is not in the user namespace mapping`);
}

/** clean an archive path into components; absolute names and `..` are refused */
export function cleanEntryName(name: string, where: string, what = 'entry'): string[] {
  if (name.includes('\0')) throw new ImageError('UNSAFE', `${where}: ${what} name contains a NUL byte`);
  let n = name;
  while (n.startsWith('./')) n = n.slice(2);
  if (n.startsWith('/')) throw new ImageError('UNSAFE', `${where}: ${what} ${shown(name)} is an absolute path`);
  const comps = n.split('/').filter((c) => c !== '' && c !== '.');
  if (comps.includes('..')) throw new ImageError('UNSAFE', `${where}: ${what} ${shown(name)} climbs out with '..'`);
  return comps;
}

interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

export class LayerExtractor {
  readonly stats: ExtractStats = { files: 0, dirs: 0, symlinks: 0, hardlinks: 0, whiteouts: 0, opaqueDirs: 0, skippedDevices: 0, skippedOther: 0, xattrsIgnored: 0, bytes: 0 };
  private readonly rootL: string;
  private rootFd: number;
  private cacheKey: string | null = null;
  private cacheFd = -1;
  private cacheRel = '';
  private readonly dirMeta = new Map<string, DirMeta>();
  /** resolved paths written by the current layer, and the dirs above them */
  private written = new Set<string>();
  private upper = new Set<string>();
  private readonly skipped = new Set<string>();
  private readonly chown: boolean;
  private readonly keepSetid: boolean;
  private readonly maxBytes: number;
  private readonly view: PathView;
  private where = '';
  /** the file being written, closed by close() if a layer fails half way through it */
  private openFile = -1;

  constructor(
    root: string,
    private readonly opts: ExtractOptions = {},
  ) {
    const euid = typeof process.geteuid === 'function' ? process.geteuid() : -1;
    this.chown = opts.chown ?? euid === 0;
    this.keepSetid = this.chown && euid === 0;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.rootL = Buffer.from(root, 'utf8').toString('latin1');
    this.rootFd = fs.openSync(lat(this.rootL), DIR_FLAGS);
    this.view = {
      lstat(p) {
        const st = fs.lstatSync(lat(p), { throwIfNoEntry: false });
        if (!st) return 'missing';
        if (st.isSymbolicLink()) return 'symlink';
        if (st.isDirectory()) return 'dir';
        if (st.isFile()) return 'file';
        return 'other';
      },
      readlink: (p) => fs.readlinkSync(lat(p), { encoding: 'buffer' }).toString('latin1'),
    };
  }

  /** start a layer: `where` names it in messages */
  beginLayer(where: string): TarHandler {
    this.where = where;
    this.written = new Set();
    this.upper = new Set();
    this.invalidate();
    return { entry: (e) => this.entry(e) };
  }

  private at(fd: number, name: string): Buffer {
    return lat(`/proc/self/fd/${fd}/${name}`);
  }

  private invalidate(): void {
    this.cacheKey = null;
  }

  private fail(code: 'UNSAFE' | 'CORRUPT', msg: string): never {
    throw new ImageError(code, `${this.where}: ${msg}`);
  }

  /**
   * open the directory `comps` names, resolved inside the root; missing dirs are created (0755,
   * root-owned) when `create`, else null. The caller must not close a cached fd.
   */
  /** the path `comps` names, resolved inside the root, relative to it ('' for the root) */
  private resolveRel(comps: string[]): string {
    let resolved: string;
    try {
      resolved = secureJoin(this.rootL, comps.join('/'), this.view);
    } catch (e) {
      if (e instanceof SecureJoinError) this.fail('CORRUPT', `cannot resolve ${shown(comps.join('/'))}: ${e.message}`);
      throw e;
    }
    return resolved === this.rootL ? '' : resolved.slice(this.rootL.length + 1);
  }

  private openDir(comps: string[], create: boolean): { fd: number; rel: string } | null {
    const rel = this.resolveRel(comps);
    let fd = this.rootFd;
    for (const c of rel === '' ? [] : rel.split('/')) {
      let next: number;
      try {
        next = fs.openSync(this.at(fd, c), DIR_FLAGS);
      } catch (e) {
        if (errno(e) === 'ENOENT' && create) {
          fs.mkdirSync(this.at(fd, c), 0o755);
          next = fs.openSync(this.at(fd, c), DIR_FLAGS);
          fs.fchmodSync(next, 0o755);
          if (this.chown) fs.fchownSync(next, mapId(0, this.opts.uidMappings, 'uid', c), mapId(0, this.opts.gidMappings, 'gid', c));
        } else {
          if (fd !== this.rootFd) fs.closeSync(fd);
          if (errno(e) === 'ENOENT') return null;
          if (errno(e) === 'ELOOP' || errno(e) === 'ENOTDIR') this.fail('UNSAFE', `${shown(rel)} changed under the unpack (a symlink where a directory was resolved)`);
          throw e;
        }
      }
      if (fd !== this.rootFd) fs.closeSync(fd);
      fd = next;
    }
    return { fd, rel };
  }

  private parent(comps: string[], create: boolean): { fd: number; rel: string } | null {
    const key = comps.join('/');
    if (this.cacheKey === key) return { fd: this.cacheFd, rel: this.cacheRel };
    const got = this.openDir(comps, create);
    if (!got) return null;
    if (this.cacheFd >= 0 && this.cacheFd !== this.rootFd) fs.closeSync(this.cacheFd);
    this.cacheFd = got.fd;
    this.cacheRel = got.rel;
    this.cacheKey = key;
    return got;
  }

  private relOf(parentRel: string, name: string): string {
    return parentRel === '' ? name : `${parentRel}/${name}`;
  }

  private markWritten(rel: string): void {
    this.written.add(rel);
    let i = rel.lastIndexOf('/');
    while (i > 0) {
      const up = rel.slice(0, i);
      if (this.upper.has(up)) break;
      this.upper.add(up);
      i = up.lastIndexOf('/');
    }
  }

  /** make room for a new entry: remove what is there unless both are directories */
  private clear(pfd: number, name: string, newIsDir: boolean): 'kept-dir' | 'clear' {
    const p = this.at(pfd, name);
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st) return 'clear';
    if (st.isDirectory()) {
      if (newIsDir) return 'kept-dir';
      fs.rmSync(p, { recursive: true, force: true });
    } else fs.unlinkSync(p);
    this.invalidate();
    return 'clear';
  }

  private ids(e: TarEntry): [number, number] {
    return [mapId(e.uid, this.opts.uidMappings, 'uid', e.name), mapId(e.gid, this.opts.gidMappings, 'gid', e.name)];
  }

  private mode(e: TarEntry): number {
    return this.keepSetid ? e.mode & 0o7777 : e.mode & 0o1777;
  }

  private entry(e: TarEntry): { data(chunk: Buffer): void; end(): void } | null {
    this.stats.xattrsIgnored += e.xattrs;
    const comps = cleanEntryName(e.name, this.where);
    if (comps.length === 0) {
      if (e.type !== 'dir') this.fail('UNSAFE', `a ${e.type} entry for the root itself (${shown(e.name)})`);
      const [uid, gid] = this.ids(e);
      this.dirMeta.set('', { mode: this.mode(e), uid, gid, mtime: e.mtime });
      return null;
    }
    const name = comps[comps.length - 1]!;
    const parentComps = comps.slice(0, -1);
    if (name.startsWith('.wh.')) {
      if (name === '.wh..wh..opq') this.opaque(parentComps);
      else if (name.startsWith('.wh..wh.')) this.stats.skippedOther++;
      else this.whiteout(parentComps, name.slice(4));
      return null;
    }
    if (e.type === 'char' || e.type === 'block' || e.type === 'fifo') {
      // never create device nodes from an image: the runtime makes /dev
      this.stats.skippedDevices++;
      this.skipped.add(this.relOf(this.resolveRel(parentComps), name));
      return null;
    }
    const par = this.parent(parentComps, true)!;
    const pfd = par.fd;
    const rel = this.relOf(par.rel, name);
    const [uid, gid] = this.ids(e);
    switch (e.type) {
      case 'dir': {
        if (this.clear(pfd, name, true) === 'clear') {
          fs.mkdirSync(this.at(pfd, name), 0o700);
          this.stats.dirs++;
        }
        this.dirMeta.set(rel, { mode: this.mode(e), uid, gid, mtime: e.mtime });
        this.markWritten(rel);
        return null;
      }
      case 'symlink': {
        this.clear(pfd, name, false);
        const p = this.at(pfd, name);
        fs.symlinkSync(lat(e.linkname), p);
        if (this.chown) fs.lchownSync(p, uid, gid);
        fs.lutimesSync(p, e.mtime, e.mtime);
        this.stats.symlinks++;
        this.invalidate();
        this.markWritten(rel);
        return null;
      }
      case 'hardlink': {
        this.hardlink(e, pfd, name, rel);
        return null;
      }
      case 'file': {
        this.clear(pfd, name, false);
        const fd = fs.openSync(this.at(pfd, name), FILE_FLAGS, 0o600);
        this.openFile = fd;
        this.markWritten(rel);
        this.stats.files++;
        const finish = (): void => {
          try {
            if (this.chown) fs.fchownSync(fd, uid, gid);
            fs.fchmodSync(fd, this.mode(e));
            fs.futimesSync(fd, e.mtime, e.mtime);
          } finally {
            this.openFile = -1;
            fs.closeSync(fd);
          }
        };
        if (e.size === 0) {
          finish();
          return null;
        }
        return {
          data: (chunk) => {
            this.stats.bytes += chunk.length;
            if (this.stats.bytes > this.maxBytes) {
              throw new ImageError('TOO_BIG', `${this.where}: more than ${this.maxBytes} bytes of file data`);
            }
            let off = 0;
            while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
          },
          end: finish,
        };
      }
    }
    return null;
  }

  private hardlink(e: TarEntry, pfd: number, name: string, rel: string): void {
    const tcomps = cleanEntryName(e.linkname, this.where, `hard link ${shown(e.name)} target`);
    if (tcomps.length === 0) this.fail('UNSAFE', `hard link ${shown(e.name)} points at the root`);
    const tname = tcomps[tcomps.length - 1]!;
    if (this.skipped.has(this.relOf(this.resolveRel(tcomps.slice(0, -1)), tname))) {
      this.stats.skippedOther++;
      return;
    }
    const t = this.openDir(tcomps.slice(0, -1), false);
    try {
      const trel = t ? this.relOf(t.rel, tname) : '';
      const tpath = t ? this.at(t.fd, tname) : null;
      const st = tpath ? fs.lstatSync(tpath, { throwIfNoEntry: false }) : undefined;
      if (!st) this.fail('UNSAFE', `hard link ${shown(e.name)} -> ${shown(e.linkname)}: the target is not in the tree (it must be an earlier entry)`);
      if (st.isDirectory()) this.fail('UNSAFE', `hard link ${shown(e.name)} -> ${shown(e.linkname)}: the target is a directory`);
      if (trel === rel) return; // a link to itself: nothing to do
      this.clear(pfd, name, false);
      fs.linkSync(tpath!, this.at(pfd, name));
      this.stats.hardlinks++;
      this.invalidate();
      this.markWritten(rel);
    } finally {
      if (t && t.fd !== this.rootFd) fs.closeSync(t.fd);
    }
  }

  private whiteout(parentComps: string[], victim: string): void {
    if (victim === '' || victim === '.' || victim === '..') this.fail('UNSAFE', `bad whiteout .wh.${shown(victim)}`);
    this.stats.whiteouts++;
    const par = this.parent(parentComps, false);
    if (!par) return;
    // a whiteout hides lower layers only, never an entry of its own layer (layer.md)
    if (this.written.has(this.relOf(par.rel, victim))) return;
    const p = this.at(par.fd, victim);
    if (fs.lstatSync(p, { throwIfNoEntry: false })) {
      fs.rmSync(p, { recursive: true, force: true });
      this.invalidate();
    }
  }

  /** hide everything below the dir that lower layers put there; keep this layer's entries */
  private opaque(dirComps: string[]): void {
    this.stats.opaqueDirs++;
    const par = this.parent(dirComps, true)!;
    const sweep = (base: string, rel: string): void => {
      for (const child of fs.readdirSync(lat(base), { encoding: 'buffer' })) {
        const c = child.toString('latin1');
        const crel = this.relOf(rel, c);
        const cp = `${base}/${c}`;
        if (this.written.has(crel) || this.upper.has(crel)) {
          if (fs.lstatSync(lat(cp)).isDirectory()) sweep(cp, crel);
        } else {
          fs.rmSync(lat(cp), { recursive: true, force: true });
        }
      }
    };
    sweep(`/proc/self/fd/${par.fd}`, par.rel);
    if (par.rel !== '') this.markWritten(par.rel);
    this.invalidate();
  }

  /** after the last layer: directory modes, owners and times (deferred: children change mtimes) */
  finish(): void {
    this.invalidate();
    if (this.cacheFd >= 0 && this.cacheFd !== this.rootFd) fs.closeSync(this.cacheFd);
    this.cacheFd = -1;
    const rels = [...this.dirMeta.keys()].sort((a, b) => b.split('/').length - a.split('/').length);
    for (const rel of rels) {
      const m = this.dirMeta.get(rel)!;
      let fd = this.rootFd;
      let ok = true;
      for (const c of rel === '' ? [] : rel.split('/')) {
        try {
          const next = fs.openSync(this.at(fd, c), DIR_FLAGS);
          if (fd !== this.rootFd) fs.closeSync(fd);
          fd = next;
        } catch {
          ok = false; // removed or replaced by a later layer
          break;
        }
      }
      if (ok) {
        if (this.chown) fs.fchownSync(fd, m.uid, m.gid);
        fs.fchmodSync(fd, m.mode);
        fs.futimesSync(fd, m.mtime, m.mtime);
      }
      if (fd !== this.rootFd) fs.closeSync(fd);
    }
    if (!this.dirMeta.has('')) fs.fchmodSync(this.rootFd, 0o755);
  }

  close(): void {
    if (this.openFile >= 0) fs.closeSync(this.openFile);
    this.openFile = -1;
    if (this.cacheFd >= 0 && this.cacheFd !== this.rootFd) fs.closeSync(this.cacheFd);
    this.cacheFd = -1;
    if (this.rootFd >= 0) fs.closeSync(this.rootFd);
    this.rootFd = -1;
  }
}
