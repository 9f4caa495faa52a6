/**
 * A strict JSON reader for hostile input (config.json, process.json, state.json). Pure.
 * JSON.parse is not enough for a runtime: it silently rounds integers beyond 2^53 (a uid or a
 * limit would change value), keeps the last of duplicate keys (two answers to one question) and
 * has no depth limit. This reader:
 * - caps the input size and the nesting depth;
 * - refuses duplicate keys and the key `__proto__` (objects are made without a prototype anyway);
 * - gives integers beyond 2^53 as bigint, so a validator can accept them where the field is a
 *   uint64 (rlimits, seccomp argument values) and refuse them elsewhere; non-finite numbers and
 *   inexact big fractions are refused;
 * - reports one line with the JSON path and the byte offset.
 */

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export class JsonError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'JsonError';
  }
}

export interface JsonLimits {
  /** bytes (UTF-16 code units of the decoded text) */
  maxSize: number;
  maxDepth: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = { maxSize: 4 * 1024 * 1024, maxDepth: 64 };

/** `.a.b[3]`-style path for messages; keys that are not identifiers are quoted */
export function jsonPathJoin(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  const k = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
  return base === '' ? k : `${base}.${k}`;
}

export function parseJson(text: string, limits: JsonLimits = DEFAULT_JSON_LIMITS): JsonValue {
  if (text.length > limits.maxSize) throw new JsonError(`larger than ${limits.maxSize} bytes`, 0);
  let i = 0;
  const n = text.length;
  const fail = (msg: string): never => {
    throw new JsonError(`${msg} at offset ${i}`, i);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const str = (): string => {
    // at the opening quote
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c === 0x5c) {
        out += text.slice(start, i);
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const h = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
            out += String.fromCharCode(parseInt(h, 16));
            i += 4;
            break;
          }
          default:
            i -= 2;
            fail('bad escape');
        }
        start = i;
        continue;
      }
      i++;
    }
  };
  const num = (): number | bigint => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('bad number');
    const lit = m[0];
    if (lit.length >= 400) fail('number too long');
    i += lit.length;
    if (m[2] === undefined && m[3] === undefined) {
      const v = Number(lit);
      if (Number.isSafeInteger(v)) return v;
      return BigInt(lit);
    }
    const v = Number(lit);
    if (!Number.isFinite(v)) fail('number out of range');
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) fail('number beyond 2^53 written with a fraction or exponent');
    return v;
  };
  const value = (depth: number): JsonValue => {
    ws();
    if (i >= n) fail('unexpected end of input');
    const c = text[i]!;
    if (c === '{') {
      if (depth >= limits.maxDepth) fail(`nested deeper than ${limits.maxDepth}`);
      i++;
      const obj: JsonObject = Object.create(null) as JsonObject;
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const keyAt = i;
        const key = str();
        if (key === '__proto__') {
          i = keyAt;
          fail('key "__proto__" refused');
        }
        if (Object.prototype.hasOwnProperty.call(obj, key)) {
          i = keyAt;
          fail(`duplicate key ${JSON.stringify(key)}`);
        }
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        obj[key] = value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      if (depth >= limits.maxDepth) fail(`nested deeper than ${limits.maxDepth}`);
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c >= '0' && c <= '9')) return num();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    return fail('unexpected character');
  };
  // a UTF-8 BOM is not JSON (Go refuses it too)
  const v = value(0);
  ws();
  if (i < n) fail('trailing data');
  return v;
}

export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
