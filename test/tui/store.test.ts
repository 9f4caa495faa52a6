import { describe, expect, it } from 'vitest';
import { activeFilter, initialState, reduce, parseFilter, matchFilter, parseDuration, shownSamples, FULL_KEEP, HISTORY_MAX, type State } from '../../tui/store.js';
import type { Sample } from '../../tui/sample.js';
import { splitKeys } from '../../tui/keymap.js';

const sample = (endMs: number): Sample => ({ v: 1, startMs: endMs - 10, endMs, wallMs: endMs, ncpu: 2, cgroupMode: 'v2', host: {}, procs: [], containers: [], cgroups: {}, net: {}, vanished: 0, denied: 0 });
const run = (s: State, ...as: Parameters<typeof reduce>[1][]): State => as.reduce(reduce, s);
const keys = ['a', 'b', 'c', 'd'];

describe('ctop reducer', () => {
  it('moves the selection within the rows; nothing selected means the first row', () => {
    let s = initialState();
    s = reduce(s, { type: 'move', delta: 1, rowKeys: keys });
    expect(s.selected[0]).toBe('b');
    s = run(s, { type: 'move', delta: 10, rowKeys: keys });
    expect(s.selected[0]).toBe('d');
    s = run(s, { type: 'move', delta: -10, rowKeys: keys });
    expect(s.selected[0]).toBe('a');
    s = run(s, { type: 'moveTo', where: 'last', rowKeys: keys });
    expect(s.selected[0]).toBe('d');
  });

  it('a selected row that has gone counts as the first', () => {
    const s = run(initialState(), { type: 'select', key: 'zz' }, { type: 'move', delta: 1, rowKeys: keys });
    expect(s.selected[0]).toBe('b');
  });

  it('drills down group → processes → detail and back, one view at a time', () => {
    let s = reduce(initialState(), { type: 'enter', row: { key: 'docker:1', name: 'web' } });
    expect(s.views.map((v) => v.kind)).toEqual(['groups', 'procs']);
    s = reduce(s, { type: 'enter', row: { key: '42', name: 'nginx', pid: 42, start: 7 } });
    expect(s.views.at(-1)).toMatchObject({ kind: 'detail', pid: 42, start: 7, tab: 'overview' });
    s = run(s, { type: 'tab', delta: 1 });
    expect(s.views.at(-1)).toMatchObject({ tab: 'namespaces' });
    s = run(s, { type: 'tab', delta: -2 });
    expect(s.views.at(-1)).toMatchObject({ tab: 'mounts' });
    s = run(s, { type: 'back' });
    expect(s.views.map((v) => v.kind)).toEqual(['groups', 'procs']);
    expect(s.selected).toEqual(['docker:1', '42']);
    s = run(s, { type: 'back' }, { type: 'back' });
    expect(s.views).toEqual([{ kind: 'groups' }]);
    expect(s.selected[0]).toBe('docker:1');
  });

  it('z pivots a group to its processes and back to the same group', () => {
    let s = reduce(initialState(), { type: 'pivot', row: { key: 'g1', name: 'one' } });
    expect(s.views.at(-1)).toMatchObject({ kind: 'procs', groupKey: 'g1' });
    s = reduce(s, { type: 'pivot', row: undefined });
    expect(s.views).toEqual([{ kind: 'groups' }]);
    expect(s.selected[0]).toBe('g1');
  });

  it('changing the grouping goes back to the group list', () => {
    let s = reduce(initialState(), { type: 'enter', row: { key: 'g', name: 'g' } });
    s = reduce(s, { type: 'groupBy' });
    expect(s.groupBy).toBe('ns');
    expect(s.views).toEqual([{ kind: 'groups' }]);
    s = run(s, { type: 'groupBy' }, { type: 'groupBy' }, { type: 'groupBy' });
    expect(s.groupBy).toBe('container');
  });

  it('keeps a bounded history; follows the newest sample unless paused', () => {
    let s = initialState();
    for (let i = 1; i <= HISTORY_MAX + 5; i++) s = reduce(s, { type: 'sample', sample: sample(i * 1000) });
    expect(s.history).toHaveLength(HISTORY_MAX);
    expect(shownSamples(s).cur!.endMs).toBe((HISTORY_MAX + 5) * 1000);
    expect(shownSamples(s).prev!.endMs).toBe((HISTORY_MAX + 4) * 1000);
    s = reduce(s, { type: 'pause' });
    const frozen = shownSamples(s).cur!.endMs;
    s = run(s, { type: 'sample', sample: sample(999_000) }, { type: 'sample', sample: sample(999_500) });
    expect(shownSamples(s).cur!.endMs).toBe(frozen);
    s = run(s, { type: 'step', delta: -3 });
    expect(shownSamples(s).cur!.endMs).toBe(frozen - 3000);
    s = run(s, { type: 'pause' });
    expect(s.paused).toBe(false);
    expect(shownSamples(s).cur!.endMs).toBe(999_500);
  });

  it('old samples are thinned (processes dropped) to bound memory; stepping back stops at the last whole one', () => {
    let s = initialState();
    for (let i = 1; i <= FULL_KEEP + 3; i++) s = reduce(s, { type: 'sample', sample: { ...sample(i * 1000), procs: [{ pid: 1, ppid: 0, comm: 'x', cmd: '', state: 'S', ticks: 0, start: 0, rssBytes: 0, threads: 1, ns: {} }] } });
    expect(s.history.map((h) => h.procs.length)).toEqual([0, 0, 0, ...Array(FULL_KEEP).fill(1)]);
    expect(s.history.slice(0, 3).every((h) => h.thin)).toBe(true);
    s = reduce(s, { type: 'step', delta: -100 });
    expect(s.cursor).toBe(3);
  });

  it('the first sample has no previous one (rates show —)', () => {
    const s = reduce(initialState(), { type: 'sample', sample: sample(1000) });
    expect(shownSamples(s).prev).toBeUndefined();
  });

  it('interval + and − stay within 0.25 s and 60 s', () => {
    let s = initialState();
    for (let i = 0; i < 10; i++) s = reduce(s, { type: 'interval', factor: 2 });
    expect(s.intervalMs).toBe(60_000);
    for (let i = 0; i < 20; i++) s = reduce(s, { type: 'interval', factor: 0.5 });
    expect(s.intervalMs).toBe(250);
  });

  it('the command palette: group, sort, proc, jump, and a clear message for the rest', () => {
    const cmd = (line: string, s = initialState()): State => run(s, { type: 'mode', mode: 'command' }, { type: 'input', text: line }, { type: 'submit' });
    expect(cmd('group ns').groupBy).toBe('ns');
    expect(cmd('group compose').groupBy).toBe('pod');
    expect(cmd('sort mem').sort).toEqual({ key: 'mem', desc: true });
    expect(cmd('sort -mem').sort).toEqual({ key: 'mem', desc: false });
    expect(cmd('proc 1234').views.at(-1)).toMatchObject({ kind: 'detail', pid: 1234 });
    expect(cmd('proc x').message).toBe("not a pid: 'x'");
    expect(cmd('group nope').message).toMatch(/^unknown grouping 'nope'/);
    expect(cmd('frobnicate').message).toMatch(/^unknown command 'frobnicate'/);
    expect(cmd('interval 2').intervalMs).toBe(2000);
    expect(cmd('q').quit).toBe(true);
  });

  it('jumps in a replay by wall time', () => {
    const times = [0, 5000, 10_000, 15_000, 60_000, 65_000];
    let s = initialState({ replay: { index: 0, total: times.length, times } });
    s = reduce(s, { type: 'jump', ms: 12_000 });
    expect(s.replay!.index).toBe(2);
    s = reduce(s, { type: 'jump', ms: 60_000 });
    expect(s.replay!.index).toBe(5);
    s = reduce(s, { type: 'step', delta: -1 });
    expect(s.replay!.index).toBe(4);
    s = reduce(s, { type: 'step', delta: -100 });
    expect(s.replay!.index).toBe(0);
  });

  it("the group filter does not filter a group's processes; the process list has its own", () => {
    let s = run(initialState(), { type: 'mode', mode: 'filter' }, { type: 'input', text: 'web' }, { type: 'submit' });
    s = reduce(s, { type: 'enter', row: { key: 'g', name: 'web' } });
    expect(activeFilter(s)).toBe('');
    s = run(s, { type: 'mode', mode: 'filter' }, { type: 'input', text: 'nginx' }, { type: 'submit' });
    expect([s.filter, s.procFilter]).toEqual(['web', 'nginx']);
    s = reduce(s, { type: 'back' });
    expect([activeFilter(s), s.procFilter]).toEqual(['web', '']);
  });

  it('a bad filter regex is refused with a message and the old filter kept', () => {
    let s = run(initialState({ filter: 'web' }), { type: 'mode', mode: 'filter' }, { type: 'input', text: 'a(' }, { type: 'submit' });
    expect(s.filter).toBe('web');
    expect(s.message).toBe("bad regular expression 'a('");
    s = run(s, { type: 'input', text: '!db' }, { type: 'submit' });
    expect(s.filter).toBe('!db');
    expect(s.mode).toBe('normal');
  });
});

