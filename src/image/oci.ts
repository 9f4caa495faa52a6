/**
 * Unpack an OCI image layout (image-spec 1.x, image-layout.md) into a root filesystem:
 * `oci-layout` → index.json → (nested indexes) → manifest → config + layers, every blob checked
 * against its descriptor's digest and size, layers applied in order by LayerExtractor into a temp
 * dir beside the target that is renamed into place at the end (removed on any failure).
 */
import * as fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { readInto } from '../util/read-fd.js';
import { ImageError } from './errors.js';
import { LayerExtractor, type ExtractOptions, type ExtractStats } from './extract.js';
import { TarParser } from './tar.js';

export const IMAGE_LIMITS = {
  /** index, manifest, config JSON */
  jsonBytes: 16 * 1024 * 1024,
  /** one layer blob as declared by its descriptor */
  blobBytes: 16 * 1024 ** 3,
  /** nested indexes followed before giving up */
  depth: 8,
};

export const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

const GZIP_LAYERS = new Set([
  MT.layerGzip,
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
]);
const TAR_LAYERS = new Set<string>([MT.layerTar, 'application/vnd.oci.image.layer.nondistributable.v1.tar']);

export const REF_ANNOTATION = 'org.opencontainers.image.ref.name';

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

/** what `hostscope run` takes from the image config as defaults */
export interface ImageConfig {
  env: string[];
  cmd: string[] | undefined;
  entrypoint: string[] | undefined;
  workingDir: string | undefined;
  user: string | undefined;
  labels: Record<string, string>;
}

export interface UnpackResult {
  manifestDigest: string;
  configDigest: string;
  config: ImageConfig;
  layers: number;
  stats: ExtractStats;
}

export interface UnpackOptions extends ExtractOptions {
  /** architecture to choose in a multi-platform index; default the host's (amd64 on x64) */
  architecture?: string;
}

/**
 * `oci:DIR[:TAG]`, `DIR:TAG`, `DIR@sha256:HEX` → layout dir and ref. A colon starts a tag only if
 * what follows holds no '/' (so `./a:b/c` is a directory); a tag is the image-spec's ref.name grammar.
 */
export function parseOciImageRef(arg: string): { layout: string; ref: string | undefined } {
  const s = arg.startsWith('oci:') ? arg.slice(4) : arg;
  const at = /^(.+)@(sha256:[a-f0-9]{64})$/.exec(s);
  if (at) return { layout: at[1]!, ref: at[2]! };
  const i = s.lastIndexOf(':');
  if (i > 0 && !s.slice(i + 1).includes('/')) {
    const tag = s.slice(i + 1);
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) throw new ImageError('LAYOUT', `invalid image tag '${tag}'`);
    return { layout: s.slice(0, i), ref: tag };
  }
  if (s === '') throw new ImageError('LAYOUT', `no image layout directory in '${arg}'`);
  return { layout: s, ref: undefined };
}

function hostArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? 'amd64';
}

const DIGEST_RE = /^(sha256):([a-f0-9]{64})$|^(sha512):([a-f0-9]{128})$/;

function checkDescriptor(d: unknown, where: string, cap: number): Descriptor {
  if (typeof d !== 'object' || d === null) throw new ImageError('LAYOUT', `${where}: descriptor is not an object`);
  const desc = d as Descriptor;
  if (typeof desc.digest !== 'string' || !DIGEST_RE.test(desc.digest)) throw new ImageError('LAYOUT', `${where}: bad or unsupported digest '${String(desc.digest).slice(0, 80)}'`);
  if (typeof desc.size !== 'number' || !Number.isSafeInteger(desc.size) || desc.size < 0) throw new ImageError('LAYOUT', `${where}: bad size for ${desc.digest}`);
  if (desc.size > cap) throw new ImageError('TOO_BIG', `${where}: ${desc.digest} declares ${desc.size} bytes (cap ${cap})`);
  return desc;
}

function blobPath(layout: string, digest: string): string {
  const [alg, hex] = digest.split(':') as [string, string];
  return join(layout, 'blobs', alg, hex);
}

/** open a blob: a regular file (no FIFO can block us, no symlink followed) of exactly the declared size */
function openBlob(layout: string, d: Descriptor): number {
  const p = blobPath(layout, d.digest);
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageError('LAYOUT', `${layout}: blob ${d.digest} is missing`);
    if (code === 'ELOOP') throw new ImageError('UNSAFE', `${layout}: blob ${d.digest} is a symlink`);
    throw new ImageError('LAYOUT', `${layout}: cannot open blob ${d.digest}: ${(e as Error).message}`);
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new ImageError('UNSAFE', `${layout}: blob ${d.digest} is not a regular file`);
  }
  if (st.size !== d.size) {
    fs.closeSync(fd);
    throw new ImageError('DIGEST', `${layout}: blob ${d.digest} has ${st.size} bytes, its descriptor says ${d.size}`);
  }
  return fd;
}

