import { describe, expect, it } from 'vitest';
import { containerFromCgroupPath } from '../../src/model/cgroup-names.js';
import { buildContainers } from '../../src/model/containers.js';
import { findContainer } from '../../src/model/container-lookup.js';
import { addBoundNamespaces, buildNamespaceIndex, encodeDev, findHostReference } from '../../src/model/namespaces.js';
import { parseMountInfo } from '../../src/parse/proc-mountinfo.js';
import { cgroupSysRel } from '../../src/cgroup/layout.js';
import type { ProcessInfo } from '../../src/model/process.js';
import type { Snapshot } from '../../src/proc/snapshot.js';
import type { NsType } from '../../src/parse/ns-link.js';

describe('containerFromCgroupPath', () => {
  const id = 'd3973eb73bec5e62bf47710d8607a87ce27973c3dcd653b39eae41da25564d4d';
  it.each([
    [`/docker/${id}`, 'docker', 'd3973eb73bec'],
    [`/system.slice/docker-${id}.scope`, 'docker', 'd3973eb73bec'],
    [`/machine.slice/libpod-${id}.scope`, 'podman', 'd3973eb73bec'],
    [`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${id}.scope/container`, 'podman', 'd3973eb73bec'],
    [`/libpod_parent/libpod-${id}`, 'podman', 'd3973eb73bec'],
    [`/kubepods/burstable/pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/${id}`, 'kubernetes', 'd3973eb73bec'],
    [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/cri-containerd-${id}.scope`, 'kubernetes', 'd3973eb73bec'],
    [`/system.slice/cri-containerd-${id}.scope`, 'containerd', 'd3973eb73bec'],
    [`/default/${id}`, 'containerd', 'd3973eb73bec'],
    ['/machine.slice/systemd-nspawn@web\\x2d1.service/payload', 'systemd-nspawn', 'web-1'],
    ['/machine.slice/machine-web\\x2d1.scope', 'systemd-nspawn', 'web-1'],
    ['/lxc/u1', 'lxc', 'u1'],
    ['/lxc.payload.u1/init.scope', 'lxc', 'u1'],
    ['/hostscope/test-1', 'hostscope', 'test-1'],
  ])('%s → %s %s', (path, runtime, name) => {
    expect(containerFromCgroupPath(path)).toMatchObject({ runtime, name });
  });
  it.each(['/', '/init.scope', '/user.slice/user-0.slice/session-c7.scope', '/process_api/973c0cdfb1db67c4bf8db5f4e93f5acd', `/machine.slice/libpod-conmon-${id}.scope`])('%s is no container', (path) => {
    expect(containerFromCgroupPath(path)).toBeUndefined();
  });
  // finding 1 of stop 20: anyone with a writable cgroup (a delegated user@UID.service subtree, a
  // chowned v1 directory) can make a directory named after a real container's id
  it.each([
    `/rvh-user/docker-${id}.scope`, // a chowned v1 directory (was: docker d3973eb73bec)
    `/rvh-user/docker/${id}`,
    `/system.slice/foo.service/docker-${id}.scope`, // a Delegate=yes service's subtree
    `/system.slice/foo.service/x.slice/docker-${id}.scope`,
    `/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service/x.slice/libpod-${id}.scope`,
    `/user.slice/user-1000.slice/user@1001.service/user.slice/libpod-${id}.scope`, // not the slice's user
    `/user.slice/user-1000.slice/user@1000.service/docker/${id}`, // cgroupfs places are root's only
    `/user.slice/user-1000.slice/user@1000.service/lxc.payload.u1`,
    `/rvh-user/lxc.payload.u1`,
    `/rvh-user/kubepods/pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/${id}`,
    `/user.slice/user-1000.slice/session-3.scope/machine-web.scope`,
  ])('%s is no container (a name made where runtimes do not put theirs)', (path) => {
    expect(containerFromCgroupPath(path)).toBeUndefined();
  });
  it('rootless containers belong to the user of the delegated subtree; the outermost container wins', () => {
    const rootless = `/user.slice/user-1000.slice/user@1000.service/user.slice/docker-${id}.scope`;
    expect(containerFromCgroupPath(rootless)).toMatchObject({ runtime: 'docker', id, owner: 1000, dir: rootless });
    expect(containerFromCgroupPath(`/system.slice/docker-${id}.scope`)).toMatchObject({ dir: `/system.slice/docker-${id}.scope` });
    expect(containerFromCgroupPath(`/system.slice/docker-${id}.scope`)?.owner).toBeUndefined();
    const outer = 'e'.repeat(64);
    // what a container makes below its own cgroup is its own (docker in docker, a delegated container)
    expect(containerFromCgroupPath(`/docker/${outer}/docker/${id}`)).toMatchObject({ id: outer, dir: `/docker/${outer}` });
    expect(containerFromCgroupPath(`/system.slice/docker-${outer}.scope/system.slice/docker-${id}.scope`)).toMatchObject({ id: outer });
  });
  it('keeps the pod uid', () => {
    expect(containerFromCgroupPath(`/kubepods/pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/${id}`)?.pod).toBe('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0');
  });
});

/** a process in the given namespaces (inode per type), for hand-built snapshots */
function proc(pid: number, ppid: number, ns: Partial<Record<NsType | 'pid_for_children', number>>, extra: Partial<ProcessInfo> = {}): ProcessInfo {
  const full = { mnt: 1, net: 2, time: 3, cgroup: 4, pid: 5, user: 6, uts: 7, ipc: 8, ...ns };
  if (ns.pid !== undefined && ns.pid_for_children === undefined) full.pid_for_children = ns.pid;
  return {
    pid,
    stat: { pid, comm: `p${pid}`, state: 'S', ppid, pgrp: pid, session: pid, ttyNr: 0, tpgid: -1, flags: pid === 2 ? 0x200040 : 0, minflt: 0, majflt: 0, utimeTicks: 0, stimeTicks: 0, priority: 20, nice: 0, numThreads: 1, startTimeTicks: pid, vsizeBytes: 0, rssPages: 0, processor: 0 },
    ns: Object.fromEntries(Object.entries(full).map(([e, inode]) => [e, { type: e === 'pid_for_children' ? 'pid' : e, inode, dev: 4 }])) as ProcessInfo['ns'],
    errors: {},
    ...extra,
  };
}

function snap(processes: ProcessInfo[]): Snapshot {
  return { processes, vanished: 0, denied: 0, selfPid: undefined, takenAtMs: 0, monoStartMs: 0, monoEndMs: 0 };
}

describe('host reference', () => {
  it('prefers kthreadd over pid 1 (pid 1 may be unreadable, or a container init)', () => {
    const s = snap([proc(1, 0, {}, { ns: {} , errors: { 'ns/net': 'PERMISSION_DENIED' } }), proc(2, 0, {}), proc(10, 1, { net: 99 })]);
    const ref = findHostReference(s);
    expect(ref).toMatchObject({ pid: 2, how: 'kthreadd' });
    expect(ref.ns.net?.inode).toBe(2);
  });
  it('falls back to pid 1, then to the most populated namespace', () => {
    expect(findHostReference(snap([proc(1, 0, {}), proc(10, 1, { net: 99 })])).how).toBe('pid 1');
    const r = findHostReference(snap([proc(10, 0, { net: 99 }), proc(11, 0, {}), proc(12, 0, {})]));
    expect(r.how).toBe('most populated');
    expect(r.ns.net?.inode).toBe(2);
  });
});

describe('namespace index', () => {
  it('groups by (type, dev, inode), counts processes, finds the lowest pid numerically (E28)', () => {
    const s = snap([proc(2, 0, {}), proc(100, 1, { net: 50 }), proc(20, 1, { net: 50 }), proc(3, 2, {})]);
    const groups = buildNamespaceIndex(s, findHostReference(s));
    const net50 = groups.find((g) => g.ns.type === 'net' && g.ns.inode === 50)!;
    expect(net50.pids).toEqual([20, 100]);
    expect(net50.lowest.pid).toBe(20);
    expect(net50.isHost).toBe(false);
    expect(groups.filter((g) => g.isHost)).toHaveLength(8);
  });
  it('does not count *_for_children entries (E9)', () => {
    const s = snap([proc(2, 0, {}), proc(30, 1, { pid_for_children: 77 })]);
    const groups = buildNamespaceIndex(s, findHostReference(s));
    expect(groups.find((g) => g.ns.inode === 77)).toBeUndefined();
  });
});

describe('namespaces kept by bind mounts', () => {
  it('adds one with no process, and records the mount of one that has processes', () => {
    const s = snap([proc(2, 0, {}), proc(100, 1, { net: 50 })]);
    const ref = findHostReference(s);
    const mounts = parseMountInfo(
      '412 30 0:4 net:[50] /run/docker/netns/a1 rw shared:200 - nsfs nsfs rw\n530 30 0:4 net:[77] /run/netns/blue rw shared:230 - nsfs nsfs rw\n531 30 0:4 uts:[78] /run/x rw - nsfs nsfs rw\n',
    );
    const groups = addBoundNamespaces(buildNamespaceIndex(s, ref), mounts, ref, ['net']);
    expect(groups.find((g) => g.ns.inode === 50)).toMatchObject({ bindMounts: ['/run/docker/netns/a1'], pids: [100] });
    expect(groups.find((g) => g.ns.inode === 77)).toMatchObject({ bindMounts: ['/run/netns/blue'], pids: [], lowest: undefined, ns: { dev: 4 } });
    expect(groups.find((g) => g.ns.inode === 78)).toBeUndefined(); // not of the asked type
  });
  it('encodes st_dev like the kernel', () => {
    expect(encodeDev(0, 4)).toBe(4);
    expect(encodeDev(259, 1)).toBe((259 << 8) | 1);
    expect(encodeDev(8, 300)).toBe((300 & 0xff) | (8 << 8) | ((300 & ~0xff) << 12));
  });
});

describe('containers', () => {
  it('joins an unshare --fork parent with its child through pid_for_children; the init is the child (bug 2)', () => {
    // unshare (40): new user/mnt/net, still in the host pid namespace; its child (41): pid 1 of a new one.
    // Bug 2 (issue 6): the init was the unshare parent, outside the container's pid namespace
    const s = snap([proc(2, 0, {}), proc(1, 0, {}), proc(40, 1, { user: 60, mnt: 61, net: 62, pid_for_children: 63 }), proc(41, 40, { user: 60, mnt: 61, net: 62, pid: 63 }), proc(42, 1, { net: 90 })]);
    const cs = buildContainers(s, findHostReference(s));
    expect(cs.map((c) => [c.initPid, c.pids])).toEqual([
      [41, [40, 41]],
      [42, [42]],
    ]);
    expect(cs[0]!.name).toBe('p41');
    expect(cs[0]!.namespaces.pid?.inode).toBe(63);
    expect(cs[0]!.sharedWithHost).not.toContain('pid');
    expect(cs[1]!.sharedWithHost).toEqual(['mnt', 'time', 'cgroup', 'pid', 'user', 'uts', 'ipc']);
  });
  it('bug 2: a process that setns()ed into the pid namespace (nsenter -p, docker exec) is not the init, even with a lower pid', () => {
    // pid 30 was nsenter'ed in by a host process (ppid 1) after a pid wrap: lower pid, later start
    const late = proc(30, 1, { mnt: 61, pid: 63 }, {});
    late.stat = { ...late.stat!, startTimeTicks: 900 };
    const s = snap([proc(2, 0, {}), proc(40, 1, { mnt: 61, pid_for_children: 63 }), proc(41, 40, { mnt: 61, pid: 63 }), proc(43, 41, { mnt: 61, pid: 63 }), late]);
    expect(buildContainers(s, findHostReference(s)).map((c) => c.initPid)).toEqual([41]);
    // with NSpid known, the one whose NSpid ends in 1 wins whatever the start times say
    const early = proc(30, 1, { mnt: 61, pid: 63 }, { status: { nsPid: [30, 7] } as ProcessInfo['status'] });
    early.stat = { ...early.stat!, startTimeTicks: 1 };
    const s2 = snap([proc(2, 0, {}), proc(40, 1, { mnt: 61, pid_for_children: 63 }), proc(41, 40, { mnt: 61, pid: 63 }, { status: { nsPid: [41, 1] } as ProcessInfo['status'] }), early]);
    expect(buildContainers(s2, findHostReference(s2)).map((c) => c.initPid)).toEqual([41]);
  });
  it('bug 2: nested pid namespaces in one container: the init is pid 1 of the outermost', () => {
    // 41: pid 1 of ns 63; 45 (child of 43): pid 1 of ns 64 nested in it; all share mnt 61
    const s = snap([proc(2, 0, {}), proc(40, 1, { mnt: 61, pid_for_children: 63 }), proc(41, 40, { mnt: 61, pid: 63 }), proc(43, 41, { mnt: 61, pid: 63, pid_for_children: 64 }), proc(45, 43, { mnt: 61, pid: 64 })]);
    expect(buildContainers(s, findHostReference(s)).map((c) => [c.initPid, c.pids])).toEqual([[41, [40, 41, 43, 45]]]);
  });
  it('no pid namespace of its own (unshare --net, docker --pid=host): the member whose parent is outside', () => {
    const s = snap([proc(2, 0, {}), proc(50, 1, { net: 91 }), proc(51, 50, { net: 91 })]);
    expect(buildContainers(s, findHostReference(s)).map((c) => c.initPid)).toEqual([50]);
  });
  it('docker --net=container:db shares a network namespace but stays two containers (cgroup names win)', () => {
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    const s = snap([
      proc(2, 0, {}),
      proc(100, 1, { mnt: 10, pid: 11, net: 12 }, { cgroups: [{ hierarchyId: 0, controllers: [], path: `/system.slice/docker-${a}.scope` }] }),
      proc(200, 1, { mnt: 20, pid: 21, net: 12 }, { cgroups: [{ hierarchyId: 0, controllers: [], path: `/system.slice/docker-${b}.scope` }] }),
    ]);
    const cs = buildContainers(s, findHostReference(s));
    expect(cs.map((c) => `${c.runtime}:${c.name}:${c.pids.join(',')}`)).toEqual(['docker:aaaaaaaaaaaa:100', 'docker:bbbbbbbbbbbb:200']);
  });
  it('finding 1: a cgroup a user made, named after a real container, neither joins it nor gives it its init', () => {
    // the reviewer's reproducer: nobody's `unshare -Urpf` (older, NSpid 1, own user ns) in
    // /rvh-user/docker-<ID>.scope, the real container's init in /docker/<ID>
    const ID = 'ab'.repeat(32);
    const cg = (path: string) => [{ hierarchyId: 5, controllers: ['pids'], path }, { hierarchyId: 1, controllers: ['name=systemd'], path: '/' }];
    const uidOf = (uid: number) => ({ uids: [uid, uid, uid, uid], nsPid: [] }) as unknown as ProcessInfo['status'];
    const attacker = [
      proc(30, 1, { user: 40, pid_for_children: 41 }, { cgroups: cg(`/rvh-user/docker-${ID}.scope`), status: uidOf(65534) }),
      proc(31, 30, { user: 40, mnt: 42, pid: 41, uts: 43 }, { cgroups: cg(`/rvh-user/docker-${ID}.scope`), status: { ...uidOf(65534), nsPid: [31, 1] } }),
    ];
    const real = [
      proc(50, 1, { mnt: 53, uts: 54, pid_for_children: 51 }, { cgroups: cg(`/docker/${ID}`) }),
      proc(52, 50, { mnt: 53, pid: 51, uts: 54 }, { cgroups: cg(`/docker/${ID}`), status: { ...uidOf(0), nsPid: [52, 1] } }),
    ];
    const s = snap([proc(2, 0, {}), ...attacker, ...real]);
    const cs = buildContainers(s, findHostReference(s));
    const docker = cs.filter((c) => c.id === ID);
    expect(docker.map((c) => [c.key, c.initPid, c.pids])).toEqual([[`docker:${ID}`, 52, [50, 52]]]);
    // the attacker's processes are a container of their own, with no runtime id
    expect(cs.find((c) => c.pids.includes(31))).toMatchObject({ runtime: 'unknown', id: undefined, initPid: 31 });
  });
  it('finding 1: a rootless container claiming a root container id is another container; naming the id is ambiguous', () => {
    const ID = 'ab'.repeat(32);
    const mine = `/user.slice/user-1000.slice/user@1000.service/user.slice/docker-${ID}.scope`;
    const s = snap([
      proc(2, 0, {}),
      proc(31, 1, { user: 40, mnt: 42, pid: 41 }, { cgroups: [{ hierarchyId: 0, controllers: [], path: mine }] }),
      proc(52, 1, { mnt: 53, pid: 51 }, { cgroups: [{ hierarchyId: 0, controllers: [], path: `/system.slice/docker-${ID}.scope` }] }),
    ]);
    const cs = buildContainers(s, findHostReference(s));
    expect(cs.map((c) => [c.key, c.initPid, c.pids])).toEqual([
      [`docker:${ID}@${mine}`, 31, [31]],
      [`docker:${ID}@/system.slice/docker-${ID}.scope`, 52, [52]],
    ]);
    const r = findContainer(cs, 'abababababab');
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.candidates.map((c) => c.initPid)).toEqual([31, 52]);
    expect(findContainer(cs, '52')).toMatchObject({ ok: true, container: { initPid: 52 } });
  });
  it('finding 1: unrelated pid namespaces in one container cgroup are as many containers, never one with the oldest pid 1 as init', () => {
    // whoever can write the cgroup (root, the user of a delegated subtree) put an older pid 1 in it
    const ID = 'ab'.repeat(32);
    const dir = `/system.slice/docker-${ID}.scope`;
    const cg = [{ hierarchyId: 0, controllers: [], path: dir }];
    const s = snap([
      proc(2, 0, {}),
      proc(30, 1, { user: 40, pid_for_children: 41 }, { cgroups: cg }),
      proc(31, 30, { user: 40, mnt: 42, pid: 41 }, { cgroups: cg, status: { nsPid: [31, 1] } as unknown as ProcessInfo['status'] }),
      proc(52, 1, { mnt: 53, pid: 51 }, { cgroups: cg, status: { nsPid: [52, 1] } as unknown as ProcessInfo['status'] }),
      proc(53, 52, { mnt: 53, pid: 51 }, { cgroups: cg }),
    ]);
    const cs = buildContainers(s, findHostReference(s));
    expect(cs.map((c) => [c.key, c.id, c.initPid, c.pids])).toEqual([
      [`docker:${ID}/pid:4:41`, ID, 31, [30, 31]],
      [`docker:${ID}/pid:4:51`, ID, 52, [52, 53]],
    ]);
    expect(findContainer(cs, 'abababababab')).toMatchObject({ ok: false, candidates: [{ initPid: 31 }, { initPid: 52 }] });
    expect(findContainer(cs, '53')).toMatchObject({ ok: true, container: { initPid: 52 } });
  });
  it('one container cgroup, nested pid namespaces (a sandbox, nsenter -p into it from the host): still one container', () => {
    const cg = [{ hierarchyId: 0, controllers: [], path: `/system.slice/docker-${'c'.repeat(64)}.scope` }];
    const s = snap([
      proc(2, 0, {}),
      proc(60, 1, { mnt: 61, pid: 62 }, { cgroups: cg }),
      proc(63, 60, { mnt: 61, pid: 62, pid_for_children: 64 }, { cgroups: cg }),
      proc(65, 63, { mnt: 61, pid: 64 }, { cgroups: cg }),
      proc(66, 1, { mnt: 61, pid: 64 }, { cgroups: cg }), // nsenter'ed from the host: its parent is outside
    ]);
    expect(buildContainers(s, findHostReference(s)).map((c) => [c.key, c.initPid, c.pids])).toEqual([[`docker:${'c'.repeat(64)}`, 60, [60, 63, 65, 66]]]);
  });
  it('kernel threads and host processes are never containers; hostname names an unknown runtime', () => {
    const s = snap([proc(2, 0, {}), proc(25, 2, { mnt: 9 }, { stat: { ...proc(25, 2, {}).stat!, flags: 0x200040 } }), proc(50, 1, {}), proc(60, 1, { uts: 70 }, { environ: [{ key: 'HOSTNAME', value: 'box' }] })]);
    const cs = buildContainers(s, findHostReference(s));
    expect(cs.map((c) => [c.name, c.pids])).toEqual([['box', [60]]]);
  });
});

describe('cgroup directories (E18, E19)', () => {
  const h = (mountPoint: string, root = '/') => ({ version: 1 as const, controllers: ['memory'], mountPoint, root });
  it('joins the path under the mount point, relative to the mounted root', () => {
    expect(cgroupSysRel(h('/sys/fs/cgroup/memory'), '/docker/abc')).toBe('fs/cgroup/memory/docker/abc');
    expect(cgroupSysRel(h('/sys/fs/cgroup/memory'), '/')).toBe('fs/cgroup/memory');
    expect(cgroupSysRel(h('/sys/fs/cgroup/memory', '/docker/abc'), '/docker/abc/sub')).toBe('fs/cgroup/memory/sub');
  });
  it('cannot reach a path from another cgroup namespace (/..), outside the mounted subtree, or off /sys', () => {
    expect(cgroupSysRel(h('/sys/fs/cgroup/memory'), '/../..')).toBeUndefined();
    expect(cgroupSysRel(h('/sys/fs/cgroup/memory', '/docker/abc'), '/other')).toBeUndefined();
    expect(cgroupSysRel(h('/mnt/cg'), '/x')).toBeUndefined();
  });
});
