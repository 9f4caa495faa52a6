import { describe, expect, it } from 'vitest';
import { fixtureSource } from '../helpers/fixtures.js';
import { readTargetExtras, resolveContainerRequest, resolveTarget, TargetError, type TargetRequest } from '../../src/nsenter/target.js';
import { isProcError } from '../../src/source/errors.js';
import type { ProcSource } from '../../src/source/source.js';

/** nsenter-ts's reading of its target, on captured and hand-made hosts (no live kernel needed) */
const req = (r: Partial<TargetRequest>): TargetRequest => ({ all: false, ns: new Map(), userParent: false, env: false, joinCgroup: false, ...r });
const types = (p: ReturnType<typeof resolveTarget>): string[] => p.namespaces.map((n) => n.type);

function failure(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof TargetError) return e.message;
    throw e;
  }
  throw new Error('expected a TargetError');
}

/** resolveContainerRequest (--container → its init pid) then resolveTarget, as nsenter-ts does */
async function plan(src: ProcSource, r: TargetRequest): Promise<ReturnType<typeof resolveTarget>> {
  return resolveTarget(src, await resolveContainerRequest(src, r));
}

async function asyncFailure(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (e instanceof TargetError) return e.message;
    throw e;
  }
  throw new Error('expected a TargetError');
}

describe('resolveTarget on vm-hybrid-v1 (the capture made an `unshare --fork --pid` container)', () => {
  const src = fixtureSource('vm-hybrid-v1');

  it('bug 2: --container <the unshare parent> targets pid 1 of the container (4339), not the parent outside it (4338)', async () => {
    // 4338 is `unshare … --pid --fork`, in the host pid namespace; 4339 its child, NSpid "4339 1"
    const pid = async (container: string) => (await plan(src, req({ container, ns: new Map([['pid', undefined]]) }))).pid;
    expect(await pid('4338')).toBe(4339);
    expect(await pid('4344')).toBe(4339); // another member
    expect(await pid('sh')).toBe(4339); // its name
  });

  it('-a: every namespace the target does not share with us, in nsenter order; mnt always; time shared, so skipped', () => {
    // self is the capturing process (4327), in the host's namespaces
    const p = resolveTarget(src, req({ pid: 4339, all: true }));
    expect(types(p)).toEqual(['user', 'cgroup', 'ipc', 'uts', 'net', 'pid', 'mnt']);
    expect(p.namespaces[0]!.file).toEqual({ proc: '4339/ns/user' });
    // a host process: only mnt (entered for its root and cwd)
    expect(types(resolveTarget(src, req({ pid: 4340, all: true })))).toEqual(['net', 'mnt']);
  });

  it('bug 18: -a on a target whose ns links are denied says why (EACCES), not "No such file or directory"', () => {
    // errors.json: proc/1/ns/* gave EACCES at capture time, as it does to root on this VM
    expect(failure(() => resolveTarget(src, req({ pid: 1, all: true })))).toBe(`stat of ${src.procRoot}/1/ns/user failed: Permission denied`);
    expect(failure(() => resolveTarget(src, req({ pid: 999999, all: true })))).toBe(`stat of ${src.procRoot}/999999/ns/user failed: No such file or directory`);
  });

  it("files the user named stay where they are; root and cwd are the target's", () => {
    const p = resolveTarget(src, req({ pid: 4339, ns: new Map([['net', '/run/netns/blue'], ['uts', undefined]]), root: true, wd: '/srv' }));
    expect(p.namespaces).toEqual([
      { type: 'uts', file: { proc: '4339/ns/uts' } },
      { type: 'net', file: { path: '/run/netns/blue' } },
    ]);
    expect(p.root).toEqual({ proc: '4339/root' });
    expect(p.wd).toEqual({ path: '/srv' });
  });

  it('-e reads the target environment through the source; -S/-G follow take the owner (on a dump: the effective ids of status)', () => {
    const x = readTargetExtras(src, 4339, req({ env: true, setuid: 'follow', setgid: 'follow' }));
    expect(x.envp).toContain('HOME=/root');
    expect(x.envp).toContain('SECRET_TOKEN=<redacted>');
    expect([x.uid, x.gid]).toEqual([0, 0]);
    expect(readTargetExtras(src, 4339, req({ setuid: 7, setgid: 9 }))).toMatchObject({ uid: 7, gid: 9 });
  });

  it('usage errors in nsenter words', async () => {
    expect(failure(() => resolveTarget(src, req({ all: true })))).toBe('no target PID specified for --all');
    // no namespace asked: nothing to enter, as util-linux nsenter (not an error)
    expect(resolveTarget(src, req({ pid: 4339 }))).toEqual({ pid: 4339, namespaces: [] });
    expect(failure(() => resolveTarget(src, req({ ns: new Map([['net', undefined]]) })))).toBe('neither filename nor target pid supplied for ns/net');
    expect(await asyncFailure(() => plan(src, req({ pid: 1, container: 'sh', ns: new Map([['net', undefined]]) })))).toBe('--target and --container are mutually exclusive');
    expect(await asyncFailure(() => plan(src, req({ container: 'nosuch', ns: new Map([['net', undefined]]) })))).toBe("no container 'nosuch' (cinf -o +CONTAINER lists them)");
  });

  it('opening a file is the live kernel only: a dump says NOT_SUPPORTED in one clear line', () => {
    let err: unknown;
    try {
      src.kernel.openProcFd('4339/ns/net');
    } catch (e) {
      err = e;
    }
    expect(isProcError(err) && err.code).toBe('NOT_SUPPORTED');
    expect((err as Error).message).toBe(`opening 4339/ns/net needs the live kernel: ${src.procRoot} is a host dump`);
    expect(() => src.kernel.nsIoctl(3, 1)).toThrow(/needs the live kernel/);
    expect(() => src.kernel.nsIdentity('self/ns/net')).toThrow(/needs the live kernel/);
  });
});