function readJsonFile(path: string, what: string, cap: number): unknown {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ImageError('LAYOUT', `${what}: no such file`);
    throw new ImageError('LAYOUT', `${what}: ${(e as Error).message}`);
  }
  try {
    if (!fs.fstatSync(fd).isFile()) throw new ImageError('LAYOUT', `${what}: not a regular file`);
    const buf = Buffer.alloc(cap + 1);
    let n = 0;
    for (;;) {
      const r = fs.readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > cap) throw new ImageError('TOO_BIG', `${what}: larger than ${cap} bytes`);
    }
    return parseJson(buf.subarray(0, n), what);
  } finally {
    fs.closeSync(fd);
  }
}

function parseJson(buf: Buffer, what: string): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new ImageError('LAYOUT', `${what}: invalid JSON (${(e as Error).message})`);
  }
}

/** read a JSON blob whole, checking its size and digest */
function readJsonBlob(layout: string, d: Descriptor): unknown {
  if (d.size > IMAGE_LIMITS.jsonBytes) throw new ImageError('TOO_BIG', `${layout}: ${d.digest} declares ${d.size} bytes (cap ${IMAGE_LIMITS.jsonBytes} for JSON)`);
  const fd = openBlob(layout, d);
  try {
    const buf = Buffer.alloc(d.size);
    const n = readInto(fd, buf);
    if (n !== d.size) throw new ImageError('DIGEST', `${layout}: blob ${d.digest} is shorter than its descriptor says`);
    const [alg, hex] = d.digest.split(':') as [string, string];
    if (createHash(alg).update(buf).digest('hex') !== hex) throw new ImageError('DIGEST', `${layout}: blob ${d.digest} does not match its digest`);
    return parseJson(buf, `${layout}: blob ${d.digest}`);
  } finally {
    fs.closeSync(fd);
  }
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ImageError('LAYOUT', `${what}: not a JSON object`);
  return v as Record<string, unknown>;
}

function descriptors(v: unknown, what: string, cap: number): Descriptor[] {
  if (!Array.isArray(v)) throw new ImageError('LAYOUT', `${what}: missing descriptor list`);
  return v.map((d, i) => checkDescriptor(d, `${what}[${i}]`, cap));
}

/** read `oci-layout` and index.json */
export function readLayoutIndex(layout: string): Descriptor[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(layout);
  } catch {
    throw new ImageError('LAYOUT', `${layout}: no such image layout directory`);
  }
  if (!st.isDirectory()) throw new ImageError('LAYOUT', `${layout}: not a directory`);
  const marker = obj(readJsonFile(join(layout, 'oci-layout'), `${layout}: oci-layout (not an OCI image layout?)`, 64 * 1024), `${layout}/oci-layout`);
  const v = marker.imageLayoutVersion;
  if (typeof v !== 'string' || !/^1\.\d+\.\d+$/.test(v)) throw new ImageError('LAYOUT', `${layout}: unsupported imageLayoutVersion '${String(v).slice(0, 40)}'`);
  const index = obj(readJsonFile(join(layout, 'index.json'), `${layout}/index.json`, IMAGE_LIMITS.jsonBytes), `${layout}/index.json`);
  return descriptors(index.manifests, `${layout}/index.json manifests`, IMAGE_LIMITS.blobBytes);
}

/** the tags (ref.name annotations) an index.json names */
export function listRefs(layout: string): string[] {
  return readLayoutIndex(layout)
    .map((d) => d.annotations?.[REF_ANNOTATION])
    .filter((r): r is string => typeof r === 'string');
}

function isIndexType(mt: string | undefined): boolean {
  return mt === MT.index || mt === MT.dockerList;
}

