import { describe, expect, it } from 'vitest';
import { buildGroups, buildProcRows, procCpu } from '../../tui/model.js';
import type { RawProc, Sample } from '../../tui/sample.js';
import { fixtureSamples } from './helpers.js';

const HOST = { pid: 1, mnt: 2, net: 3, uts: 4, ipc: 5, user: 6, cgroup: 7 };
function proc(pid: number, ppid: number, over: Partial<RawProc> = {}): RawProc {
  return { pid, ppid, comm: `p${pid}`, cmd: `cmd ${pid}`, state: 'S', ticks: 0, start: 100, rssBytes: 4096, threads: 1, ns: { ...HOST }, cg: '/', ...over };
}
function sample(endMs: number, procs: RawProc[], over: Partial<Sample> = {}): Sample {
  return { v: 1, startMs: endMs - 100, endMs, wallMs: endMs, ncpu: 2, cgroupMode: 'v2', host: { ...HOST }, procs, containers: [], cgroups: {}, net: {}, vanished: 0, denied: 0, ...over };
}

describe('ctop model: rates from two samples', () => {
  it('CPU % is Δticks / Δ(monotonic end time): 50 ticks in 0.5 s is one CPU', () => {
    const a = sample(1000, [proc(10, 1, { ticks: 100 })]);
    const b = sample(1500, [proc(10, 1, { ticks: 150 })]);
    expect(procCpu(a, b).get(10)).toBeCloseTo(100);
  });
  it('no previous sample → no rate (shown —)', () => {
    expect(procCpu(undefined, sample(1000, [proc(10, 1)])).size).toBe(0);
    expect(buildGroups(undefined, sample(1000, [proc(10, 1)]), 'container')[0]!.cpuPct).toBeUndefined();
  });
  it('a pid reused by a new process (start time changed) has no rate, never a negative one', () => {
    const a = sample(1000, [proc(10, 1, { ticks: 900, start: 5 })]);
    const b = sample(2000, [proc(10, 1, { ticks: 3, start: 6 })]);
    expect(procCpu(a, b).has(10)).toBe(false);
  });
  it("a group owning its cgroup takes the cgroup's numbers: working set, limit, quota, throttling", () => {
    const procs = (t: number): RawProc[] => [proc(1, 0), proc(20, 1, { ns: { ...HOST, pid: 99, net: 98 }, cg: '/web', ctr: 'k', ticks: t })];
    const cg = (usage: number, thr: number) => ({
      '/web': {
        errors: {},
        cpu: { version: 2 as const, dir: 'fs/cgroup/web', usageUsec: usage, userUsec: undefined, systemUsec: undefined, weight: 100, shares: undefined, quotaUsec: 50_000, periodUsec: 100_000, nrPeriods: 10, nrThrottled: thr, throttledUsec: 0 },
        memory: { version: 2 as const, dir: 'fs/cgroup/web', usageBytes: 300, limitBytes: 1000, workingSetBytes: 250, inactiveFileBytes: 50, anonBytes: 0, fileBytes: 0, limitHits: 0, oomEvents: 0, oomKills: 2, swapBytes: 0 },
      },
    });
    const containers = [{ key: 'k', name: 'web', runtime: 'docker', initPid: 20 }];
    const a = sample(1000, procs(0), { containers, cgroups: cg(1_000_000, 1) });
    const b = sample(2000, procs(100), { containers, cgroups: cg(1_250_000, 4) });
    const web = buildGroups(a, b, 'container').find((g) => g.key === 'k')!;
    expect(web.source).toBe('cgroup');
    expect(web.cpuPct).toBeCloseTo(25);
    expect(web.quotaCpus).toBe(0.5);
    expect(web.cpuOfQuotaPct).toBeCloseTo(50);
    expect(web.throttledPeriods).toBe(3);
    expect(web.memBytes).toBe(250);
    expect(web.memPct).toBeCloseTo(25);
    expect(web.oomKills).toBe(2);
  });
  it("a group in a cgroup it shares with other processes falls back to its processes' sums", () => {
    const ps = (t: number): RawProc[] => [proc(1, 0, { cg: '/shared' }), proc(20, 1, { ns: { ...HOST, pid: 99 }, cg: '/shared', ctr: 'k', ticks: t, rssBytes: 8192 })];
    const containers = [{ key: 'k', name: 'web', runtime: 'unknown', initPid: 20 }];
    const stats = { '/shared': { errors: {}, memory: { version: 2 as const, dir: 'x', usageBytes: 1e9, limitBytes: null, workingSetBytes: 1e9, inactiveFileBytes: 0, anonBytes: 0, fileBytes: 0, limitHits: 0, oomEvents: 0, oomKills: 0, swapBytes: 0 } } };
    const g = buildGroups(sample(1000, ps(0), { containers, cgroups: stats }), sample(2000, ps(50), { containers, cgroups: stats }), 'container').find((x) => x.key === 'k')!;
    expect(g.source).toBe('procs');
    expect(g.memBytes).toBe(8192);
    expect(g.cpuPct).toBeCloseTo(50);
  });
  it('network rates per namespace, from the counters of the group’s netns', () => {
    const ps = [proc(1, 0), proc(20, 1, { ns: { ...HOST, net: 77 }, ctr: 'k' })];
    const containers = [{ key: 'k', name: 'web', runtime: 'unknown', initPid: 20 }];
    const a = sample(1000, ps, { containers, net: { '77': { rx: 1000, tx: 0 } } });
    const b = sample(3000, ps, { containers, net: { '77': { rx: 5000, tx: 2000 } } });
    const g = buildGroups(a, b, 'container').find((x) => x.key === 'k')!;
    expect(g.netRxBps).toBe(2000);
    expect(g.netTxBps).toBe(1000);
  });
  it('by namespace set: PID 1’s set is "host", other sets are named by their container', () => {
    const ps = [proc(1, 0), proc(2, 1), proc(20, 1, { ns: { ...HOST, net: 77 }, ctr: 'k' }), proc(21, 20, { ns: { ...HOST, net: 77 }, ctr: 'k' })];
    const g = buildGroups(undefined, sample(1000, ps, { containers: [{ key: 'k', name: 'web', runtime: 'unknown', initPid: 20 }] }), 'ns');
    expect(g.map((x) => [x.name, x.kind, x.pids])).toEqual([
      ['host', 'host', [1, 2]],
      ['web', 'own:n', [20, 21]],
    ]);
  });
  it('by cgroup: a tree with roll-ups, parents before children', () => {
    const ps = [proc(1, 0, { cg: '/' }), proc(2, 1, { cg: '/a/b' }), proc(3, 1, { cg: '/a/c' }), proc(4, 1, { cg: '/a' })];
    const g = buildGroups(undefined, sample(1000, ps), 'cgroup');
    expect(g.map((x) => [x.key, x.depth, x.pids])).toEqual([
      ['/', 0, [1, 2, 3, 4]],
      ['/a', 1, [2, 3, 4]],
      ['/a/b', 2, [2]],
      ['/a/c', 2, [3]],
    ]);
  });
  it('process rows form a tree within the group', () => {
    const rows = buildProcRows(undefined, sample(1000, [proc(10, 1), proc(11, 10), proc(12, 10), proc(13, 11)]), new Set([10, 11, 12, 13]));
    expect(rows.map((r) => `${r.prefix}${r.pid}`)).toEqual(['10', '├─ 11', '│  └─ 13', '└─ 12']);
  });
  it('fixture host: every group of the docker host has its cgroup numbers', () => {
    const { prev, cur } = fixtureSamples('v2-docker-systemd');
    const groups = buildGroups(prev, cur, 'container');
    const redis = groups.find((g) => g.name === '0a5ceea3df52')!;
    expect(redis.source).toBe('cgroup');
    expect(redis.cpuPct).toBeCloseTo(25);
    expect(redis.memLimit).toBe(512 * 1024 * 1024);
  });
});

