import * as fs from 'node:fs';

/**
 * Fill `buf` from a descriptor the caller opened and checked (regular file, size bounded), at its
 * current offset: read(2) may return less than asked. Returns the bytes read, fewer than
 * `buf.length` when the file ended first (a file that shrank since its fstat).
 */
export function readInto(fd: number, buf: Buffer): number {
  let n = 0;
  while (n < buf.length) {
    const r = fs.readSync(fd, buf, n, buf.length - n, null);
    if (r === 0) break;
    n += r;
  }
  return n;
}
