/**
 * Pure: State (+ detail data read elsewhere) → the Frame on screen, as lines of text. Live,
 * paused, replayed and `--once` output all go through here, so they cannot differ.
 * Frames are at most rows−1 lines (Ink clears the whole screen when a frame fills it).
 */
import type { ChalkInstance } from 'chalk';
import { buildGroups, buildGroupsSteps, buildProcRows, type GroupBy, type GroupRow, type ProcRow } from './model.js';
import { activeFilter, currentView, matchFilter, parseFilter, shownSamples, DETAIL_TABS, type State, type View } from './store.js';
import type { Sample } from './sample.js';
import { age, bytes, DASH, fit, pct, rate, sparkline } from './format.js';
import { escapeControl } from '../src/render/escape.js';

export interface FrameRow {
  key: string;
  text: string;
}

export interface Frame {
  /** top lines: title, summary */
  head: string[];
  /** the table header (or tab bar for details) */
  columns: string;
  rows: FrameRow[];
  /** index in `rows` of the selected row, -1 for none */
  selected: number;
  /** the keys of every row of the view (not only the visible ones), for moving the selection */
  rowKeys: string[];
  footer: string;
  /** the row objects behind rowKeys, for actions */
  groupRows?: GroupRow[];
  procRows?: ProcRow[];
  /** the group or process shown has gone */
  gone?: string;
  tooSmall?: boolean;
}

export const MIN_COLS = 40;
export const MIN_ROWS = 8;

interface Col<R> {
  id: string;
  head: string;
  width: number;
  /** lower stays longer when the terminal is narrow; 0 never leaves */
  prio: number;
  align?: 'left' | 'right';
  flex?: boolean;
  cell: (r: R, ctx: CellCtx) => string;
  /** colour for the cell, from the row's own limits */
  color?: (r: R, ctx: CellCtx) => 'red' | 'yellow' | 'green' | 'dim' | undefined;
}

interface CellCtx {
  spark: Map<string, { cpu: (number | undefined)[]; mem: (number | undefined)[] }>;
  ncpu: number;
  sparkW: number;
}

const level = (v: number | undefined, warn: number, bad: number): 'red' | 'yellow' | undefined => (v === undefined ? undefined : v >= bad ? 'red' : v >= warn ? 'yellow' : undefined);

