import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { cinfMain } from '../../cli/cinf.js';
import { captureDeps } from '../helpers/fixtures.js';
import { IS_ROOT } from '../helpers/live.js';

/**
 * Issue 6 bug 3, live: on this machine cpu and cpuacct are separate v1 hierarchies. A process
 * moved into a cpu cgroup of its own (quota 0.25 CPU) but left in the root of cpuacct: its usage
 * is the root's (the whole host's) and must be labelled /sys/fs/cgroup/cpuacct, while shares and
 * quota are labelled with its cpu directory. It used to print the root usage under the cpu path.
 */
const CPU = '/sys/fs/cgroup/cpu';
const ACCT = '/sys/fs/cgroup/cpuacct';
const apart = IS_ROOT && existsSync(`${CPU}/cpu.cfs_quota_us`) && existsSync(`${ACCT}/cpuacct.usage`) && !existsSync(`${CPU}/cpuacct.usage`);
const name = `hostscope-bug3-${process.pid}`;
const dir = `${CPU}/${name}`;

describe.skipIf(!apart)('bug 3 live: cpu and cpuacct mounted apart', () => {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));

  afterAll(async () => {
    child.kill('SIGKILL');
    await exited;
    try {
      rmdirSync(dir);
    } catch {
      /* not made */
    }
  });

  it('bug 3: usage is labelled with the cpuacct directory it came from, quota with the cpu one', async () => {
    mkdirSync(dir);
    writeFileSync(`${dir}/cpu.cfs_quota_us`, '25000');
    writeFileSync(`${dir}/cgroup.procs`, String(child.pid));
    expect(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8')).toMatch(new RegExp(`:cpu:/${name}$`, 'm'));
    expect(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8')).toMatch(/:cpuacct:\/$/m);

    const deps = captureDeps();
    expect(await cinfMain(['--pid', String(child.pid)], deps)).toBe(0);
    const lines = deps.out().split('\n');
    const i = lines.findIndex((l) => l.startsWith('  cpu     usage '));
    expect(lines[i]).toMatch(/^ {2}cpu {5}usage \S+ {2}\[v1 \/sys\/fs\/cgroup\/cpuacct\]$/);
    expect(lines[i + 1]).toMatch(new RegExp(`^ {10}shares 1024, quota 0\\.25 CPUs, throttled \\d+/\\d+ periods \\(\\S+\\) {2}\\[v1 /sys/fs/cgroup/cpu/${name}\\]$`));

    const json = captureDeps();
    await cinfMain(['--pid', String(child.pid), '--json'], json);
    const cpu = (JSON.parse(json.out()) as { resources: { cpu: { dir: string; usageFrom: { dir: string }; quotaUsec: number } } }).resources.cpu;
    expect(cpu).toMatchObject({ dir: dir, usageFrom: { dir: ACCT }, quotaUsec: 25000 });
  });
});
