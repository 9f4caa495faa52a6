/** `ctop --record FILE`: append each sample as one frame (see format.ts). */
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import type { Sample } from '../sample.js';
import type { RawProc } from '../sample.js';
import { encodeDelta, encodeFrame, FILE_MAGIC, KEY_EVERY } from './format.js';

export interface Recorder {
  append(s: Sample): void;
  close(): void;
  readonly bytes: number;
}

/** Open FILE for appending (a new file gets the header; an existing recording is continued). */
export function openRecorder(path: string): Recorder {
  const fd = openSync(path, 'a', 0o600);
  let bytes = fstatSync(fd).size;
  if (bytes === 0) bytes += writeSync(fd, FILE_MAGIC);
  let open = true;
  // the last key frame (a continued file starts with one of its own) and how many deltas since
  let key: { s: Sample; byPid: Map<number, RawProc> } | undefined;
  let sinceKey = 0;
  return {
    append(s) {
      if (!open) return;
      let frame = key && sinceKey < KEY_EVERY - 1 ? encodeDelta(s, key.s, key.byPid) : undefined;
      if (frame) sinceKey++;
      else {
        frame = encodeFrame(s);
        key = { s, byPid: new Map(s.procs.map((p) => [p.pid, p])) };
        sinceKey = 0;
      }
      // one write per frame: a crash tears at most this frame
      bytes += writeSync(fd, frame);
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
    get bytes() {
      return bytes;
    },
  };
}
