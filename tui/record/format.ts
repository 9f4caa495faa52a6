/**
 * ctop's recording format: a header line, then frames. Each frame is
 *   magic "CTFR" | u32 payload length | u32 CRC32 of the payload | f64 wall time (ms) | payload
 * (little endian), the payload a brotli-compressed JSON Sample. A frame whose length runs past the
 * end (a torn write) or whose CRC does not match is skipped: the reader looks for the next magic,
 * so one bad frame costs one sample, never the rest of the file.
 */
import { brotliCompressSync, brotliDecompressSync, constants, crc32 } from 'node:zlib';
import type { Sample } from '../sample.js';

export const FILE_MAGIC = 'CTOPREC1\n';
export const FRAME_MAGIC = Buffer.from('CTFR', 'latin1');
export const FRAME_HEADER = 4 + 4 + 4 + 8;
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

export interface FrameRef {
  offset: number;
  length: number;
  wallMs: number;
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
  let off = FILE_MAGIC.length;
  while (off < buf.length) {
    if (off + FRAME_HEADER > buf.length || !buf.subarray(off, off + 4).equals(FRAME_MAGIC)) {
      if (off + FRAME_HEADER > buf.length && buf.subarray(off, Math.min(buf.length, off + 4)).equals(FRAME_MAGIC.subarray(0, Math.min(4, buf.length - off)))) {
        truncatedAt = off;
        break;
      }
      // lost sync: look for the next frame
      const next = buf.indexOf(FRAME_MAGIC, off + 1);
      bad++;
      firstBad ??= off;
      if (next < 0) break;
      off = next;
      continue;
    }
    const len = buf.readUInt32LE(off + 4);
    const crc = buf.readUInt32LE(off + 8);
    const wallMs = buf.readDoubleLE(off + 12);
    const start = off + FRAME_HEADER;
    if (len > MAX_FRAME || start + len > buf.length) {
      const next = buf.indexOf(FRAME_MAGIC, off + 4);
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
      const next = buf.indexOf(FRAME_MAGIC, off + 4);
      if (next < 0) break;
      off = next;
      continue;
    }
    frames.push({ offset: start, length: len, wallMs });
    off = start + len;
  }
  const parts: string[] = [];
  if (bad) parts.push(`${bad} damaged frame${bad === 1 ? '' : 's'} skipped (first at byte ${firstBad})`);
  if (truncatedAt !== undefined) parts.push(`truncated at byte ${truncatedAt}: replaying the ${frames.length} intact samples before it`);
  return { frames, problem: parts.length ? `${name}: ${parts.join('; ')}` : undefined };
}

export function decodeFrame(buf: Buffer, f: FrameRef): Sample {
  return JSON.parse(brotliDecompressSync(buf.subarray(f.offset, f.offset + f.length)).toString('utf8')) as Sample;
}
