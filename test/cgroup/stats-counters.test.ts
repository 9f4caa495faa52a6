import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryProcSource } from '../../src/source/source.js';
import { HOSTS_DIR } from '../helpers/fixtures.js';
import { inspectHost, readCgroupLayout } from '../../src/inspect/host.js';
import { readCgroupStats } from '../../src/cgroup/stats.js';

/**
 * readCgroupStats with `counters` (ctop's poll between two whole reads): the figures that move all
 * the time (usage, memory.stat, cpu usage and throttling, pids.current, IO bytes) are read; the
 * limits and other slow figures are the counters' own; a controller whose directory is not the
 * counters' is read whole.
 */
const dir = mkdtempSync(join(tmpdir(), `cg-counters-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function copyHost(name: string): DirectoryProcSource {
  const to = join(dir, name);
  cpSync(join(HOSTS_DIR, name), to, { recursive: true, verbatimSymlinks: true });
  return new DirectoryProcSource({ procRoot: join(to, 'proc'), sysRoot: join(to, 'sys') });
}

describe('readCgroupStats with counters', () => {
  it('v1 (cpu and cpuacct apart): usage, working set and pids.current read; limit, quota, shares and pids.max the counters\'', () => {
    const src = copyHost('vm-hybrid-v1');
    const layout = readCgroupLayout(src);
    const model = inspectHost(src, { containers: true });
    const cg = model.snapshot.processes.find((p) => p.cgroups?.some((l) => l.path.startsWith('/hostscope-capture-')))!.cgroups!;
    const path = cg.find((l) => l.controllers.includes('memory'))!.path;
    const sys = (ctrl: string, file: string): string => join(dir, 'vm-hybrid-v1/sys/fs/cgroup', ctrl, path, file);
    const whole = readCgroupStats(src, layout, cg);
    expect(whole.memory).toMatchObject({ limitBytes: 64 * 1024 * 1024 });
    // between two polls: usage moves, and (rarely) the limits change
    writeFileSync(sys('memory', 'memory.usage_in_bytes'), `${whole.memory!.usageBytes + 4096}\n`);
    writeFileSync(sys('memory', 'memory.limit_in_bytes'), `${128 * 1024 * 1024}\n`);
    writeFileSync(sys('pids', 'pids.current'), '7\n');
    writeFileSync(sys('pids', 'pids.max'), '99\n');
    writeFileSync(sys('cpu', 'cpu.cfs_quota_us'), '100000\n');
    // and the CPU usage moves: cpuacct.usage in the cpuacct directory the usage comes from
    const acct = join(dir, 'vm-hybrid-v1', whole.cpu!.usageFrom.dir, 'cpuacct.usage');
    writeFileSync(acct, `${whole.cpu!.usageUsec * 1000 + 5_000_000}\n`);
    const c = readCgroupStats(src, layout, cg, whole);
    expect(c.memory!.usageBytes).toBe(whole.memory!.usageBytes + 4096);
    expect(c.memory!.workingSetBytes).toBe(whole.memory!.workingSetBytes + 4096);
    expect(c.memory!.limitBytes).toBe(64 * 1024 * 1024);
    expect(c.pids).toMatchObject({ current: 7, max: 50 });
    expect(c.cpu).toMatchObject({ quotaUsec: 50000, periodUsec: 100000, shares: 512, usageUsec: whole.cpu!.usageUsec + 5000, usageFrom: whole.cpu!.usageFrom });
    // the next whole read sees the new limits
    const again = readCgroupStats(src, layout, cg);
    expect(again.memory!.limitBytes).toBe(128 * 1024 * 1024);
    expect(again.pids!.max).toBe(99);
    expect(again.cpu!.quotaUsec).toBe(100000);
    // counters of another cgroup (here: the root's) are not used: every controller read whole
    const root = cg.map((l) => ({ ...l, path: '/' }));
    const other = readCgroupStats(src, layout, cg, readCgroupStats(src, layout, root));
    expect(other).toEqual(again);
  });

  it('v2: memory.current and cpu.stat read; memory.max, oom kills and cpu.max the counters\'', () => {
    const src = copyHost('v2-docker-systemd');
    const layout = readCgroupLayout(src);
    const model = inspectHost(src, { containers: true });
    const cg = model.snapshot.processes.find((p) => p.pid === 1234)!.cgroups!;
    const whole = readCgroupStats(src, layout, cg);
    const d = join(dir, 'v2-docker-systemd', whole.memory!.dir);
    writeFileSync(join(d, 'memory.current'), `${whole.memory!.usageBytes + 8192}\n`);
    writeFileSync(join(d, 'memory.max'), 'max\n');
    // cpu.stat moves (usage and throttling) while cpu.max changes: only the first is read
    const cd = join(dir, 'v2-docker-systemd', whole.cpu!.dir);
    writeFileSync(join(cd, 'cpu.stat'), `usage_usec ${whole.cpu!.usageUsec + 7000}\nuser_usec 1\nsystem_usec 2\nnr_periods 40\nnr_throttled 9\nthrottled_usec 123\n`);
    writeFileSync(join(cd, 'cpu.max'), '12345 100000\n');
    const c = readCgroupStats(src, layout, cg, whole);
    expect(c.memory).toMatchObject({ usageBytes: whole.memory!.usageBytes + 8192, workingSetBytes: whole.memory!.workingSetBytes + 8192, limitBytes: 536870912, oomKills: 0 });
    expect(c.cpu).toEqual({ ...whole.cpu, usageUsec: whole.cpu!.usageUsec + 7000, userUsec: 1, systemUsec: 2, nrPeriods: 40, nrThrottled: 9, throttledUsec: 123 });
    expect(c.pids).toEqual(whole.pids);
    expect(c.io).toEqual(whole.io);
    expect(readCgroupStats(src, layout, cg).memory!.limitBytes).toBeNull();
    expect(readCgroupStats(src, layout, cg).cpu!.quotaUsec).toBe(12345);
  });
});