/** pick the manifest a ref names, descending nested indexes; returns the manifest descriptor and JSON */
export function resolveManifest(layout: string, ref: string | undefined, opts: { architecture?: string } = {}): { desc: Descriptor; manifest: Record<string, unknown> } {
  const top = readLayoutIndex(layout);
  let chosen: Descriptor | undefined;
  if (ref === undefined) {
    if (top.length !== 1) {
      const refs = top.map((d) => d.annotations?.[REF_ANNOTATION] ?? d.digest);
      throw new ImageError('LAYOUT', `${layout}: holds ${top.length} images; name one: ${refs.slice(0, 10).join(', ') || '(none)'}`);
    }
    chosen = top[0];
  } else if (DIGEST_RE.test(ref)) {
    chosen = top.find((d) => d.digest === ref);
  } else {
    chosen = top.find((d) => d.annotations?.[REF_ANNOTATION] === ref);
  }
  if (!chosen) {
    const refs = top.map((d) => d.annotations?.[REF_ANNOTATION]).filter(Boolean);
    throw new ImageError('LAYOUT', `${layout}: no image '${ref}' (tags: ${refs.slice(0, 10).join(', ') || 'none'})`);
  }
  const arch = opts.architecture ?? hostArch();
  const seen = new Set<string>();
  let desc = chosen;
  for (let depth = 0; ; depth++) {
    if (seen.has(desc.digest)) throw new ImageError('LAYOUT', `${layout}: index cycle at ${desc.digest}`);
    if (depth > IMAGE_LIMITS.depth) throw new ImageError('LAYOUT', `${layout}: more than ${IMAGE_LIMITS.depth} nested indexes`);
    seen.add(desc.digest);
    if (desc.mediaType !== undefined && !isIndexType(desc.mediaType) && desc.mediaType !== MT.manifest && desc.mediaType !== MT.dockerManifest) {
      throw new ImageError('UNSUPPORTED', `${layout}: ${desc.digest} has media type ${desc.mediaType}, not an image manifest or index`);
    }
    const doc = obj(readJsonBlob(layout, desc), `${layout}: ${desc.digest}`);
    const mt = typeof doc.mediaType === 'string' ? doc.mediaType : desc.mediaType;
    if (isIndexType(mt) || (mt === undefined && Array.isArray(doc.manifests))) {
      const list = descriptors(doc.manifests, `${layout}: index ${desc.digest} manifests`, IMAGE_LIMITS.blobBytes);
      const linux = (d: Descriptor): boolean => d.platform?.os === undefined || d.platform.os === 'linux';
      const next = list.find((d) => linux(d) && d.platform?.architecture === arch) ?? list.find((d) => d.platform === undefined);
      if (!next) {
        const plats = list.map((d) => `${d.platform?.os ?? '?'}/${d.platform?.architecture ?? '?'}`);
        throw new ImageError('LAYOUT', `${layout}: index ${desc.digest} has no linux/${arch} image (has ${plats.join(', ') || 'none'})`);
      }
      desc = next;
      continue;
    }
    if (!Array.isArray(doc.layers)) throw new ImageError('LAYOUT', `${layout}: ${desc.digest} is neither a manifest nor an index`);
    return { desc, manifest: doc };
  }
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;
}

export function imageConfigOf(doc: Record<string, unknown>): ImageConfig {
  const c = (typeof doc.config === 'object' && doc.config !== null ? doc.config : {}) as Record<string, unknown>;
  const labels: Record<string, string> = {};
  if (typeof c.Labels === 'object' && c.Labels !== null) for (const [k, v] of Object.entries(c.Labels)) if (typeof v === 'string') labels[k] = v;
  return {
    env: strings(c.Env) ?? [],
    cmd: strings(c.Cmd),
    entrypoint: strings(c.Entrypoint),
    workingDir: typeof c.WorkingDir === 'string' && c.WorkingDir !== '' ? c.WorkingDir : undefined,
    user: typeof c.User === 'string' && c.User !== '' ? c.User : undefined,
    labels,
  };
}

/** read an image's config without unpacking it */
export function readImageConfig(layout: string, ref: string | undefined, opts: UnpackOptions = {}): { manifestDigest: string; configDigest: string; config: ImageConfig; layers: Descriptor[]; diffIds: string[] | undefined } {
  const { desc, manifest } = resolveManifest(layout, ref, opts);
  const cfgDesc = checkDescriptor(manifest.config, `${layout}: manifest ${desc.digest} config`, IMAGE_LIMITS.jsonBytes);
  const cfg = obj(readJsonBlob(layout, cfgDesc), `${layout}: config ${cfgDesc.digest}`);
  const layers = descriptors(manifest.layers, `${layout}: manifest ${desc.digest} layers`, IMAGE_LIMITS.blobBytes);
  const rootfs = (typeof cfg.rootfs === 'object' && cfg.rootfs !== null ? cfg.rootfs : {}) as Record<string, unknown>;
  const diffIds = strings(rootfs.diff_ids);
  if (diffIds && diffIds.length !== layers.length) throw new ImageError('LAYOUT', `${layout}: config ${cfgDesc.digest} lists ${diffIds.length} diff_ids for ${layers.length} layers`);
  return { manifestDigest: desc.digest, configDigest: cfgDesc.digest, config: imageConfigOf(cfg), layers, diffIds };
}

