import { ParseError } from './errors.js';
import { lines } from './text.js';

/** One line of a PSI file: share of time stalled, averaged over 10/60/300 s, and the total in µs. */
export interface PressureLine {
  avg10: number;
  avg60: number;
  avg300: number;
  totalUsec: number;
}

export interface Pressure {
  some: PressureLine;
  /** absent in /proc/pressure/cpu before Linux 5.13 */
  full: PressureLine | undefined;
}

/**
 * /proc/pressure/{cpu,memory,io} and a v2 cgroup's {cpu,memory,io}.pressure, see
 * Documentation/accounting/psi.rst: `some avg10=0.00 avg60=0.00 avg300=0.00 total=0`, then `full …`.
 */
export function parsePressure(text: string, path = 'pressure'): Pressure {
  const got: Partial<Record<'some' | 'full', PressureLine>> = {};
  lines(text).forEach((line, i) => {
    if (line.trim() === '') return;
    const [kind, ...pairs] = line.trim().split(/\s+/);
    if (kind !== 'some' && kind !== 'full') throw new ParseError(path, `expected some or full, got ${JSON.stringify(kind)}`, i + 1, line);
    const kv: Record<string, number> = {};
    for (const p of pairs) {
      const eq = p.indexOf('=');
      const n = Number(p.slice(eq + 1));
      if (eq <= 0 || !Number.isFinite(n)) throw new ParseError(path, `expected key=number, got ${JSON.stringify(p)}`, i + 1, line);
      kv[p.slice(0, eq)] = n;
    }
    if (kv.avg10 === undefined || kv.avg60 === undefined || kv.avg300 === undefined || kv.total === undefined) throw new ParseError(path, 'missing avg10/avg60/avg300/total', i + 1, line);
    got[kind] = { avg10: kv.avg10, avg60: kv.avg60, avg300: kv.avg300, totalUsec: kv.total };
  });
  if (!got.some) throw new ParseError(path, 'no "some" line');
  return { some: got.some, full: got.full };
}
