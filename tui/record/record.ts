/** `ctop --record FILE`: append each sample as one frame (see format.ts). */
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import type { Sample } from '../sample.js';
import type { RawProc } from '../sample.js';
import { encodeDelta, encodeFrame, FILE_MAGIC, FILE_MAGIC_V1, KEY_EVERY, RecordingError } from './format.js';
import { strerror } from '../../src/util/strerror.js';

export interface Recorder {
  append(s: Sample): void;
  close(): void;
  readonly bytes: number;
}

/**
 * Open FILE for appending (a new file gets the header; an existing recording of this format is
 * continued). A file that is not a recording, or a recording in the older CTOPREC1 format, is left
 * as it was: RecordingError.
 */
export function openRecorder(path: string): Recorder {
  let fd: number;
  try {
    // 'a+' with O_NONBLOCK: a FIFO named as the recording must not block the open
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | constants.O_NONBLOCK | constants.O_NOCTTY, 0o600);
  } catch (e) {
    throw new RecordingError(`cannot record to ${path}: ${strerror((e as NodeJS.ErrnoException).code)}`);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    // a FIFO, a socket or a device (/dev/full): not a file a recording can be read back from
    throw new RecordingError(`cannot record to ${path}: not a regular file`);
  }
  let bytes = st.size;
  if (bytes > 0) {
    const head = Buffer.alloc(FILE_MAGIC.length);
    const got = readSync(fd, head, 0, head.length, 0);
    const magic = head.toString('latin1', 0, got);
    if (magic !== FILE_MAGIC) {
      closeSync(fd);
      throw new RecordingError(
        magic === FILE_MAGIC_V1
          ? `${path}: a recording in the older format (CTOPREC1): ctop replays it but does not add to it; record to a new file`
          : `${path}: not a ctop recording; not appending to it`,
      );
    }
  }
  /** a failed write (a full disk, EIO) ends the recording: RecordingError, the file closed */
  const write = (b: Buffer): number => {
    try {
      return writeSync(fd, b);
    } catch (e) {
      closeSync(fd);
      open = false;
      throw new RecordingError(`cannot write to ${path}: ${strerror((e as NodeJS.ErrnoException).code)}; the recording stops here`);
    }
  };
  let open = true;
  if (bytes === 0) bytes += write(Buffer.from(FILE_MAGIC, 'latin1'));
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
      bytes += write(frame);
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
