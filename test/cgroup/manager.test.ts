import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecordingCgroupFs, type CgroupFsOp } from '../../src/cgroup/fs.js';
import {
  CgroupError,
  CgroupManager,
  cpuSharesToWeight,
  deviceRuleString,
  expandSlice,
  placeCgroup,
  systemdCgroupPath,
  v2SwapValue,
  type CgroupManagerOptions,
} from '../../src/cgroup/manager.js';
import { DirectoryProcSource } from '../../src/source/source.js';
import { makeSimHost, type SimHost, type SimKind } from '../helpers/cgroupfs-sim.js';

const MiB = 1024 * 1024;
const CG = '/sys/fs/cgroup';

let hosts: SimHost[] = [];
afterEach(() => {
  for (const h of hosts) h.cleanup();
  hosts = [];
});

function setup(kind: SimKind, cgroupsPath = '/hostscope/abc', extra: Partial<CgroupManagerOptions> = {}) {
  const host = makeSimHost(kind);
  hosts.push(host);
  const fs = new RecordingCgroupFs(host.fs);
  const m = new CgroupManager({ fs, layout: host.layout, cgroupsPath, kill: host.fs.kill, sleep: () => new Promise((r) => setTimeout(r, 1)), settleTimeoutMs: 200, ...extra });
  const src = new DirectoryProcSource({ procRoot: join(host.root, 'proc'), sysRoot: join(host.root, 'sys') });
  return { host, fs, m, src, ops: () => fs.ops.splice(0) };
}

const w = (path: string, data: string): CgroupFsOp => ({ op: 'write', path, data });
const mk = (path: string): CgroupFsOp => ({ op: 'mkdir', path });
const rm = (path: string): CgroupFsOp => ({ op: 'rmdir', path });

describe('where cgroupsPath lands (OCI linux.cgroupsPath)', () => {
  const v1 = makeSimHost('v1');
  hosts.push(v1);

  it('absolute: the same path under every v1 hierarchy, cpu and cpuacct apart, plus name=systemd', () => {
    const p = placeCgroup(v1.layout, '/hostscope/abc');
    expect(p.map((x) => [x.name, x.dir])).toEqual([
      ['blkio', `${CG}/blkio/hostscope/abc`],
      ['cpu', `${CG}/cpu/hostscope/abc`],
      ['cpuacct', `${CG}/cpuacct/hostscope/abc`],
      ['cpuset', `${CG}/cpuset/hostscope/abc`],
      ['devices', `${CG}/devices/hostscope/abc`],
      ['freezer', `${CG}/freezer/hostscope/abc`],
      ['memory', `${CG}/memory/hostscope/abc`],
      ['pids', `${CG}/pids/hostscope/abc`],
      ['name=systemd', `${CG}/systemd/hostscope/abc`],
    ]);
  });

  it('relative: joined to our own cgroup per hierarchy, as runc does (memory here sits under process_api/<hash>)', () => {
    const own = [
      { hierarchyId: 4, controllers: ['memory'], path: '/process_api/29' },
      { hierarchyId: 1, controllers: ['cpu'], path: '/' },
    ];
    const p = placeCgroup(v1.layout, 'abc', { own });
    expect(p.find((x) => x.name === 'memory')!.dir).toBe(`${CG}/memory/process_api/29/abc`);
    expect(p.find((x) => x.name === 'cpu')!.dir).toBe(`${CG}/cpu/abc`);
    expect(p.find((x) => x.name === 'pids')!.path).toBe('/abc');
  });

  it('relative from outside our cgroup namespace (/..) is refused', () => {
    expect(() => placeCgroup(v1.layout, 'abc', { own: [{ hierarchyId: 4, controllers: ['memory'], path: '/../x' }] })).toThrow(/outside our cgroup namespace/);
  });

  it('systemd slice:prefix:name maps to the scope systemd would make; complex forms are refused', () => {
    expect(expandSlice('a-b-c.slice')).toBe('/a.slice/a-b.slice/a-b-c.slice');
    expect(expandSlice('-.slice')).toBe('/');
    expect(systemdCgroupPath('system.slice:runc:abc')).toBe('/system.slice/runc-abc.scope');
    expect(systemdCgroupPath(':hostscope:abc')).toBe('/system.slice/hostscope-abc.scope');
    expect(systemdCgroupPath('-.slice:p:n')).toBe('/p-n.scope');
    expect(placeCgroup(v1.layout, 'user-1000.slice:docker:x', { systemd: true })[0]!.path).toBe('/user.slice/user-1000.slice/docker-x.scope');
    expect(() => systemdCgroupPath('system.slice:runc:sub.slice')).toThrow(/not supported/);
    expect(() => systemdCgroupPath('system.slice:ru\\x2dnc:abc')).toThrow(/only simple/);
    expect(() => systemdCgroupPath('a:b')).toThrow(/slice:prefix:name/);
    expect(() => expandSlice('a--b.slice')).toThrow(/invalid slice name/);
  });

  it('refuses .., the root cgroup and an empty path; cleans double slashes', () => {
    expect(() => placeCgroup(v1.layout, '/a/../../etc')).toThrow(/'\.\.' is not allowed/);
    expect(() => placeCgroup(v1.layout, '/')).toThrow(/root cgroup/);
    expect(() => placeCgroup(v1.layout, '')).toThrow(/empty/);
    expect(placeCgroup(v1.layout, '//a///b/')[0]!.path).toBe('/a/b');
  });

  it('a hierarchy mounted from a subdirectory (inside a container) reaches only below it', () => {
    const layout = { mode: 'v2' as const, hierarchies: [{ version: 2 as const, controllers: [], mountPoint: '/sys/fs/cgroup', root: '/kubepods/pod1' }] };
    expect(placeCgroup(layout, '/kubepods/pod1/c')[0]!.dir).toBe('/sys/fs/cgroup/c');
    expect(() => placeCgroup(layout, '/elsewhere/c')).toThrow(/outside the unified subtree/);
  });
});

