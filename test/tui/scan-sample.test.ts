import { describe, expect, it } from 'vitest';
import { fixtureSource, HOSTS } from '../helpers/fixtures.js';
import { scanSample, takeSample } from '../../tui/sample.js';

/**
 * The live poll (scanSample: scanHost + status/cmdline only for the rows a view shows) against the
 * full synchronous read (takeSample) on every fixture host: the same processes, containers,
 * cgroup stats and uids; command lines only where wanted, the comm elsewhere.
 */
describe('scanSample reads the expensive files only for wanted rows', () => {
  for (const host of HOSTS) {
    it(`${host}: same sample as the full read, cmd only for wanted pids`, async () => {
      const fixed = { now: () => 1, wallNow: () => 2, ncpu: 2 };
      const full = takeSample(fixtureSource(host), fixed);
      const users = full.procs.filter((p) => !p.kthread);
      const want = new Set(users.filter((_, i) => i % 2 === 0).map((p) => p.pid));
      const lazy = await scanSample(fixtureSource(host), { ...fixed, wanted: (pid) => want.has(pid) });
      expect(lazy.procs.map((p) => p.pid)).toEqual(full.procs.map((p) => p.pid));
      expect(lazy.containers).toEqual(full.containers);
      expect(lazy.cgroups).toEqual(full.cgroups);
      expect(lazy.net).toEqual(full.net);
      const byPid = new Map(full.procs.map((p) => [p.pid, p]));
      for (const p of lazy.procs) {
        const f = byPid.get(p.pid)!;
        expect(p.uid, `uid of ${p.pid}`).toBe(f.uid);
        expect(p.ticks).toBe(f.ticks);
        expect(p.ns).toEqual(f.ns);
        if (want.has(p.pid)) {
          expect(p.cmd, `cmd of wanted ${p.pid}`).toBe(f.cmd);
          expect(p.nspid).toEqual(f.nspid);
        } else if (!p.kthread) {
          // not on screen: its comm stands in, status and cmdline were not read
          expect(p.cmd).toBe(p.comm);
          expect(p.nspid).toBeUndefined();
        }
      }
    });
  }
});
