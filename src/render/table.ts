import { escapeControl, jsonSafe } from './escape.js';

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
  /** may be cut to fit the terminal (the last such column is) */
  trunc?: boolean;
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

export function cellText<Row>(col: Column<Row>, row: Row): string {
  if (col.text) return escapeControl(col.text(row));
  const v = col.value(row);
  if (v === undefined || v === null) return '-';
  if (Array.isArray(v)) return escapeControl(v.join(','));
  return escapeControl(String(v));
}

/** Render rows as an aligned table, one space between columns, as lsns does. */
export function renderTable<Row>(rows: Row[], cols: Column<Row>[], opts: TableOptions = {}): string {
  const cells = rows.map((r) => cols.map((c) => cellText(c, r)));
  if (opts.raw) {
    const out = cells.map((r) => r.map(rawCell).join(' '));
    if (!opts.noHeadings) out.unshift(cols.map((c) => c.id).join(' '));
    return out.length > 0 ? `${out.join('\n')}\n` : '';
  }
  const widths = cols.map((c, i) => Math.max(opts.noHeadings ? 0 : c.id.length, ...cells.map((r) => visibleLength(r[i]!))));
  // fit the terminal: cut the last truncatable column, never below its header width
  if (opts.width !== undefined) {
    const total = widths.reduce((a, w) => a + w, 0) + (cols.length - 1);
    const ti = lastIndex(cols, (c) => !!c.trunc);
    if (total > opts.width && ti >= 0) {
      const min = Math.max(cols[ti]!.id.length, 3);
      widths[ti] = Math.max(min, widths[ti]! - (total - opts.width));
    }
  }
  const line = (vals: string[]): string =>
    vals
      .map((v, i) => {
        const w = widths[i]!;
        const cut = visibleLength(v) > w ? `${sliceVisible(v, w - 1)}…` : v;
        if (i === vals.length - 1 && cols[i]!.align !== 'right') return cut;
        return cols[i]!.align === 'right' ? cut.padStart(w) : cut.padEnd(w);
      })
      .join(' ')
      .trimEnd();
  const out = cells.map(line);
  if (!opts.noHeadings) out.unshift(line(cols.map((c) => c.id)));
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** One row as a JSON object, keys the column ids in lower case, like lsns -J. */
export function rowObject<Row>(r: Row, cols: Column<Row>[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const c of cols) o[c.id.toLowerCase().replace(/[^a-z0-9]+/g, '_')] = toJson(c.value(r));
  return o;
}

/** Rows as a JSON object `{ [key]: [ {col: value} ] }`. */
export function renderJson<Row>(key: string, rows: Row[], cols: Column<Row>[]): string {
  return `${JSON.stringify({ [key]: rows.map((r) => rowObject(r, cols)) }, null, 2)}\n`;
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

function lastIndex<T>(a: T[], f: (x: T) => boolean): number {
  for (let i = a.length - 1; i >= 0; i--) if (f(a[i]!)) return i;
  return -1;
}

/** Code points, so a CJK name is not cut mid-character (wide glyphs are counted as one). */
function visibleLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function sliceVisible(s: string, n: number): string {
  return Array.from(s).slice(0, Math.max(0, n)).join('');
}
