import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { IS_ROOT, has } from '../helpers/live.js';
import { startDemo } from '../../tui/demo.js';

/**
 * The demo's fallback (no busybox or monitor on a fresh machine): plain namespaces in cgroups of
 * their own. Its busy loop's `sleep 0.5` outlived the killed shell and kept the web cgroup busy,
 * so `hostscope-demo-<pid>-web` directories were left behind; stop must leave none.
 */
describe.skipIf(!IS_ROOT || !has('unshare') || !existsSync('/sys/fs/cgroup/memory/cgroup.procs'))('ctop --demo stand-ins (plain namespaces)', () => {
  it('start three limited containers, and stop removes every cgroup and process they had', async () => {
    const tag = `t${process.pid}`;
    const prefix = `hostscope-demo-${tag}-`;
    let stop: (() => Promise<void>) | undefined;
    try {
      const demo = await startDemo(() => {}, { standIns: true, tag, onStop: (s) => (stop = s) });
      expect(demo.via).toBe('namespaces');
      const dirs = readdirSync('/sys/fs/cgroup/memory').filter((d) => d.startsWith(prefix));
      expect(dirs.length).toBe(3);
      const procs = dirs.flatMap((d) => readFileSync(`/sys/fs/cgroup/memory/${d}/cgroup.procs`, 'utf8').split('\n').filter(Boolean));
      expect(procs.length).toBeGreaterThanOrEqual(3);
      // let the busy loop start a few of its sleeps, the children that used to be left behind
      await new Promise((r) => setTimeout(r, 1500));
      await demo.stop();
      for (const h of readdirSync('/sys/fs/cgroup')) {
        if (!existsSync(`/sys/fs/cgroup/${h}/cgroup.procs`)) continue;
        expect(readdirSync(`/sys/fs/cgroup/${h}`).filter((d) => d.startsWith(prefix)), h).toEqual([]);
      }
      for (const p of procs) expect(existsSync(`/proc/${p}`) && !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z '), `pid ${p} still running`).toBe(false);
    } finally {
      await stop?.();
    }
  }, 120_000);
});
