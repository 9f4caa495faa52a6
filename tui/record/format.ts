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
 */
import { brotliCompressSync, brotliDecompressSync, constants, crc32 } from 'node:zlib';
import type { RawProc, Sample } from '../sample.js';

export const FILE_MAGIC = 'CTOPREC1\n';
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

export function encodeFrame(s: Sample): Buffer {
  const payload = brotliCompressSync(Buffer.from(JSON.stringify(s)), { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } });
  const h = Buffer.alloc(FRAME_HEADER);
  FRAME_MAGIC.copy(h, 0);
  h.writeUInt32LE(payload.length, 4);
  h.writeUInt32LE(crc32(payload), 8);
  h.writeDoubleLE(s.wallMs, 12);
  return Buffer.concat([h, payload]);
}

function sameProc(a: RawProc, b: RawProc): boolean {
  if (a === b) return true;
  // the fields of a RawProc are flat but for ns, nspid and errors: compare them as JSON
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The delta of `s` against its key frame `key` (whose processes are `keyByPid`), or undefined when a key frame is smaller. */
export function encodeDelta(s: Sample, key: Sample, keyByPid: Map<number, RawProc>): Buffer | undefined {
  const procs: RawProc[] = [];
  const here = new Set<number>();
  for (const p of s.procs) {
    here.add(p.pid);
    const k = keyByPid.get(p.pid);
    if (!k || !sameProc(k, p)) procs.push(p);
  }
  if (procs.length > s.procs.length / 2) return undefined;
  const gone = key.procs.filter((p) => !here.has(p.pid)).map((p) => p.pid);
  const d: DeltaPayload = { ...s, procs, base: key.wallMs, gone };
  const payload = brotliCompressSync(Buffer.from(JSON.stringify(d)), { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } });
  const h = Buffer.alloc(DELTA_HEADER);
  DELTA_MAGIC.copy(h, 0);
  h.writeUInt32LE(payload.length, 4);
  h.writeUInt32LE(crc32(payload), 8);
  h.writeDoubleLE(s.wallMs, 12);
  h.writeDoubleLE(key.wallMs, 20);
  return Buffer.concat([h, payload]);
}

/** A delta applied to its key frame: the whole sample again (processes in pid order). */
export function applyDelta(key: Sample, d: DeltaPayload): Sample {
  const gone = new Set(d.gone);
  const byPid = new Map<number, RawProc>();
  for (const p of key.procs) if (!gone.has(p.pid)) byPid.set(p.pid, p);
  for (const p of d.procs) byPid.set(p.pid, p);
  const { base: _b, gone: _g, ...rest } = d;
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
  frames: FrameRef[];
  /** what was wrong, for one line on stderr: where the intact part stopped, frames skipped */
  problem: string | undefined;
}

/** Find every intact frame of a recording. */
export function scanFrames(buf: Buffer, name = 'recording'): ScanResult {
  if (buf.length < FILE_MAGIC.length || buf.toString('latin1', 0, FILE_MAGIC.length) !== FILE_MAGIC) return { frames: [], problem: `${name}: not a ctop recording` };
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
  return { frames, problem: parts.length ? `${name}: ${parts.join('; ')}` : undefined };
}

/** A frame's payload as written: a Sample, or for a delta frame the DeltaPayload (see applyDelta). */
export function decodeFrame(buf: Buffer, f: FrameRef): Sample {
  return JSON.parse(brotliDecompressSync(buf.subarray(f.offset, f.offset + f.length)).toString('utf8')) as Sample;
}
