/**
 * Bytes from the kernel are not always UTF-8 (argv, environ, paths). Decode losslessly: valid
 * UTF-8 as usual, every byte that is not part of valid UTF-8 as a lone surrogate U+DC80+byte
 * (Python's surrogateescape). `escapeControl` later prints those as `\xNN`, like lsns.
 */
export function decodeBytes(buf: Buffer, start = 0, end = buf.length): string {
  const s = buf.toString('utf8', start, end);
  if (!s.includes('\uFFFD')) return s;
  let out = '';
  let i = start;
  while (i < end) {
    const b = buf[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len > 0 && i + len <= end) {
      const piece = buf.toString('utf8', i, i + len);
      if (!piece.includes('\uFFFD') || (len === 3 && b === 0xef && buf[i + 1] === 0xbf && buf[i + 2] === 0xbd)) {
        out += piece;
        i += len;
        continue;
      }
    }
    out += String.fromCharCode(0xdc00 + b);
    i += 1;
  }
  return out;
}

/** Split a NUL-separated buffer; a missing final NUL does not lose the last entry. */
export function splitNul(buf: Buffer): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0) {
      parts.push(decodeBytes(buf, start, i));
      start = i + 1;
    }
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
