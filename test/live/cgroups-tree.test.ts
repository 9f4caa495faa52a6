import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { Spawned, waitFor } from '../../scripts/lib/spawned.js';
import { IS_ROOT, childrenOf, has } from '../helpers/live.js';
import { NATIVE } from '../helpers/native.js';
import { captureDeps } from '../helpers/fixtures.js';
import { cinfMain } from '../../cli/cinf.js';
import { displayWidth } from '../../src/render/table.js';

/**
 * Issue 10, live: `cinf --cgroups` on cgroups this test makes on this v1 hybrid host (cpu and
 * cpuacct mounted apart, a cgroup2 at /sys/fs/cgroup/unified): a parent with a memory limit, a
 * cpu quota and a pids limit, a child holding a sleep, and a `box` child holding the init of an
 * unshare sandbox with its own hostname. Names carry this process's pid and a random suffix; every
 * process is killed and waited for and every directory removed, even when an assertion fails.
 * The host's cgroup mounts are never touched.
 */
const CG = '/sys/fs/cgroup';
/** a live scan of a few thousand processes on a shared, loaded 2-core machine: no timing asserted, only room */
const LONG = 240_000;
const HIERARCHIES = ['memory', 'cpu', 'cpuacct', 'pids', 'unified'] as const;
const hybrid = IS_ROOT && HIERARCHIES.every((h) => existsSync(`${CG}/${h}/cgroup.procs`)) && !existsSync(`${CG}/cpu/cpuacct.usage`);

interface JsonNode {
  path: string;
  directory: string | null;
  container: string | null;
  tasks: number;
  processes: { pid: number; command: string }[];
  memory: { limitBytes: number | null; dir: string } | null;
  cpu: { quotaUsec: number | null; periodUsec: number; dir: string; usageUsec: number | null; usageFrom: { dir: string } } | null;
  pids: { current: number; max: number | null; dir: string } | null;
  hiddenGroups: number;
  children: JsonNode[];
}

