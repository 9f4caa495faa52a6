import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { fixtureSamples } from './helpers.js';
import { initialState, reduce, type Action, type State } from '../../tui/store.js';
import { buildFrame, type Frame } from '../../tui/frame.js';

/**
 * buildFrame keeps the last list it derived (filtered, sorted, laid out; row texts made when shown)
 * and re-uses it while the sample, filter, sort, grouping and width are the same objects: a key
 * that only moves the selection or opens the help must not re-derive it, and a key that changes
 * any of them must get what a fresh derivation gives.
 */
const chalk = new Chalk({ level: 1 });

function start(over: Partial<State> = {}): State {
  const { prev, cur } = fixtureSamples('v2-docker-systemd');
  return reduce(reduce(initialState({ cols: 120, rows: 30, ...over }), { type: 'sample', sample: prev }), { type: 'sample', sample: cur });
}

/** the same frame from samples that are new objects (so nothing can come from the memo) */
function fresh(s: State): Frame {
  const { prev, cur } = fixtureSamples('v2-docker-systemd');
  const history = s.history.map((h, i) => (i === s.history.length - 1 ? cur : i === s.history.length - 2 ? prev : h));
  return buildFrame({ ...s, history }, chalk);
}

const view = (f: Frame) => ({ head: f.head, columns: f.columns, rows: f.rows, selected: f.selected, rowKeys: f.rowKeys, footer: f.footer });

describe('buildFrame memo', () => {
  it('moving the selection and opening the help re-use the list (same arrays); the rows shown are the same text', () => {
    const s = start();
    const a = buildFrame(s, chalk);
    const b = buildFrame(reduce(s, { type: 'move', delta: 1, rowKeys: a.rowKeys }), chalk);
    expect(b.rowKeys).toBe(a.rowKeys);
    expect(b.groupRows).toBe(a.groupRows);
    expect(b.selected).toBe(1);
    const c = buildFrame(reduce(s, { type: 'mode', mode: 'help' }), chalk);
    expect(c.rowKeys).toBe(a.rowKeys);
    expect(c.rows).toEqual(a.rows);
  });

  it('each key that changes what the list is gives what a fresh derivation gives', () => {
    let s = start();
    const steps: ((s: State, f: Frame) => Action)[] = [
      // cpu↓ to mem↓ to pids↓: only the key changes
      () => ({ type: 'sort', key: 'mem' }),
      () => ({ type: 'sort', key: 'pids' }),
      () => ({ type: 'sort', key: 'name' }),
      () => ({ type: 'sort', reverse: true }),
      () => ({ type: 'resize', cols: 90, rows: 20 }),
      () => ({ type: 'mode', mode: 'filter' }),
      () => ({ type: 'input', text: 'host' }),
      () => ({ type: 'submit' }),
      () => ({ type: 'back' }),
      () => ({ type: 'groupBy', by: 'ns' }),
      (_s, f) => ({ type: 'enter', row: { key: f.rowKeys[0]!, name: 'first' } }),
      (_s, f) => ({ type: 'move', delta: 2, rowKeys: f.rowKeys }),
      () => ({ type: 'toggleTree' }),
      () => ({ type: 'sort', key: 'mem' }),
      () => ({ type: 'sort', key: 'pid' }),
      () => ({ type: 'sort', reverse: true }),
      () => ({ type: 'mode', mode: 'filter' }),
      () => ({ type: 'input', text: 'x' }),
      () => ({ type: 'submit' }),
      () => ({ type: 'resize', cols: 140, rows: 40 }),
      () => ({ type: 'back' }),
    ];
    let f = buildFrame(s, chalk);
    for (const step of steps) {
      // the memo holds this state's list again (fresh() below replaced it)
      buildFrame(s, chalk);
      const a = step(s, f);
      s = reduce(s, a);
      f = buildFrame(s, chalk);
      expect(view(f), JSON.stringify(a)).toEqual(view(fresh(s)));
    }
    expect(f.rowKeys.length).toBeGreaterThan(0);
  });

  it('a new sample is a new list', () => {
    const s = start();
    const a = buildFrame(s, chalk);
    const { cur } = fixtureSamples('v2-docker-systemd');
    const next = { ...cur, startMs: cur.startMs + 1000, endMs: cur.endMs + 1000, wallMs: cur.wallMs + 1000 };
    const b = buildFrame(reduce(s, { type: 'sample', sample: next }), chalk);
    expect(b.rowKeys).not.toBe(a.rowKeys);
    expect(b.head[0]).not.toBe(a.head[0]);
  });
});
