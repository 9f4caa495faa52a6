import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_DIR, runBin } from '../helpers/live.js';
import { HOSTS_DIR } from '../helpers/fixtures.js';

/**
 * Stop 20, finding 6: the README's capdecode examples showed `Current: =ep cap_sys_resource-ep`
 * for --pid 1234 --print, which the fixture it names never printed. Each `$ capdecode …` line of
 * the README is run (with the fixture's --proc-root when it reads a pid) and every line shown under
 * it must come out, in order: `…` in a line stands for any text, a lone `…` for any lines.
 */
const README = readFileSync(join(ROOT_DIR, 'README.md'), 'utf8');
const PROC = join(HOSTS_DIR, 'v2-docker-systemd/proc');

function examples(): { args: string[]; shown: string[] }[] {
  const out: { args: string[]; shown: string[] }[] = [];
  let cur: { args: string[]; shown: string[] } | undefined;
  for (const line of README.split('\n')) {
    const m = /^\$ capdecode (.*?)\s*(#.*)?$/.exec(line);
    if (m) {
      cur = { args: m[1]!.split(/\s+/).filter(Boolean), shown: [] };
      out.push(cur);
    } else if (line.startsWith('$ ') || line.startsWith('```')) cur = undefined;
    else if (cur) cur.shown.push(line);
  }
  return out;
}

describe('README: the capdecode examples print what they show', () => {
  const all = examples();
  it('there are examples (the parser found them)', () => {
    expect(all.length).toBeGreaterThanOrEqual(5);
  });
  it.each(all.map((e) => [e.args.join(' '), e] as const))('capdecode %s', (_name, e) => {
    const args = e.args.includes('--pid') ? ['--proc-root', PROC, ...e.args] : e.args;
    const r = runBin('capdecode', args);
    const got = (r.out + r.err).split('\n');
    let at = 0;
    for (const want of e.shown.filter((l) => l !== '…')) {
      const re = new RegExp(`^${want.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'u');
      const i = got.findIndex((g, k) => k >= at && re.test(g));
      expect(i, `${JSON.stringify(want)} in ${JSON.stringify(got.slice(at))}`).toBeGreaterThanOrEqual(0);
      at = i + 1;
    }
  });
});
