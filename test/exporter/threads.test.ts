/**
 * container_threads comes from the cgroup, not from any process (src/exporter/read.ts threadsOf):
 * pids.current where a pids controller holds the cgroup (cAdvisor's ThreadsCurrent), else the
 * lines of v2 cgroup.threads / v1 tasks. Each case runs on a copy of a real host's dump with the
 * files of one container's cgroup changed to make the case.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOSTS_DIR } from '../helpers/fixtures.js';
import { openSource } from '../../src/source/source.js';
import { readExporterSample } from '../../src/exporter/read.js';

const V2_SCOPE = 'system.slice/docker-0a5ceea3df52e200d45772c4507b20d7c95a97dcd3939cb33a8d5bc1b842e334.scope';
const V1_ID = 'd3973eb73bec5e62bf47710d8607a87ce27973c3dcd653b39eae41da25564d4d';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** a copy of a fixture host, changed by `edit(cgroupRoot)` */
function hostCopy(host: string, edit: (cg: string) => void): ReturnType<typeof openSource> {
  const dir = mkdtempSync(join(tmpdir(), `hostscope-threads-${process.pid}-`));
  made.push(dir);
  cpSync(join(HOSTS_DIR, host), dir, { recursive: true, verbatimSymlinks: true });
  edit(join(dir, 'sys/fs/cgroup'));
  return openSource({ procRoot: join(dir, 'proc'), sysRoot: join(dir, 'sys') });
}

async function threadsById(src: ReturnType<typeof openSource>): Promise<Map<string, number | undefined>> {
  const { sample, errors } = await readExporterSample(src);
  expect([...errors.keys()]).toEqual([]);
  return new Map(sample.cgroups.map((c) => [c.id, c.threads]));
}

describe('container_threads from the cgroup', () => {
  it('v2: pids.current when the pids controller holds the cgroup (as cAdvisor), whatever the processes say', async () => {
    const src = hostCopy('v2-docker-systemd', (cg) => writeFileSync(join(cg, V2_SCOPE, 'pids.current'), '37\n'));
    expect((await threadsById(src)).get(`/${V2_SCOPE}`)).toBe(37);
  });

  it('v2 without the pids controller for the cgroup (no pids.current): the lines of cgroup.threads', async () => {
    const src = hostCopy('v2-docker-systemd', (cg) => {
      unlinkSync(join(cg, V2_SCOPE, 'pids.current'));
      writeFileSync(join(cg, V2_SCOPE, 'cgroup.threads'), '4242\n4243\n4250\n');
    });
    expect((await threadsById(src)).get(`/${V2_SCOPE}`)).toBe(3);
  });

  it('v2 with neither file: no container_threads sample for that cgroup (undefined), and no error', async () => {
    const src = hostCopy('v2-docker-systemd', (cg) => unlinkSync(join(cg, V2_SCOPE, 'pids.current')));
    const t = await threadsById(src);
    expect(t.has(`/${V2_SCOPE}`)).toBe(true);
    expect(t.get(`/${V2_SCOPE}`)).toBeUndefined();
  });

  it('v1: pids.current of the pids hierarchy; without a pids directory for the cgroup, the lines of a v1 tasks file', async () => {
    const id = `/docker/${V1_ID}`;
    const withPids = hostCopy('v1-docker-seed', () => undefined);
    const expected = Number(readFileSync(join(HOSTS_DIR, 'v1-docker-seed/sys/fs/cgroup/pids/docker', V1_ID, 'pids.current'), 'utf8'));
    expect((await threadsById(withPids)).get(id)).toBe(expected);
    const noPids = hostCopy('v1-docker-seed', (cg) => {
      rmSync(join(cg, 'pids/docker', V1_ID), { recursive: true });
      // a last line without its newline still counts
      writeFileSync(join(cg, 'memory/docker', V1_ID, 'tasks'), '100\n101\n102\n103\n104');
    });
    expect((await threadsById(noPids)).get(id)).toBe(5);
  });
});
