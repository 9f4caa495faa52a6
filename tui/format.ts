/** Pure text helpers for ctop's cells: numbers in fixed widths, sparklines, fitting. */
import { escapeControl } from '../src/render/escape.js';

export const DASH = '—';

/** `12.3` / `123` / `1234`; undefined → "—" (no second sample yet, or not measurable) */
export function pct(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return DASH;
  return v < 100 ? v.toFixed(1) : v.toFixed(0);
}

/** bytes → `512B` `1.5K` `12M` `3.4G`: at most 5 characters */
export function bytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return DASH;
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${Math.round(v)}B`;
  return v < 10 ? `${v.toFixed(1)}${units[i]}` : `${Math.round(v)}${units[i]}`;
}

/** a rate in bytes per second, `—` before the second sample */
export function rate(n: number | undefined): string {
  return n === undefined ? DASH : bytes(n);
}

/** seconds → `45s` `12m` `3h` `5d` */
export function age(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec)) return DASH;
  if (sec < 60) return `${Math.floor(sec)}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m`;
  if (sec < 86400 * 2) return `${Math.floor(sec / 3600)}h`;
  return `${Math.floor(sec / 86400)}d`;
}

const BARS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled to `max` (or the largest value); missing values are spaces. */
export function sparkline(values: (number | undefined)[], width: number, max?: number): string {
  const vs = values.slice(-width);
  const top = max ?? Math.max(0, ...vs.map((v) => v ?? 0));
  let out = '';
  for (const v of vs) {
    if (v === undefined) out += ' ';
    else if (top <= 0) out += BARS[0];
    else out += BARS[Math.min(BARS.length - 1, Math.max(0, Math.round((v / top) * (BARS.length - 1))))];
  }
  return out.padStart(width);
}

/** Text from the host made safe for the terminal, cut or padded to exactly `w` columns. */
export function fit(s: string, w: number, align: 'left' | 'right' = 'left'): string {
  if (w <= 0) return '';
  const safe = escapeControl(s);
  const chars = [...safe];
  if (chars.length > w) return w === 1 ? '…' : `${chars.slice(0, w - 1).join('')}…`;
  return align === 'right' ? safe.padStart(w) : safe.padEnd(w);
}

/** Cut a line (already safe) to `w` code points, ignoring nothing: for plain lines without colour. */
export function clip(s: string, w: number): string {
  const chars = [...s];
  return chars.length > w ? chars.slice(0, w).join('') : s;
}
