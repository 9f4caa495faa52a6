import { describe, expect, it } from 'vitest';
import { findContainer, lookupMessage, MAX_CANDIDATES } from '../../src/model/container-lookup.js';
import type { Container } from '../../src/model/containers.js';

/** Bug 8 of issue 6: one resolver for every place a container is named. */
function c(name: string, initPid: number, extra: Partial<Container> = {}): Container {
  return { key: `ns:pid:${initPid}`, name, runtime: 'unknown', id: undefined, pod: undefined, initPid, pids: [initPid], cgroupPath: undefined, hostname: undefined, namespaces: {}, sharedWithHost: [], ...extra };
}
const A = 'f3b9624ce46c0d8a4e0e0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f';
const B = 'f3b1000000000000000000000000000000000000000000000000000000000000';
const docker = (id: string, pid: number, path = `/docker/${id}`): Container => c(id.slice(0, 12), pid, { key: `docker:${id}`, runtime: 'docker', id, cgroupPath: path, pids: [pid, pid + 1] });

describe('findContainer', () => {
  const all = [docker(A, 100), docker(B, 200, `/system.slice/docker-${B}.scope`), c('sh', 300, { pids: [299, 300] }), c('sh', 400)];
  const found = (q: string) => {
    const r = findContainer(all, q);
    return r.ok ? [r.how, r.container.initPid] : ['none', r.candidates.map((x) => x.initPid)];
  };

  it.each([
    ['f3b9624ce46c', 'name', 100],
    [A, 'id', 100],
    [`docker:${B}`, 'name', 200],
    ['101', 'member pid', 100],
    ['299', 'member pid', 300],
    ['f3b96', 'id prefix', 100],
    ['f3b1', 'id prefix', 200],
    [`/docker/${A}`, 'cgroup path', 100],
    ['/docker/f3b9', 'cgroup path', 100], // cinf --cgroup /docker/f3b9 (failed before)
    ['/system.slice/docker-f3b1', 'cgroup path', 200],
  ])('%s → %s, init %d', (q, how, pid) => {
    expect(found(q)).toEqual([how, pid]);
  });

  it.each([
    ['f3b', [100, 200]], // a prefix of two ids
    ['sh', [300, 400]], // a name two containers have
  ])('%s is ambiguous between %j', (q, pids) => {
    expect(found(q)).toEqual(['none', pids]);
  });

  it.each(['nosuch', '', '/docker/zz', '/', '/docker/f3b9/sub', '999'])('%j finds nothing', (q) => {
    expect(found(q)).toEqual(['none', []]);
  });

  it('a member pid beats an id prefix (digits can be both)', () => {
    const digits = docker('1234' + 'a'.repeat(60), 500);
    expect(findContainer([digits, c('x', 1234)], '1234')).toMatchObject({ ok: true, how: 'member pid', container: { initPid: 1234 } });
    expect(findContainer([digits, c('x', 77)], '1234')).toMatchObject({ ok: true, how: 'id prefix', container: { initPid: 500 } });
  });
});

// finding 2 of stop 20: names come from UTS hostnames and HOSTNAME, which anyone sets in unshare -Ur --uts
describe('findContainer: a name someone chose shadows nothing', () => {
  const db = docker(A, 100);
  const real = { ...db, name: 'db', nameSource: 'docker-config' };
  it('a container named after another container\'s member pid: the pid decides (was: the name)', () => {
    const mine = c('9005', 300);
    expect(findContainer([c('unshare', 9005), mine], '9005')).toMatchObject({ ok: true, how: 'member pid', container: { initPid: 9005 } });
    expect(findContainer([c('unshare', 9000, { pids: [9000, 9005] }), mine], '9005')).toMatchObject({ ok: true, container: { initPid: 9000 } });
    // digits no process has: a name made of digits still names its container
    expect(findContainer([c('unshare', 9000), mine], '9005')).toMatchObject({ ok: true, how: 'name', container: { initPid: 300 } });
  });
  it('a container named after another\'s short id or id prefix: ambiguous, both listed (was: the name)', () => {
    for (const q of ['f3b9624ce46c', 'f3b9']) {
      const r = findContainer([real, c(q, 300)], q);
      expect(r.ok ? ['found', r.container.initPid] : r.candidates.map((x) => x.initPid)).toEqual([100, 300]);
    }
    const r = findContainer([real, c('f3b9', 300)], 'f3b9') as Extract<ReturnType<typeof findContainer>, { ok: false }>;
    expect(lookupMessage(r)).toBe("'f3b9' names 2 containers: f3b9624ce46c (init pid 100), f3b9 (init pid 300); name one by id, id prefix or a member pid");
  });
  it('a hostname that looks like a cgroup path: ambiguous (was: the name)', () => {
    for (const q of ['/docker/f3b9', `/docker/${A}`]) {
      const r = findContainer([real, c(q, 300)], q);
      expect(r.ok ? ['found', r.container.initPid] : r.candidates.map((x) => x.initPid)).toEqual([100, 300]);
    }
  });
  it('rules that agree on one container find it; an exact id or path beats the longer ones it prefixes', () => {
    expect(findContainer([db], 'f3b9624ce46c')).toMatchObject({ ok: true, how: 'name', container: { initPid: 100 } });
    const lxc = (name: string, pid: number) => c(name, pid, { runtime: 'lxc', id: name, key: `lxc:${name}`, cgroupPath: `/lxc/${name}` });
    const both = [lxc('web', 10), lxc('web1', 20)];
    expect(findContainer(both, 'web')).toMatchObject({ ok: true, container: { initPid: 10 } });
    expect(findContainer(both, '/lxc/web')).toMatchObject({ ok: true, how: 'cgroup path', container: { initPid: 10 } });
    expect(findContainer(both, 'we')).toMatchObject({ ok: false, candidates: [{ initPid: 10 }, { initPid: 20 }] });
  });
});

describe('lookupMessage', () => {
  it('an ambiguous name lists at most five candidates and the count (was: 100 names on one line)', () => {
    const many = Array.from({ length: 100 }, (_, i) => c('unshare', 1000 + i));
    const r = findContainer(many, 'unshare');
    expect(r.ok).toBe(false);
    const msg = lookupMessage(r as Extract<typeof r, { ok: false }>);
    expect(msg).toBe(
      "'unshare' names 100 containers: unshare (init pid 1000), unshare (init pid 1001), unshare (init pid 1002), unshare (init pid 1003), unshare (init pid 1004) and 95 more; name one by id, id prefix or a member pid",
    );
    expect(msg.match(/init pid/g)).toHaveLength(MAX_CANDIDATES);
  });
  it('few candidates: all of them, no count; ids shortened to 12', () => {
    const r = findContainer([docker(A, 100), docker(B, 200)], 'f3b') as Extract<ReturnType<typeof findContainer>, { ok: false }>;
    expect(lookupMessage(r)).toBe("'f3b' names 2 containers: f3b9624ce46c (init pid 100), f3b100000000 (init pid 200); name one by id, id prefix or a member pid");
  });
  it('none', () => {
    expect(lookupMessage({ ok: false, query: 'db', candidates: [] })).toBe("no container 'db' (cinf -o +CONTAINER lists them)");
  });
});