describe('cgroup v1 (this machine\'s layout) in a temp dir', () => {
  it('create: mkdir -p in every hierarchy; cpuset levels get the parent\'s cpus and mems before any task joins', () => {
    const { m, ops, host } = setup('v1');
    m.create();
    const got = ops();
    expect(got.filter((o) => o.path.includes('/cpuset/'))).toEqual([
      mk(`${CG}/cpuset/hostscope`),
      w(`${CG}/cpuset/hostscope/cpuset.cpus`, '0-1'),
      w(`${CG}/cpuset/hostscope/cpuset.mems`, '0'),
      mk(`${CG}/cpuset/hostscope/abc`),
      w(`${CG}/cpuset/hostscope/abc/cpuset.cpus`, '0-1'),
      w(`${CG}/cpuset/hostscope/abc/cpuset.mems`, '0'),
    ]);
    expect(got.filter((o) => o.op === 'mkdir').length).toBe(18);
    expect(m.exists()).toBe(true);
    // idempotent: a second create writes nothing
    m.create();
    expect(ops()).toEqual([]);
    expect(host.fs.content(`${CG}/cpuset/hostscope/abc/cpuset.cpus`)).toBe('0-1');
  });

  it('apply: the exact files and values, in runc\'s order (cpuset, devices, memory, cpu, pids, blkio)', () => {
    const { m, ops } = setup('v1');
    m.create();
    ops();
    m.apply({
      memory: { limit: 64 * MiB, swap: 128 * MiB, reservation: 32 * MiB, swappiness: 0, disableOOMKiller: true, kernelTCP: 16 * MiB },
      pids: { limit: 20 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      blockIO: { weight: 200 },
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: true, type: 'c', major: 136, minor: null, access: 'rw' },
      ],
    });
    const d = (c: string, f: string): string => `${CG}/${c}/hostscope/abc/${f}`;
    expect(ops()).toEqual([
      w(d('cpuset', 'cpuset.cpus'), '0'),
      w(d('cpuset', 'cpuset.mems'), '0'),
      w(d('devices', 'devices.deny'), 'a *:* rwm'),
      w(d('devices', 'devices.allow'), 'c 1:3 rwm'),
      w(d('devices', 'devices.allow'), 'c 136:* rw'),
      // current limit (unlimited) is above the new memsw: memory first, then memsw
      w(d('memory', 'memory.limit_in_bytes'), String(64 * MiB)),
      w(d('memory', 'memory.memsw.limit_in_bytes'), String(128 * MiB)),
      w(d('memory', 'memory.kmem.tcp.limit_in_bytes'), String(16 * MiB)),
      w(d('memory', 'memory.soft_limit_in_bytes'), String(32 * MiB)),
      w(d('memory', 'memory.swappiness'), '0'),
      w(d('memory', 'memory.oom_control'), '1'),
      w(d('cpu', 'cpu.shares'), '512'),
      w(d('cpu', 'cpu.cfs_period_us'), '100000'),
      w(d('cpu', 'cpu.cfs_quota_us'), '50000'),
      w(d('pids', 'pids.max'), '20'),
      w(d('blkio', 'blkio.bfq.weight'), '200'),
    ]);
  });

  it('memory growing past the current limit writes memsw first (else the kernel says EINVAL); -1 is unlimited for both', () => {
    const { m, ops } = setup('v1');
    m.create();
    m.apply({ memory: { limit: 64 * MiB, swap: 64 * MiB } });
    ops();
    m.apply({ memory: { limit: 256 * MiB, swap: 512 * MiB } });
    const d = `${CG}/memory/hostscope/abc`;
    expect(ops()).toEqual([w(`${d}/memory.memsw.limit_in_bytes`, String(512 * MiB)), w(`${d}/memory.limit_in_bytes`, String(256 * MiB))]);
    m.apply({ memory: { limit: -1 } });
    expect(ops()).toEqual([w(`${d}/memory.memsw.limit_in_bytes`, '-1'), w(`${d}/memory.limit_in_bytes`, '-1')]);
  });

  it('memory+swap below memory is refused before anything is written', () => {
    const { m, ops } = setup('v1');
    m.create();
    ops();
    expect(() => m.apply({ memory: { limit: 64 * MiB, swap: 32 * MiB } })).toThrow(/memory\+swap limit 33554432: below the memory limit 67108864/);
    expect(ops()).toEqual([]);
  });

  it('a limit below usage is a CgroupError naming the file, the value and the usage', () => {
    const { m, host } = setup('v1');
    host.fs.memoryUsage = 10 * MiB;
    m.create();
    let err: unknown;
    try {
      m.apply({ memory: { limit: MiB } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CgroupError);
    const e = err as CgroupError;
    expect(e.file).toBe(`${CG}/memory/hostscope/abc/memory.limit_in_bytes`);
    expect(e.value).toBe(String(MiB));
    expect(e.errno).toBe('EBUSY');
    expect(e.message).toBe(`cannot write "1048576" to ${CG}/memory/hostscope/abc/memory.limit_in_bytes: Device or resource busy (memory usage 10.0 MiB cannot be brought below it)`);
  });

  it('cpu shares the kernel clamps are an error (runc reads them back)', () => {
    const { m } = setup('v1');
    m.create();
    expect(() => m.apply({ cpu: { shares: 500000 } })).toThrow('cpu shares 500000: the maximum allowed cpu-shares is 262144');
    expect(() => m.apply({ cpu: { shares: 1 } })).toThrow('cpu shares 1: the minimum allowed cpu-shares is 2');
  });

  it('int64 values past 2^53 are written exactly as bigints; unsafe numbers and junk are refused', () => {
    const { m, ops } = setup('v1');
    m.create();
    ops();
    m.apply({ memory: { limit: 9007199254740993n, swap: -1n } });
    expect(ops().map((o) => (o.op === 'write' ? o.data : ''))).toEqual(['-1', '9007199254740993']);
    expect(() => m.apply({ memory: { limit: 2 ** 60 } })).toThrow(/not an integer \(use a bigint past 2\^53\)/);
    expect(() => m.apply({ pids: { limit: -5 } })).toThrow(/invalid pids limit: -5 is out of range/);
    expect(() => m.apply({ memory: { limit: 1n << 63n } })).toThrow(/out of range/);
    expect(() => m.apply({ pids: { limit: 1.5 } })).toThrow(/not an integer/);
  });

  it('0 and absent leave a limit as it is; pids -1 is max', () => {
    const { m, ops } = setup('v1');
    m.create();
    ops();
    m.apply({ memory: { limit: 0 }, pids: { limit: 0 }, cpu: { shares: 0, quota: 0 } });
    expect(ops()).toEqual([]);
    m.apply({ pids: { limit: -1 }, cpu: { quota: -1 } });
    expect(ops()).toEqual([w(`${CG}/cpu/hostscope/abc/cpu.cfs_quota_us`, '-1'), w(`${CG}/pids/hostscope/abc/pids.max`, 'max')]);
  });

  it('addProcess joins every hierarchy; pids() lists the cgroup and its children; stats() reads back through readCgroupStats', () => {
    const { m, ops, src, host } = setup('v1');
    m.create();
    m.apply({ memory: { limit: 64 * MiB }, pids: { limit: 20 }, cpu: { shares: 512, quota: 25000, period: 100000 } });
    ops();
    m.addProcess(4242);
    expect(ops()).toEqual(m.placements.map((p) => w(`${p.dir}/cgroup.procs`, '4242')));
    host.fs.mkdir(`${CG}/freezer/hostscope/abc/sub`);
    host.fs.writeFile(`${CG}/freezer/hostscope/abc/sub/cgroup.procs`, '4243');
    expect(m.pids()).toEqual([4242, 4243]);
    const s = m.stats(src);
    expect(s.errors).toEqual({});
    expect(s.memory).toMatchObject({ version: 1, dir: '/sys/fs/cgroup/memory/hostscope/abc', limitBytes: 64 * MiB });
    expect(s.pids).toMatchObject({ max: 20, dir: '/sys/fs/cgroup/pids/hostscope/abc' });
    expect(s.cpu).toMatchObject({ shares: 512, quotaUsec: 25000, periodUsec: 100000, dir: '/sys/fs/cgroup/cpu/hostscope/abc' });
    expect(() => m.addProcess(0)).toThrow(/invalid pid 0/);
  });

  it('freeze polls while the kernel says FREEZING, writing FROZEN again; thaw returns to THAWED', async () => {
    const { m, ops, host } = setup('v1');
    m.create();
    ops();
    host.fs.freezingReads = 3;
    await m.freeze();
    const f = `${CG}/freezer/hostscope/abc/freezer.state`;
    expect(ops()).toEqual([w(f, 'FROZEN'), w(f, 'FROZEN'), w(f, 'FROZEN'), w(f, 'FROZEN')]);
    expect(m.freezerState()).toBe('FROZEN');
    await m.thaw();
    expect(ops()).toEqual([w(f, 'THAWED')]);
    expect(m.freezerState()).toBe('THAWED');
  });

  it('a freeze that never settles ends THAWED with an error', async () => {
    const { m, host } = setup('v1', '/hostscope/abc', { settleTimeoutMs: 20 });
    m.create();
    host.fs.freezingReads = 1e9;
    await expect(m.freeze()).rejects.toThrow(/stayed FREEZING; left THAWED/);
    host.fs.freezingReads = 0;
    expect(m.freezerState()).toBe('THAWED');
  });

  it('killAll without cgroup.kill: freeze → signal each pid → thaw, then waits until empty', async () => {
    const { m, ops, host } = setup('v1');
    m.create();
    m.addProcess(101);
    m.addProcess(102);
    ops();
    await m.killAll();
    const f = `${CG}/freezer/hostscope/abc/freezer.state`;
    expect(ops()).toEqual([w(f, 'FROZEN'), w(f, 'THAWED')]);
    expect(host.fs.signals).toEqual([
      { pid: 101, signal: 'SIGKILL' },
      { pid: 102, signal: 'SIGKILL' },
    ]);
    expect(m.pids()).toEqual([]);
  });

  it('killAll of an empty cgroup (a container that exited) writes nothing: no freeze/thaw, no signal', async () => {
    for (const mode of ['v1', 'v2'] as const) {
      const { m, ops, host } = setup(mode);
      m.create();
      ops();
      await m.killAll();
      await m.killAll('SIGTERM');
      expect(ops(), mode).toEqual([]);
      expect(host.fs.signals, mode).toEqual([]);
    }
  });

  it('destroy removes sub-cgroups leaf first in every hierarchy and leaves the parents', async () => {
    const { m, ops, host } = setup('v1');
    m.create();
    host.fs.mkdir(`${CG}/memory/hostscope/abc/sub`);
    ops();
    await m.destroy();
    const got = ops();
    expect(got.slice(0, 3)).toEqual([rm(`${CG}/blkio/hostscope/abc`), rm(`${CG}/cpu/hostscope/abc`), rm(`${CG}/cpuacct/hostscope/abc`)]);
    expect(got.filter((o) => o.path.includes('/memory/'))).toEqual([rm(`${CG}/memory/hostscope/abc/sub`), rm(`${CG}/memory/hostscope/abc`)]);
    expect(got.length).toBe(10);
    expect(existsSync(join(host.root, CG, 'memory/hostscope'))).toBe(true);
    expect(existsSync(join(host.root, CG, 'memory/hostscope/abc'))).toBe(false);
    // a second destroy is fine: already gone
    await m.destroy();
  });

  it('removeEmptyParents: rmdir of the parent in every hierarchy, only once the last child is gone; never a hierarchy root', async () => {
    for (const kind of ['v1', 'hybrid', 'v2'] as const) {
      const { m, host, ops } = setup(kind, '/runc-ts/a');
      const b = new CgroupManager({ fs: host.fs, layout: host.layout, cgroupsPath: '/runc-ts/b', settleTimeoutMs: 0, sleep: async () => {} });
      m.create();
      b.create();
      const parents = m.placements.map((p) => p.dir.slice(0, -'/a'.length));
      expect(parents.length, kind).toBeGreaterThan(0);
      await m.destroy();
      ops();
      // b still holds the parent: EBUSY, left without a word
      expect(m.removeEmptyParents(), kind).toEqual([]);
      expect(ops(), kind).toEqual(parents.map(rm));
      for (const p of parents) expect(existsSync(join(host.root, p)), `${kind} ${p}`).toBe(true);
      await b.destroy();
      expect(b.removeEmptyParents(), kind).toEqual([]);
      for (const p of parents) expect(existsSync(join(host.root, p)), `${kind} ${p}`).toBe(false);
      // already gone (ENOENT): nothing to say
      expect(b.removeEmptyParents(), kind).toEqual([]);
      // a cgroup right under the root: the root is never removed
      const top = new CgroupManager({ fs: host.fs, layout: host.layout, cgroupsPath: '/top', settleTimeoutMs: 0, sleep: async () => {} });
      top.create();
      await top.destroy();
      ops();
      expect(top.removeEmptyParents(), kind).toEqual([]);
      expect(ops(), kind).toEqual([]);
    }
  });

  it('destroy retries EBUSY while a process drains, then names what is still in it', async () => {
    let sleeps = 0;
    const { m, host } = setup('v1', '/hostscope/abc', {
      settleTimeoutMs: 10_000,
      // the process leaves while destroy waits between its second and third rmdir
      sleep: async () => {
        if (++sleeps === 2) host.fs.kill(777, 'SIGKILL');
      },
    });
    m.create();
    m.addProcess(777);
    await m.destroy();
    expect(sleeps).toBe(2);
    expect(m.exists()).toBe(false);
    const m2 = new CgroupManager({ fs: host.fs, layout: host.layout, cgroupsPath: '/hostscope/abc', settleTimeoutMs: 0, sleep: async () => {} });
    m2.create();
    m2.addProcess(778);
    await expect(m2.destroy()).rejects.toThrow(/cannot remove cgroup \/sys\/fs\/cgroup\/blkio\/hostscope\/abc: Device or resource busy \(processes still in it: 778\)/);
  });

  it('destroy goes on past a hierarchy it cannot empty: every other directory is removed, and the error names each one left on one line', async () => {
    const { m, host } = setup('v1', '/hostscope/abc', { settleTimeoutMs: 0, sleep: async () => {} });
    m.create();
    // a process in two hierarchies only (moved there by someone else)
    host.fs.writeFile(`${CG}/memory/hostscope/abc/cgroup.procs`, '779');
    host.fs.writeFile(`${CG}/pids/hostscope/abc/cgroup.procs`, '779');
    const e = await m.destroy().then(
      () => undefined,
      (x: unknown) => x as CgroupError,
    );
    expect(e).toBeInstanceOf(CgroupError);
    expect(e!.message).toBe(
      `cannot remove cgroup ${CG}/memory/hostscope/abc: Device or resource busy (processes still in it: 779); cannot remove cgroup ${CG}/pids/hostscope/abc: Device or resource busy (processes still in it: 779)`,
    );
    expect(m.placements.filter((p) => existsSync(join(host.root, p.dir))).map((p) => p.name)).toEqual(['memory', 'pids']);
  });

  it('destroy waits for busy hierarchies against one deadline, not one each (a process held in two: the wait is settleMs, not twice it)', async () => {
    let now = 1_000_000;
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      let slept = 0;
      const { m, host } = setup('v1', '/hostscope/abc', {
        settleTimeoutMs: 1000,
        sleep: async (ms: number) => {
          slept += ms;
          now += ms;
        },
      });
      m.create();
      host.fs.writeFile(`${CG}/memory/hostscope/abc/cgroup.procs`, '779');
      host.fs.writeFile(`${CG}/pids/hostscope/abc/cgroup.procs`, '779');
      await expect(m.destroy()).rejects.toThrow(/memory\/hostscope\/abc: Device or resource busy.*pids\/hostscope\/abc: Device or resource busy/);
      expect(slept).toBeGreaterThanOrEqual(1000);
      expect(slept).toBeLessThan(1200);
    } finally {
      clock.mockRestore();
    }
  });

  it('a failed create removes the directories it made', () => {
    const { m, host, fs } = setup('v1');
    const inner = host.fs;
    let n = 0;
    const failing = Object.assign(Object.create(Object.getPrototypeOf(fs)), fs, {
      mkdir: (p: string) => {
        if (++n === 9) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
        fs.mkdir(p);
      },
    });
    const m2 = new CgroupManager({ fs: failing, layout: m.layout, cgroupsPath: '/hostscope/abc' });
    expect(() => m2.create()).toThrow(`cannot create cgroup ${CG}/devices/hostscope: Permission denied`);
    for (const c of ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices']) expect(inner.exists(`${CG}/${c}/hostscope`)).toBe(false);
  });

  it('a resource whose controller is not mounted is an error, not silently skipped', () => {
    const { m } = setup('v1');
    m.create();
    expect(() => m.apply({ hugepageLimits: [{ pageSize: '2MB', limit: MiB }] })).toThrow('cannot set hugetlb 2MB limit: the hugetlb controller is not mounted');
  });

  it('device rules in the devices.allow syntax', () => {
    expect(deviceRuleString({ allow: true })).toBe('a *:* rwm');
    expect(deviceRuleString({ allow: true, type: 'b', major: 8, minor: -1, access: 'r' })).toBe('b 8:* r');
    expect(() => deviceRuleString({ allow: true, type: 'x' })).toThrow(/invalid device type/);
    expect(() => deviceRuleString({ allow: true, access: 'rr' })).toThrow(/invalid device access/);
  });
});

describe('hybrid (v1 controllers + unified): the unified hierarchy is joined, never configured', () => {
  it('create makes the unified dir without touching subtree_control; addProcess joins it; SIGKILL goes through its cgroup.kill', async () => {
    const { m, ops, host } = setup('hybrid');
    m.create();
    const got = ops();
    expect(got.filter((o) => o.path.includes('/unified'))).toEqual([mk(`${CG}/unified/hostscope`), mk(`${CG}/unified/hostscope/abc`)]);
    m.addProcess(55);
    expect(ops().at(-1)).toEqual(w(`${CG}/unified/hostscope/abc/cgroup.procs`, '55'));
    host.fs.kill(55, 0); // no-op signal: the sim only records it
    host.fs.signals.length = 0;
    // the v1 dirs still list 55 until the kernel reaps it: the sim's cgroup.kill clears the unified one
    await expect(m.killAll()).rejects.toThrow(/processes still in the cgroup: 55/);
    expect(host.fs.signals).toEqual([{ pid: 55, signal: 'SIGKILL' }]);
    expect(ops()[0]).toEqual(w(`${CG}/unified/hostscope/abc/cgroup.kill`, '1'));
  });

  it('freeze uses the v1 freezer; limits go to the v1 hierarchies', async () => {
    const { m, ops } = setup('hybrid');
    m.create();
    ops();
    await m.freeze();
    expect(ops()).toEqual([w(`${CG}/freezer/hostscope/abc/freezer.state`, 'FROZEN')]);
    m.apply({ pids: { limit: 5 } });
    expect(ops()).toEqual([w(`${CG}/pids/hostscope/abc/pids.max`, '5')]);
  });
});

describe('cgroup v2 in a temp dir', () => {
  it('create enables the root\'s controllers in every parent\'s subtree_control, top-down, never in the leaf', () => {
    const { m, ops, host } = setup('v2', '/hostscope/sub/abc');
    m.create();
    const all = '+cpuset +cpu +io +memory +hugetlb +pids';
    expect(ops()).toEqual([
      w(`${CG}/cgroup.subtree_control`, all),
      mk(`${CG}/hostscope`),
      w(`${CG}/hostscope/cgroup.subtree_control`, all),
      mk(`${CG}/hostscope/sub`),
      w(`${CG}/hostscope/sub/cgroup.subtree_control`, all),
      mk(`${CG}/hostscope/sub/abc`),
    ]);
    expect(host.fs.content(`${CG}/hostscope/sub/abc/cgroup.controllers`)).toBe('cpuset cpu io memory hugetlb pids');
    expect(host.fs.content(`${CG}/hostscope/sub/abc/cgroup.subtree_control`)).toBe('');
  });

  it('a parent that refuses the batch gets the controllers one by one (runc\'s fallback)', () => {
    const { m, ops, host } = setup('v2');
    host.fs.writeFile(`${CG}/cgroup.controllers`, 'cpu memory');
    const real = host.fs.writeFile.bind(host.fs);
    host.fs.writeFile = (p: string, d: string) => {
      if (p.endsWith('subtree_control') && d.includes(' ')) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
      real(p, d);
    };
    m.create();
    expect(ops().slice(0, 3)).toEqual([w(`${CG}/cgroup.subtree_control`, '+cpu +memory'), w(`${CG}/cgroup.subtree_control`, '+cpu'), w(`${CG}/cgroup.subtree_control`, '+memory')]);
  });

  it('apply: pids.max, memory.swap.max (= memory+swap − memory), memory.max, memory.low, io.weight, cpu.weight, cpu.max, cpuset — in runc\'s order', () => {
    const { m, ops, src } = setup('v2');
    m.create();
    ops();
    m.apply({
      memory: { limit: 64 * MiB, swap: 96 * MiB, reservation: 16 * MiB },
      pids: { limit: 100 },
      cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1', mems: '0' },
      blockIO: { weight: 500 },
    });
    const d = (f: string): string => `${CG}/hostscope/abc/${f}`;
    expect(ops()).toEqual([
      w(d('pids.max'), '100'),
      w(d('memory.swap.max'), String(32 * MiB)),
      w(d('memory.max'), String(64 * MiB)),
      w(d('memory.low'), String(16 * MiB)),
      w(d('io.weight'), '4950'),
      w(d('cpu.weight'), '39'),
      w(d('cpu.max'), '50000 100000'),
      w(d('cpuset.cpus'), '0-1'),
      w(d('cpuset.mems'), '0'),
    ]);
    const s = m.stats(src);
    expect(s.memory).toMatchObject({ version: 2, dir: '/sys/fs/cgroup/hostscope/abc', limitBytes: 64 * MiB });
    expect(s.pids).toMatchObject({ max: 100 });
    expect(s.cpu).toMatchObject({ weight: 39, quotaUsec: 50000, periodUsec: 100000 });
  });

  it('memory equal to memory+swap writes swap 0; unlimited memory with swap unset is max for both; quota -1 is max', () => {
    const { m, ops } = setup('v2');
    m.create();
    ops();
    m.apply({ memory: { limit: 64 * MiB, swap: 64 * MiB } });
    expect(ops().map((o) => o.op === 'write' && [o.path.split('/').pop(), o.data])).toEqual([
      ['memory.swap.max', '0'],
      ['memory.max', String(64 * MiB)],
    ]);
    m.apply({ memory: { limit: -1 }, cpu: { quota: -1, period: 20000 } });
    expect(ops().map((o) => o.op === 'write' && [o.path.split('/').pop(), o.data])).toEqual([
      ['memory.swap.max', 'max'],
      ['memory.max', 'max'],
      ['cpu.max', 'max 20000'],
    ]);
  });

  it('runc\'s conversions: swap and cpu shares → weight', () => {
    expect(v2SwapValue(0n, 0n)).toBe(0n);
    expect(v2SwapValue(0n, -1n)).toBe(-1n);
    expect(v2SwapValue(-1n, 100n)).toBe(-1n);
    expect(v2SwapValue(300n, 100n)).toBe(200n);
    expect(() => v2SwapValue(300n, 0n)).toThrow(/without a memory limit/);
    expect(() => v2SwapValue(50n, 100n)).toThrow(/below the memory limit/);
    // 1 + ((shares-2)*9999)/262142
    expect([2n, 1024n, 2048n, 262144n].map(cpuSharesToWeight)).toEqual([1n, 39n, 79n, 10000n]);
  });

  it('freeze/thaw through cgroup.freeze, waiting for cgroup.events frozen; SIGKILL through cgroup.kill', async () => {
    const { m, ops, host } = setup('v2');
    m.create();
    m.addProcess(9);
    ops();
    await m.freeze();
    expect(ops()).toEqual([w(`${CG}/hostscope/abc/cgroup.freeze`, '1')]);
    expect(m.freezerState()).toBe('FROZEN');
    await m.thaw();
    expect(m.freezerState()).toBe('THAWED');
    ops();
    await m.killAll();
    expect(ops()).toEqual([w(`${CG}/hostscope/abc/cgroup.kill`, '1')]);
    expect(host.fs.signals).toEqual([{ pid: 9, signal: 'SIGKILL' }]);
    await m.destroy();
    expect(m.exists()).toBe(false);
  });

  it('other signals: freeze, signal each, thaw', async () => {
    const { m, ops, host } = setup('v2');
    m.create();
    m.addProcess(9);
    ops();
    await m.killAll('SIGTERM');
    expect(ops()).toEqual([w(`${CG}/hostscope/abc/cgroup.freeze`, '1'), w(`${CG}/hostscope/abc/cgroup.freeze`, '0')]);
    expect(host.fs.signals).toEqual([{ pid: 9, signal: 'SIGTERM' }]);
  });

  it('device rules other than allow-all need eBPF: a clear error, not silently ignored', () => {
    const { m } = setup('v2');
    m.create();
    expect(() => m.apply({ devices: [{ allow: false, access: 'rwm' }] })).toThrow(/eBPF .* not supported/);
    expect(() => m.apply({ devices: [{ allow: true, access: 'rwm' }] })).not.toThrow();
  });

  it('v2 disableOOMKiller does not exist: refused', () => {
    const { m } = setup('v2');
    m.create();
    expect(() => m.apply({ memory: { disableOOMKiller: true } })).toThrow(/not supported on cgroup v2/);
    // v2 has no kernel TCP limit either: refused by name, not dropped
    expect(() => m.apply({ memory: { kernelTCP: 1024 } })).toThrow('memory.kernelTCP is not supported on cgroup v2 (no such limit)');
  });
});

describe('NodeCgroupFs and edge cases', () => {
  it('reads are bounded and never block on a FIFO; paths with .. are refused', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { execFileSync } = await import('node:child_process');
    const { tmpdir } = await import('node:os');
    const { NodeCgroupFs, MAX_CONTROL_FILE } = await import('../../src/cgroup/fs.js');
    const root = mkdtempSync(join(tmpdir(), `hostscope-cgfs-${process.pid}-`));
    try {
      execFileSync('mkfifo', [join(root, 'fifo')]);
      writeFileSync(join(root, 'big'), Buffer.alloc(MAX_CONTROL_FILE + 10, 0x31));
      const fs = new NodeCgroupFs(root);
      expect(fs.readFile('/fifo')).toBe(''); // O_NONBLOCK: an empty read, not a hang
      expect(() => fs.readFile('/big')).toThrow(/larger than/);
      expect(() => fs.readFile('/a/../big')).toThrow(/not an absolute clean path/);
      expect(fs.exists('/../etc')).toBe(false);
      // writes never create a file: a missing control file is ENOENT
      expect(() => fs.writeFile('/nope', '1')).toThrow(/ENOENT/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('killAll on a cgroup that is not there does nothing (a half-made or deleted container)', async () => {
    const { m, ops } = setup('v1');
    await m.killAll();
    expect(ops()).toEqual([]);
  });

  it('v2 hugetlb limits go to hugetlb.<size>.max; a bad page size is refused', () => {
    const { m, ops, host } = setup('v2');
    m.create();
    // the sim makes no hugetlb files: the one this test needs
    writeFileSync(join(host.root, CG, 'hostscope/abc/hugetlb.2MB.max'), 'max');
    ops();
    m.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * MiB }] });
    expect(ops()).toEqual([w(`${CG}/hostscope/abc/hugetlb.2MB.max`, String(4 * MiB))]);
    expect(() => m.apply({ hugepageLimits: [{ pageSize: '2M/../x', limit: 1 }] })).toThrow(/invalid hugepage size/);
  });

  it('on the v2 docker/systemd fixture host: the layout from its mountinfo, a relative path joined to a process\'s own cgroup', async () => {
    const { fixtureSource } = await import('../helpers/fixtures.js');
    const { readCgroupLayout } = await import('../../src/inspect/host.js');
    const { parseProcCgroup } = await import('../../src/parse/proc-cgroup.js');
    const src = fixtureSource('v2-docker-systemd');
    const layout = readCgroupLayout(src);
    expect(layout.mode).toBe('v2');
    const own = parseProcCgroup(src.readProcText('1/cgroup'));
    const p = placeCgroup(layout, 'hostscope-child', { own });
    expect(p).toHaveLength(1);
    expect(p[0]!.path).toBe(`${own[0]!.path === '/' ? '' : own[0]!.path}/hostscope-child`);
    expect(p[0]!.dir).toBe(`/sys/fs/cgroup${p[0]!.path}`);
    expect(placeCgroup(layout, 'system.slice:docker:abc', { systemd: true })[0]!.dir).toBe('/sys/fs/cgroup/system.slice/docker-abc.scope');
  });
});
