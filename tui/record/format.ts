/**
 * ctop's recording format: a header line, then frames. Each frame is
 *   magic "CTFR" | u32 payload length | u32 CRC32 of the payload | f64 wall time (ms) | payload
 * (little endian), the payload a brotli-compressed JSON Sample. A frame whose length runs past the
 * end (a torn write) or whose CRC does not match is skipped: the reader looks for the next magic,
 * so one bad frame costs one sample, never the rest of the file.
 *
 * Delta frames (magic "CTFD", one more f64 after the wall time: the wall time of their key frame)
 * hold a sample whose `procs` are only the processes that differ from the key frame's, and `gone`,
 * the key frame's pids no longer there: most processes sleep, so a delta is a small part of a full
 * sample. A key frame (a full "CTFR" frame) is written every KEY_EVERY frames and whenever a delta
 * would hold more than half the processes. A delta frame is usable only with its key frame: when
 * the key frame is damaged, its deltas are skipped with it (and counted), a torn write at the end
 * still costs that one frame. A replayed delta's processes are in pid order.
 *
 * Two versions, told apart by the file's first line. CTOPREC1 (older ctop): a delta's payload is
 * the sample with its changed processes whole. CTOPREC2 (written now): a delta's payload is a
 * DeltaV2 — only what differs from the key frame: the fields of the sample that changed (a generic
 * JSON diff: the cgroups' counters, not their paths and limits; containers only if they changed),
 * the processes new since the key frame whole, and of the others only the fields that changed
 * (mostly `ticks`). Both are read; only CTOPREC2 is written, and a CTOPREC1 file is never appended to.
 */
import { brotliCompressSync, brotliDecompressSync, constants, crc32 } from 'node:zlib';
import type { RawContainer, RawProc, Sample } from '../sample.js';

export const FILE_MAGIC = 'CTOPREC2\n';
/** the first format (whole changed processes in deltas): still replayed, never appended to */
export const FILE_MAGIC_V1 = 'CTOPREC1\n';

import { RecordingError } from './errors.js';

export { RecordingError };
export const FRAME_MAGIC = Buffer.from('CTFR', 'latin1');
export const DELTA_MAGIC = Buffer.from('CTFD', 'latin1');
export const FRAME_HEADER = 4 + 4 + 4 + 8;
/** a delta frame's header: the key frame's wall time follows */
export const DELTA_HEADER = FRAME_HEADER + 8;
/** a key frame at least this often (at -d 5: every 5 minutes) */
export const KEY_EVERY = 60;

/** A delta frame's payload: the sample with only the changed processes, and the pids gone. */
export type DeltaPayload = Sample & { base: number; gone: number[] };
/** a sample of 10,000 processes compresses to well under this */
export const MAX_FRAME = 64 * 1024 * 1024;
/** a frame's sample once decompressed, at most (10,000 processes make a few MiB) */
export const MAX_SAMPLE_BYTES = 128 * 1024 * 1024;

function compress(json: string, quality: number): Buffer {
  return brotliCompressSync(Buffer.from(json), { params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: json.length } });
}

export function encodeFrame(s: Sample): Buffer {
  const payload = compress(JSON.stringify(s), KEY_QUALITY);
  const h = Buffer.alloc(FRAME_HEADER);
  FRAME_MAGIC.copy(h, 0);
  h.writeUInt32LE(payload.length, 4);
  h.writeUInt32LE(crc32(payload), 8);
  h.writeDoubleLE(s.wallMs, 12);
  return Buffer.concat([h, payload]);
}

/** brotli quality of key frames (rare, large) and of delta frames (every sample, small) */
const KEY_QUALITY = 7;
const DELTA_QUALITY = 9;

/**
 * A JSON diff of two plain objects: `s` the keys set to a new value (arrays and scalars are
 * replaced whole), `n` the keys whose object value changed (a diff of its own), `x` the keys gone.
 */
export interface Diff {
  s?: Record<string, unknown>;
  n?: Record<string, Diff>;
  x?: string[];
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What turns `a` into `b` (undefined values count as absent, as in JSON), or undefined when nothing does. */
export function diffOf(a: Record<string, unknown>, b: Record<string, unknown>): Diff | undefined {
  if (a === b) return undefined;
  let set: Record<string, unknown> | undefined;
  let nested: Record<string, Diff> | undefined;
  let gone: string[] | undefined;
  for (const k in b) {
    const bv = b[k];
    if (bv === undefined) continue;
    const av = a[k];
    if (av === bv) continue;
    if (isPlain(av) && isPlain(bv)) {
      const d = diffOf(av, bv);
      if (d) (nested ??= {})[k] = d;
    } else if (!sameJson(av, bv)) (set ??= {})[k] = bv;
  }
  for (const k in a) if (a[k] !== undefined && b[k] === undefined) (gone ??= []).push(k);
  if (!set && !nested && !gone) return undefined;
  return { ...(set ? { s: set } : {}), ...(nested ? { n: nested } : {}), ...(gone ? { x: gone } : {}) };
}

export function applyDiff<T>(a: T, d: Diff | undefined): T {
  if (!d) return a;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const k of d.x ?? []) delete out[k];
  for (const k in d.s ?? {}) out[k] = d.s![k];
  for (const k in d.n ?? {}) out[k] = applyDiff(isPlain(out[k]) ? out[k] : {}, d.n![k]);
  return out as T;
}

