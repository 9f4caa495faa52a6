/**
 * HostScanner's identity of a known process by the d_ino of its /proc entry (freshStat), on a pid
 * namespace of the test's own: test/live/children/scanner-pid-reuse.mjs runs as its pid 1 with a
 * /proc of that namespace, so only its own processes are scanned (exact counts) and a pid can be
 * reused on purpose (ns_last_pid). See that script for the steps.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { IS_ROOT, ROOT_DIR, has } from '../helpers/live.js';
import { NATIVE } from '../helpers/native.js';

interface View {
  comm?: string;
  start?: number;
  freshStat: boolean;
  stats: { fullReads: number; statOnly: number; unread: number; modelReused: boolean };
}
interface Step {
  mode: 'none' | 'set' | 'all';
  pid: number;
  aIno: number;
  bIno: number;
  aStart: number;
  bStart: number;
  known: View[];
  after: View;
  next: View;
}
interface Out {
  pid: number;
  error?: string;
  steps: Step[];
  revalidation: { pid: number; every: number; scans: { scan: number; freshStat: boolean; fullReads: number; unread: number }[] };
  patches: { what: string; patched: boolean; reused: boolean; same: boolean; containers: number; got: unknown; want: unknown }[];
}

describe.skipIf(!IS_ROOT || !NATIVE || !has('unshare'))('HostScanner: a known process is recognised by its /proc entry (d_ino), in a pid namespace of the test\'s own', () => {
  let out: Out;
  const run = (): Out => {
    if (out) return out;
    const r = spawnSync('unshare', ['--pid', '--fork', '--mount', '--mount-proc', process.execPath, join(ROOT_DIR, 'test/live/children/scanner-pid-reuse.mjs'), ROOT_DIR], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    out = JSON.parse(r.stdout) as Out;
    expect(out.error).toBeUndefined();
    expect(out.pid).toBe(1);
    return out;
  };

  it('freshStat none: a known process is not read at all while its entry keeps its d_ino (only the namespace\'s pid 1 and one sleep exist)', { timeout: 120_000 }, () => {
    const s = run().steps.find((x) => x.mode === 'none')!;
    for (const v of s.known.slice(2)) {
      expect(v).toEqual({ comm: 'sleep', start: s.aStart, freshStat: false, stats: { fullReads: 0, statOnly: 0, unread: 2, modelReused: true } });
    }
  });

  it('freshStat as a set: pids in it get their stat read, the others nothing', { timeout: 120_000 }, () => {
    const s = run().steps.find((x) => x.mode === 'set')!;
    // the set is {1}: pid 1 stat only, the sleep unread
    for (const v of s.known.slice(2)) expect(v).toEqual({ comm: 'sleep', start: s.aStart, freshStat: false, stats: { fullReads: 0, statOnly: 1, unread: 1, modelReused: true } });
  });

  it('freshStat all (the default): every known process gets its stat read, as before', { timeout: 120_000 }, () => {
    const s = run().steps.find((x) => x.mode === 'all')!;
    for (const v of s.known.slice(2)) expect(v).toEqual({ comm: 'sleep', start: s.aStart, freshStat: true, stats: { fullReads: 0, statOnly: 2, unread: 0, modelReused: true } });
  });

  it('a process that exited and whose pid another program took is read whole (new d_ino): the model holds the new process, with every freshStat', { timeout: 120_000 }, () => {
    for (const s of run().steps) {
      // the kernel made a new dentry (another inode) for the reused pid
      expect(s.bIno, s.mode).not.toBe(s.aIno);
      expect(s.after.comm, s.mode).toBe('tail');
      expect(s.after.start, s.mode).toBe(s.bStart);
      expect(s.after.freshStat, s.mode).toBe(true);
      expect(s.after.stats.modelReused, s.mode).toBe(false);
      expect(s.after.stats.fullReads, s.mode).toBeGreaterThanOrEqual(1);
      // and it stays the new process
      expect(s.next.comm, s.mode).toBe('tail');
      expect(s.next.start, s.mode).toBe(s.bStart);
    }
  });

  it('the rolling revalidation still reads a process outside freshStat whole once every revalidateEvery scans (pid % N === scan % N)', { timeout: 120_000 }, () => {
    const { pid, every, scans } = run().revalidation;
    expect(scans.length).toBeGreaterThan(2 * every);
    for (const x of scans) expect(x.freshStat, `scan ${x.scan}`).toBe(x.scan === 0 || pid % every === x.scan % every);
  });

  it('processes coming and going like ones already there (same namespaces and cgroups) patch the model, which is then the model scanHost builds, and so does a process read again after an exec or a setns into namespaces another process has, and a container gone whole (its init its last process); another container arriving rebuilds it', { timeout: 120_000 }, () => {
    const steps = run().patches;
    expect(steps.map((x) => x.what)).toEqual([
      'a process joins the container',
      'a plain process starts',
      'the joined process exits',
      'the plain process exits',
      'a process seen before its exec execs (the same namespaces: patched)',
      'a process seen before its setns joins the container (patched into it)',
      'the container init exits, its last process (the container gone whole: patched)',
      "a process enters a lone sandboxed process's user namespace (another container: a rebuild)",
      'that process exits, the init and only process of its container (gone whole: patched)',
    ]);
    for (const x of steps) {
      expect(x.got, x.what).toEqual(x.want);
      expect(x.reused, x.what).toBe(false);
    }
    // a container gone whole is dropped from the model with the namespaces only it held (before:
    // rebuilt); one arriving is still a rebuild
    expect(steps.map((x) => x.patched)).toEqual([true, true, true, true, true, true, true, false, true]);
    // the container (its own uts namespace) holds the joined process, then not, then is gone;
    // the two processes in one user namespace (nothing else their own) are two containers
    // (before: the second was patched into the first's, one container of two pids)
    expect(steps.map((x) => x.containers)).toEqual([1, 1, 1, 1, 1, 1, 0, 2, 1]);
  });
});
