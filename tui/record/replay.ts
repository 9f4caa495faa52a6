/** `ctop --replay FILE`: the intact frames of a recording, decoded on demand. */
import { readFileSync } from 'node:fs';
import { strerror } from '../../src/util/strerror.js';
import type { Sample } from '../sample.js';
import { applyDelta, decodeFrame, RecordingError, scanFrames, type FrameRef } from './format.js';
import { checkDelta, checkSample, ShapeError } from './check.js';

export { RecordingError };

export interface Recording {
  count: number;
  frames: FrameRef[];
  problem: string | undefined;
  get(i: number): Sample;
  /**
   * up to `n` samples ending at index i, oldest first (rates and sparklines need the ones before);
   * RecordingError when frame i is refused (see check.ts), an earlier refused frame is left out
   */
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
      try {
        // a delta of either version (CTOPREC1: changed processes whole; CTOPREC2: diffs), checked
        // before it is applied, and what it gives back checked whole as a key frame is
        s = checkSample(f.keyIndex !== undefined ? applyDelta(get(f.keyIndex), checkDelta(d)) : d);
      } catch (e) {
        if (e instanceof ShapeError) throw new RecordingError(`the frame at byte ${f.offset} is not a ctop sample: ${e.message}`);
        throw e;
      }
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
      for (let j = Math.max(0, i - n + 1); j <= i; j++) {
        try {
          out.push(get(j));
        } catch (e) {
          // an earlier frame that is refused only leaves a gap in the rates and sparklines; the
          // frame asked for is refused aloud
          if (j === i || !(e instanceof RecordingError)) throw e;
        }
      }
      return out;
    },
    indexAt(wallMs) {
      let best = 0;
      for (let j = 0; j < frames.length; j++) if (frames[j]!.wallMs <= wallMs) best = j;
      return best;
    },
  };
}
