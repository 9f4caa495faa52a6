/**
 * ctop's state and its one reducer: plain data, no React, no I/O. Keys become actions through the
 * keymap; the poller dispatches samples; components only read.
 */
import { GROUP_MODES, type GroupBy } from './model.js';
import type { Sample } from './sample.js';
import { carryGroups, groupsOf } from './frame.js';

export const DETAIL_TABS = ['overview', 'namespaces', 'cgroups', 'capabilities', 'security', 'idmaps', 'environment', 'mounts'] as const;
export type DetailTab = (typeof DETAIL_TABS)[number];

export type View =
  | { kind: 'groups' }
  | { kind: 'procs'; groupKey: string | undefined; groupName: string }
  | { kind: 'detail'; pid: number; start: number; name: string; tab: DetailTab; scroll: number };

export const SORT_KEYS = ['cpu', 'mem', 'name', 'pids', 'age', 'io', 'net'] as const;
export type SortKey = (typeof SORT_KEYS)[number] | 'tree' | 'pid';

export type Mode = 'normal' | 'filter' | 'command' | 'help' | 'confirm';

export interface Confirm {
  what: 'signal' | 'freeze' | 'thaw';
  /** text shown, already escaped */
  text: string;
  pids: number[];
  cgroupPath?: string;
}

export interface State {
  views: View[];
  groupBy: GroupBy;
  sort: { key: SortKey; desc: boolean };
  /** the group list's filter */
  filter: string;
  /** the process list's filter (a group's processes are not filtered by the group filter) */
  procFilter: string;
  mode: Mode;
  /** what is being typed after `/` or `:` */
  input: string;
  /** selected row key per view depth (group key, or pid) */
  selected: (string | undefined)[];
  paused: boolean;
  intervalMs: number;
  /** the last samples, oldest first (bounded) */
  history: Sample[];
  /** index into history being shown; undefined = follow the newest */
  cursor: number | undefined;
  cols: number;
  rows: number;
  message: string | undefined;
  showEnv: boolean;
  /** process view: a tree (default) or a flat list in sort order */
  procTree: boolean;
  confirm: Confirm | undefined;
  readonly: boolean;
  /** a recording being replayed: its position and length */
  replay: { index: number; total: number; times: number[] } | undefined;
  /** first line of the help screen shown */
  helpTop: number;
  quit: boolean;
}

export const HISTORY_MAX = 30;
/** samples kept whole (for stepping back while paused); older ones keep only what sparklines use */
export const FULL_KEEP = 6;
export const MIN_INTERVAL_MS = 250;
export const MAX_INTERVAL_MS = 60_000;

export function initialState(over: Partial<State> = {}): State {
  return {
    views: [{ kind: 'groups' }],
    groupBy: 'container',
    sort: { key: 'cpu', desc: true },
    filter: '',
    procFilter: '',
    mode: 'normal',
    input: '',
    selected: [undefined],
    paused: false,
    intervalMs: 1000,
    history: [],
    cursor: undefined,
    cols: 80,
    rows: 24,
    message: undefined,
    showEnv: false,
    procTree: true,
    confirm: undefined,
    readonly: false,
    replay: undefined,
    helpTop: 0,
    quit: false,
    ...over,
  };
}

export type Action =
  | { type: 'sample'; sample: Sample }
  | { type: 'replaceHistory'; history: Sample[]; replay?: { index: number; total: number; times: number[] } }
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'move'; delta: number; rowKeys: string[] }
  | { type: 'moveTo'; where: 'first' | 'last'; rowKeys: string[] }
  | { type: 'select'; key: string | undefined }
  | { type: 'enter'; row: { key: string; name: string; pid?: number; start?: number; pids?: number[] } | undefined }
  | { type: 'back' }
  | { type: 'pivot'; row: { key: string; name: string } | undefined; groupOfSelected?: { key: string; name: string } }
  | { type: 'tab'; delta?: number; tab?: DetailTab }
  | { type: 'scroll'; delta: number }
  | { type: 'groupBy'; by?: GroupBy }
  | { type: 'sort'; key?: SortKey; reverse?: boolean }
  | { type: 'mode'; mode: Mode }
  | { type: 'input'; text: string }
  | { type: 'submit' }
  | { type: 'cancel' }
  | { type: 'pause' }
  | { type: 'interval'; factor: number }
  | { type: 'step'; delta: number }
  | { type: 'jump'; ms: number }
  | { type: 'toggleEnv' }
  | { type: 'toggleTree' }
  | { type: 'message'; text: string | undefined }
  | { type: 'confirm'; confirm: Confirm | undefined }
  | { type: 'helpScroll'; delta: number }
  | { type: 'quit' };

/** A sample without its processes: what an old history entry needs (its memoised group rows). */
function thinned(x: Sample): Sample {
  const t = { ...x, procs: [], thin: true };
  carryGroups(x, t);
  return t;
}

