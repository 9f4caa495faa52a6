import { ParseError } from './errors.js';
import { lines } from './text.js';
import { bigDecimal, exactInteger } from './numbers.js';

/**
 * The few shapes cgroupfs control files come in (Documentation/admin-guide/cgroup-v2.rst,
 * "Interface Files"): a single value, flat keyed (`key value` lines), nested keyed
 * (`key sub=value …` lines), plus v1 blkio's `MAJ:MIN Op value` lines.
 */

/**
 * A cgroupfs integer: plain decimal, exact as a double. v1's "no limit" marker is exact
 * (2^63 − 4096 = PAGE_COUNTER_MAX × 4 KiB pages); a value a double cannot hold exactly is a
 * ParseError, never rounded (counters that pass 2^53 are read with parseSingleBig).
 */
function cgInt(t: string, path: string, line: number, text: string): number {
  // the kernel prints these as u64 (or s64 counters that never go below 0): a sign, -0 or a value
  // past 2^64 − 1 (2^64 itself is exact as a double) was not written by it
  if (t[0] === '-') throw new ParseError(path, `negative: ${JSON.stringify(t.slice(0, 40))}`, line, text);
  const n = exactInteger(t);
  if (n === undefined) {
    const why = /^-?[0-9]+$/.test(t) ? 'not exact as a number (use the BigInt reader)' : 'not an integer';
    throw new ParseError(path, `${why}: ${JSON.stringify(t.slice(0, 40))}`, line, text);
  }
  if (n >= 2 ** 64) throw new ParseError(path, `beyond 2^64 − 1: ${JSON.stringify(t.slice(0, 40))}`, line, text);
  return n;
}

/**
 * A single number, or `max` (v2 "no limit"), as null. Never negative, except `-1` where
 * `minusOne` says the file uses it (v1's "no limit", as cpu.cfs_quota_us prints it): returned as -1.
 */
export function parseSingleValue(text: string, path = 'value', minusOne = false): number | null {
  const t = text.trim();
  if (t === 'max') return null;
  if (minusOne && t === '-1') return -1;
  if (!/^-?[0-9]+$/.test(t)) throw new ParseError(path, `expected a number or max, got ${JSON.stringify(t.slice(0, 40))}`, 1, t.slice(0, 200));
  return cgInt(t, path, 1, t);
}

/** v1 files where the kernel (or a write of it) uses -1 for "no limit" */
export const V1_MINUS_ONE_FILES: ReadonlySet<string> = new Set(['cpu.cfs_quota_us', 'cpu.rt_runtime_us', 'memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes']);

/** A single counter that may pass 2^53 (cpuacct.usage in ns: 104 days of CPU), as BigInt. */
export function parseSingleBig(text: string, path = 'value'): bigint {
  const t = text.trim();
  const n = bigDecimal(t);
  if (n === undefined) throw new ParseError(path, `expected an integer, got ${JSON.stringify(t.slice(0, 40))}`, 1, t.slice(0, 200));
  return n;
}

/** `key value` per line, e.g. memory.stat, cpu.stat, memory.events. A null-prototype object. */
export function parseFlatKeyed(text: string, path = 'flat'): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  lines(text).forEach((line, i) => {
    if (line.trim() === '') return;
    const [k, v, extra] = line.trim().split(/\s+/);
    if (k === undefined || v === undefined || extra !== undefined) throw new ParseError(path, 'expected "key value"', i + 1, line);
    out[k] = cgInt(v, path, i + 1, line);
  });
  return out;
}

/**
 * `key a=1 b=2` per line, e.g. io.stat, memory.pressure; values stay strings (`max` appears).
 * A Map of null-prototype objects: keys come from the file (`__proto__` is a key like any other).
 */
export function parseNestedKeyed(text: string, path = 'nested'): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  lines(text).forEach((line, i) => {
    if (line.trim() === '') return;
    const [k, ...pairs] = line.trim().split(/\s+/);
    const entry: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const p of pairs) {
      const eq = p.indexOf('=');
      if (eq <= 0) throw new ParseError(path, `expected key=value, got ${JSON.stringify(p.slice(0, 40))}`, i + 1, line);
      entry[p.slice(0, eq)] = p.slice(eq + 1);
    }
    out.set(k!, entry);
  });
  return out;
}

/**
 * v1 blkio.throttle.io_service_bytes / io_serviced: `8:0 Read 123` lines and a `Total` line.
 * Summed per operation over devices, exactly (BigInt), refused if the sum is not exact.
 */
export function parseBlkioOps(text: string, path = 'blkio'): Map<string, number> {
  const totals = new Map<string, bigint>();
  lines(text).forEach((line, i) => {
    const f = line.trim().split(/\s+/);
    if (f.length === 2 && f[0] === 'Total') return;
    if (f.length !== 3) {
      if (line.trim() === '') return;
      throw new ParseError(path, 'expected "MAJ:MIN Op value"', i + 1, line);
    }
    const n = bigDecimal(f[2]!);
    if (n === undefined) throw new ParseError(path, 'value is not a number', i + 1, line);
    totals.set(f[1]!, (totals.get(f[1]!) ?? 0n) + n);
  });
  const out = new Map<string, number>();
  for (const [op, big] of totals) {
    const n = Number(big);
    if (BigInt(n) !== big) throw new ParseError(path, `${op} total ${big} is not exact as a number`);
    out.set(op, n);
  }
  return out;
}

/** v2 cpu.max: `$MAX $PERIOD`, MAX being `max` for no quota. */
export function parseCpuMax(text: string, path = 'cpu.max'): { quotaUsec: number | null; periodUsec: number } {
  const t = text.trim();
  const m = /^(max|\d{1,15})\s+(\d{1,15})$/.exec(t);
  if (!m) throw new ParseError(path, `expected "max|QUOTA PERIOD", got ${JSON.stringify(t.slice(0, 40))}`, 1, t.slice(0, 200));
  const period = Number(m[2]);
  if (period === 0) throw new ParseError(path, 'period is 0', 1, t);
  return { quotaUsec: m[1] === 'max' ? null : Number(m[1]), periodUsec: period };
}

/** v1 memory.limit_in_bytes and friends print PAGE_COUNTER_MAX × page size for "unlimited". */
export const V1_UNLIMITED_THRESHOLD = 2 ** 62;

/** A v1 limit, null when it means unlimited (≥ 2^62 or -1). */
export function v1Limit(n: number): number | null {
  return n < 0 || n >= V1_UNLIMITED_THRESHOLD ? null : n;
}
