/**
 * HostScanner on the live /proc (the native path): what it re-reads and when. Every process and
 * cgroup here is the test's own; nothing asserts on host-wide counts (others run tests meanwhile).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, rmdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Spawned, waitFor } from '../../scripts/lib/spawned.js';
import { IS_ROOT, has, nsInode } from '../helpers/live.js';
import { NATIVE } from '../helpers/native.js';
import { openSource } from '../../src/source/source.js';
import { snapshotRequest, type HostModel } from '../../src/inspect/host.js';
import { NativeInterner, readNative, scanHost, Slicer } from '../../src/inspect/scan.js';
import { HostScanner } from '../../src/inspect/scanner.js';
import type { ProcessInfo } from '../../src/model/process.js';

const OPTS = { files: ['ids' as const], containers: true, excludeSelf: true };
/** a v1 hierarchy nobody on this VM uses, for moving a process of ours */
const FREEZER = '/sys/fs/cgroup/freezer';
const CG = `hostscope-scanner-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

const startOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]);
const byPid = (m: HostModel): Map<number, ProcessInfo> => new Map(m.snapshot.processes.map((p) => [p.pid, p]));
const freezerPath = (p: ProcessInfo | undefined): string | undefined => p?.cgroups?.find((c) => c.controllers.includes('freezer'))?.path;

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const gone = once(c, 'exit');
  c.kill('SIGKILL');
  await gone;
}

describe.skipIf(!IS_ROOT || !NATIVE || !has('unshare'))('HostScanner on the live host (native, incremental)', () => {
  const spawned = new Spawned();
  let netSleeper: ChildProcess;
  let mover: ChildProcess;
  let made = false;

  beforeAll(async () => {
    netSleeper = spawned.start('unshare', ['--net', 'sleep', '600']);
    mover = spawned.start('sleep', ['600']);
    expect(await waitFor(() => nsInode(netSleeper.pid!, 'net') !== undefined && nsInode(netSleeper.pid!, 'net') !== nsInode(process.pid, 'net'), 30_000)).toBe(true);
    if (existsSync(FREEZER)) {
      mkdirSync(`${FREEZER}/${CG}`);
      made = true;
    }
  }, 60_000);

  afterAll(async () => {
    // out of the test's cgroup before it is removed (a process in it would keep it busy)
    try {
      if (mover.exitCode === null) writeFileSync(`${FREEZER}/cgroup.procs`, `${mover.pid}`);
    } catch {
      /* gone */
    }
    await spawned.stopAll();
    if (made) {
      await waitFor(() => {
        try {
          rmdirSync(`${FREEZER}/${CG}`);
          return true;
        } catch {
          return false;
        }
      }, 10_000);
    }
  });

  it('the first scan reads every process whole, the next ones read a known process\'s stat only (the rest by rolling revalidation)', { timeout: 60_000 }, async () => {
    const s = new HostScanner(openSource(), { ...OPTS, revalidateEvery: 4 });
    expect(s.path).toBe('native');
    const first = await s.scan();
    expect(first.stats.statOnly).toBe(0);
    expect(first.stats.fullReads).toBeGreaterThan(2);
    const second = await s.scan();
    expect(second.stats.statOnly).toBeGreaterThan(0);
    // the known ones read whole this time are those with pid % 4 === 1 (the second scan's phase), plus new pids
    expect(second.stats.fullReads).toBeLessThan(second.stats.statOnly);
    for (const pid of [netSleeper.pid!, mover.pid!]) {
      expect(byPid(second.model).get(pid), `pid ${pid}`).toBeDefined();
      // this scan's stat of every process, with the start time /proc shows
      expect(second.stat.get(pid)?.startTimeTicks).toBe(startOf(pid));
    }
  });

  it('`stat` carries fresh figures of a known process (CPU time of a busy one moves while only its stat is read)', { timeout: 60_000 }, async () => {
    const busy = spawned.start('sh', ['-c', 'while :; do :; done']);
    try {
      const s = new HostScanner(openSource(), { ...OPTS, revalidateEvery: 1000 });
      const a = await s.scan();
      const t0 = a.stat.get(busy.pid!)!.utimeTicks + a.stat.get(busy.pid!)!.stimeTicks;
      let moved = false;
      for (let i = 0; i < 50 && !moved; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const b = await s.scan();
        const st = b.stat.get(busy.pid!)!;
        expect(st.startTimeTicks).toBe(a.stat.get(busy.pid!)!.startTimeTicks);
        moved = st.utimeTicks + st.stimeTicks > t0;
      }
      expect(moved).toBe(true);
    } finally {
      await stop(busy);
    }
  });

  it('a process started between two scans is in the next model; one that exited is gone from it', { timeout: 60_000 }, async () => {
    const s = new HostScanner(openSource(), { ...OPTS, revalidateEvery: 1000 });
    await s.scan();
    const late = spawned.start('unshare', ['--uts', 'sleep', '600']);
    expect(await waitFor(() => nsInode(late.pid!, 'uts') !== nsInode(process.pid, 'uts'), 30_000)).toBe(true);
    const b = await s.scan();
    expect(b.stats.modelReused).toBe(false);
    const p = byPid(b.model).get(late.pid!);
    expect(p?.ns?.uts?.inode).toBe(nsInode(late.pid!, 'uts'));
    // its own uts namespace is in the model's index with it
    expect(b.model.namespaces.find((g) => g.ns.type === 'uts' && g.ns.inode === p!.ns!.uts!.inode)?.pids).toEqual([late.pid!]);
    await stop(late);
    const c = await s.scan();
    expect(c.stats.modelReused).toBe(false);
    expect(byPid(c.model).has(late.pid!)).toBe(false);
    expect(c.stat.has(late.pid!)).toBe(false);
    expect(c.model.namespaces.some((g) => g.ns.type === 'uts' && g.ns.inode === p!.ns!.uts!.inode)).toBe(false);
  });

  it('youngSeconds: a process that unshares its own network namespace (same pid) a moment after it started is seen in the new namespace at the next scan, though the rotation never reaches it', { timeout: 60_000 }, async () => {
    const trigger = join(tmpdir(), `hostscope-young-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    // the shell waits for the trigger, then execs unshare in the same pid: unshare(CLONE_NEWNET), then exec sleep
    const late = spawned.start('sh', ['-c', `while [ ! -e ${trigger} ]; do sleep 0.05; done; exec unshare --net sleep 600`]);
    try {
      // a rotation period no pid ever meets (pid % N === scan number % N: the scan numbers stay below 10)
      const s = new HostScanner(openSource(), { ...OPTS, freshStat: 'none', revalidateEvery: 2 ** 31 - 1, youngSeconds: 120 });
      const hostNet = nsInode(process.pid, 'net');
      await s.scan(); // finds it (every process is new to the first scan)
      const second = await s.scan(); // reads it again (a process seen for the first time is read twice)
      expect(byPid(second.model).get(late.pid!)?.ns?.net?.inode).toBe(hostNet);
      writeFileSync(trigger, '');
      expect(await waitFor(() => nsInode(late.pid!, 'net') !== undefined && nsInode(late.pid!, 'net') !== hostNet, 30_000)).toBe(true);
      const third = await s.scan();
      expect(byPid(third.model).get(late.pid!)?.ns?.net?.inode).toBe(nsInode(late.pid!, 'net'));
      expect(third.model.namespaces.find((g) => g.ns.type === 'net' && g.ns.inode === nsInode(late.pid!, 'net'))?.pids).toEqual([late.pid!]);
    } finally {
      rmSync(trigger, { force: true });
      await stop(late);
    }
  });

  it('youngSeconds: a process older than the window is not read again outside the rotation; a young one is read every scan', { timeout: 60_000 }, async () => {
    const young = spawned.start('sleep', ['600']);
    try {
      // mover was started in beforeAll, more than 2 s ago by the third scan
      await new Promise((r) => setTimeout(r, 2100));
      const s = new HostScanner(openSource(), { ...OPTS, freshStat: 'none', revalidateEvery: 2 ** 31 - 1, youngSeconds: 60 });
      await s.scan();
      await s.scan();
      const r = await s.scan();
      // with freshStat 'none', `stat` holds the processes read whole this scan
      expect(r.stat.has(young.pid!)).toBe(true);
      const old = new HostScanner(openSource(), { ...OPTS, freshStat: 'none', revalidateEvery: 2 ** 31 - 1, youngSeconds: 2 });
      await old.scan();
      await old.scan();
      const o = await old.scan();
      expect(o.model.snapshot.processes.some((p) => p.pid === mover.pid)).toBe(true);
      expect(o.stat.has(mover.pid!)).toBe(false);
    } finally {
      await stop(young);
    }
  });

  it.skipIf(!existsSync(FREEZER))('a process moved to another cgroup (same pid) is seen within revalidateEvery scans', { timeout: 60_000 }, async () => {
    const N = 3;
    const s = new HostScanner(openSource(), { ...OPTS, revalidateEvery: N });
    const before = await s.scan();
    expect(freezerPath(byPid(before.model).get(mover.pid!))).toBe('/');
    writeFileSync(`${FREEZER}/${CG}/cgroup.procs`, `${mover.pid}`);
    let seenAt = 0;
    for (let i = 1; i <= N && seenAt === 0; i++) {
      const r = await s.scan();
      if (freezerPath(byPid(r.model).get(mover.pid!)) === `/${CG}`) seenAt = i;
    }
    // pid % N === scan number % N for exactly one of the N scans after the move
    expect(seenAt).toBeGreaterThan(0);
    expect(seenAt).toBeLessThanOrEqual(N);
    // and then the model is what a one-shot scan says
    const fresh = await scanHost(openSource(), OPTS);
    expect(freezerPath(byPid(fresh).get(mover.pid!))).toBe(`/${CG}`);
    writeFileSync(`${FREEZER}/cgroup.procs`, `${mover.pid}`);
  });

  it('a known pid whose start time differs (the pid was reused by another process) is read whole; the same start time reads stat only', { timeout: 30_000 }, async () => {
    const src = openSource();
    const req = snapshotRequest(OPTS);
    const pid = netSleeper.pid!;
    const start = startOf(pid);
    const read = async (s: number, ino = 0, fresh?: number) => {
      const known = { pids: Int32Array.of(pid), starts: Float64Array.of(s), every: 0, phase: 0, inos: Float64Array.of(ino), fresh: fresh === undefined ? undefined : Uint8Array.of(fresh) };
      const recs = await readNative(src, req, new Slicer(5), new NativeInterner(src.nsfsDevice()), known);
      for (let i = 0; i < recs.count; i++)
        if (recs.pid(i) === pid) return { statOnly: recs.statOnly(i), untouched: recs.untouched(i), ino: recs.ino(i), full: recs.statOnly(i) || recs.untouched(i) ? undefined : recs.full(i) };
      throw new Error(`pid ${pid} not in the scan`);
    };
    const same = await read(start);
    expect(same.statOnly).toBe(true);
    const reused = await read(start - 1);
    expect(reused.statOnly).toBe(false);
    expect(reused.full?.ns?.net?.inode).toBe(nsInode(pid, 'net'));
    expect(reused.full?.stat?.startTimeTicks).toBe(start);
    // the d_ino of its /proc entry is the inode stat(2) shows for /proc/<pid> (the same dentry)
    const ino = statSync(`/proc/${pid}`).ino;
    expect(same.ino).toBe(ino);
    // outside freshStat (fresh 0): the same d_ino reads nothing; another d_ino (a reused pid) reads it whole
    expect(await read(start, ino, 0)).toMatchObject({ statOnly: false, untouched: true, full: undefined });
    const other = await read(start, ino + 1, 0);
    expect(other).toMatchObject({ statOnly: false, untouched: false });
    expect(other.full?.ns?.net?.inode).toBe(nsInode(pid, 'net'));
    // fresh 1 with the same d_ino: stat only; with another d_ino, read whole even with the same start
    // time (a pid reused within one clock tick has the same start time)
    expect(await read(start, ino, 1)).toMatchObject({ statOnly: true, untouched: false });
    expect(await read(start, ino + 1, 1)).toMatchObject({ statOnly: false, untouched: false, full: { stat: { startTimeTicks: start } } });
    // d_ino unknown (0): as before, the start time decides
    expect(await read(start, 0, 0)).toMatchObject({ statOnly: true, untouched: false });
  });

  it('processes exiting during scans (a shell starting and reaping /bin/true in a loop) never break a scan; the model keeps what it should', { timeout: 60_000 }, async () => {
    const churn = spawned.start('sh', ['-c', 'while :; do /bin/true; done']);
    try {
      const s = new HostScanner(openSource(), { ...OPTS, revalidateEvery: 2 });
      for (let i = 0; i < 15; i++) {
        const r = await s.scan();
        const m = byPid(r.model);
        expect(m.get(churn.pid!)?.stat?.comm).toBe('sh');
        expect(m.get(netSleeper.pid!)?.ns?.net?.inode).toBe(nsInode(netSleeper.pid!, 'net'));
        // every process the model holds was read with its namespaces (a vanished one is left out, not half kept)
        for (const p of r.model.snapshot.processes) if (p.stat?.state !== 'Z') expect(p.ns !== undefined || Object.keys(p.errors).length > 0, `pid ${p.pid}`).toBe(true);
      }
    } finally {
      await stop(churn);
    }
  });

  it.skipIf(!has('mount') || !has('umount'))('with `bound`, a namespace kept only by a bind mount is in the model, and gone at the scan after the unmount (no process of ours changed)', { timeout: 60_000 }, async () => {
    const s = new HostScanner(openSource(), { ...OPTS, bound: true, revalidateEvery: 1000 });
    const holder = spawned.start('unshare', ['--net', 'sleep', '600']);
    const file = join(tmpdir(), `hostscope-scanner-bound-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    let mounted = false;
    try {
      expect(await waitFor(() => nsInode(holder.pid!, 'net') !== undefined && nsInode(holder.pid!, 'net') !== nsInode(process.pid, 'net'), 30_000)).toBe(true);
      const inode = nsInode(holder.pid!, 'net')!;
      writeFileSync(file, '');
      execFileSync('mount', ['--bind', `/proc/${holder.pid}/ns/net`, file]);
      mounted = true;
      await stop(holder);
      // the holder's exit rebuilds the model; the unmount below is then the only change of ours
      const kept = await s.scan();
      expect(kept.model.namespaces.some((g) => g.ns.type === 'net' && g.ns.inode === inode)).toBe(true);
      execFileSync('umount', [file]);
      mounted = false;
      const gone = await s.scan();
      expect(gone.model.namespaces.some((g) => g.ns.type === 'net' && g.ns.inode === inode)).toBe(false);
    } finally {
      if (mounted) execFileSync('umount', ['-l', file]);
      await stop(holder);
      rmSync(file, { force: true });
    }
  });

  it('concurrent scan() calls share one scan', { timeout: 30_000 }, async () => {
    const s = new HostScanner(openSource(), OPTS);
    const all = await Promise.all([s.scan(), s.scan(), s.scan(), s.scan()]);
    for (const r of all) expect(r).toBe(all[0]);
    expect(s.scansDone).toBe(1);
    const again = await Promise.all([s.scan(), s.scan()]);
    expect(again[1]).toBe(again[0]);
    expect(again[0]).not.toBe(all[0]);
    expect(s.scansDone).toBe(2);
  });

  it.each(['all', 'none', 'set'] as const)('its model (freshStat %s) is scanHost\'s, native and TypeScript, on the same state: namespaces and containers of the test\'s processes, per-pid namespaces, ids and cgroups', { timeout: 90_000 }, async (fresh) => {
    const src = openSource();
    const s = new HostScanner(src, { ...OPTS, revalidateEvery: 5, freshStat: fresh === 'set' ? new Set([netSleeper.pid!]) : fresh });
    await s.scan();
    // a rebuilt model after some scans (a new process makes the scanner rebuild it from its cache)
    const extra = spawned.start('unshare', ['--ipc', 'sleep', '600']);
    expect(await waitFor(() => nsInode(extra.pid!, 'ipc') !== nsInode(process.pid, 'ipc'), 30_000)).toBe(true);
    await s.scan();
    const a = await scanHost(src, OPTS);
    const r = await s.scan();
    const b = await scanHost(src, { ...OPTS, path: 'ts' });
    const mine = [netSleeper.pid!, mover.pid!, extra.pid!];
    // (a kernel thread's comm is the work it does at the moment: kworker/0:3-events, …; not compared.
    // A process outside freshStat gets no stat read between its whole reads: an exec (comm) or a new
    // parent of others' processes shows at its revalidation, as documented; compared for ours only)
    const statSeen = (pid: number) => fresh === 'all' || mine.includes(pid) || (fresh === 'set' && pid === netSleeper.pid);
    const essence = (p: ProcessInfo | undefined) =>
      p && {
        ns: Object.fromEntries(Object.entries(p.ns ?? {}).map(([k, v]) => [k, v.inode])),
        ids: p.ids,
        cgroups: p.cgroups,
        ppid: statSeen(p.pid) ? p.stat?.ppid : undefined,
        start: p.stat?.startTimeTicks,
        comm: p.stat?.ppid === 2 || !statSeen(p.pid) ? undefined : p.stat?.comm,
        errors: p.errors,
      };
    const pa = byPid(a);
    const pb = byPid(b);
    const pr = byPid(r.model);
    let compared = 0;
    for (const [pid, p] of pa) {
      // only pids the two one-shot scans agree on (others' processes come and go meanwhile)
      if (JSON.stringify(essence(p)) !== JSON.stringify(essence(pb.get(pid)))) continue;
      expect(essence(pr.get(pid)), `pid ${pid}`).toEqual(essence(p));
      compared++;
    }
    expect(compared).toBeGreaterThan(mine.length);
    for (const pid of mine) expect(pr.has(pid)).toBe(true);
    const groups = (m: HostModel) => m.namespaces.filter((g) => g.pids.some((p) => mine.includes(p))).map((g) => ({ key: g.key, pids: g.pids.filter((p) => mine.includes(p)) }));
    expect(groups(r.model)).toEqual(groups(a));
    const conts = (m: HostModel) => m.containers.filter((k) => k.pids.some((p) => mine.includes(p))).map((k) => ({ key: k.key, init: k.initPid, pids: k.pids }));
    expect(conts(r.model)).toEqual(conts(a));
    expect(r.model.ref).toEqual(a.ref);
    // the TypeScript fallback (HOSTSCOPE_SCAN=ts) with the same options: the same model
    const t = await new HostScanner(src, { ...OPTS, path: 'ts', freshStat: fresh === 'set' ? new Set([netSleeper.pid!]) : fresh }).scan();
    expect(t.stats.path).toBe('ts');
    const pt = byPid(t.model);
    for (const pid of mine) expect(essence(pt.get(pid)), `pid ${pid}`).toEqual(essence(pr.get(pid)));
    expect(groups(t.model)).toEqual(groups(r.model));
    expect(conts(t.model)).toEqual(conts(r.model));
    await stop(extra);
  });
});