describe('cgroups to join (-c, and -a beyond nsenter), through the source', () => {
  it('cgroup v1 docker host: the container cgroup in every hierarchy, but not where we already are', () => {
    const src = fixtureSource('v1-docker-seed');
    const x = readTargetExtras(src, 20892, req({ joinCgroup: true }));
    expect(x.cgroupProcs.length).toBeGreaterThan(5);
    for (const rel of x.cgroupProcs) expect(rel).toMatch(/^fs\/cgroup\/[^/]+\/docker\/f3b9624ce46c[0-9a-f]{52}\/cgroup\.procs$/);
    expect(x.cgroupProcs).toContain('fs/cgroup/memory/docker/f3b9624ce46c0d8a4e0e0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f/cgroup.procs');
  });

  it('cgroup v2 systemd host: the one unified cgroup', () => {
    const src = fixtureSource('v2-docker-systemd');
    expect(readTargetExtras(src, 1234, req({ joinCgroup: true })).cgroupProcs).toEqual(['fs/cgroup/system.slice/docker-0a5ceea3df52e200d45772c4507b20d7c95a97dcd3939cb33a8d5bc1b842e334.scope/cgroup.procs']);
    // the docker daemon (800) is self in this dump: nothing to join for its own cgroup
    expect(readTargetExtras(src, 800, req({ joinCgroup: true })).cgroupProcs).toEqual([]);
  });

  it('bug 8: --container takes a unique id prefix and a cgroup path with a shortened last part', async () => {
    const src = fixtureSource('v1-docker-seed');
    const net = new Map([['net', undefined]] as const);
    expect((await plan(src, req({ container: 'f3b9', ns: net }))).pid).toBe(20892);
    expect((await plan(src, req({ container: '/docker/f3b9', ns: net }))).pid).toBe(20892);
    expect((await plan(src, req({ container: 'd3973eb73bec', ns: net }))).pid).toBe(25533);
  });
});
