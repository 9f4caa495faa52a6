/**
 * ctop's F key on a real cgroup: hostEffects().freeze goes through CgroupManager and waits for
 * the kernel. The test makes its own v1 freezer cgroup (named with its pid), puts a sleep it
 * started there, freezes (freezer.state FROZEN), thaws, and removes everything even on failure.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { IS_ROOT } from '../helpers/live.js';
import { Spawned } from '../../scripts/lib/spawned.js';
import { openSource } from '../../src/source/source.js';
import { hostEffects } from '../../tui/actions.js';

const FREEZER = '/sys/fs/cgroup/freezer';
const DIR = `${FREEZER}/ctop-freeze-${process.pid}`;
const ok = IS_ROOT && existsSync(`${FREEZER}/cgroup.procs`);

describe.skipIf(!ok)('ctop freeze/thaw through CgroupManager (v1 freezer, live)', () => {
  const spawned = new Spawned();
  afterAll(async () => {
    try {
      writeFileSync(`${DIR}/freezer.state`, 'THAWED');
    } catch {
      /* not made */
    }
    await spawned.stopAll();
    try {
      rmdirSync(DIR);
    } catch {
      /* not made or already gone */
    }
  });

  it('F then f freezes the group, F then t thaws it', async () => {
    mkdirSync(DIR);
    const c = spawned.start('sleep', ['600']);
    writeFileSync(`${DIR}/cgroup.procs`, String(c.pid));
    const fx = hostEffects({ src: openSource({}), shell: () => undefined });
    const frozen = await fx.freeze([c.pid!], true);
    expect(frozen).toBe('frozen: FROZEN');
    expect(readFileSync(`${DIR}/freezer.state`, 'utf8').trim()).toBe('FROZEN');
    const thawed = await fx.freeze([c.pid!], false);
    expect(thawed).toBe('thawed: THAWED');
    expect(readFileSync(`${DIR}/freezer.state`, 'utf8').trim()).toBe('THAWED');
  });

  it('a process in the freezer root only is refused in one line (nothing of its own to freeze)', async () => {
    const fx = hostEffects({ src: openSource({}), shell: () => undefined });
    // pid 2 (kthreadd) sits in the root of every hierarchy; only read, never touched
    expect(await fx.freeze([2], true)).toBe('pid 2 is in no freezable cgroup of its own (no v2 cgroup, no v1 freezer)');
  });
});
