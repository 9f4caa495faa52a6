import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureDeps, rootArgs } from '../helpers/fixtures.js';
import { golden } from '../helpers/golden.js';
import { cleanupDumps, dumpArgs, hostileDump } from '../helpers/hostile.js';
import { cinfMain } from '../../cli/cinf.js';
import { displayWidth } from '../../src/render/table.js';

/**
 * Issue 10: `cinf --cgroups` (systemd-cgls + systemd-cgtop in one view) on the fixture hosts:
 * v2 unified (v2-docker-systemd), v1 with cpu,cpuacct co-mounted (v1-docker-seed, the seed's
 * `ls /sys/fs/cgroup/memory/docker`), v1 hybrid with cpu and cpuacct apart (vm-hybrid-v1), and a
 * dump whose cgroups only the processes' cgroup files name (v2-runtimes-names).
 */

async function cinf(args: string[], opts: { columns?: number } = {}) {
  const deps = captureDeps(opts);
  const code = await cinfMain(args, deps);
  return { code, out: deps.out(), err: deps.err() };
}

interface JsonNode {
  path: string;
  directory: string | null;
  container: string | null;
  tasks: number;
  processes: { pid: number; command: string }[];
  memory: { usageBytes: number; limitBytes: number | null; dir: string } | null;
  cpu: { usageUsec: number | null; quotaUsec: number | null; dir: string; usageFrom: { dir: string } } | null;
  pids: { current: number; max: number | null } | null;
  hiddenGroups: number;
  children: JsonNode[];
}

function find(n: JsonNode, path: string): JsonNode | undefined {
  if (n.path === path) return n;
  for (const c of n.children) {
    const f = find(c, path);
    if (f) return f;
  }
  return undefined;
}

afterAll(() => cleanupDumps());

