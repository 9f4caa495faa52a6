import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryProcSource } from '../../src/source/source.js';
import { HOSTS_DIR } from '../helpers/fixtures.js';
import { scanSample } from '../../tui/sample.js';
import { buildGroups } from '../../tui/model.js';

/**
 * ctop reads a cgroup's OOM kill count with its limits, whole only every 10 polls, but at once on
 * the poll where the cgroup lost a process: an OOM kill ends a process, and the kernel counts the
 * kill before the victim dies (mm/oom_kill.c counts MEMCG_OOM_KILL, then sends SIGKILL). Before,
 * a kill showed up to 10 polls late.
 */
const dir = mkdtempSync(join(tmpdir(), `ctop-oom-${process.pid}-`));
const dir2 = mkdtempSync(join(tmpdir(), `ctop-oom-one-${process.pid}-`));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(dir2, { recursive: true, force: true });
});

const CG = '/system.slice/docker-5fba1658e4ce7b6f1a1b8e3c0b7a1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c.scope';
const OTHER = '/system.slice/docker-0a5ceea3df52e200d45772c4507b20d7c95a97dcd3939cb33a8d5bc1b842e334.scope';
const events = (kills: number): string => `low 0\nhigh 0\nmax 3\noom ${kills}\noom_kill ${kills}\noom_group_kill 0\n`;

describe('ctop: an OOM kill shows on the poll that sees its victim gone', () => {
  it('v2 dump: a count that moves without a departure waits for the cgroup\'s turn; with one, it shows at once', async () => {
    cpSync(join(HOSTS_DIR, 'v2-docker-systemd'), dir, { recursive: true, verbatimSymlinks: true });
    const sys = join(dir, 'sys');
    const src = new DirectoryProcSource({ procRoot: join(dir, 'proc'), sysRoot: sys });
    const pidsOf = (): number[] => {
      const out: number[] = [];
      for (const d of readdirSync(join(dir, 'proc'))) if (/^\d+$/.test(d)) {
        try {
          if (readFileSync(join(dir, 'proc', d, 'cgroup'), 'utf8').trim() === `0::${CG}`) out.push(Number(d));
        } catch {
          // not a process directory of this cgroup
        }
      }
      return out;
    };
    const members = pidsOf();
    // the fixture's container has two processes: one of them will be the victim
    expect(members.length).toBe(2);
    const first = await scanSample(src);
    expect(first.cgroups[CG]?.memory?.oomKills).toBe(0);
    // the count moves with no process gone (the kernel's count of an earlier kill, read late):
    // the next poll still shows what the whole read of the first poll saw — the counters path
    writeFileSync(join(sys, 'fs/cgroup', CG, 'memory.events'), events(1));
    const second = await scanSample(src);
    expect(second.cgroups[CG]?.memory?.oomKills).toBe(0);
    // a kill: the count moves and a process of the cgroup is gone
    writeFileSync(join(sys, 'fs/cgroup', CG, 'memory.events'), events(2));
    rmSync(join(dir, 'proc', String(members[1])), { recursive: true, force: true });
    // another container's count moves too, with none of its processes gone: not read whole for it
    writeFileSync(join(sys, 'fs/cgroup', OTHER, 'memory.events'), events(5));
    const third = await scanSample(src);
    expect(third.cgroups[CG]?.memory?.oomKills).toBe(2);
    expect(third.cgroups[OTHER]?.memory?.oomKills).toBe(0);
  });

  it('a container with one process: the poll that sees it OOM-killed reads its cgroup through the process that left, and keeps the container one poll, without processes, with the kill count', async () => {
    cpSync(join(HOSTS_DIR, 'v2-docker-systemd'), dir2, { recursive: true, verbatimSymlinks: true });
    const sys = join(dir2, 'sys');
    const src = new DirectoryProcSource({ procRoot: join(dir2, 'proc'), sysRoot: sys });
    // redis (pid 1234) is the only process of OTHER; podman's (pid 1400) the only one of its own
    const PODMAN = '/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-9d72cb96129c8b0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1.scope';
    writeFileSync(join(sys, 'fs/cgroup', PODMAN, 'memory.events'), events(3));
    const first = await scanSample(src);
    const row = (s: typeof first, cg: string) => buildGroups(undefined, s, 'container').find((g) => g.cgroupPath === cg);
    expect(row(first, OTHER)).toMatchObject({ pids: [1234], oomKills: 0 });
    const podman = row(first, PODMAN)!;
    expect(podman.pids).toEqual([1400]);
    // the kill: counted, then the victim gone; the runtime has not removed the cgroup yet
    writeFileSync(join(sys, 'fs/cgroup', OTHER, 'memory.events'), events(1));
    rmSync(join(dir2, 'proc/1234'), { recursive: true, force: true });
    // podman's ends too, without a new kill (one long ago: its count stays 3): let go at once, as before
    rmSync(join(dir2, 'proc/1400'), { recursive: true, force: true });
    const second = await scanSample(src);
    expect(second.cgroups[OTHER]?.memory?.oomKills).toBe(1);
    const gone = second.containers.find((c) => c.endedCg === OTHER);
    expect(gone?.key).toBe(first.containers.find((c) => c.initPid === 1234)?.key);
    expect(row(second, OTHER)).toMatchObject({ key: gone!.key, pids: [], oomKills: 1, source: 'cgroup' });
    // its init is gone (the pid may be reused): the row names none, so no shell opens in its place
    expect(row(second, OTHER)!.initPid).toBeUndefined();
    expect(second.containers.some((c) => c.key === podman.key)).toBe(false);
    expect(row(second, PODMAN)).toBeUndefined();
    // the next poll: gone
    const third = await scanSample(src);
    expect(third.containers.some((c) => c.key === gone!.key)).toBe(false);
    expect(row(third, OTHER)).toBeUndefined();
  });
});
