import { describe, expect, it } from 'vitest';
import { listPids, readProcess } from '../../src/proc/process.js';
import { openSource } from '../../src/source/source.js';
import { isProcError } from '../../src/source/errors.js';
import { effectiveUid } from '../../src/model/process.js';
import { HOSTS, fixtureSource } from '../helpers/fixtures.js';

/**
 * The 'owner' file (ProcessInfo.owner): the effective uid and gid alone, which the USERS column
 * needs of every process. Live it is one stat of /proc/<pid> (the kernel makes that directory's
 * owner the effective ids, dumpable or not); a dump's directories keep no owner, so there it comes
 * from status. Either way it must be what status's Uid/Gid lines say in their effective slot.
 */
describe("the 'owner' file", () => {
  it.each(HOSTS)('%s (a dump): owner is the effective uid and gid of status, for every process', (host) => {
    const src = fixtureSource(host);
    let compared = 0;
    for (const pid of listPids(src)) {
      const p = readProcess(src, pid, ['ids', 'owner']);
      const q = readProcess(src, pid, ['owner']);
      if (!p?.ids) {
        // status unreadable in the dump: owner fails the same way, never a made-up id
        expect(q?.owner, `pid ${pid}`).toBeUndefined();
        continue;
      }
      expect(q?.owner, `pid ${pid}`).toEqual({ uid: p.ids.uid.effective, gid: p.ids.gid.effective });
      expect(effectiveUid(q!)).toBe(p.ids.uid.effective);
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('a dump refuses procOwner (its directories keep no owner): NOT_SUPPORTED, not a wrong id', () => {
    const src = fixtureSource(HOSTS[0]!);
    const pid = listPids(src)[0]!;
    let err: unknown;
    try {
      src.procOwner(pid);
    } catch (e) {
      err = e;
    }
    expect(isProcError(err) && err.code).toBe('NOT_SUPPORTED');
  });

  it('live: owner is the effective uid and gid status gives, for this process and every one read in both', () => {
    const src = openSource();
    const self = readProcess(src, process.pid, ['owner'])!;
    expect(self.owner).toEqual({ uid: process.geteuid!(), gid: process.getegid!() });
    let compared = 0;
    for (const pid of listPids(src).slice(0, 200)) {
      const a = readProcess(src, pid, ['ids']);
      const b = readProcess(src, pid, ['owner']);
      const c = readProcess(src, pid, ['ids']);
      // a pid whose ids changed between the reads (exec of a setuid program, a reused pid) is skipped
      if (!a?.ids || !b?.owner || !c?.ids || JSON.stringify(a.ids) !== JSON.stringify(c.ids)) continue;
      expect(b.owner, `pid ${pid}`).toEqual({ uid: a.ids.uid.effective, gid: a.ids.gid.effective });
      compared++;
    }
    expect(compared).toBeGreaterThan(10);
  });

  it('live: a process gone is PROCESS_GONE for owner, as for any other file', () => {
    const src = openSource();
    expect(readProcess(src, 2 ** 22 + 1, ['owner'])).toBeUndefined();
  });
});
