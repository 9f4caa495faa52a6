/**
 * Every key of ctop, in one table: what it matches, what it does, and its help text (`?` renders
 * the help from this table, so it cannot drift). Typing after `/` or `:` and answering a
 * confirmation are handled by `handleKey` before the table.
 */
import type { Key } from 'ink';
import { currentView, DETAIL_TABS, type Action, type State } from './store.js';
import type { Frame } from './frame.js';
import { GROUP_MODES } from './model.js';

/** What keys may do beyond the state: signals, cgroup writes, a shell. Injected (tests record them). */
export interface Effects {
  signal(pids: number[], signal: 'SIGTERM' | 'SIGKILL'): string;
  /** freeze or thaw the cgroup (its freezer) that these processes are in */
  freeze(pids: number[], frozen: boolean): string | Promise<string>;
  shell(pid: number): void;
}

export interface KeyCtx {
  state: State;
  frame: Frame;
  dispatch(a: Action): void;
  effects: Effects | undefined;
}

export type KeyPress = { input: string; key: Partial<Key> };

export interface Binding {
  /** as shown in the help */
  keys: string;
  help: string;
  section: 'move' | 'views' | 'data' | 'time' | 'actions' | 'other';
  match(k: KeyPress): boolean;
  run(c: KeyCtx): void;
}

const ch = (...cs: string[]) => (k: KeyPress) => !k.key.ctrl && !k.key.meta && cs.includes(k.input);

function selectedRow(c: KeyCtx): { key: string; name: string; pid?: number; start?: number; pids?: number[]; cgroupPath?: string } | undefined {
  const v = currentView(c.state);
  const key = c.state.selected[c.state.views.length - 1] ?? c.frame.rowKeys[0];
  if (key === undefined) return undefined;
  if (v.kind === 'groups') {
    const g = c.frame.groupRows?.find((r) => r.key === key);
    return g ? { key, name: g.name, pids: g.pids, ...(g.cgroupPath && g.source === 'cgroup' ? { cgroupPath: g.cgroupPath } : {}) } : undefined;
  }
  if (v.kind === 'procs') {
    const p = c.frame.procRows?.find((r) => String(r.pid) === key);
    const raw = c.state.history[c.state.cursor ?? c.state.history.length - 1]?.procs.find((q) => q.pid === p?.pid);
    return p ? { key, name: p.comm, pid: p.pid, start: raw?.start ?? -1, pids: [p.pid] } : undefined;
  }
  return undefined;
}

const page = (c: KeyCtx): number => Math.max(1, c.state.rows - 6);

