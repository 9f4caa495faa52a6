import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { renderToString, Box, Text } from 'ink';
import { render } from 'ink-testing-library';
import { Chalk } from 'chalk';
import stringWidth from 'string-width';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
// Ink's own modules, by path (its package exports only the index): what tui/ink/ must equal
import InkOutput from '../../node_modules/ink/build/output.js';
import inkMeasureText from '../../node_modules/ink/build/measure-text.js';
import Output from '../../tui/ink/output.js';
import widestLine, { lineWidth, NARROW_SYMBOLS } from '../../tui/ink/width.js';
import measureText from '../../tui/ink/measure-text.js';
import { GenCache } from '../../tui/ink/gen-cache.js';
import { HOSTS } from '../helpers/fixtures.js';
import { fixtureSamples } from './helpers.js';
import { DETAIL_TABS, createStore, initialState, reduce, type State } from '../../tui/store.js';
import { buildFrame } from '../../tui/frame.js';
import { Screen } from '../../tui/components/Screen.js';
import { App } from '../../tui/components/App.js';
import { GROUP_MODES } from '../../tui/model.js';

/**
 * ctop's bundle draws with tui/ink/ in place of three of Ink's modules (scripts/bundle-bins.mjs,
 * docs/adr/0013-ink-render-caches.md). They must give Ink's answers, byte for byte: while this
 * file runs, every frame Ink's own Output builds (ctop's golden frames, its key tests' screens,
 * the synthetic cases below) is built again by ours from the same writes, and compared.
 */
type Op = { type: 'write'; x: number; y: number; text: string; transformers: ((s: string, i: number) => string)[] } | { type: 'clip'; clip: { x1?: number; x2?: number; y1?: number; y2?: number } } | { type: 'unclip' };
type Internal = { width: number; height: number; operations: Op[] };

const proto = InkOutput.prototype as unknown as { get(this: Internal): { output: string; height: number } };
const inkGet = proto.get;
let compared = 0;
const mismatches: string[] = [];

function ours(o: Internal): { output: string; height: number } {
  const out = new Output({ width: o.width, height: o.height });
  for (const op of o.operations) {
    if (op.type === 'write') out.write(op.x, op.y, op.text, { transformers: op.transformers });
    else if (op.type === 'clip') out.clip(op.clip as Parameters<Output['clip']>[0]);
    else out.unclip();
  }
  return out.get();
}

beforeAll(() => {
  proto.get = function (this: Internal) {
    const want = inkGet.call(this);
    // twice: the second from the row memo
    for (const got of [ours(this), ours(this)]) {
      compared++;
      if (got.output !== want.output || got.height !== want.height) mismatches.push(JSON.stringify({ want: want.output, got: got.output }).slice(0, 2000));
    }
    return want;
  };
});
afterAll(() => {
  proto.get = inkGet;
});

const chalk = new Chalk({ level: 1 });

function stateFor(host: string, over: Partial<State>): State {
  const { prev, cur } = fixtureSamples(host);
  return reduce(reduce(initialState(over), { type: 'sample', sample: prev }), { type: 'sample', sample: cur });
}

function draw(s: State, c = chalk): string {
  const frame = buildFrame(s, c);
  return renderToString(createElement(Screen, { frame, chalk: c, help: s.mode === 'help', cols: s.cols, rows: s.rows, helpTop: s.helpTop }), { columns: s.cols });
}

function inkOutput(width: number, height: number, ops: Op[]): { output: string; height: number } {
  const o = new InkOutput({ width, height }) as unknown as Internal;
  o.operations.push(...ops);
  return inkGet.call(o);
}