/** stream one layer blob: digest+size check on the compressed bytes, diff_id on the tar */
async function applyLayer(layout: string, d: Descriptor, diffId: string | undefined, ex: LayerExtractor, where: string): Promise<void> {
  const mt = d.mediaType ?? '';
  let gzip: boolean;
  if (GZIP_LAYERS.has(mt)) gzip = true;
  else if (TAR_LAYERS.has(mt)) gzip = false;
  else if (mt.endsWith('+zstd') || mt.endsWith('.zstd')) throw new ImageError('UNSUPPORTED', `${where}: zstd-compressed layers are not supported (Node 20 has no zstd); recompress the layer with gzip`);
  else throw new ImageError('UNSUPPORTED', `${where}: unsupported layer media type '${mt}'`);
  const fd = openBlob(layout, d);
  const [alg, hex] = d.digest.split(':') as [string, string];
  const blobHash = createHash(alg);
  let seen = 0;
  const verify = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > d.size) return cb(new ImageError('DIGEST', `${where}: blob ${d.digest} is longer than its descriptor says`));
      blobHash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      if (seen !== d.size) return cb(new ImageError('DIGEST', `${where}: blob ${d.digest} is shorter than its descriptor says`));
      if (blobHash.digest('hex') !== hex) return cb(new ImageError('DIGEST', `${where}: blob ${d.digest} does not match its digest`));
      cb();
    },
  });
  const diffHash = diffId && /^sha256:[a-f0-9]{64}$/.test(diffId) ? createHash('sha256') : undefined;
  const parser = new TarParser(ex.beginLayer(where), where);
  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      try {
        diffHash?.update(chunk);
        parser.write(chunk);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    final(cb) {
      try {
        parser.finish();
        if (diffHash && `sha256:${diffHash.digest('hex')}` !== diffId) return cb(new ImageError('DIGEST', `${where}: uncompressed layer does not match its diff_id ${diffId}`));
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
  const input = fs.createReadStream('', { fd, highWaterMark: 1 << 20, autoClose: true });
  try {
    if (gzip) {
      const gunzip = createGunzip({ chunkSize: 1 << 18 });
      await pipeline(input, verify, gunzip, sink);
    } else await pipeline(input, verify, sink);
  } catch (e) {
    // a gzip or tar error in a blob that is not what its descriptor says: report the digest
    if (!(e instanceof ImageError && e.code === 'DIGEST') && !blobMatches(layout, d)) throw new ImageError('DIGEST', `${where}: blob ${d.digest} does not match its digest`);
    if (e instanceof ImageError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || /unexpected end of file|incorrect header check|invalid/.test((e as Error).message)) {
      throw new ImageError('CORRUPT', `${where}: bad gzip data (${(e as Error).message})`);
    }
    throw e;
  }
}

/** hash a blob again (only after a failure, to name the real cause) */
function blobMatches(layout: string, d: Descriptor): boolean {
  try {
    const fd = openBlob(layout, d);
    try {
      const [alg, hex] = d.digest.split(':') as [string, string];
      const h = createHash(alg);
      const buf = Buffer.alloc(1 << 20);
      let total = 0;
      for (;;) {
        const r = fs.readSync(fd, buf, 0, buf.length, null);
        if (r === 0) break;
        total += r;
        if (total > d.size) return false;
        h.update(buf.subarray(0, r));
      }
      return total === d.size && h.digest('hex') === hex;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * Unpack the image `ref` (a tag, a digest, or undefined when the layout holds one image) of the
 * layout at `layoutDir` into `targetDir`, which must not exist or be an empty directory.
 */
export async function unpackImage(layoutDir: string, ref: string | undefined, targetDir: string, opts: UnpackOptions = {}): Promise<UnpackResult> {
  const layout = resolve(layoutDir);
  const target = resolve(targetDir);
  const info = readImageConfig(layout, ref, opts);
  const st = fs.lstatSync(target, { throwIfNoEntry: false });
  if (st && !(st.isDirectory() && fs.readdirSync(target).length === 0)) throw new ImageError('EXISTS', `${target}: exists and is not an empty directory`);
  const tmp = join(dirname(target), `.${basename(target)}.unpack-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(tmp, 0o700);
  let ex: LayerExtractor | undefined;
  try {
    ex = new LayerExtractor(tmp, opts);
    for (const [i, d] of info.layers.entries()) {
      await applyLayer(layout, d, info.diffIds?.[i], ex, `${layout}: layer ${i + 1}/${info.layers.length} (${d.digest.slice(0, 19)})`);
    }
    ex.finish();
    ex.close();
    if (st) fs.rmdirSync(target);
    fs.renameSync(tmp, target);
  } catch (e) {
    ex?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { manifestDigest: info.manifestDigest, configDigest: info.configDigest, config: info.config, layers: info.layers.length, stats: ex.stats };
}
