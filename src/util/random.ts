import { closeSync, openSync, readSync } from 'node:fs';

/**
 * `n` random bytes as hex, read from /dev/urandom: for unique temp-file names and lock nonces.
 * Not node:crypto, whose import loads some twenty internal modules (streams among them) on every
 * start of a bundled bin — measurable in `runc-ts run` (docs/runtime.md, Speed).
 */
export function randomHex(n: number): string {
  const b = Buffer.alloc(n);
  const fd = openSync('/dev/urandom', 'r');
  try {
    let got = 0;
    while (got < n) {
      const r = readSync(fd, b, got, n - got, null);
      if (r <= 0) throw new Error('/dev/urandom: short read');
      got += r;
    }
  } finally {
    closeSync(fd);
  }
  return b.toString('hex');
}
