import { describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { Chalk } from 'chalk';
import { App } from '../../tui/components/App.js';
import { createStore, initialState, reduce } from '../../tui/store.js';
import { Poller } from '../../tui/poller.js';
import { groupsOf, prepareGroups } from '../../tui/frame.js';
import { buildGroups } from '../../tui/model.js';
import type { RawProc, Sample } from '../../tui/sample.js';

/**
 * Keys are answered while a refresh runs: the new sample's group rows are built in steps before
 * the sample is dispatched (not in one go inside the reducer), with the event loop free between
 * steps. No timing: the test checks the order of events — a key typed at the first step of a
 * refresh is on screen before the refresh's sample reaches the store.
 */
const chalk = new Chalk({ level: 0 });

/** a host of `n` sleeping processes in `sets` containers (20 per container's own namespaces) */
function bigSample(endMs: number, n: number, sets: number, tickShift = 0): Sample {
  const procs: RawProc[] = [];
  const containers: Sample['containers'] = [];
  const host = { pid: 4026531836, mnt: 4026531841, net: 4026531840, uts: 4026531838, ipc: 4026531839, user: 4026531837, cgroup: 4026531835 };
  procs.push({ pid: 1, ppid: 0, comm: 'init', cmd: 'init', state: 'S', ticks: 10, start: 1, rssBytes: 1 << 20, threads: 1, ns: { ...host }, cg: '/' });
  for (let i = 0; i < n; i++) {
    const set = i % sets;
    const pid = 1000 + i;
    const key = `unknown:${set}`;
    if (i < sets) containers.push({ key, name: `c${set}`, runtime: 'unknown', initPid: pid, cgroupPath: `/bench/c${set}` });
    procs.push({
      pid,
      ppid: i < sets ? 1 : 1000 + set,
      comm: 'sleep',
      cmd: 'sleep',
      state: 'S',
      ticks: (i % 5) + tickShift * (i % 3),
      start: 100 + i,
      rssBytes: 1 << 19,
      threads: 1,
      ns: { ...host, pid: 5_000_000 + set, mnt: 6_000_000 + set },
      cg: `/bench/c${set}`,
      ctr: key,
    });
  }
  return { v: 1, startMs: endMs - 50, endMs, wallMs: endMs, ncpu: 2, cgroupMode: 'v2', host, procs, containers, cgroups: {}, net: {}, vanished: 0, denied: 0 };
}

/** the help screen: its last line says how to close it */
const helpShown = (frame: string): boolean => /any (other )?key closes/.test(frame);

describe('a refresh lets keys through', () => {
  it('prepareGroups gives the same rows as buildGroups, in several steps, and the reducer then finds them memoised', async () => {
    const a = bigSample(1000, 6000, 100);
    const b = bigSample(2000, 6000, 100, 1);
    let pauses = 0;
    const rows = await prepareGroups(a, b, 'container', async () => void pauses++);
    // 6,000 processes: more than one step (each step is a bounded slice of the work)
    expect(pauses).toBeGreaterThan(3);
    expect(rows).toEqual(buildGroups(a, b, 'container'));
    const s = reduce(reduce(initialState(), { type: 'sample', sample: a }), { type: 'sample', sample: b });
    // the reducer built nothing: the rows it memoised are the very ones prepared
    expect(groupsOf(s.history[0], s.history[1]!, 'container')).toBe(rows);
  });

  it('a key typed while the refresh builds its groups is rendered before the refresh ends', async () => {
    const a = bigSample(1000, 6000, 100);
    const b = bigSample(2000, 6000, 100, 1);
    const store = createStore(reduce(initialState({ cols: 120, rows: 30 }), { type: 'sample', sample: a }));
    const app = render(createElement(App, { store, chalk, trackSize: false }));
    await new Promise((r) => setTimeout(r, 30));
    expect(app.lastFrame()).toMatch(/6001 procs/);
    const events: string[] = [];
    let typed = false;
    const done = new Promise<void>((resolve) => {
      const poller = new Poller({
        scan: async () => b,
        limit: 1,
        intervalMs: () => 1000,
        dispatch: (act) => {
          events.push(helpShown(app.lastFrame()!) ? 'sample dispatched, help on screen' : 'sample dispatched, help not on screen');
          store.dispatch(act);
        },
        prepare: async (s) => {
          const st = store.getState();
          await prepareGroups(st.history[st.history.length - 1], s, st.groupBy, async () => {
            if (!typed) {
              typed = true;
              events.push('key typed');
              app.stdin.write('?');
            }
            // the event loop turns between steps: the key is read, reduced and rendered here
            await new Promise((r) => setImmediate(r));
          });
        },
        onDone: () => resolve(),
      });
      poller.start();
    });
    await done;
    expect(events).toEqual(['key typed', 'sample dispatched, help on screen']);
    app.unmount();
  });
});