export const KEYMAP: Binding[] = [
  { keys: '↑ k', help: 'previous row (details: scroll up)', section: 'move', match: (k) => !!k.key.upArrow || ch('k')(k), run: (c) => c.dispatch({ type: 'move', delta: -1, rowKeys: c.frame.rowKeys }) },
  { keys: '↓ j', help: 'next row (details: scroll down)', section: 'move', match: (k) => !!k.key.downArrow || ch('j')(k), run: (c) => c.dispatch({ type: 'move', delta: 1, rowKeys: c.frame.rowKeys }) },
  { keys: 'PgUp ^b', help: 'page up', section: 'move', match: (k) => !!k.key.pageUp || (!!k.key.ctrl && k.input === 'b'), run: (c) => c.dispatch({ type: 'move', delta: -page(c), rowKeys: c.frame.rowKeys }) },
  { keys: 'PgDn ^f', help: 'page down', section: 'move', match: (k) => !!k.key.pageDown || (!!k.key.ctrl && k.input === 'f'), run: (c) => c.dispatch({ type: 'move', delta: page(c), rowKeys: c.frame.rowKeys }) },
  { keys: 'Home g', help: 'first row', section: 'move', match: (k) => !!k.key.home || ch('g')(k), run: (c) => c.dispatch({ type: 'moveTo', where: 'first', rowKeys: c.frame.rowKeys }) },
  { keys: 'End G', help: 'last row', section: 'move', match: (k) => !!k.key.end || ch('G')(k), run: (c) => c.dispatch({ type: 'moveTo', where: 'last', rowKeys: c.frame.rowKeys }) },
  { keys: 'Enter → l', help: "open: a group's processes, a process's details", section: 'views', match: (k) => !!k.key.return || !!k.key.rightArrow || ch('l')(k), run: (c) => c.dispatch({ type: 'enter', row: selectedRow(c) }) },
  { keys: 'Esc ← h', help: 'back (the breadcrumb shows where you are); clears the filter at the top', section: 'views', match: (k) => !!k.key.escape || !!k.key.leftArrow || ch('h')(k), run: (c) => c.dispatch({ type: 'back' }) },
  { keys: 'z', help: 'pivot between a group and its processes (as below)', section: 'views', match: ch('z'), run: (c) => c.dispatch({ type: 'pivot', row: selectedRow(c) }) },
  { keys: 'm', help: `group by the next mode (${GROUP_MODES.join(' → ')}); :group MODE`, section: 'views', match: ch('m'), run: (c) => c.dispatch({ type: 'groupBy' }) },
  { keys: 'Tab S-Tab', help: 'next / previous detail tab', section: 'views', match: (k) => !!k.key.tab, run: (c) => c.dispatch({ type: 'tab', delta: 1 }) },
  { keys: '1-8', help: `detail tab: ${DETAIL_TABS.map((t, i) => `${i + 1} ${t}`).join(', ')}`, section: 'views', match: (k) => !k.key.ctrl && /^[1-8]$/.test(k.input), run: () => undefined },
  { keys: 'e', help: 'environment tab: show / hide the values', section: 'views', match: ch('e'), run: (c) => c.dispatch({ type: 'toggleEnv' }) },
  { keys: 't', help: 'processes: tree or flat list in sort order', section: 'views', match: ch('t'), run: (c) => c.dispatch({ type: 'toggleTree' }) },
  { keys: '/', help: 'filter: regex on name; !x inverts; name~re kind~re cgroup~re pid=N ns.net=INODE', section: 'data', match: ch('/'), run: (c) => c.dispatch({ type: 'mode', mode: 'filter' }) },
  { keys: ':', help: 'command: group ns|container|cgroup|pod, sort cpu|mem|…, proc PID, filter X, interval SEC, q', section: 'data', match: ch(':'), run: (c) => c.dispatch({ type: 'mode', mode: 'command' }) },
  { keys: 's', help: 'sort by the next column (cpu, mem, name, pids, age, io, net)', section: 'data', match: ch('s'), run: (c) => c.dispatch({ type: 'sort' }) },
  { keys: 'r', help: 'reverse the sort', section: 'data', match: ch('r'), run: (c) => c.dispatch({ type: 'sort', reverse: true }) },
  { keys: 'P M N', help: 'sort by CPU, memory, name (as htop)', section: 'data', match: ch('P', 'M', 'N'), run: () => undefined },
  { keys: '+ -', help: 'refresh interval ×2 / ÷2 (0.25 s to 60 s)', section: 'time', match: ch('+', '=', '-'), run: () => undefined },
  { keys: 'Space', help: 'pause / resume (sampling goes on into the history)', section: 'time', match: ch(' '), run: (c) => c.dispatch({ type: 'pause' }) },
  { keys: '[ ]', help: 'one sample back / forward in time (pauses)', section: 'time', match: ch('[', ']'), run: () => undefined },
  { keys: '{ }', help: 'jump back / forward by one minute (:jump 10m for any duration)', section: 'time', match: ch('{', '}'), run: () => undefined },
  { keys: 'K', help: 'signal the process, or every process of the group (asks first)', section: 'actions', match: ch('K'), run: (c) => askSignal(c) },
  { keys: 'F', help: "freeze / thaw the group's cgroup (asks first)", section: 'actions', match: ch('F'), run: (c) => askFreeze(c) },
  { keys: 'S', help: "open a shell in the group's (or process's) namespaces; exit it to come back", section: 'actions', match: ch('S'), run: (c) => openShell(c) },
  { keys: '?', help: 'this help', section: 'other', match: ch('?'), run: (c) => c.dispatch({ type: 'mode', mode: 'help' }) },
  { keys: 'q ^C', help: 'quit', section: 'other', match: (k) => ch('q')(k) || (!!k.key.ctrl && k.input === 'c'), run: (c) => c.dispatch({ type: 'quit' }) },
];

function refuse(c: KeyCtx, why: string): boolean {
  c.dispatch({ type: 'message', text: why });
  return false;
}

function canAct(c: KeyCtx): boolean {
  if (c.state.readonly) return refuse(c, 'read-only: actions are off (--readonly)');
  if (c.state.replay) return refuse(c, 'replaying a recording: no actions');
  if (!c.effects) return refuse(c, 'actions need the live host');
  return true;
}

function askSignal(c: KeyCtx): void {
  if (!canAct(c)) return;
  const v = currentView(c.state);
  const row = v.kind === 'detail' ? { key: String(v.pid), name: v.name, pids: [v.pid] } : selectedRow(c);
  if (!row?.pids?.length) return void refuse(c, 'nothing selected');
  if (row.pids.includes(1) && row.key === 'host') return void refuse(c, 'will not signal the host group');
  const what = row.pids.length === 1 ? `pid ${row.pids[0]} (${row.name})` : `${row.pids.length} processes of ${row.name}`;
  c.dispatch({ type: 'confirm', confirm: { what: 'signal', text: `signal ${what}?  y SIGTERM · 9 SIGKILL · n cancel`, pids: row.pids } });
}

