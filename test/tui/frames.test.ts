import { describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { renderToString } from 'ink';
import { Chalk } from 'chalk';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN_DIR, HOSTS } from '../helpers/fixtures.js';
import { fixtureSamples } from './helpers.js';
import { initialState, reduce, type State } from '../../tui/store.js';
import { buildFrame } from '../../tui/frame.js';
import { Screen } from '../../tui/components/Screen.js';
import { GROUP_MODES } from '../../tui/model.js';

/**
 * Golden frames: what ctop draws for each fixture host, at 80×24 and 120×40, in each grouping,
 * with colour pinned (chalk level 1). UPDATE_GOLDEN=1 rewrites them; review the diff.
 */
const chalk = new Chalk({ level: 1 });
const DIR = join(GOLDEN_DIR, 'ctop');

function golden(name: string, text: string): void {
  const file = join(DIR, `${name}.txt`);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(file, text);
  }
  if (!existsSync(file)) throw new Error(`no golden file ${name}: run UPDATE_GOLDEN=1 npx vitest run test/tui and review the diff`);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

function stateFor(host: string, over: Partial<State>): State {
  const { prev, cur } = fixtureSamples(host);
  let s = initialState(over);
  s = reduce(s, { type: 'sample', sample: prev });
  s = reduce(s, { type: 'sample', sample: cur });
  return s;
}

function draw(s: State): string {
  const frame = buildFrame(s, chalk);
  return renderToString(createElement(Screen, { frame, chalk, help: s.mode === 'help', cols: s.cols, rows: s.rows, helpTop: s.helpTop }), { columns: s.cols });
}

describe('ctop golden frames', () => {
  for (const host of HOSTS) {
    for (const [cols, rows] of [
      [80, 24],
      [120, 40],
    ] as const) {
      for (const by of GROUP_MODES) {
        it(`${host} ${cols}x${rows} by ${by}`, () => {
          const out = draw(stateFor(host, { cols, rows, groupBy: by }));
          // Ink clears the screen when a frame is as tall as the terminal: never more than rows − 1
          expect(out.split('\n').length).toBeLessThanOrEqual(rows - 1);
          golden(`${host}-${cols}x${rows}-${by}`, out);
        });
      }
    }
    it(`${host} processes of the first container, 120x40`, () => {
      let s = stateFor(host, { cols: 120, rows: 40 });
      const f = buildFrame(s, chalk);
      const g = f.groupRows!.find((r) => r.key !== 'host') ?? f.groupRows![0]!;
      s = reduce(s, { type: 'enter', row: { key: g.key, name: g.name } });
      const out = draw(s);
      expect(out.split('\n').length).toBeLessThanOrEqual(39);
      golden(`${host}-120x40-procs`, out);
    });
  }

  it('a terminal too small gets one line, not a broken table', () => {
    const out = draw(stateFor('v2-docker-systemd', { cols: 30, rows: 5 }));
    expect(out).toBe('too small: 30×5, need 40×8');
  });

  it('the help screen lists every key of the keymap and fits in 80×24', () => {
    const out = draw({ ...stateFor('v2-docker-systemd', { cols: 80, rows: 24 }), mode: 'help' });
    expect(out.split('\n').length).toBeLessThanOrEqual(23);
    expect(out).toContain('pivot between a group and its processes');
    expect(out).toMatch(/lines 1-\d+ of \d+: j\/k\/Space scroll/);
    // scrolled to the end, the last keys show
    const end = draw({ ...stateFor('v2-docker-systemd', { cols: 80, rows: 24 }), mode: 'help', helpTop: 1000 });
    expect(end).toContain('KIND');
  });
});
