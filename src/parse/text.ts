/**
 * Bytes from the kernel are not always UTF-8 (argv, environ, paths). Decode losslessly: valid
 * UTF-8 as usual, every byte that is not part of valid UTF-8 as a lone surrogate U+DC80+byte
 * (Python's surrogateescape). `escapeControl` later prints those as `\xNN`, like lsns.
 */
export function decodeBytes(buf: Buffer, start = 0, end = buf.length): string {
  const s = buf.toString('utf8', start, end);
  if (!s.includes('\uFFFD')) return s;
  // one pass into UTF-16 code units (at most one per byte), turned into a string in chunks: an
  // attacker's 6 MiB of 0xff (an environ, a cmdline) once made 6 million one-character strings
  // and took seconds
  const units = new Uint16Array(end - start);
  let n = 0;
  let i = start;
  while (i < end) {
    const b = buf[i]!;
    if (b < 0x80) {
      units[n++] = b;
      i++;
      continue;
    }
    const len = validSequenceLength(buf, i, end);
    if (len === 0) {
      units[n++] = 0xdc00 + b;
      i++;
    } else if (len === 2) {
      units[n++] = ((b & 0x1f) << 6) | (buf[i + 1]! & 0x3f);
      i += 2;
    } else if (len === 3) {
      units[n++] = ((b & 0x0f) << 12) | ((buf[i + 1]! & 0x3f) << 6) | (buf[i + 2]! & 0x3f);
      i += 3;
    } else {
      const cp = (((b & 0x07) << 18) | ((buf[i + 1]! & 0x3f) << 12) | ((buf[i + 2]! & 0x3f) << 6) | (buf[i + 3]! & 0x3f)) - 0x10000;
      units[n++] = 0xd800 + (cp >> 10);
      units[n++] = 0xdc00 + (cp & 0x3ff);
      i += 4;
    }
  }
  const parts: string[] = [];
  for (let k = 0; k < n; k += 8192) parts.push(String.fromCharCode.apply(null, units.subarray(k, Math.min(n, k + 8192)) as unknown as number[]));
  return parts.join('');
}

/**
 * Undo an escaping that writes bytes as text (`\ooo` in mountinfo, `\xNN` in systemd unit
 * names): each escape is one byte, and the bytes are decoded together with the text around them
 * (decodeBytes), so `\xe2\x80\xae` is U+202E and `\377` a byte that is not UTF-8 (kept as
 * U+DCFF, printed `\xff`), never Latin-1 (`â\x80®`, `ÿ`). `re` is global, its group 1 the digits.
 */
export function unescapeBytes(s: string, re: RegExp, radix: 8 | 16): string {
  re.lastIndex = 0;
  if (!re.test(s)) return s;
  re.lastIndex = 0;
  const parts: Buffer[] = [];
  let at = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    if (m.index > at) parts.push(bytesOf(s.slice(at, m.index)));
    parts.push(Buffer.of(parseInt(m[1]!, radix) & 0xff));
    at = m.index + m[0].length;
  }
  if (at < s.length) parts.push(bytesOf(s.slice(at)));
  return decodeBytes(Buffer.concat(parts));
}

/** encodeBytes, or plain UTF-8 for text that did not come from decodeBytes (a lone surrogate of no byte) */
function bytesOf(s: string): Buffer {
  try {
    return encodeBytes(s);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return Buffer.from(s, 'utf8');
  }
}

/** String.prototype.isWellFormed (ES2024; Node 20 has it, the ES2023 lib does not declare it) */
type WellFormed = { isWellFormed(): boolean };

/** true when `s` holds no lone surrogate: Node's UTF-8 encoding of it is then exact (native, ~5 ns a path) */
export function isWellFormed(s: string): boolean {
  return (s as unknown as WellFormed).isWellFormed();
}

/**
 * The inverse of decodeBytes: the bytes a string decoded from. Well-formed text is encoded as
 * UTF-8; a lone surrogate U+DC80–U+DCFF becomes the byte it stands for (0x80–0xFF). Any other
 * lone surrogate (U+D800–U+DBFF unpaired, U+DC00–U+DC7F) stands for no byte: decodeBytes never
 * makes one, so such a string did not come from the kernel, and it is refused (RangeError)
 * rather than encoded as EF BF BD (U+FFFD), which would name another file.
 *
 * Round trip: encodeBytes(decodeBytes(b)) equals b for every byte sequence b.
 */
export function encodeBytes(s: string): Buffer {
  if (isWellFormed(s)) return Buffer.from(s, 'utf8');
  // one buffer written in one pass (at most 3 bytes a code unit): a byte at a time through
  // Buffer.concat took 19 s for 6 MiB of 0xff (a hostile environ handed on by nsenter-ts --env)
  const out = Buffer.allocUnsafe(s.length * 3);
  let n = 0;
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++; // a pair: one character, encoded with its run
        continue;
      }
      throw new RangeError(`not bytes: a lone surrogate U+${c.toString(16).toUpperCase()} at ${i} stands for no byte`);
    }
    if (c < 0xdc80) throw new RangeError(`not bytes: a lone surrogate U+${c.toString(16).toUpperCase()} at ${i} stands for no byte`);
    if (run < i) n += out.write(s.slice(run, i), n, 'utf8');
    out[n++] = c - 0xdc00;
    run = i + 1;
  }
  if (run < s.length) n += out.write(s.slice(run), n, 'utf8');
  return Buffer.from(out.subarray(0, n));
}

/** Is the byte at i (before end) in lo..hi (a continuation byte: 0x80..0xbf by default)? */
function isCont(buf: Buffer, i: number, end: number, lo = 0x80, hi = 0xbf): boolean {
  if (i >= end) return false;
  const c = buf[i]!;
  return c >= lo && c <= hi;
}

/** Length of the well-formed UTF-8 sequence at i (RFC 3629, Unicode table 3-7), 0 if none. */
function validSequenceLength(buf: Buffer, i: number, end: number): number {
  const b = buf[i]!;
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return isCont(buf, i + 1, end) ? 2 : 0;
  if (b === 0xe0) return isCont(buf, i + 1, end, 0xa0) && isCont(buf, i + 2, end) ? 3 : 0;
  if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return isCont(buf, i + 1, end) && isCont(buf, i + 2, end) ? 3 : 0;
  if (b === 0xed) return isCont(buf, i + 1, end, 0x80, 0x9f) && isCont(buf, i + 2, end) ? 3 : 0;
  if (b === 0xf0) return isCont(buf, i + 1, end, 0x90) && isCont(buf, i + 2, end) && isCont(buf, i + 3, end) ? 4 : 0;
  if (b >= 0xf1 && b <= 0xf3) return isCont(buf, i + 1, end) && isCont(buf, i + 2, end) && isCont(buf, i + 3, end) ? 4 : 0;
  if (b === 0xf4) return isCont(buf, i + 1, end, 0x80, 0x8f) && isCont(buf, i + 2, end) && isCont(buf, i + 3, end) ? 4 : 0;
  return 0;
}

/** Split a NUL-separated buffer; a missing final NUL does not lose the last entry. */
export function splitNul(buf: Buffer): string[] {
  // decoded once and split natively: a NUL byte is never inside a UTF-8 sequence, so decoding the
  // whole and splitting equals decoding each part (a dump's 6 MiB of NULs was 6 million native
  // calls, a second a file)
  if (buf.length === 0) return [];
  const parts = decodeBytes(buf).split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Lines of a text file without the empty string a final newline leaves behind. */
export function lines(text: string): string[] {
  const out = text.split('\n');
  if (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}