export const GROUP_COLUMNS: Col<GroupRow>[] = [
  { id: 'name', head: 'NAME', width: 14, prio: 0, flex: true, cell: (r) => `${'  '.repeat(r.depth)}${r.name}` },
  { id: 'kind', head: 'KIND', width: 9, prio: 5, cell: (r) => r.kind },
  { id: 'procs', head: 'PROCS', width: 5, prio: 3, align: 'right', cell: (r) => String(r.pids.length) },
  {
    id: 'cpu',
    head: 'CPU%',
    width: 6,
    prio: 0,
    align: 'right',
    cell: (r) => pct(r.cpuPct),
    color: (r, c) => (r.cpuOfQuotaPct !== undefined ? level(r.cpuOfQuotaPct, 70, 90) : level(r.cpuPct === undefined ? undefined : r.cpuPct / c.ncpu, 50, 90)),
  },
  { id: 'quota', head: '%QUOTA', width: 6, prio: 4, align: 'right', cell: (r) => (r.quotaCpus === undefined ? '' : pct(r.cpuOfQuotaPct)), color: (r) => level(r.cpuOfQuotaPct, 70, 90) },
  { id: 'thr', head: 'THROT', width: 5, prio: 6, align: 'right', cell: (r) => (r.throttledPeriods === undefined ? '' : String(r.throttledPeriods)), color: (r) => (r.throttledPeriods ? 'yellow' : undefined) },
  { id: 'mem', head: 'MEM', width: 6, prio: 0, align: 'right', cell: (r) => bytes(r.memBytes), color: (r) => level(r.memPct, 75, 90) },
  { id: 'limit', head: 'LIMIT', width: 6, prio: 2, align: 'right', cell: (r) => (r.memLimit === undefined ? '' : bytes(r.memLimit)) },
  { id: 'mempct', head: 'MEM%', width: 5, prio: 1, align: 'right', cell: (r) => (r.memPct === undefined ? '' : pct(r.memPct)), color: (r) => level(r.memPct, 75, 90) },
  { id: 'oom', head: 'OOM', width: 3, prio: 6, align: 'right', cell: (r) => (r.oomKills === undefined ? '' : String(r.oomKills)), color: (r) => (r.oomKills ? 'red' : undefined) },
  {
    id: 'pids',
    head: 'PIDS',
    width: 9,
    prio: 3,
    align: 'right',
    cell: (r) => (r.pidsMax !== undefined ? `${r.pidsCur}/${r.pidsMax}` : String(r.pidsCur ?? DASH)),
    color: (r) => (r.pidsMax ? level(((r.pidsCur ?? 0) / r.pidsMax) * 100, 75, 90) : undefined),
  },
  { id: 'net', head: 'NET RX/TX', width: 11, prio: 4, align: 'right', cell: (r) => (r.netRxBps === undefined ? DASH : `${rate(r.netRxBps)}/${rate(r.netTxBps)}`) },
  { id: 'io', head: 'IO R/W', width: 11, prio: 5, align: 'right', cell: (r) => (r.ioReadBps === undefined ? DASH : `${rate(r.ioReadBps)}/${rate(r.ioWriteBps)}`) },
  { id: 'psi', head: 'PSI', width: 5, prio: 8, align: 'right', cell: (r) => (r.psi ? pct(Math.max(r.psi.cpu ?? 0, r.psi.memory ?? 0, r.psi.io ?? 0)) : '') },
  { id: 'age', head: 'AGE', width: 4, prio: 4, align: 'right', cell: (r) => age(r.ageSec) },
  { id: 'cpuspark', head: 'CPU', width: 8, prio: 2, cell: (r, c) => sparkline(c.spark.get(r.key)?.cpu ?? [], c.sparkW, Math.max(100, ...(c.spark.get(r.key)?.cpu ?? []).map((v) => v ?? 0))), color: () => 'green' },
  { id: 'memspark', head: 'MEM', width: 8, prio: 7, cell: (r, c) => sparkline(c.spark.get(r.key)?.mem ?? [], c.sparkW, r.memLimit), color: () => 'green' },
];

export const PROC_COLUMNS: Col<ProcRow>[] = [
  { id: 'pid', head: 'PID', width: 7, prio: 0, align: 'right', cell: (r) => String(r.pid) },
  { id: 'nspid', head: 'NSPID', width: 6, prio: 2, align: 'right', cell: (r) => (r.nspid && r.nspid.length > 1 ? String(r.nspid[r.nspid.length - 1]) : '') },
  { id: 'user', head: 'UID', width: 5, prio: 4, align: 'right', cell: (r) => (r.uid === undefined ? '-' : String(r.uid)) },
  { id: 'state', head: 'S', width: 1, prio: 3, cell: (r) => r.state, color: (r) => (r.state === 'Z' || r.state === 'D' ? 'red' : r.state === 'R' ? 'green' : undefined) },
  { id: 'cpu', head: 'CPU%', width: 6, prio: 0, align: 'right', cell: (r) => pct(r.cpuPct), color: (r) => level(r.cpuPct, 50, 90) },
  { id: 'rss', head: 'RSS', width: 6, prio: 1, align: 'right', cell: (r) => bytes(r.rssBytes) },
  { id: 'thr', head: 'THR', width: 4, prio: 5, align: 'right', cell: (r) => String(r.threads) },
  { id: 'age', head: 'AGE', width: 4, prio: 4, align: 'right', cell: (r) => age(r.ageSec) },
  { id: 'cmd', head: 'COMMAND', width: 12, prio: 0, flex: true, cell: (r) => `${r.prefix}${r.cmd || `[${r.comm}]`}` },
];