describe('CPU % of a group whose cpuacct cgroup is the hierarchy root (v1, cpu and cpuacct mounted apart)', () => {
  it('comes from its processes, not from the root cpuacct usage (the whole host: a sleeping container showed 122 %)', () => {
    // vm-hybrid-v1: pid 4346 (sleep) sits in cpu:/hostscope-capture-4327 and cpuacct:/ (as the capture made it)
    const { prev, cur } = fixtureSamples('vm-hybrid-v1');
    const g = buildGroups(prev, cur, 'cgroup').find((r) => r.key === '/hostscope-capture-4327')!;
    expect(g.pids).toContain(4346);
    expect(cur.cgroups['/hostscope-capture-4327']?.cpu?.usageFrom.dir).toBe('/sys/fs/cgroup/cpuacct');
    // the helper's earlier sample: every cgroup 250 ms less CPU (25 % — the root's, before the fix),
    // process i up to (pid % 7) × 10 ticks less: those ticks (of 10 ms, over 1 s) are the group's %
    const t = (s: typeof cur, pid: number) => s.procs.find((p) => p.pid === pid)!.ticks;
    const ticks = g.pids.reduce((a, pid) => a + t(cur, pid) - t(prev, pid), 0);
    expect(ticks).not.toBe(25);
    expect(g.cpuPct).toBeCloseTo(ticks, 5);
    expect(g.cpuOfQuotaPct).toBeUndefined();
    expect(g.sums).toBe(true);
  });

  it('a container whose cpu and cpuacct directories are its own keeps the cgroup figure', () => {
    const { prev, cur } = fixtureSamples('v1-docker-seed');
    const rows = buildGroups(prev, cur, 'container').filter((r) => r.kind === 'docker' && r.source === 'cgroup');
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.cpuPct).toBeCloseTo(25, 5);
  });
});

