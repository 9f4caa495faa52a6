import { describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { Chalk } from 'chalk';
import { App } from '../../tui/components/App.js';
import { createStore, currentView, initialState, reduce } from '../../tui/store.js';
import type { Effects } from '../../tui/keymap.js';
import { buildFrame } from '../../tui/frame.js';
import { fixtureSamples } from './helpers.js';

const chalk = new Chalk({ level: 0 });
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

function setup(over: Parameters<typeof initialState>[0] = {}) {
  const { prev, cur } = fixtureSamples('v2-docker-systemd');
  let s = initialState({ cols: 120, rows: 30, sort: { key: 'name', desc: false }, ...over });
  s = reduce(reduce(s, { type: 'sample', sample: prev }), { type: 'sample', sample: cur });
  const store = createStore(s);
  const calls: string[] = [];
  const effects: Effects = {
    signal: (pids, sig) => (calls.push(`signal ${sig} ${pids.join(',')}`), 'sent'),
    freeze: (pids, frozen) => (calls.push(`freeze ${frozen} ${pids.join(',')}`), 'done'),
    shell: (pid) => void calls.push(`shell ${pid}`),
  };
  const app = render(createElement(App, { store, chalk, effects, trackSize: false }));
  return { store, app, calls };
}

describe('ctop keys (ink-testing-library)', () => {
  it('several keys in one input chunk are each handled: "jj" moves two rows', async () => {
    const { store, app } = setup();
    await tick();
    app.stdin.write('jj');
    await tick();
    // sorted by name: 0a5c…, 246c…, 5fba…, 9d72…, host — two rows down is the third
    const rowKeys = buildFrame(store.getState(), chalk).rowKeys;
    expect(rowKeys).toHaveLength(5);
    expect(store.getState().selected[0]).toBe(rowKeys[2]);
    expect(rowKeys[2]).toMatch(/5fba1658e4ce/);
    app.unmount();
  });

  it('text and Enter in one chunk (typed while a scan ran): the filter is set, not dropped', async () => {
    const { store, app } = setup();
    await tick();
    app.stdin.write('/name~^9d\r');
    await tick();
    expect(store.getState().filter).toBe('name~^9d');
    expect(store.getState().mode).toBe('normal');
    app.unmount();
  });

  it('Enter Enter 2 in one chunk: processes, then the detail, then its namespaces tab', async () => {
    const { store, app } = setup();
    await tick();
    app.stdin.write('\r\r2');
    await tick();
    expect(currentView(store.getState())).toMatchObject({ kind: 'detail', tab: 'namespaces' });
    app.unmount();
  });

  it('Enter opens the processes, Enter again the detail, Esc goes back with the breadcrumb', async () => {
    const { store, app } = setup();
    await tick();
    app.stdin.write('\r');
    await tick();
    expect(currentView(store.getState()).kind).toBe('procs');
    expect(app.lastFrame()).toContain('groups by container › 0a5ceea3df52');
    app.stdin.write('\r');
    await tick();
    const v = currentView(store.getState());
    expect(v.kind).toBe('detail');
    app.stdin.write('\u001b');
    await tick();
    await tick();
    expect(currentView(store.getState()).kind).toBe('procs');
    app.unmount();
  });

  it('"/" then typed text then Enter filters; the typed keys are not commands', async () => {
    const { store, app } = setup();
    await tick();
    app.stdin.write('/');
    await tick();
    app.stdin.write('name~^9d');
    await tick();
    expect(app.lastFrame()).toContain('/name~^9d');
    app.stdin.write('\r');
    await tick();
    expect(store.getState().filter).toBe('name~^9d');
    const frame = app.lastFrame()!;
    expect(frame).toContain('9d72cb96129c');
    expect(frame).not.toContain('0a5ceea3df52');
    app.unmount();
  });

  it('":" palette: "group ns" regroups', async () => {
    const { store, app } = setup();
    await tick();
    app.stdin.write(':group ns');
    await tick();
    app.stdin.write('\r');
    await tick();
    expect(store.getState().groupBy).toBe('ns');
    app.unmount();
  });

  it('K asks first; y sends SIGTERM to every process of the group', async () => {
    const { app, calls } = setup();
    await tick();
    app.stdin.write('K');
    await tick();
    expect(app.lastFrame()).toContain('signal pid 1234');
    expect(calls).toEqual([]);
    app.stdin.write('y');
    await tick();
    expect(calls).toEqual(['signal SIGTERM 1234']);
    app.unmount();
  });

  it('what an action answers reaches the status line escaped (\\x1b), never raw nor as ?', async () => {
    const { store, app } = setup();
    const effects: Effects = {
      signal: () => 'sent to x\x1b[2J\u009b2J',
      freeze: () => Promise.reject(new Error('cannot write /sys/fs/cgroup/x\x1b]0;t\x07/freezer.state')),
      shell: () => undefined,
    };
    app.rerender(createElement(App, { store, chalk, effects, trackSize: false }));
    await tick();
    app.stdin.write('K');
    await tick();
    app.stdin.write('y');
    await tick();
    expect(app.lastFrame()).toContain('sent to x\\x1b[2J\\x9b2J');
    expect(app.lastFrame()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    app.stdin.write('F');
    await tick();
    app.stdin.write('f');
    await tick();
    await tick();
    expect(app.lastFrame()).toContain('failed: cannot write /sys/fs/cgroup/x\\x1b]0;t\\x07/freezer.state');
    expect(app.lastFrame()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    app.unmount();
  });

  it('n cancels a confirmation; --readonly refuses actions', async () => {
    const a = setup();
    await tick();
    a.app.stdin.write('Kn');
    await tick();
    expect(a.calls).toEqual([]);
    a.app.unmount();
    const b = setup({ readonly: true });
    await tick();
    b.app.stdin.write('K');
    await tick();
    expect(b.app.lastFrame()).toContain('read-only');
    b.app.stdin.write('S');
    await tick();
    expect(b.calls).toEqual([]);
    b.app.unmount();
  });

  it('space pauses, [ steps back, q quits', async () => {
    const { store, app } = setup();
    await tick();
    app.stdin.write(' ');
    await tick();
    expect(store.getState().paused).toBe(true);
    expect(app.lastFrame()).toContain('PAUSED');
    app.stdin.write('[');
    await tick();
    expect(store.getState().cursor).toBe(0);
    app.stdin.write('q');
    await tick();
    expect(store.getState().quit).toBe(true);
    app.unmount();
  });
});
