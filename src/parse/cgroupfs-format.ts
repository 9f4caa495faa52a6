import { ParseError } from './errors.js';
import { lines } from './text.js';

/**
 * The few shapes cgroupfs control files come in (Documentation/admin-guide/cgroup-v2.rst,
 * "Interface Files"): a single value, flat keyed (`key value` lines), nested keyed
 * (`key sub=value …` lines), plus v1 blkio's `MAJ:MIN Op value` lines.
 */

/** A single number, or `max` (v2 "no limit"), as null. */
export function parseSingleValue(text: string, path = 'value'): number | null {
  const t = text.trim();
  if (t === 'max') return null;
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) throw new ParseError(path, `expected a number or max, got ${JSON.stringify(t)}`, 1, t);
  return n;
}

/** `key value` per line, e.g. memory.stat, cpu.stat, memory.events. */
export function parseFlatKeyed(text: string, path = 'flat'): Record<string, number> {
  const out: Record<string, number> = {};
  lines(text).forEach((line, i) => {
    if (line.trim() === '') return;
    const [k, v, extra] = line.trim().split(/\s+/);
    const n = Number(v);
    if (k === undefined || v === undefined || extra !== undefined || !Number.isFinite(n)) {
      throw new ParseError(path, 'expected "key value"', i + 1, line);
    }
    out[k] = n;
  });
  return out;
}

/** `key a=1 b=2` per line, e.g. io.stat, memory.pressure; values stay strings (`max` appears). */
export function parseNestedKeyed(text: string, path = 'nested'): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  lines(text).forEach((line, i) => {
    if (line.trim() === '') return;
    const [k, ...pairs] = line.trim().split(/\s+/);
    const entry: Record<string, string> = {};
    for (const p of pairs) {
      const eq = p.indexOf('=');
      if (eq <= 0) throw new ParseError(path, `expected key=value, got ${JSON.stringify(p)}`, i + 1, line);
      entry[p.slice(0, eq)] = p.slice(eq + 1);
    }
    out[k!] = entry;
  });
  return out;
}

/** v1 blkio.throttle.io_service_bytes / io_serviced: `8:0 Read 123` lines and a `Total` line. */
export function parseBlkioOps(text: string, path = 'blkio'): Record<string, number> {
  const totals: Record<string, number> = {};
  lines(text).forEach((line, i) => {
    const f = line.trim().split(/\s+/);
    if (f.length === 2 && f[0] === 'Total') return;
    if (f.length !== 3) {
      if (line.trim() === '') return;
      throw new ParseError(path, 'expected "MAJ:MIN Op value"', i + 1, line);
    }
    const n = Number(f[2]);
    if (!Number.isFinite(n)) throw new ParseError(path, 'value is not a number', i + 1, line);
    totals[f[1]!] = (totals[f[1]!] ?? 0) + n;
  });
  return totals;
}

/** v2 cpu.max: `$MAX $PERIOD`, MAX being `max` for no quota. */
export function parseCpuMax(text: string, path = 'cpu.max'): { quotaUsec: number | null; periodUsec: number } {
  const m = /^(max|\d+)\s+(\d+)$/.exec(text.trim());
  if (!m) throw new ParseError(path, `expected "max|QUOTA PERIOD", got ${JSON.stringify(text.trim())}`, 1, text.trim());
  return { quotaUsec: m[1] === 'max' ? null : Number(m[1]), periodUsec: Number(m[2]) };
}

/** v1 memory.limit_in_bytes and friends print PAGE_COUNTER_MAX × page size for "unlimited". */
export const V1_UNLIMITED_THRESHOLD = 2 ** 62;

/** A v1 limit, null when it means unlimited (≥ 2^62 or -1). */
export function v1Limit(n: number): number | null {
  return n < 0 || n >= V1_UNLIMITED_THRESHOLD ? null : n;
}