/** A CTOPREC2 delta frame's payload (see the top of this file). */
export interface DeltaV2 {
  d: 2;
  /** the key frame's wall time */
  base: number;
  /** the sample without its processes, against the key frame's */
  s?: Diff;
  /** processes not in the key frame (or whose pid was reused), whole */
  add: RawProc[];
  /** the others that changed: pid and the diff of its fields */
  upd: [number, Diff][];
  /** the key frame's pids no longer there */
  gone: number[];
  /** the containers' keys in order, when applying `s` does not give their order */
  co?: string[];
}

/**
 * The sample without its processes, as a delta diffs it: containers keyed by their key (one that
 * came or went is one entry, not the whole list again).
 */
function withoutProcs(s: Sample): Record<string, unknown> {
  const { procs: _p, containers, ...rest } = s;
  const byKey: Record<string, RawContainer> = {};
  for (const c of containers) byKey[`k${c.key}`] = c;
  return { ...rest, containers: byKey };
}

/** withoutProcs undone: the containers back in a list, in `order` (their keys) or as the object holds them. */
function withContainers(rest: Record<string, unknown>, order: string[] | undefined): Omit<Sample, 'procs'> {
  const byKey = (rest.containers ?? {}) as Record<string, RawContainer>;
  const list = order ? order.map((k) => byKey[`k${k}`]!).filter(Boolean) : Object.values(byKey);
  return { ...rest, containers: list } as Omit<Sample, 'procs'>;
}

/** The delta of `s` against its key frame `key` (whose processes are `keyByPid`), or undefined when a key frame is smaller. */
export function encodeDelta(s: Sample, key: Sample, keyByPid: Map<number, RawProc>): Buffer | undefined {
  const add: RawProc[] = [];
  const upd: [number, Diff][] = [];
  const here = new Set<number>();
  for (const p of s.procs) {
    here.add(p.pid);
    const k = keyByPid.get(p.pid);
    if (!k || k.start !== p.start) add.push(p);
    else if (k !== p) {
      const d = diffOf(k as unknown as Record<string, unknown>, p as unknown as Record<string, unknown>);
      if (d) upd.push([p.pid, d]);
    }
  }
  if (add.length + upd.length > s.procs.length / 2) return undefined;
  const gone = key.procs.filter((p) => !here.has(p.pid)).map((p) => p.pid);
  const keyRest = withoutProcs(key);
  const sd = diffOf(keyRest, withoutProcs(s));
  const order = s.containers.map((c) => c.key);
  const got = withContainers(applyDiff(keyRest, sd), undefined).containers.map((c) => c.key);
  const co = got.length === order.length && got.every((k, i) => k === order[i]) ? undefined : order;
  const d: DeltaV2 = { d: 2, base: key.wallMs, ...(sd ? { s: sd } : {}), add, upd, gone, ...(co ? { co } : {}) };
  const payload = compress(JSON.stringify(d), DELTA_QUALITY);
  const h = Buffer.alloc(DELTA_HEADER);
  DELTA_MAGIC.copy(h, 0);
  h.writeUInt32LE(payload.length, 4);
  h.writeUInt32LE(crc32(payload), 8);
  h.writeDoubleLE(s.wallMs, 12);
  h.writeDoubleLE(key.wallMs, 20);
  return Buffer.concat([h, payload]);
}

/** A delta applied to its key frame: the whole sample again (processes in pid order). CTOPREC1 or CTOPREC2. */
export function applyDelta(key: Sample, d: DeltaPayload | DeltaV2): Sample {
  const gone = new Set(d.gone);
  const byPid = new Map<number, RawProc>();
  for (const p of key.procs) if (!gone.has(p.pid)) byPid.set(p.pid, p);
  if ('d' in d && d.d === 2) {
    for (const [pid, diff] of d.upd) {
      const k = byPid.get(pid);
      if (k) byPid.set(pid, applyDiff(k, diff));
    }
    for (const p of d.add) byPid.set(p.pid, p);
    const rest = withContainers(applyDiff(withoutProcs(key), d.s), d.co);
    return { ...rest, procs: [...byPid.values()].sort((a, b) => a.pid - b.pid) } as Sample;
  }
  const v1 = d as DeltaPayload;
  for (const p of v1.procs) byPid.set(p.pid, p);
  const { base: _b, gone: _g, ...rest } = v1;
  return { ...rest, procs: [...byPid.values()].sort((a, b) => a.pid - b.pid) };
}

export interface FrameRef {
  offset: number;
  length: number;
  wallMs: number;
  /** a delta frame: the index (in `frames`) of its key frame */
  keyIndex?: number;
}