export function currentView(s: State): View {
  return s.views[s.views.length - 1]!;
}

/** The filter of the list on screen: the group list's or the process list's. */
export function activeFilter(s: State): string {
  const k = currentView(s).kind;
  return k === 'procs' ? s.procFilter : k === 'groups' ? s.filter : '';
}

/** The sample being shown and the one before it (for rates). */
export function shownSamples(s: State): { prev: Sample | undefined; cur: Sample | undefined } {
  const i = s.cursor ?? s.history.length - 1;
  return { cur: s.history[i], prev: i > 0 ? s.history[i - 1] : undefined };
}

function setSelected(s: State, key: string | undefined): (string | undefined)[] {
  const sel = s.selected.slice(0, s.views.length);
  while (sel.length < s.views.length) sel.push(undefined);
  sel[s.views.length - 1] = key;
  return sel;
}

export function reduce(s: State, a: Action): State {
  switch (a.type) {
    case 'sample': {
      // paused: keep sampling into history (so nothing is lost) but keep the screen where it is
      const history = [...s.history, a.sample];
      // the group rows of the new sample, memoised, so the sparkline survives thinning below
      groupsOf(s.history[s.history.length - 1], a.sample, s.groupBy);
      const thinFrom = history.length - FULL_KEEP;
      for (let i = 0; i < thinFrom; i++) if (!history[i]!.thin) history[i] = thinned(history[i]!);
      const drop = Math.max(0, history.length - HISTORY_MAX);
      const cursor = s.paused ? Math.max(0, (s.cursor ?? s.history.length - 1) - drop) : undefined;
      return { ...s, history: drop ? history.slice(drop) : history, cursor };
    }
    case 'replaceHistory':
      return { ...s, history: a.history, cursor: a.history.length - 1, replay: a.replay ?? s.replay };
    case 'resize':
      return { ...s, cols: Math.max(1, a.cols), rows: Math.max(1, a.rows) };
    case 'move': {
      if (currentView(s).kind === 'detail') return reduce(s, { type: 'scroll', delta: a.delta });
      if (a.rowKeys.length === 0) return s;
      const cur = s.selected[s.views.length - 1];
      // nothing selected (or the selection has gone) shows the first row as selected
      const i = Math.max(0, cur === undefined ? 0 : a.rowKeys.indexOf(cur));
      const j = Math.min(a.rowKeys.length - 1, Math.max(0, i + a.delta));
      return { ...s, selected: setSelected(s, a.rowKeys[j]) };
    }
    case 'moveTo': {
      if (currentView(s).kind === 'detail') return reduce(s, { type: 'scroll', delta: a.where === 'first' ? -1e9 : 1e9 });
      if (a.rowKeys.length === 0) return s;
      return { ...s, selected: setSelected(s, a.where === 'first' ? a.rowKeys[0] : a.rowKeys[a.rowKeys.length - 1]) };
    }
    case 'select':
      return { ...s, selected: setSelected(s, a.key) };
    case 'enter': {
      const v = currentView(s);
      if (!a.row || v.kind === 'detail') return s;
      const sel = setSelected(s, a.row.key);
      if (v.kind === 'groups') {
        return { ...s, views: [...s.views, { kind: 'procs', groupKey: a.row.key, groupName: a.row.name }], selected: [...sel, undefined], message: undefined };
      }
      if (a.row.pid === undefined) return s;
      return {
        ...s,
        views: [...s.views, { kind: 'detail', pid: a.row.pid, start: a.row.start ?? 0, name: a.row.name, tab: 'overview', scroll: 0 }],
        selected: [...sel, undefined],
        showEnv: false,
        message: undefined,
      };
    }
    case 'back': {
      if (s.views.length <= 1) return { ...s, filter: '', message: undefined };
      const leaving = currentView(s).kind;
      return { ...s, views: s.views.slice(0, -1), selected: s.selected.slice(0, s.views.length - 1), message: undefined, ...(leaving === 'procs' ? { procFilter: '' } : {}) };
    }
    case 'pivot': {
      // below's `z`: a group ↔ its processes
      const v = currentView(s);
      if (v.kind === 'groups') return reduce(s, { type: 'enter', row: a.row });
      if (v.kind === 'procs') {
        const views = s.views.slice(0, -1);
        const selected = s.selected.slice(0, views.length);
        if (views.length === 0) return { ...s, views: [{ kind: 'groups' }], selected: [v.groupKey] };
        selected[views.length - 1] = v.groupKey ?? selected[views.length - 1];
        return { ...s, views, selected };
      }
      return s;
    }
    case 'tab': {
      const v = currentView(s);
      if (v.kind !== 'detail') return s;
      const i = DETAIL_TABS.indexOf(v.tab);
      const tab = a.tab ?? DETAIL_TABS[(i + (a.delta ?? 1) + DETAIL_TABS.length) % DETAIL_TABS.length]!;
      return { ...s, views: [...s.views.slice(0, -1), { ...v, tab, scroll: 0 }] };
    }
    case 'scroll': {
      const v = currentView(s);
      if (v.kind !== 'detail') return s;
      return { ...s, views: [...s.views.slice(0, -1), { ...v, scroll: Math.max(0, Math.min(1e6, v.scroll + a.delta)) }] };
    }
    case 'groupBy': {
      const by = a.by ?? GROUP_MODES[(GROUP_MODES.indexOf(s.groupBy) + 1) % GROUP_MODES.length]!;
      return { ...s, groupBy: by, views: [{ kind: 'groups' }], selected: [undefined], message: `grouped by ${by}` };
    }
    case 'sort': {
      if (a.reverse) return { ...s, sort: { ...s.sort, desc: !s.sort.desc } };
      let key = a.key;
      if (!key) {
        const i = (SORT_KEYS as readonly string[]).indexOf(s.sort.key);
        key = SORT_KEYS[(i + 1) % SORT_KEYS.length]!;
      }
      const desc = key === 'name' ? false : true;
      const flat = currentView(s).kind === 'procs' ? { procTree: false } : {};
      return { ...s, ...flat, sort: { key, desc: s.sort.key === key && a.key !== undefined ? !s.sort.desc : desc } };
    }
    case 'mode':
      return { ...s, mode: a.mode, input: a.mode === 'filter' ? activeFilter(s) : '', message: undefined, helpTop: 0 };
    case 'input':
      return { ...s, input: a.text };
    case 'cancel':
      return { ...s, mode: 'normal', input: '', confirm: undefined };
    case 'submit': {
      if (s.mode === 'filter') {
        const err = filterError(s.input);
        if (err) return { ...s, message: err };
        return { ...s, mode: 'normal', ...(currentView(s).kind === 'procs' ? { procFilter: s.input } : { filter: s.input }), input: '', selected: setSelected(s, undefined) };
      }
      if (s.mode === 'command') return runCommand({ ...s, mode: 'normal', input: '' }, s.input);
      return { ...s, mode: 'normal' };
    }
    case 'pause':
      if (s.replay) return { ...s, message: 'replaying a recording: [ and ] step, { and } jump' };
      return s.paused ? { ...s, paused: false, cursor: undefined, message: undefined } : { ...s, paused: true, cursor: s.history.length - 1 };
    case 'interval': {
      const ms = Math.round(Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, s.intervalMs * a.factor)));
      return { ...s, intervalMs: ms, message: `interval ${(ms / 1000).toFixed(ms < 1000 ? 2 : 1)}s` };
    }
    case 'jump': {
      if (s.replay) {
        const t = (s.replay.times[s.replay.index] ?? 0) + a.ms;
        let i = 0;
        for (let j = 0; j < s.replay.times.length; j++) if (s.replay.times[j]! <= t) i = j;
        if (a.ms > 0 && i === s.replay.index) i = Math.min(s.replay.total - 1, i + 1);
        return { ...s, replay: { ...s.replay, index: i } };
      }
      return reduce(s, { type: 'step', delta: Math.round(a.ms / s.intervalMs) || Math.sign(a.ms) });
    }
    case 'step': {
      if (s.replay) return { ...s, replay: { ...s.replay, index: Math.max(0, Math.min(s.replay.total - 1, s.replay.index + a.delta)) } };
      // move within history (stepping pauses the live view)
      if (s.history.length === 0) return s;
      const at = s.cursor ?? s.history.length - 1;
      const first = Math.max(0, s.history.findIndex((h) => !h.thin));
      const to = Math.max(first, Math.min(s.history.length - 1, at + a.delta));
      return { ...s, paused: s.replay ? s.paused : true, cursor: to };
    }
    case 'toggleEnv':
      return { ...s, showEnv: !s.showEnv };
    case 'toggleTree':
      return { ...s, procTree: !s.procTree };
    case 'message':
      return { ...s, message: a.text };
    case 'confirm':
      return { ...s, confirm: a.confirm, mode: a.confirm ? 'confirm' : 'normal' };
    case 'helpScroll':
      return { ...s, helpTop: Math.max(0, s.helpTop + a.delta) };
    case 'quit':
      return { ...s, quit: true };
  }
}

