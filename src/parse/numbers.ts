import { ParseError } from './errors.js';

/**
 * Strict integers for kernel text. `Number()` takes `1e3`, `0x10`, ` 7 `, `4338.0` and `''` and
 * rounds anything above 2^53 without a word; the kernel prints none of those. These accept only
 * plain decimal (an optional `-`, at most 20 digits) and refuse a value a double cannot hold
 * exactly, with a ParseError naming the file.
 */

const DECIMAL = /^-?[0-9]{1,20}$/;

/** The exact number, or undefined when `s` is not a plain decimal integer a double holds exactly. */
export function exactInteger(s: string): number | undefined {
  if (!DECIMAL.test(s)) return undefined;
  if (s.length <= 15 || (s[0] === '-' && s.length <= 16)) return Number(s); // |n| < 10^15 < 2^53: exact
  const big = BigInt(s);
  const n = Number(big);
  return BigInt(n) === big ? n : undefined;
}

/** Like exactInteger, but a safe integer only (|n| ≤ 2^53 − 1): counters that are summed or compared. */
export function safeInteger(s: string): number | undefined {
  const n = exactInteger(s);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/** A plain decimal integer as BigInt (counters that may pass 2^53, e.g. cpuacct.usage in ns). */
export function bigDecimal(s: string): bigint | undefined {
  return DECIMAL.test(s) ? BigInt(s) : undefined;
}

/** A safe integer in [min, max], or a ParseError naming the file, line and what it was. */
export function intField(s: string, path: string, what: string, opts: { min?: number; max?: number; line?: number; text?: string } = {}): number {
  const n = safeInteger(s);
  if (n === undefined) {
    const why = DECIMAL.test(s) ? 'above 2^53, not exact as a number' : 'not an integer';
    throw new ParseError(path, `${what}: ${why}: ${JSON.stringify(s.slice(0, 40))}`, opts.line, opts.text);
  }
  if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    throw new ParseError(path, `${what}: ${n} out of range ${opts.min ?? '-∞'}..${opts.max ?? '∞'}`, opts.line, opts.text);
  }
  return n;
}

/** Pid and tid directory names under /proc: canonical decimal only (no `04338`, `4338.0`, `4338e0`, no `0`). */
export function parsePidName(name: string): number | undefined {
  if (!/^[1-9][0-9]{0,9}$/.test(name)) return undefined;
  const n = Number(name);
  return n <= 0x7fffffff ? n : undefined;
}
