import { describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { renderToString } from 'ink';
import { Chalk } from 'chalk';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN_DIR, HOSTS, fixtureSource } from '../helpers/fixtures.js';
import { fixtureSamples } from './helpers.js';
import { DETAIL_TABS, initialState, reduce, type State } from '../../tui/store.js';
import { buildFrame, type DetailProvider } from '../../tui/frame.js';
import { Screen } from '../../tui/components/Screen.js';
import { detailTab, hostFactsFromSample, readDetail, recordedStory, TAB_SECTIONS } from '../../tui/detail.js';
import { readStory, storySection, type ProcessStory } from '../../src/inspect/story.js';
import { renderStorySection } from '../../src/render/story.js';
import { displayWidth } from '../../src/render/table.js';
import type { Sample } from '../../tui/sample.js';

/**
 * ctop's detail tabs are the foundation's story sections (src/render/story.ts), the same text
 * `cinf --pid` prints: golden frames of every tab for a container process of each fixture host at
 * 80×24 (and the mounts and namespaces tabs at 120×40), the one-source check against cinf's
 * renderer, the width bound, and the replay's story made from a sample.
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

/** a container's init (else the lowest non-kernel pid) of the fixture */
function subject(cur: Sample): { pid: number; start: number; name: string } {
  const init = cur.containers[0]?.initPid;
  const p = cur.procs.find((q) => q.pid === init) ?? cur.procs.find((q) => !q.kthread)!;
  return { pid: p.pid, start: p.start, name: p.comm };
}

function setup(host: string, cols: number, rows: number): { s: State; cur: Sample; detail: DetailProvider; pid: number } {
  const { prev, cur } = fixtureSamples(host);
  let s = initialState({ cols, rows });
  s = reduce(s, { type: 'sample', sample: prev });
  s = reduce(s, { type: 'sample', sample: cur });
  const who = subject(cur);
  s = { ...s, views: [{ kind: 'groups' }, { kind: 'procs', groupKey: undefined, groupName: 'all' }, { kind: 'detail', pid: who.pid, start: who.start, name: who.name, tab: 'overview', scroll: 0 }], selected: [undefined, undefined, undefined] };
  const src = fixtureSource(host);
  const detail: DetailProvider = (pid, start, tab, showEnv, width) => {
    const d = readDetail(src, pid, start, cur);
    if (!d) return { title: `pid ${pid}`, lines: [], gone: `pid ${pid} has exited` };
    return { title: who.name, lines: detailTab(d, tab, { width, showEnv }) };
  };
  return { s, cur, detail, pid: who.pid };
}

function draw(s: State, detail: DetailProvider): string {
  const frame = buildFrame(s, chalk, detail);
  return renderToString(createElement(Screen, { frame, chalk, help: false, cols: s.cols, rows: s.rows }), { columns: s.cols });
}