/** `:group ns`, `:sort mem`, `:proc 1234`, `:filter x`, `:interval 2`, `:q` */
export function runCommand(s: State, line: string): State {
  const [cmd, ...rest] = line.trim().split(/\s+/);
  const arg = rest.join(' ');
  switch (cmd) {
    case 'group':
    case 'g': {
      const by = GROUP_ALIASES[arg];
      if (!by) return { ...s, message: `unknown grouping '${arg}': container, ns, cgroup, pod` };
      return reduce(s, { type: 'groupBy', by });
    }
    case 'sort': {
      const key = arg.replace(/^-/, '');
      if (!(SORT_KEYS as readonly string[]).includes(key)) return { ...s, message: `unknown sort key '${key}': ${SORT_KEYS.join(', ')}` };
      return { ...s, sort: { key: key as SortKey, desc: key === 'name' ? arg.startsWith('-') : !arg.startsWith('-') } };
    }
    case 'proc':
    case 'p': {
      const pid = Number(arg);
      if (!/^\d+$/.test(arg) || pid <= 0) return { ...s, message: `not a pid: '${arg}'` };
      return {
        ...s,
        views: [...s.views.filter((v) => v.kind !== 'detail'), { kind: 'detail', pid, start: -1, name: String(pid), tab: 'overview', scroll: 0 }],
        selected: [...s.selected.slice(0, s.views.filter((v) => v.kind !== 'detail').length), undefined],
        showEnv: false,
      };
    }
    case 'filter':
    case 'f': {
      const err = filterError(arg);
      return err ? { ...s, message: err } : { ...s, ...(currentView(s).kind === 'procs' ? { procFilter: arg } : { filter: arg }) };
    }
    case 'interval':
    case 'd': {
      const sec = Number(arg);
      if (!Number.isFinite(sec) || sec * 1000 < MIN_INTERVAL_MS || sec * 1000 > MAX_INTERVAL_MS) return { ...s, message: `interval must be 0.25 to 60 seconds` };
      return { ...s, intervalMs: Math.round(sec * 1000) };
    }
    case 'jump':
    case 'j': {
      const ms = parseDuration(arg);
      if (ms === undefined) return { ...s, message: `not a duration: '${arg}' (e.g. 30s, -5m, 1h)` };
      return reduce(s, { type: 'jump', ms });
    }
    case 'q':
    case 'quit':
      return { ...s, quit: true };
    case undefined:
    case '':
      return s;
    default:
      return { ...s, message: `unknown command '${cmd}': group, sort, proc, filter, interval, jump, quit` };
  }
}

