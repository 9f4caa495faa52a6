/**
 * The one escaping function for text that came from the host (comm, cmdline, environ, cgroup
 * and mount paths, file contents, error messages quoting them). Anyone who can name a process or
 * a cgroup can otherwise drive the reader's terminal (`\e]0;title\a`, `\e[2J`) or reorder what
 * it shows (bidi overrides). Every renderer passes host strings through `escapeControl`; JSON
 * goes through `jsonSafe`.
 *
 * Escaped, as lsns does for bytes (`\xNN`):
 * - C0 controls U+0000–U+001F and DEL U+007F;
 * - C1 controls U+0080–U+009F, whether they arrived UTF-8 encoded (C2 80–C2 9F) or as raw bytes
 *   0x80–0x9F (decodeBytes keeps a byte that is not UTF-8 as the lone surrogate U+DC80+byte);
 * - every other byte that was not UTF-8 (U+DC80–U+DCFF → `\xNN`).
 * Escaped as `\uXXXX`: the bidi embeddings and overrides U+202A–U+202E, the isolates
 * U+2066–U+2069, the marks U+200E, U+200F, U+061C, the line/paragraph separators
 * U+2028, U+2029 (a terminal may break a line on them), and the characters that take no width
 * and show nothing: U+200B–U+200D, U+2060 and U+FEFF (`img\u200bx` would read as `imgx`).
 */
// a lone low surrogate U+DC80–U+DCFF is an undecodable byte; after a high surrogate it is half of
// a real character (U+1F480 is D83D DC80) and stays
const NEEDS_ESCAPE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]|(?<![\ud800-\udbff])[\udc80-\udcff]/;
const NEEDS_ESCAPE_ALL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]|(?<![\ud800-\udbff])[\udc80-\udcff]/g;

function escapeOne(ch: string): string {
  const c = ch.charCodeAt(0);
  if (c <= 0x9f) return `\\x${c.toString(16).padStart(2, '0')}`;
  if (c >= 0xdc80 && c <= 0xdcff) return `\\x${(c - 0xdc00).toString(16).padStart(2, '0')}`;
  return `\\u${c.toString(16).padStart(4, '0')}`;
}

export function escapeControl(s: string): string {
  // fast path: nothing to escape (the common case, run on every table cell)
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(NEEDS_ESCAPE_ALL, escapeOne);
}

/** Characters JSON.stringify leaves raw that a terminal still obeys (C1 controls, bidi, zero-width, lone surrogates). */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]|(?<![\ud800-\udbff])[\udc80-\udcff]/;
const JSON_UNSAFE_ALL = /[\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]|(?<![\ud800-\udbff])[\udc80-\udcff]/g;

/**
 * For JSON values: JSON.stringify escapes C0 controls itself; the rest of what escapeControl
 * escapes is given as the same `\xNN` / `\uXXXX` text, so raw bytes come back as `\xNN` and no
 * C1 control or bidi override reaches a terminal that shows the JSON.
 */
export function jsonSafe(s: string): string {
  return JSON_UNSAFE.test(s) ? s.replace(JSON_UNSAFE_ALL, escapeOne) : s;
}

/** `\x9b` as it is written inside a JSON string literal (its backslash escaped) */
function escapeOneInJson(ch: string): string {
  return `\\${escapeOne(ch)}`;
}

/**
 * The one way a JSON document is written: every string value through jsonSafe, and what is left
 * in the text — an object key from the host (an environment variable's name, a label) — escaped
 * in place the same way: outside string literals JSON text is ASCII, so whatever matches is
 * inside a string, where `\\xNN` stands for the same `\xNN` text jsonSafe gives a value. Ends
 * with a newline. JSON.stringify writes it; when its recursion runs out (a dump's cgroup tree
 * nests two thousand groups deep) the same text is written with a stack instead (stringifyDeep).
 */
export function jsonText(v: unknown, indent: number | string = 2): string {
  let text: string;
  try {
    // the native writer first (the common case, and fast); its recursion ends in a RangeError
    text = JSON.stringify(v, jsonReplacer, indent) ?? '';
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    text = stringifyDeep(v, typeof indent === 'number' ? ' '.repeat(Math.min(10, Math.max(0, indent))) : indent.slice(0, 10));
  }
  return `${JSON_UNSAFE.test(text) ? text.replace(JSON_UNSAFE_ALL, escapeOneInJson) : text}\n`;
}

function jsonReplacer(_k: string, x: unknown): unknown {
  return typeof x === 'string' ? jsonSafe(x) : x;
}

/** a value as JSON.stringify writes one that holds no object or array (undefined: left out) */
function scalar(x: unknown): string | undefined {
  if (typeof x === 'string') return JSON.stringify(jsonSafe(x));
  if (typeof x === 'number') return Number.isFinite(x) ? JSON.stringify(x) : 'null';
  if (typeof x === 'boolean') return x ? 'true' : 'false';
  if (x === null) return 'null';
  if (typeof x === 'bigint') throw new TypeError('Do not know how to serialize a BigInt');
  return undefined; // undefined, a function, a symbol
}

interface Frame {
  /** [key or undefined, value] still to write */
  items: [string | undefined, unknown][];
  i: number;
  close: string;
  pad: string;
  wrote: boolean;
}

function stringifyDeep(root: unknown, gap: string): string {
  const out: string[] = [];
  const sep = gap === '' ? ':' : ': ';
  const open = (x: object, pad: string): Frame | string => {
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]';
      out.push('[');
      return { items: x.map((e) => [undefined, e]), i: 0, close: ']', pad, wrote: false };
    }
    const items: [string | undefined, unknown][] = [];
    for (const k of Object.keys(x)) items.push([k, (x as Record<string, unknown>)[k]]);
    if (items.length === 0) return '{}';
    out.push('{');
    return { items, i: 0, close: '}', pad, wrote: false };
  };
  const prepare = (x: unknown, key: string): unknown => {
    if (x !== null && typeof x === 'object' && typeof (x as { toJSON?: unknown }).toJSON === 'function') return (x as { toJSON(k: string): unknown }).toJSON(key);
    return x;
  };
  const first = prepare(root, '');
  if (first === null || typeof first !== 'object') return scalar(first) ?? '';
  const stack: Frame[] = [];
  const top = open(first, '');
  if (typeof top === 'string') return top;
  stack.push(top);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if (f.i === f.items.length) {
      stack.pop();
      out.push(gap === '' || !f.wrote ? f.close : `\n${f.pad}${f.close}`);
      continue;
    }
    const [k, raw] = f.items[f.i++]!;
    const x = prepare(raw, k ?? String(f.i - 1));
    const isObj = x !== null && typeof x === 'object';
    const sc = isObj ? undefined : scalar(x);
    if (!isObj && sc === undefined && k !== undefined) continue; // an object leaves undefined out
    const inner = f.pad + gap;
    out.push(`${f.wrote ? ',' : ''}${gap === '' ? '' : `\n${inner}`}${k === undefined ? '' : `${JSON.stringify(k)}${sep}`}`);
    f.wrote = true;
    if (!isObj) {
      out.push(sc ?? 'null'); // an array writes null for undefined
      continue;
    }
    const g = open(x, inner);
    if (typeof g === 'string') out.push(g);
    else stack.push(g);
  }
  return out.join('');
}