describe('golden: cinf --cgroups on the fixture hosts', () => {
  it.each([
    ['v2-docker-systemd', 'cgroups', ['--cgroups']],
    ['v2-docker-systemd', 'cgroups-system-slice-depth1', ['--cgroups', '/system.slice', '--depth', '1']],
    ['v2-docker-systemd', 'cgroups-json', ['--cgroups', '--json']],
    ['v1-docker-seed', 'cgroups', ['--cgroups']],
    ['v1-docker-seed', 'cgroups-memory-docker', ['--cgroups', '/sys/fs/cgroup/memory/docker']],
    ['v1-docker-seed', 'cgroups-cpu-db', ['--cgroups', 'db', '--hierarchy', 'cpu']],
    ['vm-hybrid-v1', 'cgroups-cpu', ['--cgroups', '--hierarchy', 'cpu']],
    ['vm-hybrid-v1', 'cgroups-all-depth0', ['--cgroups', '--hierarchy', 'all', '--depth', '0', '-o', 'TASKS,CPU,MEMORY,CGROUP']],
    ['v2-runtimes-names', 'cgroups', ['--cgroups']],
  ])('%s %s', async (host, name, argv) => {
    const r = await cinf([...rootArgs(host), ...(argv as string[])]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    golden(`${host}/cinf-${name}.txt`, r.out);
  });
});

describe('cinf --cgroups: what the view says', () => {
  it('v2: each docker scope has its container, its processes, tasks, limits and usage from its own directory', async () => {
    const r = await cinf([...rootArgs('v2-docker-systemd'), '--cgroups', '--json']);
    const tree = (JSON.parse(r.out) as { cgroupMode: string; cgroups: { hierarchy: string; tree: JsonNode }[] });
    expect(tree.cgroupMode).toBe('v2');
    expect(tree.cgroups.map((c) => c.hierarchy)).toEqual(['unified']);
    const redis = find(tree.cgroups[0]!.tree, '/system.slice/docker-0a5ceea3df52e200d45772c4507b20d7c95a97dcd3939cb33a8d5bc1b842e334.scope')!;
    expect(redis.processes).toEqual([{ pid: 1234, command: 'redis-server *:6379' }]);
    expect(redis.container).toBe('0a5ceea3df52');
    expect(redis.memory).toMatchObject({ usageBytes: 12582912, limitBytes: 536870912, dir: '/sys/fs/cgroup/system.slice/docker-0a5ceea3df52e200d45772c4507b20d7c95a97dcd3939cb33a8d5bc1b842e334.scope' });
    expect(redis.pids).toEqual(expect.objectContaining({ current: 5, max: 4096 }));
    // tasks count the processes below: system.slice holds containerd + 2 shims + redis + 2 nginx
    expect(find(tree.cgroups[0]!.tree, '/system.slice')!.tasks).toBe(6);
  });

  it('v1 seed: the db container in the memory hierarchy with the 8000000-byte limit the article sets; cpu from cpu,cpuacct at the same path', async () => {
    const r = await cinf([...rootArgs('v1-docker-seed'), '--cgroups', '--json']);
    const c = (JSON.parse(r.out) as { cgroups: { hierarchy: string; tree: JsonNode }[] }).cgroups[0]!;
    expect(c.hierarchy).toBe('memory');
    const db = find(c.tree, '/docker/f3b9624ce46c0d8a4e0e0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f')!;
    expect(db.container).toBe('db');
    expect(db.memory?.limitBytes).toBe(8000000);
    expect(db.cpu?.dir).toBe('/sys/fs/cgroup/cpu,cpuacct/docker/f3b9624ce46c0d8a4e0e0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f');
  });

  it('v1 hybrid, cpu and cpuacct apart: the cpu view takes quota from cpu and usage from cpuacct, each labelled', async () => {
    const r = await cinf([...rootArgs('vm-hybrid-v1'), '--cgroups', '--hierarchy', 'cpu', '--json']);
    const c = (JSON.parse(r.out) as { cgroups: { hierarchy: string; tree: JsonNode }[] }).cgroups[0]!;
    expect(c.hierarchy).toBe('cpu');
    const cap = find(c.tree, '/hostscope-capture-4327')!;
    expect(cap.cpu?.dir).toBe('/sys/fs/cgroup/cpu/hostscope-capture-4327');
    // no cpuacct directory at that path in the capture: no usage (null), never a made-up 0
    expect(cap.cpu?.usageUsec).toBeNull();
  });

  it('--depth N shows N levels below the start and counts the groups it hides', async () => {
    const r = await cinf([...rootArgs('v2-docker-systemd'), '--cgroups', '--depth', '1', '--json']);
    const root = (JSON.parse(r.out) as { cgroups: { tree: JsonNode }[] }).cgroups[0]!.tree;
    expect(root.children.map((n) => n.path)).toEqual(['/init.scope', '/kubepods.slice', '/system.slice', '/user.slice']);
    expect(root.children.every((n) => n.children.length === 0)).toBe(true);
    expect(find(root, '/system.slice')!.hiddenGroups).toBe(3);
    expect(root.tasks).toBe(12); // every process is still counted
  });

  it('on a terminal no line is wider than it (header included)', async () => {
    for (const width of [40, 80]) {
      const r = await cinf([...rootArgs('v2-docker-systemd'), '--cgroups'], { columns: width });
      for (const line of r.out.trimEnd().split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(width);
    }
  });

  it('bad input: one line, exit 1', async () => {
    const host = rootArgs('v2-docker-systemd');
    expect(await cinf([...host, '--cgroups', '/no/such'])).toMatchObject({ code: 1, out: '', err: 'cinf: no cgroup /no/such in the unified hierarchy\n' });
    expect(await cinf([...host, '--cgroups', '/a/../../etc'])).toMatchObject({ code: 1, err: "cinf: invalid cgroup path: '/a/../../etc' (no . or .. components)\n" });
    expect(await cinf([...host, '--cgroups', '/sys/../etc'])).toMatchObject({ code: 1, err: 'cinf: not a directory of a mounted cgroup hierarchy: /sys/../etc\n' });
    expect(await cinf([...host, '--cgroups', '--hierarchy', 'memory'])).toMatchObject({ code: 1, err: "cinf: no cgroup hierarchy 'memory' is mounted (mounted: unified)\n" });
    expect(await cinf([...host, '--cgroups', '--depth', '-1'])).toMatchObject({ code: 1, err: "cinf: invalid --depth argument: '-1' (want 0 to 9999)\n" });
    expect(await cinf([...host, '--depth', '1'])).toMatchObject({ code: 1, err: "cinf: --depth needs --cgroups\nTry 'cinf --help' for more information.\n" });
    expect(await cinf([...host, '--cgroups', '/a', '/b'])).toMatchObject({ code: 1, err: "cinf: unexpected argument '/b'\nTry 'cinf --help' for more information.\n" });
    expect(await cinf([...host, '--cgroups', 'nosuchcontainer'])).toMatchObject({ code: 1, err: "cinf: no container 'nosuchcontainer' (cinf -o +CONTAINER lists them)\n" });
  });

  it('hostile cgroup names are escaped; a symlinked directory is not followed out of the dump', async () => {
    const root = hostileDump((d) => {
      const sys = join(d, 'sys/fs/cgroup/system.slice');
      mkdirSync(join(sys, 'evil\u001b]0;owned\u0007\u001b[2J.scope'));
      writeFileSync(join(sys, 'evil\u001b]0;owned\u0007\u001b[2J.scope', 'memory.current'), '4096\n');
      symlinkSync('/etc', join(sys, 'escape.scope'));
    }, 'v2-docker-systemd');
    for (const extra of [[], ['--json']]) {
      const r = await cinf([...dumpArgs(root), '--cgroups', '/system.slice', ...extra]);
      expect(r.code).toBe(0);
      expect(r.out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      // the table escapes as lsns does (\xNN); JSON escapes C0 controls itself (\u001b)
      expect(r.out).toContain(extra.length ? 'evil\\u001b]0;owned\\u0007\\u001b[2J.scope' : 'evil\\x1b]0;owned\\x07\\x1b[2J.scope');
      expect(r.out).not.toContain('escape.scope');
      expect(r.out).not.toContain('passwd');
    }
  });
});