function askFreeze(c: KeyCtx): void {
  if (!canAct(c)) return;
  const row = currentView(c.state).kind === 'groups' ? selectedRow(c) : undefined;
  if (!row) return void refuse(c, 'freeze works on a group: select one in the group list');
  if (!row.cgroupPath) return void refuse(c, `${row.name} has no cgroup of its own to freeze`);
  c.dispatch({ type: 'confirm', confirm: { what: 'freeze', text: `freeze or thaw ${row.name} (${row.cgroupPath})?  f freeze · t thaw · n cancel`, pids: row.pids ?? [], cgroupPath: row.cgroupPath } });
}

function openShell(c: KeyCtx): void {
  if (!canAct(c)) return;
  const v = currentView(c.state);
  let pid: number | undefined;
  if (v.kind === 'detail') pid = v.pid;
  else {
    const row = selectedRow(c);
    if (row?.key === 'host') return void refuse(c, 'the host group: open a shell in a container');
    if (v.kind === 'groups' && row && row.pids?.length === 0) return void refuse(c, 'this container has ended: no process to open a shell in');
    pid = v.kind === 'groups' ? c.frame.groupRows?.find((g) => g.key === row?.key)?.initPid ?? row?.pids?.[0] : row?.pid;
  }
  if (pid === undefined) return void refuse(c, 'nothing selected');
  c.effects!.shell(pid);
}

/**
 * Split what Ink hands over as one input into key presses. Ink passes a chunk it cannot read as a
 * single key (several keys typed while a scan ran, a paste, text and Enter together) as one raw
 * string: here each printable character, CR, Tab, DEL, a lone ESC and the common CSI/SS3 cursor
 * sequences become keys of their own.
 */
