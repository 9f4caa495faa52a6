/**
 * Bytes from the kernel are not always UTF-8 (argv, environ, paths). Decode losslessly: valid
 * UTF-8 as usual, every byte that is not part of valid UTF-8 as a lone surrogate U+DC80+byte
 * (Python's surrogateescape). `escapeControl` later prints those as `\xNN`, like lsns.
 */
export function decodeBytes(buf: Buffer, start = 0, end = buf.length): string {
  const s = buf.toString('utf8', start, end);
  if (!s.includes('\uFFFD')) return s;
  // one pass: valid runs are decoded whole, each invalid byte becomes one lone surrogate
  const parts: string[] = [];
  let run = start;
  let i = start;
  while (i < end) {
    const len = validSequenceLength(buf, i, end);
    if (len > 0) {
      i += len;
      continue;
    }
    if (run < i) parts.push(buf.toString('utf8', run, i));
    parts.push(String.fromCharCode(0xdc00 + buf[i]!));
    i += 1;
    run = i;
  }
  if (run < end) parts.push(buf.toString('utf8', run, end));
  return parts.join('');
}

/** Length of the well-formed UTF-8 sequence at i (RFC 3629, Unicode table 3-7), 0 if none. */
function validSequenceLength(buf: Buffer, i: number, end: number): number {
  const b = buf[i]!;
  if (b < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < end && buf[i + k]! >= lo && buf[i + k]! <= hi;
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b >= 0xf1 && b <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** Split a NUL-separated buffer; a missing final NUL does not lose the last entry. */
export function splitNul(buf: Buffer): string[] {
  const parts: string[] = [];
  let start = 0;
  // indexOf: the NUL search in native code, not a byte at a time (a cmdline is read for every row)
  for (let i = buf.indexOf(0); i >= 0; i = buf.indexOf(0, start)) {
    parts.push(decodeBytes(buf, start, i));
    start = i + 1;
  }
  if (start < buf.length) parts.push(decodeBytes(buf, start, buf.length));
  return parts;
}

/** Lines of a text file without the empty string a final newline leaves behind. */
export function lines(text: string): string[] {
  const out = text.split('\n');
  if (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}