describe.skipIf(!hybrid || !has('unshare'))('live: cinf --cgroups on cgroups the test makes', () => {
  const spawned = new Spawned();
  const tag = `${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  const top = `hs-cgls-${tag}`;
  const host = `hs-cg-${tag}`.slice(0, 60);
  const made: string[] = [];
  let sleeper = 0;
  let boxInit = 0;

  const mk = (dir: string): void => {
    mkdirSync(dir);
    made.push(dir);
  };
  const join = (h: string, rel: string, pid: number): void => writeFileSync(`${CG}/${h}/${rel}/cgroup.procs`, String(pid));

  beforeAll(async () => {
    for (const h of HIERARCHIES) {
      mk(`${CG}/${h}/${top}`);
      mk(`${CG}/${h}/${top}/work`);
      mk(`${CG}/${h}/${top}/box`);
    }
    writeFileSync(`${CG}/memory/${top}/memory.limit_in_bytes`, String(64 * 1024 * 1024));
    writeFileSync(`${CG}/cpu/${top}/cpu.cfs_quota_us`, '50000');
    writeFileSync(`${CG}/pids/${top}/pids.max`, '32');
    sleeper = spawned.start('sleep', [`${700 + (process.pid % 89)}`]).pid!;
    const u = spawned.start('unshare', ['--uts', '--pid', '--fork', 'sh', '-c', `hostname ${host}; exec sleep ${800 + (process.pid % 89)}`]).pid!;
    expect(await waitFor(() => childrenOf(u).length === 1)).toBe(true);
    boxInit = childrenOf(u)[0]!;
    expect(await waitFor(() => readFileSync(`/proc/${boxInit}/comm`, 'utf8').trim() === 'sleep')).toBe(true);
    for (const h of HIERARCHIES) {
      join(h, `${top}/work`, sleeper);
      join(h, `${top}/box`, boxInit);
    }
  });

  afterAll(async () => {
    await spawned.stopAll();
    // children first; a directory still busy (a process not yet reaped) is retried
    for (const dir of made.reverse()) {
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
    for (const dir of made) expect(existsSync(dir), `${dir} left behind`).toBe(false);
  });

  const cinf = async (argv: string[], columns?: number) => {
    const deps = captureDeps(columns === undefined ? {} : { columns });
    const code = await cinfMain(argv, deps);
    return { code, out: deps.out(), err: deps.err() };
  };
  const tree = async (argv: string[]): Promise<{ hierarchy: string; tree: JsonNode }[]> => {
    const r = await cinf([...argv, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    return (JSON.parse(r.out) as { cgroups: { hierarchy: string; tree: JsonNode }[] }).cgroups;
  };

  it('the memory hierarchy (the default on v1): each group with its processes, tasks and the limits the test set', async () => {
    const [c] = await tree(['--cgroups', `/${top}`]);
    expect(c!.hierarchy).toBe('memory');
    const t = c!.tree;
    expect(t).toMatchObject({ path: `/${top}`, directory: `${CG}/memory/${top}`, tasks: 2, processes: [] });
    expect(t.memory).toMatchObject({ limitBytes: 64 * 1024 * 1024, dir: `${CG}/memory/${top}` });
    // the figures of the same path in the other controllers' hierarchies
    expect(t.cpu).toMatchObject({ quotaUsec: 50000, dir: `${CG}/cpu/${top}`, usageFrom: { dir: `${CG}/cpuacct/${top}` } });
    expect(t.cpu!.usageUsec).toEqual(expect.any(Number));
    expect(t.pids).toMatchObject({ current: 2, max: 32, dir: `${CG}/pids/${top}` });
    expect(t.children.map((n) => n.path)).toEqual([`/${top}/box`, `/${top}/work`]);
    const [box, work] = t.children;
    expect(work!.processes).toEqual([{ pid: sleeper, command: expect.stringMatching(/^sleep \d+$/) }]);
    expect(box!.processes).toEqual([{ pid: boxInit, command: expect.stringMatching(/^sleep \d+$/) }]);
    // the sandbox's init is a container: named by its UTS hostname (native), else by the model's fallback
    expect(box!.container).toEqual(NATIVE ? host : expect.any(String));
    expect(work!.container).toBeNull();
  }, LONG);

  it('--hierarchy cpu / unified / all, a /sys/fs/cgroup directory and --depth', async () => {
    const cpu = (await tree(['--cgroups', `/${top}`, '--hierarchy', 'cpu']))[0]!;
    expect(cpu.hierarchy).toBe('cpu');
    expect(cpu.tree.directory).toBe(`${CG}/cpu/${top}`);
    const uni = (await tree(['--cgroups', `/${top}`, '--hierarchy', 'unified']))[0]!;
    expect(uni.hierarchy).toBe('unified');
    expect(uni.tree.children.find((n) => n.path === `/${top}/work`)!.processes.map((p) => p.pid)).toEqual([sleeper]);
    const all = await tree(['--cgroups', `/${top}`, '--hierarchy', 'all']);
    expect(all.map((s) => s.hierarchy)).toEqual(expect.arrayContaining([...HIERARCHIES]));
    for (const s of all.filter((x) => (HIERARCHIES as readonly string[]).includes(x.hierarchy))) expect(s.tree.tasks).toBe(2);
    const dir = (await tree(['--cgroups', `${CG}/pids/${top}/work`]))[0]!;
    expect(dir).toMatchObject({ hierarchy: 'pids', tree: { path: `/${top}/work`, tasks: 1 } });
    const shallow = (await tree(['--cgroups', `/${top}`, '--depth', '0']))[0]!;
    expect(shallow.tree).toMatchObject({ tasks: 2, hiddenGroups: 2, children: [] });
  }, LONG);

  it('a container name as the start: the sandbox\'s own group', async () => {
    if (!NATIVE) return; // the name comes from the UTS hostname, read by the native layer
    const [c] = await tree(['--cgroups', host, '--hierarchy', 'pids']);
    expect(c!.tree).toMatchObject({ path: `/${top}/box`, processes: [{ pid: boxInit }] });
  }, LONG);

  it('the table: the tree under the start, pids padded as systemd-cgls does; bounded to the terminal', async () => {
    const r = await cinf(['--cgroups', `/${top}`]);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe(`# ${CG}/memory/${top} (memory v1)`);
    expect(lines[1]).toMatch(/^TASKS +CPU +CPU-MAX +MEMORY +MEM-MAX +PIDS +CONTAINER +CGROUP$/);
    expect(lines[2]).toMatch(new RegExp(` 0\\.50 .* 64\\.0 MiB +2/32 +- +/${top}$`));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`├─box$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`│ └─${boxInit} sleep \\d+$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`  └─${sleeper} sleep \\d+$`)));
    const narrow = await cinf(['--cgroups', `/${top}`], 50);
    for (const line of narrow.out.trimEnd().split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(50);
  }, LONG);

  it('agrees with the kernel: every pid cinf puts in a group is in that group\'s cgroup.procs', async () => {
    const [c] = await tree(['--cgroups', `/${top}`, '--hierarchy', 'memory']);
    const walk = (n: JsonNode): JsonNode[] => [n, ...n.children.flatMap(walk)];
    for (const n of walk(c!.tree)) {
      const procs = readFileSync(`${n.directory}/cgroup.procs`, 'utf8').trim().split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
      expect(n.processes.map((p) => p.pid), n.path).toEqual(procs);
    }
  }, LONG);
});