/** Columns that fit in `cols`: drop the highest prio until they do; the flex column takes the rest. */
export function layoutColumns<R>(all: Col<R>[], cols: number, hide: Set<string> = new Set()): { col: Col<R>; width: number }[] {
  let chosen = all.filter((c) => !hide.has(c.id));
  const total = (cs: Col<R>[]): number => cs.reduce((a, c) => a + c.width, 0) + cs.length - 1;
  while (total(chosen) > cols && chosen.some((c) => c.prio > 0)) {
    const worst = Math.max(...chosen.map((c) => c.prio));
    const idx = chosen.map((c) => c.prio).lastIndexOf(worst);
    chosen = chosen.filter((_, i) => i !== idx);
  }
  const spare = Math.max(0, cols - total(chosen));
  return chosen.map((c) => ({ col: c, width: c.flex ? c.width + spare : c.width }));
}

function renderRow<R>(layout: { col: Col<R>; width: number }[], r: R, ctx: CellCtx, chalk: ChalkInstance): string {
  return layout
    .map(({ col, width }) => {
      const text = fit(col.cell(r, ctx), width, col.align);
      const color = col.color?.(r, ctx);
      return color ? chalk[color](text) : text;
    })
    .join(' ');
}

function renderHead<R>(layout: { col: Col<R>; width: number }[]): string {
  return layout.map(({ col, width }) => fit(col.head, width, col.align)).join(' ');
}

// ---- memoised group rows per (sample, previous sample, mode): sparklines re-use them across
// frames, and keep working after the reducer has thinned old samples (dropped their processes)

const groupCache = new WeakMap<Sample, Map<string, GroupRow[]>>();

export function groupsOf(prev: Sample | undefined, cur: Sample, by: GroupBy): GroupRow[] {
  let m = groupCache.get(cur);
  if (!m) groupCache.set(cur, (m = new Map()));
  const k = `${by}:${prev ? prev.endMs : 'none'}`;
  let rows = m.get(k);
  if (rows) return rows;
  if (cur.thin) return [];
  rows = buildGroups(prev, cur, by);
  m.set(k, rows);
  return rows;
}

/**
 * The group rows of a new sample built in steps, between other work (the live poll runs this
 * before it dispatches the sample, so the reducer and the frame find them memoised): `pause`
 * is awaited between steps (setImmediate in the bins: keys are handled in between).
 */
export async function prepareGroups(prev: Sample | undefined, cur: Sample, by: GroupBy, pause: () => Promise<void>): Promise<GroupRow[]> {
  let m = groupCache.get(cur);
  if (!m) groupCache.set(cur, (m = new Map()));
  const k = `${by}:${prev ? prev.endMs : 'none'}`;
  const have = m.get(k);
  if (have) return have;
  const it = buildGroupsSteps(prev, cur, by);
  for (;;) {
    const r = it.next();
    if (r.done) {
      m.set(k, r.value);
      return r.value;
    }
    await pause();
  }
}

/** A thinned copy of a sample keeps the group rows memoised for the original. */
export function carryGroups(from: Sample, to: Sample): void {
  const m = groupCache.get(from);
  if (m) groupCache.set(to, m);
}

function sparkData(s: State, uptoIndex: number, width: number): CellCtx['spark'] {
  const out: CellCtx['spark'] = new Map();
  const from = Math.max(1, uptoIndex - width + 1);
  const n = uptoIndex - from + 1;
  for (let i = from; i <= uptoIndex; i++) {
    const rows = groupsOf(s.history[i - 1], s.history[i]!, s.groupBy);
    for (const r of rows) {
      let e = out.get(r.key);
      if (!e) out.set(r.key, (e = { cpu: new Array(n).fill(undefined), mem: new Array(n).fill(undefined) }));
      e.cpu[i - from] = r.cpuPct;
      e.mem[i - from] = r.memBytes;
    }
  }
  return out;
}

const SORTERS: Record<string, (a: GroupRow, b: GroupRow) => number> = {
  cpu: (a, b) => (a.cpuPct ?? -1) - (b.cpuPct ?? -1),
  mem: (a, b) => (a.memBytes ?? -1) - (b.memBytes ?? -1),
  name: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  pids: (a, b) => a.pids.length - b.pids.length,
  age: (a, b) => (a.ageSec ?? -1) - (b.ageSec ?? -1),
  io: (a, b) => (a.ioReadBps ?? 0) + (a.ioWriteBps ?? 0) - ((b.ioReadBps ?? 0) + (b.ioWriteBps ?? 0)),
  net: (a, b) => (a.netRxBps ?? 0) + (a.netTxBps ?? 0) - ((b.netRxBps ?? 0) + (b.netTxBps ?? 0)),
};