export interface ScanResult {
  /** the file's format: 1 (CTOPREC1) or 2 (CTOPREC2) */
  version: 1 | 2;
  frames: FrameRef[];
  /** what was wrong, for one line on stderr: where the intact part stopped, frames skipped */
  problem: string | undefined;
}

/** Find every intact frame of a recording. */
export function scanFrames(buf: Buffer, name = 'recording'): ScanResult {
  const head = buf.length < FILE_MAGIC.length ? '' : buf.toString('latin1', 0, FILE_MAGIC.length);
  const version = head === FILE_MAGIC ? 2 : head === FILE_MAGIC_V1 ? 1 : undefined;
  if (version === undefined) return { version: 2, frames: [], problem: /^CTOPREC\d+\n$/.test(head) ? `${name}: a ctop recording in a newer format (${head.trim()}) than this ctop reads` : `${name}: not a ctop recording` };
  const frames: FrameRef[] = [];
  let bad = 0;
  let firstBad: number | undefined;
  let truncatedAt: number | undefined;
  let orphans = 0;
  let lastKey: number | undefined;
  let off = FILE_MAGIC.length;
  const isMagic = (at: number): boolean => buf.subarray(at, at + 4).equals(FRAME_MAGIC) || buf.subarray(at, at + 4).equals(DELTA_MAGIC);
  /** the next frame of either kind after `from` */
  const nextMagic = (from: number): number => {
    const a = buf.indexOf(FRAME_MAGIC, from);
    const b = buf.indexOf(DELTA_MAGIC, from);
    return a < 0 ? b : b < 0 ? a : Math.min(a, b);
  };
  while (off < buf.length) {
    const delta = buf.subarray(off, off + 4).equals(DELTA_MAGIC);
    const headerLen = delta ? DELTA_HEADER : FRAME_HEADER;
    if (off + headerLen > buf.length || !isMagic(off)) {
      const head = buf.subarray(off, Math.min(buf.length, off + 4));
      if (off + headerLen > buf.length && (head.equals(FRAME_MAGIC.subarray(0, head.length)) || head.equals(DELTA_MAGIC.subarray(0, head.length)))) {
        truncatedAt = off;
        break;
      }
      // lost sync: look for the next frame
      const next = nextMagic(off + 1);
      bad++;
      firstBad ??= off;
      if (next < 0) break;
      off = next;
      continue;
    }
    const len = buf.readUInt32LE(off + 4);
    const crc = buf.readUInt32LE(off + 8);
    const wallMs = buf.readDoubleLE(off + 12);
    const start = off + headerLen;
    if (len > MAX_FRAME || start + len > buf.length) {
      const next = nextMagic(off + 4);
      if (next < 0) {
        truncatedAt = off;
        break;
      }
      bad++;
      firstBad ??= off;
      off = next;
      continue;
    }
    if (crc32(buf.subarray(start, start + len)) !== crc) {
      bad++;
      firstBad ??= off;
      if (!delta) lastKey = undefined; // its deltas cannot be replayed
      const next = nextMagic(off + 4);
      if (next < 0) break;
      off = next;
      continue;
    }
    if (delta) {
      const base = buf.readDoubleLE(off + 20);
      if (lastKey !== undefined && frames[lastKey]!.wallMs === base) frames.push({ offset: start, length: len, wallMs, keyIndex: lastKey });
      else orphans++;
    } else {
      lastKey = frames.length;
      frames.push({ offset: start, length: len, wallMs });
    }
    off = start + len;
  }
  const parts: string[] = [];
  if (bad) parts.push(`${bad} damaged frame${bad === 1 ? '' : 's'} skipped (first at byte ${firstBad})`);
  if (orphans) parts.push(`${orphans} frame${orphans === 1 ? '' : 's'} skipped with ${orphans === 1 ? 'its' : 'their'} damaged key frame`);
  if (truncatedAt !== undefined) parts.push(`truncated at byte ${truncatedAt}: replaying the ${frames.length} intact samples before it`);
  return { version, frames, problem: parts.length ? `${name}: ${parts.join('; ')}` : undefined };
}

/** A frame's payload as written: a Sample, or for a delta frame the DeltaPayload (see applyDelta). */
export function decodeFrame(buf: Buffer, f: FrameRef): Sample | DeltaPayload | DeltaV2 {
  let text: Buffer;
  try {
    // bounded: a recording is hostile input, and a few KiB of brotli can expand to gigabytes
    text = brotliDecompressSync(buf.subarray(f.offset, f.offset + f.length), { maxOutputLength: MAX_SAMPLE_BYTES });
  } catch (e) {
    if (e instanceof RangeError || (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new RecordingError(`the frame at byte ${f.offset} is larger than ${MAX_SAMPLE_BYTES} bytes once decompressed: refused`);
    throw new RecordingError(`the frame at byte ${f.offset} cannot be decompressed: ${(e as Error).message}`);
  }
  return JSON.parse(text.toString('utf8')) as Sample | DeltaPayload | DeltaV2;
}