describe("tui/ink/output.ts gives Ink's Output's frames", () => {
  it('every golden frame of ctop (each host, size, grouping; processes; help), in colour and without', () => {
    const before = compared;
    for (const host of HOSTS) {
      for (const [cols, rows] of [
        [80, 24],
        [120, 40],
        [160, 50],
      ] as const) {
        for (const by of GROUP_MODES) {
          const s = stateFor(host, { cols, rows, groupBy: by });
          draw(s);
          draw(s, new Chalk({ level: 0 }));
          draw({ ...s, mode: 'help' });
          const f = buildFrame(s, chalk);
          const g = f.groupRows!.find((r) => r.key !== 'host') ?? f.groupRows![0]!;
          draw(reduce(s, { type: 'enter', row: { key: g.key, name: g.name } }));
        }
      }
    }
    expect(compared - before).toBeGreaterThan(100);
    expect(mismatches).toEqual([]);
  });

  it('the live App through keys: moving, help, filter typing, group-by, processes, detail tabs', async () => {
    const { prev, cur } = fixtureSamples('v2-docker-systemd');
    const store = createStore(reduce(reduce(initialState({ cols: 120, rows: 30 }), { type: 'sample', sample: prev }), { type: 'sample', sample: cur }));
    const detail = (pid: number) => ({ title: `pid ${pid}`, lines: ['overview ─ │ ├ └ “quoted” 漢字 🙂 e\u0301', `pid ${pid}`] });
    const app = render(createElement(App, { store, chalk, detail, trackSize: false }));
    const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
    const before = compared;
    for (const k of ['j', 'j', 'k', '?', 'x', '/', 's', 'h', '\u007f', '\r', 'm', 'm', 'm', 'm', 'G', 'g', '\r', 'j', '\r', ...DETAIL_TABS.map((_, i) => String(i + 1)), '\u001b', '\u001b']) {
      app.stdin.write(k);
      await tick();
    }
    app.unmount();
    expect(compared - before).toBeGreaterThan(20);
    expect(mismatches).toEqual([]);
  });

  it('boxes, borders, padding, clipping (overflow hidden), wide and combining characters, through renderToString', () => {
    const before = compared;
    const texts = ['plain', chalk.red('red') + ' and ' + chalk.inverse('inverse  '), '漢字かな 全角', '🙂👍🏽 emoji 👨‍👩‍👧', 'e\u0301 combining', '▁▂▃▄▅▆▇█ — … → ─│├└', 'x'.repeat(200)];
    for (const width of [10, 33, 80]) {
      renderToString(
        createElement(
          Box,
          { flexDirection: 'column', width },
          ...texts.map((t, i) => createElement(Text, { key: `a${i}`, wrap: i % 2 ? 'truncate' : 'wrap' }, t)),
          createElement(Box, { key: 'b', borderStyle: 'round', paddingX: 1, overflow: 'hidden', height: 4, width: Math.max(6, width - 4) }, createElement(Text, null, texts.join('\n'))),
          createElement(Box, { key: 'c', flexDirection: 'row', overflowX: 'hidden', width: 7 }, createElement(Text, { wrap: 'truncate-middle' }, '漢字かな abcdef 漢字')),
        ),
        { columns: width },
      );
    }
    expect(compared - before).toBe(6);
    expect(mismatches).toEqual([]);
  });

  it('writes that overlap, start off the grid, or clip through a wide character', () => {
    const cases: [number, number, Op[]][] = [
      [10, 3, [{ type: 'write', x: 0, y: 0, text: 'abcdefghij', transformers: [] }, { type: 'write', x: 3, y: 0, text: 'XY', transformers: [] }]],
      [10, 3, [{ type: 'write', x: 0, y: -1, text: 'gone\nalso gone', transformers: [] }, { type: 'write', x: 1, y: 2, text: 'ok\npast the end', transformers: [] }]],
      [6, 2, [{ type: 'write', x: 4, y: 0, text: '漢字漢字', transformers: [] }, { type: 'write', x: 1, y: 1, text: '🙂a', transformers: [] }, { type: 'write', x: 2, y: 1, text: 'b', transformers: [] }]],
      [8, 2, [{ type: 'clip', clip: { x1: 2, x2: 5, y1: 0, y2: 1 } }, { type: 'write', x: 0, y: 0, text: '\u001b[31m漢字abc\u001b[39m\nsecond', transformers: [] }, { type: 'unclip' }, { type: 'write', x: 6, y: 1, text: 'zz', transformers: [(s, i) => `${s}${i}`] }]],
      [12, 2, [{ type: 'write', x: 0, y: 0, text: `${chalk.inverse('sel   ')}   `, transformers: [] }, { type: 'write', x: 0, y: 1, text: `a${chalk.green('   ')}`, transformers: [] }]],
    ];
    for (const [w, h, ops] of cases) {
      const want = inkOutput(w, h, ops);
      const o = new Output({ width: w, height: h });
      for (const op of ops) {
        if (op.type === 'write') o.write(op.x, op.y, op.text, { transformers: op.transformers });
        else if (op.type === 'clip') o.clip(op.clip as Parameters<Output['clip']>[0]);
        else o.unclip();
      }
      expect(o.get()).toEqual(want);
    }
  });
});