const PROC_SORTERS: Record<string, (a: ProcRow, b: ProcRow) => number> = {
  cpu: (a, b) => (a.cpuPct ?? -1) - (b.cpuPct ?? -1),
  mem: (a, b) => a.rssBytes - b.rssBytes,
  name: (a, b) => (a.comm < b.comm ? -1 : a.comm > b.comm ? 1 : 0),
  pids: (a, b) => a.threads - b.threads,
  age: (a, b) => (a.ageSec ?? -1) - (b.ageSec ?? -1),
  pid: (a, b) => a.pid - b.pid,
};

function groupField(r: GroupRow, f: string | undefined): string | undefined {
  if (f === undefined) return `${r.name} ${r.kind}`;
  if (f === 'name') return r.name;
  if (f === 'kind' || f === 'runtime') return r.kind;
  if (f === 'cgroup' || f === 'cg') return r.cgroupPath;
  if (f === 'pid') return r.pids.map(String).join(' ');
  if (f === 'ns.net' || f === 'netns') return r.netns === undefined ? undefined : String(r.netns);
  if (f === 'key') return r.key;
  return undefined;
}

export interface DetailLines {
  /** lines of the tab's body */
  lines: string[];
}

/** What the App hands the frame for the detail view (read by tui/detail.ts). */
export type DetailProvider = (pid: number, start: number, tab: (typeof DETAIL_TABS)[number], showEnv: boolean, cols: number) => { title: string; lines: string[]; gone?: string };