export function splitKeys(raw: string): KeyPress[] {
  const out: KeyPress[] = [];
  const CSI: Record<string, Partial<Key>> = { A: { upArrow: true }, B: { downArrow: true }, C: { rightArrow: true }, D: { leftArrow: true }, H: { home: true }, F: { end: true }, '5~': { pageUp: true }, '6~': { pageDown: true }, '1~': { home: true }, '4~': { end: true }, Z: { tab: true, shift: true } };
  for (let i = 0; i < raw.length; ) {
    const c = raw[i]!;
    if (c === '\x1b') {
      const m = /^\x1b(?:\[|O)([0-9;]*[A-Za-z~])/.exec(raw.slice(i));
      if (m) {
        const k = CSI[m[1]!.replace(/^1;\d+(?=[A-Z])/, '')];
        if (k) out.push({ input: '', key: k });
        i += m[0].length;
        continue;
      }
      out.push({ input: '', key: { escape: true } });
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') out.push({ input: '', key: { return: true } });
    else if (c === '\t') out.push({ input: '', key: { tab: true } });
    else if (c === '\x7f' || c === '\b') out.push({ input: '', key: { backspace: true } });
    else if (c < ' ') out.push({ input: String.fromCharCode(c.charCodeAt(0) + 96), key: { ctrl: true } });
    else {
      const cp = raw.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      out.push({ input: ch, key: {} });
      i += ch.length;
      continue;
    }
    i++;
  }
  return out;
}

/**
 * One input event from Ink. A chunk of several keys is split (splitKeys) and each key handled in
 * the state the previous one left; `next` gives that context.
 */
export function handleInput(c: KeyCtx, k: KeyPress, next: () => KeyCtx): void {
  const special = k.key.upArrow || k.key.downArrow || k.key.leftArrow || k.key.rightArrow || k.key.pageUp || k.key.pageDown || k.key.home || k.key.end || k.key.return || k.key.tab || k.key.backspace || k.key.delete || (k.key.escape && k.input === '');
  if (special || [...k.input].length <= 1) return handleKey(c, k);
  // Ink leaves the ESC of a sequence it did not know off the front: the rest is still keys
  const keys = splitKeys(k.key.ctrl && k.input.length === 1 ? String.fromCharCode(k.input.charCodeAt(0) - 96) : k.input);
  let ctx = c;
  for (const key of keys) {
    handleKey(ctx, key);
    ctx = next();
  }
}

/** One key press: typing modes first, then the table. */
export function handleKey(c: KeyCtx, k: KeyPress): void {
  const s = c.state;
  if (s.mode === 'filter' || s.mode === 'command') {
    if (k.key.escape) return c.dispatch({ type: 'cancel' });
    if (k.key.return) return c.dispatch({ type: 'submit' });
    if (k.key.backspace || k.key.delete) return c.dispatch({ type: 'input', text: s.input.slice(0, -1) });
    if (k.key.ctrl && k.input === 'c') return c.dispatch({ type: 'quit' });
    if (k.key.ctrl && k.input === 'u') return c.dispatch({ type: 'input', text: '' });
    if (k.input && !k.key.ctrl && !k.key.meta && !/[\u0000-\u001f]/.test(k.input)) return c.dispatch({ type: 'input', text: (s.input + k.input).slice(0, 200) });
    return;
  }
  if (s.mode === 'help') {
    if (k.key.ctrl && k.input === 'c') return c.dispatch({ type: 'quit' });
    if (k.key.downArrow || k.input === 'j') return c.dispatch({ type: 'helpScroll', delta: 1 });
    if (k.key.upArrow || k.input === 'k') return c.dispatch({ type: 'helpScroll', delta: -1 });
    if (k.key.pageDown || k.input === ' ') return c.dispatch({ type: 'helpScroll', delta: page(c) });
    if (k.key.pageUp) return c.dispatch({ type: 'helpScroll', delta: -page(c) });
    return c.dispatch({ type: 'mode', mode: 'normal' });
  }
  if (s.mode === 'confirm' && s.confirm) {
    const cf = s.confirm;
    let msg: string | Promise<string> | undefined;
    if (cf.what === 'signal' && (k.input === 'y' || k.input === '9')) msg = c.effects?.signal(cf.pids, k.input === '9' ? 'SIGKILL' : 'SIGTERM');
    else if ((cf.what === 'freeze' || cf.what === 'thaw') && (k.input === 'f' || k.input === 't')) msg = c.effects?.freeze(cf.pids, k.input === 'f');
    c.dispatch({ type: 'confirm', confirm: undefined });
    if (typeof msg === 'object') {
      // freeze/thaw waits for the kernel: keys keep working meanwhile, the result arrives later
      c.dispatch({ type: 'message', text: k.input === 'f' ? 'freezing…' : 'thawing…' });
      void msg.then(
        (text) => c.dispatch({ type: 'message', text }),
        (e: unknown) => c.dispatch({ type: 'message', text: `failed: ${String((e as Error)?.message ?? e)}` }),
      );
      return;
    }
    c.dispatch({ type: 'message', text: msg ?? 'cancelled' });
    return;
  }
  // keys whose action depends on which of several characters it was
  const v = currentView(s);
  if (!k.key.ctrl && /^[1-8]$/.test(k.input) && v.kind === 'detail') return c.dispatch({ type: 'tab', tab: DETAIL_TABS[Number(k.input) - 1]! });
  if (k.key.tab) return c.dispatch({ type: 'tab', delta: k.key.shift ? -1 : 1 });
  if (!k.key.ctrl) {
    if (k.input === 'P') return c.dispatch({ type: 'sort', key: 'cpu' });
    if (k.input === 'M') return c.dispatch({ type: 'sort', key: 'mem' });
    if (k.input === 'N') return c.dispatch({ type: 'sort', key: 'name' });
    if (k.input === '+' || k.input === '=') return c.dispatch({ type: 'interval', factor: 2 });
    if (k.input === '-') return c.dispatch({ type: 'interval', factor: 0.5 });
    if (k.input === '[' || k.input === ']') return c.dispatch({ type: 'step', delta: k.input === '[' ? -1 : 1 });
    if (k.input === '{' || k.input === '}') return c.dispatch({ type: 'jump', ms: k.input === '{' ? -60_000 : 60_000 });
  }
  const b = KEYMAP.find((x) => x.match(k));
  if (b) b.run(c);
}

/** The help screen, from the table. */
export function helpLines(): string[] {
  const out: string[] = [];
  const titles: Record<Binding['section'], string> = { move: 'Move', views: 'Views', data: 'Filter and sort', time: 'Time', actions: 'Actions (off with --readonly)', other: 'Other' };
  for (const sec of Object.keys(titles) as Binding['section'][]) {
    out.push(titles[sec]);
    for (const b of KEYMAP.filter((x) => x.section === sec)) out.push(`  ${b.keys.padEnd(10)} ${b.help}`);
  }
  out.push(
    'Columns',
    '  CPU%      Δusage/Δwall of the group’s own cgroup (100 = one CPU; "—" until the second sample); else the sum over its processes',
    '  %QUOTA    CPU% as a share of the cgroup’s cpu quota; THROT periods throttled in the interval',
    '  MEM       working set = usage − inactive_file (as docker stats), or summed RSS; LIMIT, MEM% of it; OOM kills',
    '  PIDS      pids.current/pids.max; NET RX/TX per second of its network namespace (lo left out); IO R/W per second',
    '  PSI       highest some-avg10 of cpu/memory/io pressure (cgroup v2); colours are relative to the group’s own limits',
    '  KIND      by ns: own: and the namespaces not the host’s (p pid, m mnt, n net, u uts, i ipc, U user, C cgroup, T time)',
  );
  return out;
}
