/**
 * Write OCI image layouts from entries in memory: a small tar writer (ustar, pax for long or
 * non-ASCII names, optional GNU 'L'/'K' records), gzip, sha256 blobs, manifest, config and
 * index.json. Used by the tests (which also build malicious layouts with it) and bench/image.ts.
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MT, REF_ANNOTATION, type Descriptor } from './oci.js';

export interface BuildEntry {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  data?: Buffer | string;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** write long names as GNU 'L'/'K' records instead of pax */
  gnu?: boolean;
  /** declare this size in the header whatever the data (for truncation tests) */
  declaredSize?: number;
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' } as const;

function octal(n: number, len: number): string {
  return n.toString(8).padStart(len - 1, '0') + '\0';
}

function header(name: Buffer, e: { type: string; mode: number; uid: number; gid: number; size: number; mtime: number; linkname: Buffer; devmajor: number; devminor: number }): Buffer {
  const h = Buffer.alloc(512);
  name.copy(h, 0, 0, Math.min(100, name.length));
  h.write(octal(e.mode, 8), 100, 'latin1');
  h.write(octal(e.uid, 8), 108, 'latin1');
  h.write(octal(e.gid, 8), 116, 'latin1');
  h.write(octal(e.size, 12), 124, 'latin1');
  h.write(octal(Math.floor(e.mtime), 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(e.type, 156, 'latin1');
  e.linkname.copy(h, 157, 0, Math.min(100, e.linkname.length));
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.write('root', 265, 'latin1');
  h.write('root', 297, 'latin1');
  h.write(octal(e.devmajor, 8), 329, 'latin1');
  h.write(octal(e.devminor, 8), 337, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'latin1');
  return h;
}

function pad(n: number): Buffer {
  return Buffer.alloc((512 - (n % 512)) % 512);
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** a tar archive of the entries, ending with two zero blocks */
export function tarArchive(entries: BuildEntry[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data);
    const name = Buffer.from(e.name);
    const link = Buffer.from(e.linkname ?? '');
    const base = {
      type: TYPEFLAG[type],
      mode: e.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size: e.declaredSize ?? (type === 'file' ? data.length : 0),
      mtime: e.mtime ?? 1_700_000_000,
      linkname: link,
      devmajor: e.devmajor ?? 0,
      devminor: e.devminor ?? 0,
    };
    const long = name.length > 100 || link.length > 100 || /[^\x20-\x7e]/.test(e.name + (e.linkname ?? ''));
    if (long && e.gnu) {
      for (const [flag, val] of [['L', name] as const, ['K', link] as const]) {
        if (val.length <= 100) continue;
        const v = Buffer.concat([val, Buffer.alloc(1)]);
        out.push(header(Buffer.from('././@LongLink'), { ...base, type: flag, size: v.length, linkname: Buffer.alloc(0), mode: 0o644 }), v, pad(v.length));
      }
    } else if (long) {
      const recs = [paxRecord('path', name)];
      if (link.length > 0) recs.push(paxRecord('linkpath', link));
      const body = Buffer.concat(recs);
      out.push(header(Buffer.from('PaxHeaders/x'), { ...base, type: 'x', size: body.length, linkname: Buffer.alloc(0), mode: 0o644 }), body, pad(body.length));
    }
    out.push(header(name, base));
    if (type === 'file') out.push(data, pad(data.length));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

export function sha256(buf: Buffer): string {
  return `sha256:${createHash('sha256').update(buf).digest('hex')}`;
}

export interface LayerSpec {
  entries?: BuildEntry[];
  /** a ready tar (or anything) instead of entries */
  tar?: Buffer;
  compression?: 'gzip' | 'none' | 'zstd' | 'docker-gzip';
  /** blob bytes to store instead of the compressed tar (digest computed over them unless `digest` set) */
  blob?: Buffer;
  /** override the descriptor */
  digest?: string;
  size?: number;
}

export interface ImageSpec {
  layers: LayerSpec[];
  config?: Record<string, unknown>;
  tag?: string;
  architecture?: string;
}

export class LayoutBuilder {
  readonly manifests: Descriptor[] = [];

  constructor(readonly dir: string) {
    fs.mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    fs.writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  }

  blob(buf: Buffer, mediaType: string): Descriptor {
    const digest = sha256(buf);
    fs.writeFileSync(join(this.dir, 'blobs', 'sha256', digest.slice(7)), buf);
    return { mediaType, digest, size: buf.length };
  }

  json(v: unknown, mediaType: string): Descriptor {
    return this.blob(Buffer.from(JSON.stringify(v)), mediaType);
  }

  layer(spec: LayerSpec): { desc: Descriptor; diffId: string } {
    const tar = spec.tar ?? tarArchive(spec.entries ?? []);
    const comp = spec.compression ?? 'gzip';
    const body = spec.blob ?? (comp === 'gzip' || comp === 'docker-gzip' ? gzipSync(tar) : tar);
    const mt = comp === 'gzip' ? MT.layerGzip : comp === 'docker-gzip' ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : comp === 'zstd' ? MT.layerZstd : MT.layerTar;
    const desc = this.blob(body, mt);
    if (spec.digest) desc.digest = spec.digest;
    if (spec.size !== undefined) desc.size = spec.size;
    return { desc, diffId: sha256(tar) };
  }

  /** an image manifest (not yet in index.json) */
  image(spec: ImageSpec): Descriptor {
    const layers = spec.layers.map((l) => this.layer(l));
    const config = {
      architecture: spec.architecture ?? 'amd64',
      os: 'linux',
      config: spec.config ?? {},
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    };
    const cfg = this.json(config, MT.config);
    const m = this.json({ schemaVersion: 2, mediaType: MT.manifest, config: cfg, layers: layers.map((l) => l.desc) }, MT.manifest);
    m.platform = { os: 'linux', architecture: spec.architecture ?? 'amd64' };
    return m;
  }

  index(manifests: Descriptor[]): Descriptor {
    return this.json({ schemaVersion: 2, mediaType: MT.index, manifests }, MT.index);
  }

  /** add a descriptor to index.json under a tag */
  tag(desc: Descriptor, tag?: string): void {
    this.manifests.push(tag === undefined ? desc : { ...desc, annotations: { [REF_ANNOTATION]: tag } });
    fs.writeFileSync(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: this.manifests }));
  }

  /** image + tag in one go */
  add(spec: ImageSpec): Descriptor {
    const d = this.image(spec);
    this.tag(d, spec.tag);
    return d;
  }
}