describe('ctop detail tabs: the story sections', () => {
  for (const host of HOSTS) {
    for (const tab of DETAIL_TABS) {
      it(`${host} 80x24 ${tab}`, () => {
        const { s, detail } = setup(host, 80, 24);
        const out = draw(reduce(s, { type: 'tab', tab }), detail);
        expect(out.split('\n').length).toBeLessThanOrEqual(23);
        golden(`${host}-80x24-detail-${tab}`, out);
      });
    }
    for (const tab of ['namespaces', 'mounts'] as const) {
      it(`${host} 120x40 ${tab}`, () => {
        const { s, detail } = setup(host, 120, 40);
        const out = draw(reduce(s, { type: 'tab', tab }), detail);
        expect(out.split('\n').length).toBeLessThanOrEqual(39);
        golden(`${host}-120x40-detail-${tab}`, out);
      });
    }

    it(`${host}: every tab's lines are cinf's sections (one renderer), no wider than the screen, no control byte`, () => {
      const { cur, pid } = setup(host, 80, 24);
      const start = cur.procs.find((p) => p.pid === pid)!.start;
      const d = readDetail(fixtureSource(host), pid, start, cur)!;
      // cinf reads the whole host itself; ctop takes the host facts from its sample, which leaves
      // ctop itself out (the fixture's capturing process): the same facts but for the counts
      const full = readStory(fixtureSource(host), pid, { env: true, mounts: true })!;
      const noCount = (x: ProcessStory) => storySection(x, 'namespaces')!.entries.map(({ processes: _, ...e }) => e);
      expect(noCount(d.story)).toEqual(noCount(full));
      expect(storySection(d.story, 'overview')).toEqual(storySection(full, 'overview'));
      expect(storySection(d.story, 'capabilities')).toEqual(storySection(full, 'capabilities'));
      const story = readStory(fixtureSource(host), pid, { env: true, mounts: true, host: hostFactsFromSample(cur) })!;
      for (const tab of DETAIL_TABS) {
        const wide = detailTab(d, tab, { width: 10_000, showEnv: true });
        const cinfLines = TAB_SECTIONS[tab]
          .map((id) => story.sections.find((x) => x.id === id))
          .filter((x) => x !== undefined)
          .flatMap((x) => renderStorySection(x).trimEnd().split('\n'))
          .map((l) => l.replace(/^ {2}/, ''));
        expect(cinfLines.length, tab).toBeGreaterThan(1);
        // every line cinf prints for these sections appears in the tab, in the same order
        let at = 0;
        for (const l of cinfLines) {
          const i = wide.indexOf(l, at);
          expect(i, `${tab}: '${l}' in\n${wide.join('\n')}`).toBeGreaterThanOrEqual(0);
          at = i + 1;
        }
        for (const w of [40, 80]) {
          for (const l of detailTab(d, tab, { width: w, showEnv: true })) {
            expect(displayWidth(l), `${tab} at ${w}: ${l}`).toBeLessThanOrEqual(w);
            expect(l).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
          }
        }
      }
    });
  }

  it('environment values stay masked until e, then show', () => {
    const { s, detail } = setup('v2-docker-systemd', 120, 40);
    const env = reduce(s, { type: 'tab', tab: 'environment' });
    const hidden = draw(env, detail);
    expect(hidden).toContain('(values hidden: e shows them)');
    expect(hidden).toMatch(/^PATH=•••/m);
    const shown = draw(reduce(env, { type: 'toggleEnv' }), detail);
    expect(shown).toMatch(/^PATH=\//m);
  });

  it('capabilities: the five sets and what differs from docker’s default set', () => {
    const { s, detail } = setup('v2-docker-systemd', 120, 40);
    const out = draw(reduce(s, { type: 'tab', tab: 'capabilities' }), detail);
    for (const set of ['inheritable', 'permitted', 'effective', 'bounding', 'ambient']) expect(out).toMatch(new RegExp(`^${set} +[0-9a-f]{16}`, 'm'));
    expect(out).toContain("effective against docker's default set (00000000a80425fb):");
  });

  it('a replay shows the overview and namespaces a sample kept, through the same renderer', () => {
    const { cur, pid } = setup('v2-docker-systemd', 120, 40);
    const d = recordedStory(cur, pid)!;
    const ov = detailTab(d, 'overview', { width: 120, showEnv: false });
    expect(ov[0]).toMatch(new RegExp(`^PID ${pid} `));
    expect(ov).toContain('(from the recording: the overview and namespaces that each sample keeps)');
    expect(ov.join('\n')).toMatch(/container +0a5ceea3df52 \(docker/);
    const ns = detailTab(d, 'namespaces', { width: 120, showEnv: false });
    expect(ns.join('\n')).toMatch(/^net +4026532410 own \(also 5fba1658e4ce\) +3$/m);
    expect(detailTab(d, 'mounts', { width: 120, showEnv: false })).toContain('(a recording does not keep the mounts)');
    expect(recordedStory(cur, 999_999)).toBeUndefined();
  });

  it('a pid reused since the sample (another start time) is gone, not another process’s story', () => {
    const { cur, pid } = setup('v2-docker-systemd', 80, 24);
    const start = cur.procs.find((p) => p.pid === pid)!.start;
    expect(readDetail(fixtureSource('v2-docker-systemd'), pid, start + 1, cur)).toBeUndefined();
    expect(readDetail(fixtureSource('v2-docker-systemd'), pid, start, cur)).toBeDefined();
  });
});