describe('CPU % source: the usage directory must be the group\'s own, at a path boundary', () => {
  it('a group whose cgroup is named /cpuacct, with cpuacct\'s root as its usage, is not taken for its own (endsWith would)', () => {
    const { prev, cur } = fixtureSamples('vm-hybrid-v1');
    const rename = (s: Sample): void => {
      const c = s.cgroups['/hostscope-capture-4327']!;
      delete s.cgroups['/hostscope-capture-4327'];
      s.cgroups['/cpuacct'] = { ...c, cpu: { ...c.cpu!, dir: '/sys/fs/cgroup/cpu/cpuacct' } };
      for (const p of s.procs) if (p.cg === '/hostscope-capture-4327') p.cg = '/cpuacct';
    };
    rename(prev);
    rename(cur);
    const g = buildGroups(prev, cur, 'cgroup').find((r) => r.key === '/cpuacct')!;
    expect(g.pids).toContain(4346);
    expect(g.cpuPct).not.toBeCloseTo(25, 5);
    expect(g.sums).toBe(true);
  });
});

describe('process tree: hostile shapes', () => {
  it('a chain of 5,000 nested processes is drawn without overflowing the stack, its indentation bounded', () => {
    const procs = Array.from({ length: 5000 }, (_, i) => proc(i + 2, i + 1));
    const rows = buildProcRows(undefined, sample(1000, [proc(1, 0), ...procs]), undefined);
    expect(rows).toHaveLength(5001);
    expect(rows.map((r) => r.pid)).toEqual(Array.from({ length: 5001 }, (_, i) => i + 1));
    expect(Math.max(...rows.map((r) => r.prefix.length))).toBeLessThanOrEqual(100);
  });

  it('parents in a cycle (a race between reads) and a repeated pid: each pid once, nothing lost, no loop', () => {
    const rows = buildProcRows(undefined, sample(1000, [proc(1, 0), proc(10, 20), proc(20, 10), proc(30, 1), proc(40, 30), proc(30, 40)]), undefined);
    expect(rows.map((r) => r.pid).sort((a, b) => a - b)).toEqual([1, 10, 20, 30, 40]);
  });
});
