/** `ctop --replay FILE`: the intact frames of a recording, decoded on demand. */
import { readFileSync } from 'node:fs';
import { strerror } from '../../src/util/strerror.js';
import type { Sample } from '../sample.js';
import { applyDelta, decodeFrame, RecordingError, scanFrames, type FrameRef } from './format.js';

export { RecordingError };

export interface Recording {
  count: number;
  frames: FrameRef[];
  problem: string | undefined;
  get(i: number): Sample;
  /** up to `n` samples ending at index i, oldest first (rates and sparklines need the ones before) */
  window(i: number, n: number): Sample[];
  /** the index of the last frame at or before wall time t (or the first) */
  indexAt(wallMs: number): number;
}

export function openRecording(path: string): Recording {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new RecordingError(`cannot read ${path}: ${strerror((e as NodeJS.ErrnoException).code)}`);
  }
  return recordingFrom(buf, path);
}

export function recordingFrom(buf: Buffer, name: string): Recording {
  const { frames, problem } = scanFrames(buf, name);
  const cache = new Map<number, Sample>();
  const get = (i: number): Sample => {
    let s = cache.get(i);
    if (!s) {
      const f = frames[i]!;
      const d = decodeFrame(buf, f);
      // a delta of either version (CTOPREC1: changed processes whole; CTOPREC2: diffs)
      s = f.keyIndex !== undefined ? applyDelta(get(f.keyIndex), d as Parameters<typeof applyDelta>[1]) : (d as Sample);
      cache.set(i, s);
      if (cache.size > 64) cache.delete(cache.keys().next().value!);
    }
    return s;
  };
  return {
    count: frames.length,
    frames,
    problem,
    get,
    window(i, n) {
      const out: Sample[] = [];
      for (let j = Math.max(0, i - n + 1); j <= i; j++) out.push(get(j));
      return out;
    },
    indexAt(wallMs) {
      let best = 0;
      for (let j = 0; j < frames.length; j++) if (frames[j]!.wallMs <= wallMs) best = j;
      return best;
    },
  };
}