export function buildFrame(s: State, chalk: ChalkInstance, detail?: DetailProvider): Frame {
  const { cols, rows } = s;
  const empty = { head: [], columns: '', rows: [], selected: -1, rowKeys: [], footer: '' };
  if (cols < MIN_COLS || rows < MIN_ROWS) return { ...empty, head: [fit(`too small: ${cols}×${rows}, need ${MIN_COLS}×${MIN_ROWS}`, cols)], tooSmall: true };
  const { prev, cur } = shownSamples(s);
  const v = currentView(s);
  // a process list left behind is not kept (at 10,000 processes, a few MB)
  if (v.kind !== 'procs') procTable.inputs = procTable.value = undefined;
  const head = [titleLine(s, cur, chalk), breadcrumb(s, chalk)];
  const footer = footerLine(s, chalk);
  if (!cur) return { ...empty, head, rows: [{ key: 'wait', text: 'reading the host…' }], footer };
  // body: rows − 1 (Ink) − head − column header − footer
  const bodyH = Math.max(1, rows - 1 - head.length - 1 - 1);
  const terms = parseFilter(activeFilter(s));
  const filter = typeof terms === 'string' ? [] : terms;

  if (v.kind === 'detail') {
    const d = detail?.(v.pid, v.start, v.tab, s.showEnv, cols);
    const tabs = DETAIL_TABS.map((t, i) => (t === v.tab ? chalk.inverse(` ${i + 1}:${t} `) : ` ${i + 1}:${t} `)).join('');
    const lines = d ? d.lines : ['(no detail available)'];
    const maxTop = Math.max(0, lines.length - bodyH);
    const top = Math.min(v.scroll, maxTop);
    const shown = lines.slice(top, top + bodyH).map((l, i) => ({ key: `l${top + i}`, text: fit(l, cols) }));
    const more = lines.length > bodyH ? ` ${top + 1}-${Math.min(lines.length, top + bodyH)}/${lines.length}` : '';
    return { head: [head[0]!, head[1]! + (d && d.title !== v.name ? `  ${fit(d.title, Math.max(0, cols - 40)).trimEnd()}` : '')], columns: clipTabs(tabs, cols), rows: shown, selected: -1, rowKeys: [], footer: footer + more, ...(d?.gone ? { gone: d.gone } : {}) };
  }

  if (v.kind === 'groups') {
    const idx = s.cursor ?? s.history.length - 1;
    const t = memoLast(groupTable, [prev, cur, s.groupBy, activeFilter(s), s.sort.key, s.sort.desc, cols, s.history, idx, chalk], () => {
      let groups = groupsOf(prev, cur, s.groupBy).filter((r) => matchFilter(filter, (f) => groupField(r, f)));
      if (s.groupBy !== 'cgroup') {
        const cmp = SORTERS[s.sort.key] ?? SORTERS.cpu!;
        groups = [...groups].sort((a, b) => (s.sort.desc ? -cmp(a, b) : cmp(a, b)) || (a.name < b.name ? -1 : 1));
      }
      const hide = new Set<string>();
      if (!groups.some((g) => g.psi)) hide.add('psi');
      if (!groups.some((g) => g.quotaCpus !== undefined)) hide.add('quota');
      if (!groups.some((g) => g.throttledPeriods !== undefined)) hide.add('thr');
      if (!groups.some((g) => g.oomKills !== undefined)) hide.add('oom');
      if (!groups.some((g) => g.memLimit !== undefined)) {
        hide.add('limit');
        hide.add('mempct');
      }
      const layout = layoutColumns(GROUP_COLUMNS, cols, hide);
      const sparkW = layout.find((l) => l.col.id === 'cpuspark')?.width ?? 8;
      const ctx: CellCtx = { spark: layout.some((l) => l.col.id.endsWith('spark')) ? sparkData(s, idx, sparkW) : new Map(), ncpu: cur.ncpu, sparkW };
      return table(groups, groups.map((g) => g.key), layout, ctx, chalk);
    });
    const { shown, sel } = windowRows(t.keys, s.selected[s.views.length - 1], bodyH);
    return { head, columns: t.columns, rows: shown.map((i) => ({ key: t.keys[i]!, text: t.text(i) })), selected: sel, rowKeys: t.keys, footer, groupRows: t.rows };
  }

  // processes of a group (or of the whole host)
  const groups = groupsOf(prev, cur, s.groupBy);
  const g = v.groupKey === undefined ? undefined : groups.find((x) => x.key === v.groupKey);
  if (v.groupKey !== undefined && !g) {
    return { ...empty, head, rows: [{ key: "gone", text: `${fit(v.groupName, 30).trimEnd()} has gone (no process left in it)` }], footer, gone: `${v.groupName} has gone` };
  }
  const t = memoLast(procTable, [prev, cur, s.groupBy, g, activeFilter(s), s.procTree, s.procTree || s.sort.key, s.procTree || s.sort.desc, cols, chalk], () => {
    const groupOf = new Map<number, string>();
    if (!g) for (const x of groups) for (const p of x.pids) groupOf.set(p, x.name);
    let procs = buildProcRows(prev, cur, g ? new Set(g.pids) : undefined, groupOf).filter((r) =>
      matchFilter(filter, (f) => (f === undefined ? `${r.comm} ${r.cmd}` : f === 'name' || f === 'comm' ? r.comm : f === 'cmd' ? r.cmd : f === 'pid' ? String(r.pid) : f === 'state' ? r.state : f === 'uid' ? String(r.uid) : undefined)),
    );
    if (!s.procTree) {
      const cmp = PROC_SORTERS[s.sort.key] ?? PROC_SORTERS.cpu!;
      procs = procs.map((p) => ({ ...p, prefix: '' })).sort((a, b) => (s.sort.desc ? -cmp(a, b) : cmp(a, b)) || a.pid - b.pid);
    }
    return table(procs, procs.map((p) => String(p.pid)), layoutColumns(PROC_COLUMNS, cols), { spark: new Map(), ncpu: cur.ncpu, sparkW: 0 }, chalk);
  });
  const { shown, sel } = windowRows(t.keys, s.selected[s.views.length - 1], bodyH);
  return { head, columns: t.columns, rows: shown.map((i) => ({ key: t.keys[i]!, text: t.text(i) })), selected: sel, rowKeys: t.keys, footer, procRows: t.rows };
}

/**
 * A list's rows in order, their keys, the column header, and each row's text made when first
 * shown: what a key that only moves the selection, opens the help or types in the footer re-uses
 * (buildFrame keeps the last one per view kind, for the same sample, filter, sort and width).
 */
