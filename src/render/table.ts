import { escapeControl, jsonSafe, jsonText } from './escape.js';

/**
 * A column is a descriptor, as in util-linux lsns: from one table come the default output,
 * `-o`, `--list-columns`, `--raw` and `--json`.
 */
export interface Column<Row> {
  /** upper-case name, as `-o` takes it */
  id: string;
  help: string;
  align?: 'left' | 'right';
  /** JSON type of the value */
  json: 'number' | 'string' | 'boolean' | 'array' | 'object';
  /**
   * May be shortened to fit the terminal: `true` cuts the end (`redis-se…`, for commands),
   * `'middle'` keeps both ends (`/system.slice/docker-5fba….scope`, for paths).
   */
  trunc?: boolean | 'middle';
  /** the value for JSON output; undefined is printed as null */
  value(row: Row): unknown;
  /** text for table output; default String(value) */
  text?(row: Row): string;
}

export interface TableOptions {
  noHeadings?: boolean;
  /** single-space separated, no alignment, no truncation (lsns -r) */
  raw?: boolean;
  /** terminal width; undefined = never truncate (not a TTY) */
  width?: number;
}

/**
 * Not on a terminal nothing is cut, but a column is padded to at most this many characters: one
 * 100 KB argument must not pad every other row to 100 KB (issue 6 #18). A longer cell is printed
 * whole and shifts the rest of its own row only.
 */
export const MAX_PAD_WIDTH = 256;

export function cellText<Row>(col: Column<Row>, row: Row): string {
  if (col.text) return escapeControl(col.text(row));
  const v = col.value(row);
  if (v === undefined || v === null) return '-';
  if (Array.isArray(v)) return escapeControl(v.join(','));
  return escapeControl(String(v));
}

/**
 * Render rows as an aligned table, one space between columns, as lsns does. With a width (a
 * terminal), no line is longer than it: path columns (`trunc: 'middle'`) give up their middle
 * first down to 32 characters, then the command (`trunc: true`) down to 16, then both together
 * (widest first) down to 7, the command to 3; a line still too long (too many fixed columns) is
 * cut at the width.
 */
