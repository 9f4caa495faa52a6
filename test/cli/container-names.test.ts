import { describe, expect, it } from 'vitest';
import { captureDeps, rootArgs } from '../helpers/fixtures.js';
import { cinfMain } from '../../cli/cinf.js';

/** Bug 8 of issue 6: a unique id prefix works wherever a container is named, cinf --cgroup too. */
describe('cinf --cgroup takes a container cgroup path with a shortened id', () => {
  const full = '/docker/f3b9624ce46c0d8a4e0e0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f';
  const run = async (spec: string) => {
    const deps = captureDeps();
    const code = await cinfMain([...rootArgs('v1-docker-seed'), '--cgroup', spec], deps);
    return { code, out: deps.out(), err: deps.err() };
  };

  it('/docker/f3b9 shows what the full path shows (it failed before: "no cgroup /docker/f3b9")', async () => {
    const a = await run('/docker/f3b9');
    const b = await run(full);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    expect(a.out).toContain(`# /sys/fs/cgroup/memory${full} (memory v1)`);
  });

  it('a prefix no container has is still "no cgroup"', async () => {
    expect(await run('/docker/0bad')).toMatchObject({ code: 1, out: '', err: 'cinf: no cgroup /docker/0bad in any mounted hierarchy\n' });
  });
});