interface Table<R> {
  rows: R[];
  keys: string[];
  columns: string;
  text(i: number): string;
}

function table<R>(rows: R[], keys: string[], layout: { col: Col<R>; width: number }[], ctx: CellCtx, chalk: ChalkInstance): Table<R> {
  const texts: (string | undefined)[] = new Array(rows.length);
  return { rows, keys, columns: chalk.bold(renderHead(layout)), text: (i) => (texts[i] ??= renderRow(layout, rows[i]!, ctx, chalk)) };
}

interface Memo<T> {
  inputs?: unknown[];
  value?: T;
}
const groupTable: Memo<Table<GroupRow>> = {};
const procTable: Memo<Table<ProcRow>> = {};

/** `make()`, or its last result when every input is the same (===) as last time */
function memoLast<T>(m: Memo<T>, inputs: unknown[], make: () => T): T {
  if (m.inputs && m.inputs.length === inputs.length && m.inputs.every((x, i) => x === inputs[i])) return m.value!;
  const value = make();
  m.inputs = inputs;
  m.value = value;
  return value;
}

function clipTabs(t: string, cols: number): string {
  return t.length > cols * 3 ? t : t;
}

/** Only the rows that fit, scrolled so the selection is visible. */
export function windowRows(keys: string[], selected: string | undefined, height: number): { shown: number[]; sel: number } {
  const si = selected === undefined ? 0 : Math.max(0, keys.indexOf(selected));
  const top = Math.max(0, Math.min(si - Math.floor(height / 2), keys.length - height));
  const shown: number[] = [];
  for (let i = top; i < Math.min(keys.length, top + height); i++) shown.push(i);
  return { shown, sel: keys.length === 0 ? -1 : si - top };
}

function titleLine(s: State, cur: Sample | undefined, chalk: ChalkInstance): string {
  const when = cur ? new Date(cur.wallMs).toISOString().slice(11, 19) : '--:--:--';
  const state = s.replay ? chalk.magenta(`REPLAY ${s.replay.index + 1}/${s.replay.total}`) : s.paused ? chalk.yellow(`PAUSED ${(s.cursor ?? 0) - s.history.length + 1 || ''}`.trim()) : chalk.green('LIVE');
  const counts = cur ? `${cur.procs.length} procs, ${cur.containers.length} containers` : '';
  const left = `ctop  ${when}  ${state}  ${counts}`;
  const right = `by ${s.groupBy}  sort ${s.sort.key}${s.sort.desc ? '↓' : '↑'}  every ${(s.intervalMs / 1000).toString()}s${s.readonly ? '  readonly' : ''}`;
  return `${left}  ${chalk.dim(right)}`;
}

function breadcrumb(s: State, chalk: ChalkInstance): string {
  const parts = s.views.map((v: View) => (v.kind === 'groups' ? `groups by ${s.groupBy}` : v.kind === 'procs' ? `${fit(v.groupName, 24).trimEnd()}` : `pid ${v.pid} ${fit(v.name, 16).trimEnd()}`));
  const f = activeFilter(s);
  const filt = f ? chalk.cyan(`  filter: ${fit(f, 30).trimEnd()}`) : '';
  return chalk.bold(parts.join(' › ')) + filt;
}

function footerLine(s: State, chalk: ChalkInstance): string {
  if (s.mode === 'filter') return `/${s.input}█`;
  if (s.mode === 'command') return `:${s.input}█`;
  // names, cgroup paths and error messages reach the status line here: one escaping for all of them
  if (s.mode === 'confirm' && s.confirm) return chalk.inverse(escapeControl(s.confirm.text));
  if (s.message) return chalk.yellow(escapeControl(s.message));
  const v = currentView(s);
  const keys = v.kind === 'groups' ? 'Enter/z processes  m group-by  / filter  : command  s sort  ? help  q quit' : v.kind === 'procs' ? 'Enter detail  z/Esc groups  t tree  / filter  ? help  q quit' : 'Tab/1-8 tabs  e env  j/k scroll  Esc back  ? help  q quit';
  return chalk.dim(keys);
}