export function renderTable<Row>(rows: Row[], cols: Column<Row>[], opts: TableOptions = {}): string {
  const cells = rows.map((r) => cols.map((c) => cellText(c, r)));
  if (opts.raw) {
    const out = cells.map((r) => r.map(rawCell).join(' '));
    if (!opts.noHeadings) out.unshift(cols.map((c) => c.id).join(' '));
    return out.length > 0 ? `${out.join('\n')}\n` : '';
  }
  const natural = cols.map((c, i) => Math.max(opts.noHeadings ? 0 : c.id.length, ...cells.map((r) => displayWidth(r[i]!))));
  const widths = opts.width === undefined ? natural.map((w, i) => (i === cols.length - 1 ? w : Math.min(w, Math.max(MAX_PAD_WIDTH, opts.noHeadings ? 0 : cols[i]!.id.length)))) : fitWidths(cols, natural, opts.width, !!opts.noHeadings);
  const line = (vals: string[]): string => {
    const text = vals
      .map((v, i) => {
        const w = widths[i]!;
        const vw = displayWidth(v);
        const cut = opts.width === undefined || vw <= w ? v : cols[i]!.trunc === 'middle' ? shortenPath(v, w) : `${sliceWidth(v, w - 1)}…`;
        if (i === vals.length - 1 && cols[i]!.align !== 'right') return cut;
        const pad = Math.max(0, w - displayWidth(cut));
        return cols[i]!.align === 'right' ? ' '.repeat(pad) + cut : cut + ' '.repeat(pad);
      })
      .join(' ')
      .trimEnd();
    // the last resort: more fixed columns than the terminal holds
    return opts.width !== undefined && displayWidth(text) > opts.width ? `${sliceWidth(text, opts.width - 1)}…` : text;
  };
  const out = cells.map(line);
  if (!opts.noHeadings) out.unshift(line(cols.map((c) => c.id)));
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** Column widths that fit `width`: see renderTable. */
function fitWidths<Row>(cols: Column<Row>[], natural: number[], width: number, noHeadings: boolean): number[] {
  const widths = [...natural];
  const total = (): number => widths.reduce((a, w) => a + w, 0) + (cols.length - 1);
  const floor = (i: number, soft: number): number => Math.min(natural[i]!, Math.max(noHeadings ? 0 : cols[i]!.id.length, soft));
  // take from the widest first, never below each column's floor
  const shrink = (which: number[], soft: number): void => {
    let over = total() - width;
    while (over > 0) {
      let widest = -1;
      for (const i of which) if (widths[i]! > floor(i, soft) && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      if (widest < 0) return;
      const next = Math.max(floor(widest, soft), ...which.filter((i) => i !== widest && widths[i]! < widths[widest]!).map((i) => widths[i]!));
      const take = Math.min(over, widths[widest]! - next || 1);
      widths[widest] = widths[widest]! - take;
      over -= take;
    }
  };
  const middle = cols.flatMap((c, i) => (c.trunc === 'middle' ? [i] : []));
  const end = cols.flatMap((c, i) => (c.trunc === true ? [i] : []));
  if (total() <= width) return widths;
  shrink(middle, 32);
  shrink(end, 16);
  // then both together, widest first, down to a few characters each
  shrink([...middle, ...end], 7);
  shrink(end, 3);
  return widths;
}

/**
 * A path cut to w columns, keeping what tells paths apart: the last component whole when it fits
 * (the middle of the rest goes: `/system.sl…/docker-5fba….scope`), else the last component with
 * its own middle cut (`docker-5fba….scope`), as the README shows.
 */
export function shortenPath(s: string, w: number): string {
  if (displayWidth(s) <= w) return s;
  const slash = s.lastIndexOf('/');
  if (slash < 0) return shortenMiddle(s, w);
  const last = s.slice(slash);
  const lw = displayWidth(last);
  if (lw + 2 <= w) return `${sliceWidth(s.slice(0, slash), w - lw - 1)}…${last}`;
  return shortenMiddle(last.slice(1), w);
}

/** Keep both ends: `docker-5fba….scope`. */
export function shortenMiddle(s: string, w: number): string {
  if (displayWidth(s) <= w) return s;
  if (w <= 1) return sliceWidth(s, w);
  const tail = Math.floor((w - 1) / 2);
  const head = w - 1 - tail;
  return `${sliceWidth(s, head)}…${sliceWidthEnd(s, tail)}`;
}

/** One row as a JSON object, keys the column ids in lower case, like lsns -J. */
export function rowObject<Row>(r: Row, cols: Column<Row>[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const c of cols) o[jsonKey(c)] = toJson(c.value(r));
  return o;
}

/** a column's JSON key (its id in lower case, `_` for the rest), made once per column, not per row */
const jsonKeys = new WeakMap<object, string>();
function jsonKey(c: { id: string }): string {
  let k = jsonKeys.get(c);
  if (k === undefined) jsonKeys.set(c, (k = c.id.toLowerCase().replace(/[^a-z0-9]+/g, '_')));
  return k;
}

/** Rows as a JSON object `{ [key]: [ {col: value} ] }`. */
export function renderJson<Row>(key: string, rows: Row[], cols: Column<Row>[]): string {
  return jsonText({ [key]: rows.map((r) => rowObject(r, cols)) });
}

/** A copy of the columns where `treeId`'s text is prefixed with the row's tree glyphs. */
export function withTreePrefix<Row>(cols: Column<Row>[], treeId: string, prefix: (r: Row) => string): Column<Row>[] {
  return cols.map((c) => (c.id !== treeId ? c : { ...c, align: 'left' as const, text: (r: Row) => `${prefix(r)}${c.text ? c.text(r) : String(c.value(r) ?? '-')}` }));
}

export function toJson(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'bigint') return `0x${v.toString(16).padStart(16, '0')}`;
  if (typeof v === 'string') return jsonSafe(v);
  if (Array.isArray(v)) return v.map(toJson);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

/** `--list-columns`: every column with its help, aligned. */
export function renderColumnList<Row>(cols: Column<Row>[]): string {
  const w = Math.max(...cols.map((c) => c.id.length));
  return cols.map((c) => `${c.id.padStart(w)}  ${c.help}`).join('\n') + '\n';
}

/**
 * Resolve `-o` text: `NS,TYPE`, `+CONTAINER` (add to the defaults), case-insensitive.
 * Returns the unknown name instead when there is one.
 */
export function selectColumns<Row>(all: Column<Row>[], defaults: string[], spec: string | undefined): Column<Row>[] | { unknown: string } {
  let names: string[];
  if (spec === undefined || spec === '') names = defaults;
  else if (spec.startsWith('+')) names = [...defaults, ...spec.slice(1).split(',')];
  else names = spec.split(',');
  const out: Column<Row>[] = [];
  for (const n of names) {
    const c = all.find((x) => x.id === n.trim().toUpperCase());
    if (!c) return { unknown: n };
    out.push(c);
  }
  return out;
}

function rawCell(s: string): string {
  // lsns -r escapes blanks so fields stay separable
  return s === '' ? '-' : s.replace(/ /g, '\\x20');
}


/**
 * Terminal columns a string takes (wcwidth, simplified): East Asian wide and fullwidth characters
 * and emoji take two, combining marks none, everything else one. Host text is escaped before it
 * gets here, so there are no controls.
 */
export function displayWidth(s: string): number {
  // fast path: printable ASCII
  if (/^[\x20-\x7e]*$/.test(s)) return s.length;
  let n = 0;
  for (const ch of s) n += charWidth(ch.codePointAt(0)!);
  return n;
}

function charWidth(c: number): number {
  if (c < 0x300) return 1;
  if ((c >= 0x300 && c <= 0x36f) || (c >= 0x1ab0 && c <= 0x1aff) || (c >= 0x1dc0 && c <= 0x1dff) || (c >= 0x20d0 && c <= 0x20ff) || (c >= 0xfe20 && c <= 0xfe2f) || c === 0x200b || c === 0x200c || c === 0x200d || c === 0xfeff || (c >= 0xfe00 && c <= 0xfe0f)) return 0;
  if (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0x303e) ||
    (c >= 0x3041 && c <= 0x33ff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0xa000 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1f64f) ||
    (c >= 0x1f900 && c <= 0x1f9ff) ||
    (c >= 0x20000 && c <= 0x3fffd)
  )
    return 2;
  return 1;
}

/** The longest prefix that fits in n columns. */
export function sliceWidth(s: string, n: number): string {
  let w = 0;
  let out = '';
  for (const ch of s) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > n) break;
    w += cw;
    out += ch;
  }
  return out;
}

/** The longest suffix that fits in n columns. */
function sliceWidthEnd(s: string, n: number): string {
  const chars = Array.from(s);
  let w = 0;
  let i = chars.length;
  while (i > 0) {
    const cw = charWidth(chars[i - 1]!.codePointAt(0)!);
    if (w + cw > n) break;
    w += cw;
    i--;
  }
  return chars.slice(i).join('');
}