describe('ctop input chunks', () => {
  it('splits printable keys, CR, Tab, DEL, ESC, arrows and ctrl keys', () => {
    expect(splitKeys('jj\r\x1b[A\x1bq\x7f\t\x03é')).toEqual([
      { input: 'j', key: {} },
      { input: 'j', key: {} },
      { input: '', key: { return: true } },
      { input: '', key: { upArrow: true } },
      { input: '', key: { escape: true } },
      { input: 'q', key: {} },
      { input: '', key: { backspace: true } },
      { input: '', key: { tab: true } },
      { input: 'c', key: { ctrl: true } },
      { input: 'é', key: {} },
    ]);
  });
  it('page keys and an unknown CSI sequence (skipped whole, not typed)', () => {
    expect(splitKeys('\x1b[6~\x1b[5~\x1b[99X!')).toEqual([{ input: '', key: { pageDown: true } }, { input: '', key: { pageUp: true } }, { input: '!', key: {} }]);
  });
});

describe('ctop filters', () => {
  const row = (f: string | undefined): string | undefined => ({ name: 'web-1', kind: 'docker', 'ns.net': '4026532000', undefined: 'web-1 docker' })[String(f)];
  const m = (text: string): boolean => {
    const t = parseFilter(text);
    if (typeof t === 'string') throw new Error(t);
    return matchFilter(t, row);
  };
  it('a bare word is a case-insensitive regex on the name', () => {
    expect(m('WEB')).toBe(true);
    expect(m('^db')).toBe(false);
  });
  it('! inverts', () => {
    expect(m('!web')).toBe(false);
    expect(m('!db')).toBe(true);
  });
  it('field prefixes: name~re, ns.net=inode (exact)', () => {
    expect(m('name~^web')).toBe(true);
    expect(m('ns.net=4026532000')).toBe(true);
    expect(m('ns.net=402653200')).toBe(false);
    expect(m('kind~docker name~1$')).toBe(true);
  });
  it('an unknown field matches nothing (and !field everything)', () => {
    expect(m('image~x')).toBe(false);
    expect(m('!image~x')).toBe(true);
  });
  it('durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('-5m')).toBe(-300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('5 minutes')).toBeUndefined();
  });
});
