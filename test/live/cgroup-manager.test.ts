import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { NodeCgroupFs } from '../../src/cgroup/fs.js';
import { CgroupError, CgroupManager } from '../../src/cgroup/manager.js';
import { DirectoryProcSource } from '../../src/source/source.js';
import { readCgroupLayout } from '../../src/inspect/host.js';
import { parseProcCgroup } from '../../src/parse/proc-cgroup.js';
import { parseProcStatus } from '../../src/parse/proc-status.js';
import { IS_ROOT } from '../helpers/live.js';

/**
 * The manager on this machine's real v1 hierarchies (root): every test makes its own
 * `hostscope-test-<pid>-<rand>` cgroups and removes them in afterEach, even when it fails.
 */

const MiB = 1024 * 1024;
const src = new DirectoryProcSource();
const layout = IS_ROOT ? readCgroupLayout(src) : { mode: 'none' as const, hierarchies: [] };
const liveOk = IS_ROOT && (layout.mode === 'v1' || layout.mode === 'hybrid');

let children: ChildProcess[] = [];
let parents: string[] = [];

function newManager(): CgroupManager {
  const top = `/hostscope-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  parents.push(top);
  const m = new CgroupManager({ fs: new NodeCgroupFs(), layout, cgroupsPath: `${top}/c` });
  return m;
}

function start(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(c);
  return c;
}

async function line(c: ChildProcess, want: string): Promise<void> {
  let buf = '';
  if (!c.stdout) throw new Error('no stdout');
  for await (const chunk of c.stdout) {
    buf += String(chunk);
    if (buf.includes(want)) return;
  }
  throw new Error(`child ended before printing ${want}`);
}

function state(pid: number): string {
  return parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8')).state ?? '?';
}

afterEach(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await once(c, 'exit');
    }
  }
  children = [];
  for (const top of parents) {
    // anything a failed test left inside its own cgroup (a grandchild) goes with it
    for (const h of layout.hierarchies) {
      if (h.version === 2 && existsSync(`${h.mountPoint}${top}/c/cgroup.kill`)) writeFileSync(`${h.mountPoint}${top}/c/cgroup.kill`, '1');
    }
    for (const h of layout.hierarchies) {
      const base = `${h.mountPoint}${top}`;
      if (existsSync(`${base}/c/freezer.state`)) writeFileSync(`${base}/c/freezer.state`, 'THAWED');
      for (const d of [`${base}/c`, base]) {
        try {
          rmdirSync(d);
        } catch {
          // already gone
        }
      }
    }
  }
  parents = [];
});

describe.skipIf(!liveOk)('cgroup manager on this machine (v1, root)', () => {
  it('create, limits, add a process, read back through our readers, freeze/thaw, kill all, destroy', async () => {
    const m = newManager();
    m.create();
    m.apply({
      memory: { limit: 64 * MiB, swap: 96 * MiB },
      pids: { limit: 16 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' },
      blockIO: { weight: 200 },
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }],
    });
    const child = start('sleep', ['1000']);
    await once(child, 'spawn');
    const pid = child.pid!;
    m.addProcess(pid);

    // the kernel's view of the process: the same path in every v1 hierarchy we manage
    const lines = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
    const want = m.placements[0]!.path;
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct', 'freezer', 'name=systemd']) expect(lines.find((l) => l.controllers.includes(c))?.path).toBe(want);

    const s = m.stats(src);
    expect(s.errors).toEqual({});
    expect(s.memory!.limitBytes).toBe(64 * MiB);
    expect(s.pids).toMatchObject({ max: 16, current: 1 });
    expect(s.cpu).toMatchObject({ shares: 512, quotaUsec: 50000, periodUsec: 100000 });
    const dir = (c: string): string => m.dirOf(c)!.dir;
    expect(readFileSync(`${dir('memory')}/memory.memsw.limit_in_bytes`, 'utf8').trim()).toBe(String(96 * MiB));
    expect(readFileSync(`${dir('cpuset')}/cpuset.cpus`, 'utf8').trim()).toBe('0');
    expect(readFileSync(`${dir('devices')}/devices.list`, 'utf8').trim()).toBe('c 1:3 rwm');
    expect(m.pids()).toEqual([pid]);

    await m.freeze();
    expect(m.freezerState()).toBe('FROZEN');
    expect(state(pid)).toMatch(/^D/); // a frozen task shows as D (disk sleep) on this kernel
    await m.thaw();
    expect(m.freezerState()).toBe('THAWED');
    expect(state(pid)).toMatch(/^S/);

    const exited = once(child, 'exit');
    await m.killAll();
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    expect(m.pids()).toEqual([]);

    await m.destroy();
    for (const p of m.placements) expect(existsSync(p.dir)).toBe(false);
  });

  it('the pids limit is enforced: a fork past pids.max fails in the child (no grandchild is ever made)', async () => {
    const m = newManager();
    m.create();
    m.apply({ pids: { limit: 2 } });
    const a = start('sleep', ['1000']);
    const b = start('sh', ['-c', 'read x; sleep 1 & wait; echo survived']);
    await Promise.all([once(a, 'spawn'), once(b, 'spawn')]);
    m.addProcess(a.pid!);
    m.addProcess(b.pid!);
    expect(m.stats(src).pids).toMatchObject({ current: 2, max: 2 });
    let err = '';
    let out = '';
    b.stderr!.on('data', (d) => (err += String(d)));
    b.stdout!.on('data', (d) => (out += String(d)));
    const exited = once(b, 'exit');
    b.stdin!.write('go\n');
    const [code] = await exited;
    expect(code).not.toBe(0);
    expect(out).toBe('');
    expect(err).toMatch(/fork/i);
    expect(readFileSync(`${m.dirOf('pids')!.dir}/pids.events`, 'utf8')).toMatch(/^max [1-9]/);
    expect(m.pids()).toEqual([a.pid]);
    await m.killAll();
    await m.destroy();
  });

  it('a memory limit below what the cgroup uses is a CgroupError naming file and value', async () => {
    const m = newManager();
    m.create();
    // the child allocates after it joined (v1 does not move charges with a task)
    const child = start(process.execPath, ['-e', 'process.stdin.once("data",()=>{globalThis.b=Buffer.alloc(32<<20,1);console.log("ready")});setInterval(()=>{},1e9)']);
    await once(child, 'spawn');
    m.addProcess(child.pid!);
    child.stdin!.write('go\n');
    await line(child, 'ready');
    let err: unknown;
    try {
      m.apply({ memory: { limit: 4 * MiB } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CgroupError);
    const e = err as CgroupError;
    expect(e.errno).toBe('EBUSY');
    expect(e.file).toBe(`${m.dirOf('memory')!.dir}/memory.limit_in_bytes`);
    expect(e.value).toBe(String(4 * MiB));
    expect(e.message).toMatch(/^cannot write "4194304" to \/sys\/fs\/cgroup\/memory\/hostscope-test-.*\/memory.limit_in_bytes: Device or resource busy \(memory usage .* MiB cannot be brought below it\)$/);
    // the old limit stands
    expect(m.stats(src).memory!.limitBytes).toBeNull();
    await m.killAll();
    await m.destroy();
  });

  it('destroy waits for killed processes to leave; a cgroup with a live process is EBUSY, named', async () => {
    const m = newManager();
    m.create();
    const child = start('sleep', ['1000']);
    await once(child, 'spawn');
    m.addProcess(child.pid!);
    const quick = new CgroupManager({ fs: new NodeCgroupFs(), layout, cgroupsPath: m.placements[0]!.path, settleTimeoutMs: 50 });
    await expect(quick.destroy()).rejects.toThrow(new RegExp(`Device or resource busy \\(processes still in it: ${child.pid}\\)`));
    await m.killAll();
    await m.destroy();
    expect(m.exists()).toBe(false);
  });
});
