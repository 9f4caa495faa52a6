/**
 * A streaming tar reader (POSIX ustar + pax extended headers, GNU long names 'L'/'K' and
 * base-256 numbers), push-driven: feed it chunks with write(), it calls the handler once per
 * entry and hands it the entry's data in pieces, never holding more than one 512-byte header or
 * one (capped) metadata record in memory. Pure: no I/O.
 *
 * Names are kept byte-exact as latin1 strings (one char per byte): Linux file names are bytes,
 * and pax values are UTF-8 bytes that must land on disk unchanged. Convert with
 * Buffer.from(name, 'latin1') at the fs call.
 */
import { ImageError, shown } from './errors.js';
import { escapeControl } from '../render/escape.js';
import { decodeBytes } from '../parse/text.js';

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'dir' | 'char' | 'block' | 'fifo';

export interface TarEntry {
  /** byte-exact (latin1) path as written in the archive, pax/GNU long names applied */
  name: string;
  type: TarEntryType;
  /** permission bits including setuid/setgid/sticky (mode & 0o7777) */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** seconds since the epoch, fractional from pax */
  mtime: number;
  /** symlink target or hard link name (latin1) */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** pax SCHILY.xattr.* / LIBARCHIVE.xattr.* records seen (not applied) */
  xattrs: number;
}

export interface TarHandler {
  /** return a sink for the entry's data (only called with data when size > 0), or null to skip it */
  entry(e: TarEntry): { data(chunk: Buffer): void; end(): void } | null;
}

export const TAR_LIMITS = {
  /** a pax header or GNU long name/link record larger than this is refused */
  metaBytes: 1 << 20,
};

const BLOCK = 512;

function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

function cstr(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('latin1', off, end >= 0 && end < off + len ? end : off + len);
}

/** an octal or base-256 (GNU) numeric field; NaN when neither */
export function parseNumeric(b: Buffer, off: number, len: number): number {
  const first = b[off]!;
  if (first & 0x80) {
    if (first === 0xff) return NaN; // negative: never valid for a size, id or time we use
    let v = BigInt(first & 0x7f);
    for (let i = 1; i < len; i++) v = (v << 8n) | BigInt(b[off + i]!);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? NaN : Number(v);
  }
  const s = cstr(b, off, len).replace(/[ ]+$/, '').replace(/^[ ]+/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return NaN;
  const v = parseInt(s, 8);
  return v > Number.MAX_SAFE_INTEGER ? NaN : v;
}

function checksumOk(b: Buffer): boolean {
  const want = parseNumeric(b, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return want === unsigned || want === signed;
}

/** pax records "LEN key=value\n"; values stay bytes (latin1) */
export function parsePax(buf: Buffer, where: string): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off < buf.length) {
    if (buf[off] === 0) break; // NUL padding some writers leave
    const sp = buf.indexOf(0x20, off);
    if (sp < 0 || sp - off > 20) throw new ImageError('CORRUPT', `${where}: bad pax record at byte ${off}`);
    const lenText = buf.toString('latin1', off, sp);
    if (!/^[1-9][0-9]*$/.test(lenText)) throw new ImageError('CORRUPT', `${where}: bad pax record length '${lenText}'`);
    const len = Number(lenText);
    if (off + len > buf.length || buf[off + len - 1] !== 0x0a) throw new ImageError('CORRUPT', `${where}: pax record overruns its header`);
    const rec = buf.toString('latin1', sp + 1, off + len - 1);
    const eq = rec.indexOf('=');
    if (eq <= 0) throw new ImageError('CORRUPT', `${where}: pax record without a key`);
    out.set(rec.slice(0, eq), rec.slice(eq + 1));
    off += len;
  }
  return out;
}

type State = 'header' | 'meta' | 'data' | 'pad' | 'zero' | 'end';

export class TarParser {
  private state: State = 'header';
  private hdr = Buffer.alloc(BLOCK);
  private hdrFill = 0;
  private remaining = 0;
  private pad = 0;
  private sink: { data(chunk: Buffer): void; end(): void } | null = null;
  private meta: Buffer[] = [];
  private metaFill = 0;
  private metaKind: 'x' | 'g' | 'L' | 'K' = 'x';
  private pax = new Map<string, string>();
  private globalPax = new Map<string, string>();
  private longName: string | undefined;
  private longLink: string | undefined;
  private entryCount = 0;
  /** byte offset in the uncompressed stream, for messages */
  private offset = 0;