describe('tui/ink/width.ts measures as string-width does', () => {
  it('each symbol of the fast path is one column to string-width, alone and between others', () => {
    for (const c of NARROW_SYMBOLS) {
      expect(c.length, c).toBe(1);
      expect(stringWidth(c), c).toBe(1);
      expect(stringWidth(`a${c}${c}b ${c}`), c).toBe(6);
    }
  });

  it('every symbol ctop or the story renderers put in a row is in the fast path (else rows fall back to the slow one)', () => {
    const src = ['tui', 'tui/components', 'src/render'].flatMap((d) => readdirSync(d).filter((f) => /\.tsx?$/.test(f)).map((f) => readFileSync(join(d, f), 'utf8')));
    const used = new Set(src.join('').match(/[^\u0000-\u007f]/g));
    // quotes and arrows of comments, and symbols only the help text shows, may be missing
    const missing = [...'▁▂▃▄▅▆▇█—…›↑↓─│├└'].filter((c) => used.has(c) && !NARROW_SYMBOLS.includes(c));
    expect(missing).toEqual([]);
  });

  it('lines of ASCII, symbols, colours and anything else: the same width', () => {
    const lines = [
      '',
      'plain ascii',
      chalk.green('▁▂▃▄') + ' 12.3 — ' + chalk.inverse('sel'),
      '  ├─ sleep 3600 … →',
      'tab\tand\u0007bell',
      '漢字 with ▁',
      '🙂 ▁',
      '—\u0301 combining after a symbol',
      '\u001b]8;;http://x\u0007link\u001b]8;;\u0007 —',
      '\u009b31mC1 CSI ▁',
      'Δ×÷·≠ ’ − ↔ ← •',
    ];
    for (const l of lines) expect(lineWidth(l), JSON.stringify(l)).toBe(stringWidth(l));
    expect(widestLine(lines.join('\n'))).toBe(Math.max(...lines.map((l) => stringWidth(l))));
    expect(widestLine(lines.join('\n'))).toBe(Math.max(...lines.map((l) => stringWidth(l))));
  });

  it("measure-text: Ink's sizes", () => {
    for (const t of ['', 'a', 'ab\ncde', chalk.red('▁▂') + '\n漢字', 'x\n\n']) expect(measureText(t)).toEqual(inkMeasureText(t));
  });
});

describe('GenCache', () => {
  it('keeps at most two generations: what recent frames used stays, the rest goes', () => {
    const c = new GenCache<number, number>(3);
    for (let i = 0; i < 3; i++) c.set(i, i);
    c.set(3, 3); // 0..2 become the old generation
    expect(c.get(0)).toBe(0); // promoted
    c.set(4, 4);
    c.set(5, 5); // the new generation (3, 0, 4) fills: 1 and 2 go
    expect(c.get(1)).toBeUndefined();
    expect(c.get(2)).toBeUndefined();
    expect(c.get(0)).toBe(0);
    for (let i = 0; i < 1000; i++) c.set(100 + i, i);
    expect(c.entries).toBeLessThanOrEqual(6);
  });
});