/** `30s`, `-5m`, `1h`, `90` (seconds) → ms */
export function parseDuration(text: string): number | undefined {
  const m = /^([+-]?)(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[3] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return (m[1] === '-' ? -1 : 1) * Number(m[2]) * unit;
}

export const GROUP_ALIASES: Record<string, GroupBy> = {
  container: 'container',
  containers: 'container',
  c: 'container',
  ns: 'ns',
  namespace: 'ns',
  namespaces: 'ns',
  n: 'ns',
  cgroup: 'cgroup',
  cgroups: 'cgroup',
  cg: 'cgroup',
  pod: 'pod',
  compose: 'pod',
  p: 'pod',
};

// ---- filters: `text` (regex on the name/command), `!text`, `field~regex`, `field=value`

export interface FilterTerm {
  field: string | undefined;
  op: '~' | '=';
  value: string;
  re: RegExp | undefined;
  invert: boolean;
}

export function parseFilter(text: string): FilterTerm[] | string {
  const out: FilterTerm[] = [];
  for (const raw of text.trim().split(/\s+/).filter(Boolean)) {
    let t = raw;
    const invert = t.startsWith('!');
    if (invert) t = t.slice(1);
    const m = /^([a-z][a-z0-9_.]*)(~|=)(.*)$/i.exec(t);
    const field = m ? m[1]!.toLowerCase() : undefined;
    const op = (m ? m[2] : '~') as '~' | '=';
    const value = m ? m[3]! : t;
    let re: RegExp | undefined;
    if (op === '~') {
      try {
        re = new RegExp(value, 'i');
      } catch {
        return `bad regular expression '${value}'`;
      }
    }
    out.push({ field, op, value, re, invert });
  }
  return out;
}

function filterError(text: string): string | undefined {
  const r = parseFilter(text);
  return typeof r === 'string' ? r : undefined;
}

/** Does a row, seen as its fields, pass every term? (`fields('')` is the default text) */
export function matchFilter(terms: FilterTerm[], fields: (name: string | undefined) => string | undefined): boolean {
  return terms.every((t) => {
    const v = fields(t.field);
    const hit = v !== undefined && (t.op === '=' ? v === t.value : t.re!.test(v));
    return hit !== t.invert;
  });
}

/** The state holder the poller, the keys and React share (React reads it with useSyncExternalStore). */
export interface Store {
  getState(): State;
  dispatch(a: Action): void;
  subscribe(fn: () => void): () => void;
}

export function createStore(initial: State): Store {
  let state = initial;
  const subs = new Set<() => void>();
  return {
    getState: () => state,
    dispatch(a) {
      const next = reduce(state, a);
      if (next === state) return;
      state = next;
      for (const fn of subs) fn();
    },
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
}
