import { describe, expect, it } from 'vitest';
import { fixtureSource } from '../helpers/fixtures.js';
import { inspectHost } from '../../src/inspect/host.js';
import { HostScanner, sameProcess } from '../../src/inspect/scanner.js';
import type { ProcessInfo } from '../../src/model/process.js';

const OPTS = { files: ['ids' as const], containers: true, bound: true };

describe('HostScanner on a dump (the TypeScript path: a full scan each time)', () => {
  it('v2-docker-systemd: the model inspectHost makes, every process read whole, its stat in `stat`', async () => {
    const src = fixtureSource('v2-docker-systemd');
    const s = new HostScanner(src, OPTS);
    expect(s.path).toBe('ts');
    const sync = inspectHost(src, OPTS);
    for (let i = 0; i < 2; i++) {
      const r = await s.scan();
      expect(r.stats.path).toBe('ts');
      expect(r.model.snapshot.processes).toEqual(sync.snapshot.processes);
      expect(r.model.namespaces).toEqual(sync.namespaces);
      expect(r.model.containers).toEqual(sync.containers);
      expect(r.model.containers.length).toBeGreaterThan(0);
      expect(r.stats.fullReads).toBe(r.model.snapshot.processes.length);
      expect(r.stats.statOnly).toBe(0);
      expect(r.stats.modelReused).toBe(false);
      const withStat = r.model.snapshot.processes.filter((p) => p.stat);
      expect(r.stat.size).toBe(withStat.length);
      for (const p of withStat) expect(r.stat.get(p.pid)).toEqual(p.stat);
    }
    expect(s.scansDone).toBe(2);
  });

  it('concurrent scan() calls share one scan (the same result object, one scan counted)', async () => {
    const s = new HostScanner(fixtureSource('vm-hybrid-v1'), OPTS);
    const [a, b, c] = await Promise.all([s.scan(), s.scan(), s.scan()]);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(s.scansDone).toBe(1);
    // once it is done, the next call scans again
    const d = await s.scan();
    expect(d).not.toBe(a);
    expect(s.scansDone).toBe(2);
  });

  it('freshStat (none, a set) changes nothing on the TypeScript path: the same model, every process read whole with its stat', async () => {
    const src = fixtureSource('v2-docker-systemd');
    const sync = inspectHost(src, OPTS);
    for (const freshStat of ['none', new Set([1])] as const) {
      const r = await new HostScanner(src, { ...OPTS, freshStat }).scan();
      expect(r.model.snapshot.processes).toEqual(sync.snapshot.processes);
      expect(r.model.containers).toEqual(sync.containers);
      expect(r.stats).toMatchObject({ path: 'ts', statOnly: 0, unread: 0, fullReads: sync.snapshot.processes.length });
      expect(r.stat.size).toBe(sync.snapshot.processes.filter((p) => p.stat).length);
    }
  });

  it('refuses a freshStat that is not all, none or a Set', () => {
    const src = fixtureSource('vm-hybrid-v1');
    for (const f of ['some', [1, 2], 3]) expect(() => new HostScanner(src, { freshStat: f as never })).toThrow(/freshStat/);
  });

  it('refuses a youngSeconds that is negative, not a number or above a day', () => {
    for (const y of [-1, Number.NaN, 86401]) expect(() => new HostScanner(fixtureSource('vm-hybrid-v1'), { youngSeconds: y })).toThrow(/youngSeconds/);
  });

  it('refuses a revalidation period that is not a positive integer', () => {
    const src = fixtureSource('vm-hybrid-v1');
    for (const n of [0, -1, 1.5, Number.NaN]) expect(() => new HostScanner(src, { revalidateEvery: n })).toThrow(/revalidateEvery/);
  });
});

describe('sameProcess: what makes a process read whole again count as changed', () => {
  const base = (): ProcessInfo => {
    const r = inspectHost(fixtureSource('v2-docker-systemd'), OPTS);
    // a containerised process: it has namespaces, ids, cgroups and a stat
    const p = r.snapshot.processes.find((x) => r.containerOf.has(x.pid) && x.ns && x.ids && x.cgroups && x.stat)!;
    expect(p).toBeDefined();
    return p;
  };
  const p = base();
  const clone = (q: ProcessInfo): ProcessInfo => structuredClone(q);

  it('an equal copy (other objects, same values) is the same process', () => {
    expect(sameProcess(p, clone(p))).toBe(true);
  });
  it('setns into another network namespace (an ns inode changed)', () => {
    const q = clone(p);
    q.ns!.net = { ...q.ns!.net!, inode: q.ns!.net!.inode + 1 };
    expect(sameProcess(p, q)).toBe(false);
  });
  it('a namespace entry that could be read before and not now', () => {
    const q = clone(p);
    delete q.ns!.uts;
    q.errors = { ...q.errors, 'ns/uts': 'PERMISSION_DENIED' };
    expect(sameProcess(p, q)).toBe(false);
  });
  it('moved to another cgroup (a write to cgroup.procs)', () => {
    const q = clone(p);
    q.cgroups = q.cgroups!.map((c, i) => (i === 0 ? { ...c, path: `${c.path}/moved` } : c));
    expect(sameProcess(p, q)).toBe(false);
  });
  it('setuid (effective uid changed)', () => {
    const q = clone(p);
    q.ids = { ...q.ids!, uid: { ...q.ids!.uid, effective: q.ids!.uid.effective + 1 } };
    expect(sameProcess(p, q)).toBe(false);
  });
  it('an exec (comm), a new parent (ppid), another process under the pid (start time), a zombie', () => {
    for (const change of [{ comm: 'other' }, { ppid: p.stat!.ppid + 1 }, { startTimeTicks: p.stat!.startTimeTicks + 1 }, { state: 'Z' }]) {
      const q = clone(p);
      q.stat = { ...q.stat!, ...change };
      expect(sameProcess(p, q), JSON.stringify(change)).toBe(false);
    }
  });
  it("a kernel thread's comm moving (kworker/0:3-events → …-mm_percpu_wq) is not a change; a user process's is", () => {
    const k = { ...clone(p), pid: 4242, stat: { ...p.stat!, pid: 4242, ppid: 2, comm: 'kworker/0:3-events' } };
    expect(sameProcess(k, { ...clone(k), stat: { ...k.stat, comm: 'kworker/0:3-mm_percpu_wq' } })).toBe(true);
    expect(sameProcess(p, { ...clone(p), stat: { ...p.stat!, comm: 'kworker/0:3-mm_percpu_wq' } })).toBe(false);
  });
  it('CPU times, RSS and faults moving is not a change', () => {
    const q = clone(p);
    q.stat = { ...q.stat!, utimeTicks: q.stat!.utimeTicks + 100, stimeTicks: q.stat!.stimeTicks + 5, rssPages: q.stat!.rssPages + 7, minflt: q.stat!.minflt + 1 };
    expect(sameProcess(p, q)).toBe(true);
  });
});