  constructor(
    private readonly handler: TarHandler,
    private readonly where: string,
  ) {}

  get entries(): number {
    return this.entryCount;
  }

  write(chunk: Buffer): void {
    let off = 0;
    const n = chunk.length;
    while (off < n) {
      switch (this.state) {
        case 'end':
          // the archive ended; the rest is record padding
          this.offset += n - off;
          return;
        case 'header':
        case 'zero': {
          const take = Math.min(BLOCK - this.hdrFill, n - off);
          chunk.copy(this.hdr, this.hdrFill, off, off + take);
          this.hdrFill += take;
          off += take;
          this.offset += take;
          if (this.hdrFill === BLOCK) {
            this.hdrFill = 0;
            this.onBlock();
          }
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, n - off);
          if (take > 0) {
            this.sink?.data(chunk.subarray(off, off + take));
            off += take;
            this.offset += take;
            this.remaining -= take;
          }
          if (this.remaining === 0) this.endData();
          break;
        }
        case 'meta': {
          const take = Math.min(this.remaining, n - off);
          this.meta.push(Buffer.from(chunk.subarray(off, off + take)));
          this.metaFill += take;
          off += take;
          this.offset += take;
          this.remaining -= take;
          if (this.remaining === 0) this.endMeta();
          break;
        }
        case 'pad': {
          const take = Math.min(this.pad, n - off);
          off += take;
          this.offset += take;
          this.pad -= take;
          if (this.pad === 0) this.state = 'header';
          break;
        }
      }
    }
  }

  /** the stream ended: anything but a clean end (or a stop at a header boundary) is truncation */
  finish(): void {
    if (this.state === 'end') return;
    if (this.state === 'header' && this.hdrFill === 0 && this.meta.length === 0 && this.longName === undefined && this.pax.size === 0) return;
    throw new ImageError('CORRUPT', `${this.where}: tar data truncated at byte ${this.offset}`);
  }

  private padFor(size: number): number {
    return (BLOCK - (size % BLOCK)) % BLOCK;
  }

  private endData(): void {
    this.sink?.end();
    this.sink = null;
    this.pad = this.padFor(this.lastSize);
    this.state = this.pad > 0 ? 'pad' : 'header';
  }
  private lastSize = 0;

  private endMeta(): void {
    const buf = Buffer.concat(this.meta, this.metaFill);
    this.meta = [];
    this.metaFill = 0;
    if (this.metaKind === 'x') for (const [k, v] of parsePax(buf, this.where)) this.pax.set(k, v);
    else if (this.metaKind === 'g') for (const [k, v] of parsePax(buf, this.where)) this.globalPax.set(k, v);
    else {
      const end = buf.indexOf(0);
      const s = buf.toString('latin1', 0, end >= 0 ? end : buf.length);
      if (this.metaKind === 'L') this.longName = s;
      else this.longLink = s;
    }
    this.pad = this.padFor(this.lastSize);
    this.state = this.pad > 0 ? 'pad' : 'header';
  }

  private bad(msg: string): never {
    throw new ImageError('CORRUPT', `${this.where}: ${msg} (tar header at byte ${this.offset - BLOCK})`);
  }

  private onBlock(): void {
    const b = this.hdr;
    if (this.state === 'zero') {
      if (!isZeroBlock(b)) this.bad('a lone zero block inside the archive');
      this.state = 'end';
      return;
    }
    if (isZeroBlock(b)) {
      if (this.longName !== undefined || this.longLink !== undefined || this.pax.size > 0) this.bad('archive ends after an extended header');
      this.state = 'zero';
      return;
    }
    if (!checksumOk(b)) this.bad('bad header checksum');
    const magic = b.toString('latin1', 257, 263);
    const ustar = magic === 'ustar\0';
    const gnu = magic === 'ustar ';
    const flag = b[156] === 0 ? '0' : String.fromCharCode(b[156]!);
    let size = parseNumeric(b, 124, 12);
    if (!Number.isFinite(size)) this.bad('bad size field');

    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > TAR_LIMITS.metaBytes) throw new ImageError('TOO_BIG', `${this.where}: extended header of ${size} bytes (cap ${TAR_LIMITS.metaBytes})`);
      this.metaKind = flag;
      this.lastSize = size;
      this.remaining = size;
      this.state = size > 0 ? 'meta' : 'header';
      if (size === 0) this.endMeta();
      return;
    }

    let name = cstr(b, 0, 100);
    if (ustar) {
      const prefix = cstr(b, 345, 155);
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    let linkname = cstr(b, 157, 100);
    const mode = parseNumeric(b, 100, 8);
    let uid = parseNumeric(b, 108, 8);
    let gid = parseNumeric(b, 116, 8);
    let mtime = parseNumeric(b, 136, 12);
    const devmajor = ustar || gnu ? parseNumeric(b, 329, 8) : 0;
    const devminor = ustar || gnu ? parseNumeric(b, 337, 8) : 0;
    if (![mode, uid, gid, mtime].every(Number.isFinite)) this.bad('bad numeric field');

    const pax = new Map([...this.globalPax].filter(([k]) => k !== 'path' && k !== 'linkpath' && k !== 'size'));
    for (const [k, v] of this.pax) pax.set(k, v);
    this.pax = new Map();
    if (this.longName !== undefined) name = this.longName;
    if (this.longLink !== undefined) linkname = this.longLink;
    this.longName = undefined;
    this.longLink = undefined;
    let xattrs = 0;
    for (const [k, v] of pax) {
      const num = (): number => {
        if (!/^[0-9]+$/.test(v) || Number(v) > Number.MAX_SAFE_INTEGER) this.bad(`bad pax ${k} '${shown(v)}'`);
        return Number(v);
      };
      if (k === 'path') name = v;
      else if (k === 'linkpath') linkname = v;
      else if (k === 'size') size = num();
      else if (k === 'uid') uid = num();
      else if (k === 'gid') gid = num();
      else if (k === 'mtime') {
        if (!/^-?[0-9]+(\.[0-9]+)?$/.test(v)) this.bad(`bad pax mtime '${shown(v)}'`);
        mtime = Number(v);
      } else if (k.startsWith('GNU.sparse.')) throw new ImageError('UNSUPPORTED', `${this.where}: sparse file ${shown(name)} is not supported`);
      else if (k.startsWith('SCHILY.xattr.') || k.startsWith('LIBARCHIVE.xattr.')) xattrs++;
    }

    let type: TarEntryType;
    switch (flag) {
      case '0':
      case '7':
        type = 'file';
        break;
      case '1':
        type = 'hardlink';
        break;
      case '2':
        type = 'symlink';
        break;
      case '3':
        type = 'char';
        break;
      case '4':
        type = 'block';
        break;
      case '5':
        type = 'dir';
        break;
      case '6':
        type = 'fifo';
        break;
      case 'S':
        throw new ImageError('UNSUPPORTED', `${this.where}: GNU sparse file ${shown(name)} is not supported`);
      default:
        this.bad(`unsupported entry type '${escapeControl(decodeBytes(Buffer.from(flag, 'latin1')))}' for ${shown(name)}`);
    }
    // old tar marks directories by a trailing slash on a regular entry
    if (type === 'file' && name.endsWith('/')) type = 'dir';
    // hard links, symlinks, devices and dirs carry no data, whatever the size field says
    // (pax allows data on hard links; we do not use it but must skip it)
    const dataSize = type === 'file' || type === 'hardlink' ? size : 0;
    if (type !== 'file' && type !== 'hardlink' && size !== 0 && type !== 'dir') {
      // ignore a bogus size on symlinks/devices as GNU tar does, but do not read data for them
    }
    const entry: TarEntry = { name, type, mode: mode & 0o7777, uid, gid, size: type === 'file' ? size : 0, mtime, linkname, devmajor, devminor, xattrs };
    this.entryCount++;
    this.sink = this.handler.entry(entry);
    this.lastSize = dataSize;
    this.remaining = dataSize;
    if (dataSize > 0) this.state = 'data';
    else {
      this.sink?.end();
      this.sink = null;
      this.state = 'header';
    }
  }
}
