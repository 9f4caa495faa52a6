/** `ctop --record FILE`: append each sample as one frame (see format.ts). */
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import type { Sample } from '../sample.js';
import { encodeFrame, FILE_MAGIC } from './format.js';

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
  return {
    append(s) {
      if (!open) return;
      // one write per frame: a crash tears at most this frame
      bytes += writeSync(fd, encodeFrame(s));
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
