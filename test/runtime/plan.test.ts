import { describe, expect, it } from 'vitest';
import { buildExecPlan, buildInitPlan, parseMountOptions, rootfsParentMount, rootfsParentNeedsPrivate, type HostFacts, type InitInput } from '../../src/runtime/plan.js';
import { validateSpec, MS, type Spec } from '../../src/runtime/spec.js';
import { exampleSpec, renderSpecJson, rootlessSpec } from '../../src/runtime/spec-default.js';
import { RESOLVE, type PlanStep } from '../../src/runtime/plan-steps.js';
import { golden, listSteps, memView } from './helpers.js';
import { encodeStep, validateSteps } from '../../src/native/steps.js';

const R = '/b/rootfs';
const ALL = (1n << 41n) - 1n;
/** these VMs: root's bounding set lacks CAP_SYS_RESOURCE (bit 24) */
const host: HostFacts = {
  lastCap: 40,
  bounding: ALL & ~(1n << 24n),
  hasKcore: true,
  cgroup: { mode: 'v1', hierarchies: [{ dir: 'memory', source: '/sys/fs/cgroup/memory/c1' }, { dir: 'pids', source: '/sys/fs/cgroup/pids/c1' }] },
};
const tree = { [R]: 'dir', [`${R}/proc`]: 'dir', [`${R}/dev`]: 'dir', [`${R}/sys`]: 'dir', [`${R}/etc`]: 'dir', [`${R}/etc/passwd`]: 'file', [`${R}/bin`]: 'dir', '/sys': 'dir', '/srv': 'dir', '/srv/data': 'dir', '/etc': 'dir', '/etc/hosts': 'file' };
type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any
function specOf(mut: (c: J) => void = () => {}, start: () => object = exampleSpec): Spec {
  const c = JSON.parse(renderSpecJson(start()));
  c.process.terminal = false;
  mut(c);
  return validateSpec(c, { apparmor: false, selinux: false }).spec;
}
function input(spec: Spec, over: Partial<InitInput> = {}, t: Record<string, string> = tree): InitInput {
  return { spec, rootfs: R, bundle: '/b', view: memView(t), host, execFifoFd: 5, ...over };
}
const names = (steps: PlanStep[]) => steps.map((s) => s.label ?? s.op);
const idx = (steps: PlanStep[], name: string) => {
  const i = names(steps).indexOf(name);
  if (i < 0) throw new Error(`no step ${name} in:\n${names(steps).join('\n')}`);
  return i;
};

describe('init plan: goldens (review the diff with UPDATE_GOLDEN=1)', () => {
  it('runc spec default, terminal off', () => {
    const p = buildInitPlan(input(specOf()));
    golden('runtime/init-default.txt', listSteps(p.steps));
    // the native runner takes it as is: registers, limits, encoding
    validateSteps(p.steps);
    expect(p.steps.map(encodeStep)).toHaveLength(p.steps.length);
    expect(p.parent).toEqual({ joinCgroup: true });
    expect(p.pauses).toEqual(['ready', 'execFifo']);
  });
  it('runc spec --rootless (user namespace: maps by the parent, devices bound, not made)', () => {
    const p = buildInitPlan(input(specOf(() => {}, () => rootlessSpec(1000, 1000)), { rootless: true }));
    golden('runtime/init-rootless.txt', listSteps(p.steps));
    expect(p.parent).toEqual({ joinCgroup: true, setgroups: 'deny', uidMap: [{ inside: 0, outside: 1000, count: 1 }], gidMap: [{ inside: 0, outside: 1000, count: 1 }] });
  });
  it('joined namespaces, console, hooks, seccomp without no_new_privs, --no-pivot, cgroup v2, a bind mount', () => {
    const spec = specOf((c) => {
      c.process.terminal = true;
      c.process.noNewPrivileges = false;
      c.linux.namespaces[1] = { type: 'network', path: '/run/netns/n1' };
      c.linux.namespaces.push({ type: 'cgroup' });
      c.mounts.push({ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro', 'rprivate'] });
      c.mounts.push({ destination: '/etc/hosts', type: 'bind', source: '/etc/hosts', options: ['bind'] });
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO' }] };
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      c.hooks = { createRuntime: [{ path: '/bin/true' }], startContainer: [{ path: '/bin/true' }] };
    });
    const p = buildInitPlan(
      input(spec, {
        noPivot: true,
        consoleSocket: '/run/c.sock',
        seccomp: { program: new Uint8Array(32), flags: 0 },
        host: { ...host, cgroup: { mode: 'v2' } },
        hookPauses: { createRuntime: { reached: 6, go: 7 }, startContainer: { reached: 8, go: 9 } },
      }),
    );
    golden('runtime/init-joined-console-hooks.txt', listSteps(p.steps));
    validateSteps(p.steps);
    p.steps.map(encodeStep);
    expect(p.pauses).toEqual(['createRuntime', 'ready', 'execFifo', 'startContainer']);
  });
  it('exec plan', () => {
    const spec = specOf();
    const p = buildExecPlan({ process: spec.process!, namespaces: spec.linux.namespaces.map((n) => n.type), initPidfd: 9, host, seccomp: { program: new Uint8Array(16), flags: 0 } });
    golden('runtime/exec-default.txt', listSteps(p.steps));
  });
});

describe('init plan: one test per security rule', () => {
  it('the user namespace is unshared alone and first; the parent writes maps before anything else is unshared', () => {
    const s = buildInitPlan(input(specOf(() => {}, () => rootlessSpec(1000, 1000)))).steps;
    expect(idx(s, 'unshare(user)')).toBeLessThan(idx(s, 'wait for parent (cgroup, uid/gid maps)'));
    expect(idx(s, 'wait for parent (cgroup, uid/gid maps)')).toBeLessThan(idx(s, 'unshare(mount,uts,ipc,pid)'));
    expect(s.find((x) => x.op === 'unshare' && x.label === 'unshare(user)')).toMatchObject({ flags: 0x10000000 });
  });
  it('the cgroup is joined (parent wait) before the cgroup namespace is made and before the fork', () => {
    const s = buildInitPlan(input(specOf((c) => c.linux.namespaces.push({ type: 'cgroup' })))).steps;
    expect(idx(s, 'wait for parent (cgroup)')).toBeLessThan(idx(s, 'unshare(mount,uts,ipc,network,pid,cgroup)'));
    expect(idx(s, 'unshare(mount,uts,ipc,network,pid,cgroup)')).toBeLessThan(idx(s, 'fork (init)'));
  });
  it('non-dumpable before anything (CVE-2019-5736: the init is a fork of node)', () => {
    expect(buildInitPlan(input(specOf())).steps[0]).toMatchObject({ op: 'prctl', option: 4, arg: 0 });
    expect(buildExecPlan({ process: specOf().process!, namespaces: ['pid'], initPidfd: 3, host }).steps[0]).toMatchObject({ op: 'prctl', option: 4, arg: 0 });
  });
  it('every mount lands on an fd opened beneath the rootfs with no symlink allowed (TOCTOU closed at mount time)', () => {
    const s = buildInitPlan(input(specOf())).steps;
    const mounts = s.filter((x): x is Extract<PlanStep, { op: 'mount' }> => x.op === 'mount');
    const beforePivot = mounts.slice(0, mounts.findIndex((m) => m.label === 'mount(old root, rslave)'));
    for (const m of beforePivot.slice(2)) expect(m.target, m.label).toEqual({ fd: { reg: 2 } });
    for (const o of s.filter((x) => x.op === 'open' && 'dirfd' in x && x.dirfd)) {
      expect(o).toMatchObject({ dirfd: { reg: 0 }, resolve: RESOLVE.BENEATH | RESOLVE.NO_SYMLINKS });
      expect((o as { path: string }).path.startsWith('/')).toBe(false);
    }
  });
  it('a destination through a symlink in the image is resolved inside the rootfs (CVE-2021-30465 class)', () => {
    const t = { ...tree, [`${R}/data`]: '->/etc', [`${R}/evil`]: '->../../../../' };
    const spec = specOf((c) => {
      c.mounts.push({ destination: '/data/x', type: 'tmpfs', source: 'tmpfs' });
      c.mounts.push({ destination: '/evil/host', type: 'tmpfs', source: 'tmpfs' });
    });
    const s = buildInitPlan(input(spec, {}, t)).steps;
    expect(s.find((x) => x.label === 'mkdir(/etc/x)')).toMatchObject({ path: `${R}/etc/x` });
    expect(s.find((x) => x.label === 'open(/data/x)')).toMatchObject({ path: 'etc/x' });
    expect(s.find((x) => x.label === 'open(/evil/host)')).toMatchObject({ path: 'host' });
    for (const x of s) if (x.op === 'mkdir' || x.op === 'mknod') expect(x.path.startsWith(`${R}/`) || !x.path.startsWith('/b')).toBe(true);
  });
  it('proc and sysfs refuse a symlinked destination', () => {
    expect(() => buildInitPlan(input(specOf(), {}, { ...tree, [`${R}/proc`]: '->/etc' }))).toThrow('config.json: mounts[0].destination: proc must be mounted on an ordinary directory, and "/proc" goes through a symlink');
  });
  it('a symlinked or missing rootfs is refused', () => {
    expect(() => buildInitPlan(input(specOf(), {}, { ...tree, [R]: '->/' }))).toThrow('config.json: root.path: "/b/rootfs" is a symlink');
    expect(() => buildInitPlan(input(specOf(), {}, {}))).toThrow('config.json: root.path: "/b/rootfs" is missing');
  });
  it('paths under an earlier tmpfs are resolved in it, not in the image (a symlink at rootfs/dev/pts is hidden by /dev)', () => {
    const s = buildInitPlan(input(specOf(), {}, { ...tree, [`${R}/dev/pts`]: '->/etc' })).steps;
    expect(s.find((x) => x.label === 'open(/dev/pts)')).toMatchObject({ path: 'dev/pts' });
  });
  it('devices: mknod + chown inside the container /dev without a user namespace; bind from the host with one, never chown', () => {
    const s = buildInitPlan(input(specOf())).steps;
    expect(s.find((x) => x.label === 'mknod(/dev/null)')).toMatchObject({ path: `${R}/dev/null`, mode: 0o020666, major: 1, minor: 3 });
    expect(s.find((x) => x.label === 'chown(/dev/null)')).toMatchObject({ path: `${R}/dev/null`, noFollow: true });
    const u = buildInitPlan(input(specOf(() => {}, () => rootlessSpec(1000, 1000)))).steps;
    expect(u.some((x) => x.op === 'mknod' || x.op === 'chown')).toBe(false);
    expect(u.find((x) => x.label === 'mount(/dev/null, bind)')).toMatchObject({ source: '/dev/null', flags: MS.BIND });
  });
  it('/dev/ptmx links to the container devpts; /dev/core only when the host has /proc/kcore', () => {
    const s = buildInitPlan(input(specOf())).steps;
    expect(s.find((x) => x.label === 'symlink(/dev/ptmx)')).toMatchObject({ target: 'pts/ptmx', path: `${R}/dev/ptmx` });
    expect(names(buildInitPlan(input(specOf(), { host: { ...host, hasKcore: false } })).steps)).not.toContain('symlink(/dev/core)');
  });
  it('pivot_root(".", ".") then the old root made rslave and detached; --no-pivot moves and chroots', () => {
    const s = names(buildInitPlan(input(specOf())).steps);
    const i = s.indexOf('pivotRoot');
    expect(s.slice(i - 2, i + 5)).toEqual(['open(old root)', 'fchdir(rootfs)', 'pivotRoot', 'fchdir(old root)', 'mount(old root, rslave)', 'umount2(old root, MNT_DETACH)', 'chdir']);
    const n = names(buildInitPlan(input(specOf(), { noPivot: true })).steps);
    expect(n).not.toContain('pivotRoot');
    expect(n).toContain('mount(rootfs, /, MS_MOVE)');
  });
  it('masked paths: a read-only tmpfs over a directory, /dev/null over anything else, absent ones skipped', () => {
    const s = buildInitPlan(input(specOf())).steps;
    const d = idx(s, 'open(/proc/kcore, dir)');
    expect(s[d]).toMatchObject({ ignoreError: true, flags: 0o10200000 });
    expect(s[d + 1]).toMatchObject({ op: 'mount', fstype: 'tmpfs', flags: MS.RDONLY, when: { step: d, ok: true } });
    expect(s[d + 3]).toMatchObject({ op: 'open', ignoreError: true, when: { step: d, ok: false } });
    expect(s[d + 4]).toMatchObject({ op: 'mount', source: '/dev/null', flags: MS.BIND, when: { step: d + 3, ok: true } });
  });
  it('read-only paths: bind, then remount read-only keeping the covering mount’s nosuid/nodev/noexec', () => {
    const s = buildInitPlan(input(specOf((c) => c.linux.readonlyPaths.push('/sys/kernel')))).steps;
    expect(s.find((x) => x.label === 'remount(/proc/sys, ro)')).toMatchObject({ flags: MS.BIND | MS.REMOUNT | MS.RDONLY });
    expect(s.find((x) => x.label === 'remount(/sys/kernel, ro)')).toMatchObject({ flags: MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC });
  });
  it('capabilities in runc order: bounding, keepcaps, groups, gid, uid, keepcaps off, capset, ambient; no_new_privs before', () => {
    const s = names(buildInitPlan(input(specOf((c) => (c.process.capabilities.inheritable = ['CAP_KILL'])))).steps);
    const i = s.indexOf('drop bounding set');
    expect(s.slice(i - 2, i + 10)).toEqual(['prctl(PR_SET_NO_NEW_PRIVS)', 'chdir(/)', 'drop bounding set', 'prctl(PR_SET_KEEPCAPS, 1)', 'setgroups', 'setgid(0)', 'setuid(0)', 'prctl(PR_SET_KEEPCAPS, 0)', 'capset', 'prctl(PR_CAP_AMBIENT_RAISE)', 'lookpath', 'ready'].slice(0, 12));
  });
  // stop 20: runc 1.1.5 prints nothing for runc spec's ambient set (gocapability ignores the failed raise); runc-ts warned
  it('ambient capabilities only where permitted and inheritable; the rest left out without a warning, as runc 1.1', () => {
    const p = buildInitPlan(input(specOf((c) => (c.process.capabilities.inheritable = ['CAP_KILL']))));
    expect(p.steps.find((x) => x.op === 'ambientRaise')).toMatchObject({ mask: 1n << 5n });
    expect(p.warnings.filter((w) => /ambient/.test(w))).toEqual([]);
    const dflt = buildInitPlan(input(specOf()));
    expect(dflt.steps.some((x) => x.op === 'ambientRaise')).toBe(false);
    expect(dflt.warnings).toEqual([]);
  });
  it('a capability the host bounding set lacks is an error naming it (CAP_SYS_RESOURCE here), not a silent grant of fewer', () => {
    expect(() => buildInitPlan(input(specOf((c) => c.process.capabilities.bounding.push('CAP_SYS_RESOURCE'))))).toThrow("config.json: process.capabilities.bounding[3]: CAP_SYS_RESOURCE is not in the host's bounding set");
    expect(() => buildInitPlan(input(specOf((c) => c.process.capabilities.permitted.push('CAP_CHECKPOINT_RESTORE')), { host: { ...host, lastCap: 39 } }))).toThrow('config.json: process.capabilities.permitted[3]: CAP_CHECKPOINT_RESTORE is not known to this kernel (cap_last_cap 39)');
  });
  it('no capabilities field: every set empty (runc drops all)', () => {
    const s = buildInitPlan(input(specOf((c) => delete c.process.capabilities))).steps;
    expect(s.find((x) => x.op === 'capset')).toEqual({ op: 'capset', effective: 0n, permitted: 0n, inheritable: 0n });
    expect(s.find((x) => x.op === 'boundingSet')).toMatchObject({ keep: 0n });
  });
  it('seccomp last when no_new_privs is on; before the capability drop when it is off (needs CAP_SYS_ADMIN)', () => {
    const sc = { program: new Uint8Array(8), flags: 0 };
    const on = names(buildInitPlan(input(specOf((c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' })), { seccomp: sc })).steps);
    expect(on.slice(-3)).toEqual(['closeRange', 'seccomp', 'exec']);
    const off = names(buildInitPlan(input(specOf((c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
      c.process.noNewPrivileges = false;
    }), { seccomp: sc })).steps);
    expect(off.indexOf('seccomp (before dropping CAP_SYS_ADMIN)')).toBeLessThan(off.indexOf('drop bounding set'));
    expect(() => buildInitPlan(input(specOf((c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' }))))).toThrow('config.json: linux.seccomp: no compiled program given to the plan');
  });
  it('parked: READY, then block writing the exec fifo, reopened through /proc/self/fd; fds closed before exec (CVE-2024-21626)', () => {
    const s = buildInitPlan(input(specOf(), { preserveFds: 2 })).steps;
    const r = idx(s, 'ready');
    expect(s[r + 1]).toMatchObject({ op: 'open', path: '/proc/self/fd/5', flags: 1 });
    expect(s[r + 2]).toMatchObject({ op: 'writeFd', data: '0' });
    expect(s.at(-2)).toEqual({ op: 'closeRange', first: 5, last: 0xffffffff, cloexec: true });
    expect(s.at(-1)).toEqual({ op: 'exec', file: 'sh', argv: ['sh'], envp: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'], search: true, looked: true });
  });
  it('rlimits and oom_score_adj are set in the host user namespace, before the user namespace exists', () => {
    const s = buildInitPlan(input(specOf((c) => (c.process.oomScoreAdj = 100), () => rootlessSpec(0, 0)))).steps;
    expect(idx(s, 'setrlimit(RLIMIT_NOFILE)')).toBeLessThan(idx(s, 'unshare(user)'));
    expect(idx(s, 'write(oom_score_adj)')).toBeLessThan(idx(s, 'unshare(user)'));
  });
  it('namespaces by path: opened first, non-user ones tried, user, the failed ones again', () => {
    const s = buildInitPlan(input(specOf((c) => {
      c.linux.namespaces = [{ type: 'mount' }, { type: 'network', path: '/proc/7/ns/net' }, { type: 'user', path: '/proc/7/ns/user' }, { type: 'uts' }];
      c.linux.uidMappings = undefined;
    }))).steps;
    expect(names(s).slice(2, 9)).toEqual(['open(/proc/7/ns/net)', 'open(/proc/7/ns/user)', 'setns(network)', 'setns(user)', 'setns(network)', 'close(user)', 'close(network)']);
    expect(s[4]).toMatchObject({ ignoreError: true });
    expect(s[6]).toMatchObject({ when: { step: 4, ok: false } });
    expect(s[5]).not.toHaveProperty('when');
  });
  it('a mount namespace joined by path (runc does it; validation suite linux_ns_path): setns before the rootfs is prepared in it', () => {
    const s = buildInitPlan(input(specOf((c) => (c.linux.namespaces[4] = { type: 'mount', path: '/proc/7/ns/mnt' })))).steps;
    expect(idx(s, 'open(/proc/7/ns/mnt)')).toBeLessThan(idx(s, 'setns(mount)'));
    expect(idx(s, 'setns(mount)')).toBeLessThan(idx(s, 'mount(/, rslave)'));
    expect(names(s).find((n) => n.startsWith('unshare('))).not.toMatch(/mnt|mount/);
    expect(names(s)).toContain('pivotRoot');
  });
  it('refusals: terminal without a console socket, hooks without a pause', () => {
    expect(() => buildInitPlan(input(specOf((c) => (c.process.terminal = true))))).toThrow('config.json: process.terminal: true needs --console-socket');
    expect(() => buildInitPlan(input(specOf((c) => (c.hooks = { createContainer: [{ path: '/x' }] }))))).toThrow('config.json: hooks.createContainer: hooks given but no pause for them');
  });
  it('additional groups are refused when setgroups is denied (rootless user namespace)', () => {
    expect(() => buildInitPlan(input(specOf((c) => (c.process.user.additionalGids = [0]), () => rootlessSpec(1000, 1000)), { rootless: true }))).toThrow('config.json: process.user.additionalGids: cannot be set: setgroups is denied in a rootless user namespace');
  });
  it('a read-only /dev stays writable until its devices are made, then is remounted', () => {
    const s = buildInitPlan(input(specOf((c) => c.mounts[1].options.push('ro')))).steps;
    expect(s.find((x) => x.label === 'mount(/dev, tmpfs)')).toMatchObject({ flags: MS.NOSUID | MS.STRICTATIME });
    expect(idx(s, 'remount(/dev, ro)')).toBeGreaterThan(idx(s, 'mknod(/dev/urandom)'));
  });
  it('exec: cgroup joined before entering; every namespace at once through the init pidfd; fork for the pid namespace', () => {
    const s = buildExecPlan({ process: specOf().process!, namespaces: ['pid', 'mount', 'user'], initPidfd: 11, host }).steps;
    expect(names(s).slice(0, 6)).toEqual(['prctl(PR_SET_DUMPABLE, 0)', 'setrlimit(RLIMIT_NOFILE)', 'wait for parent (cgroup)', 'setns(pid,mount,user)', 'fork (into the pid namespace)', 'setsid']);
    expect(s[3]).toMatchObject({ op: 'setnsPidfd', pidfd: 11, mask: 0x20000000 | 0x20000 | 0x10000000 });
  });
});

describe('mount options (runc parseMountOptions)', () => {
  it('flags, cleared flags, propagation and data', () => {
    expect(parseMountOptions(['nosuid', 'ro', 'rw', 'rprivate', 'mode=755', 'size=65536k', 'rbind'])).toEqual({
      flags: MS.NOSUID | MS.BIND | MS.REC,
      clear: MS.RDONLY,
      propagation: [MS.PRIVATE | MS.REC],
      data: ['mode=755', 'size=65536k'],
    });
  });
});

describe('rootfs parent mount (runc rootfsParentMountPrivate): pivot_root refuses a new root under a shared mount', () => {
  const MI = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '30 22 0:30 / /tmp rw shared:7 - tmpfs tmpfs rw',
    '31 22 0:31 / /srv rw unbindable - tmpfs tmpfs rw',
    '32 30 0:32 / /tmp/b rw master:9 - tmpfs tmpfs rw',
  ].join('\n');
  it('finds the longest mount point above the rootfs (not a sibling sharing a prefix) and its shared flag', () => {
    expect(rootfsParentMount(MI, '/tmp/b/rootfs')).toEqual({ mountPoint: '/tmp/b', shared: false, unbindable: false });
    expect(rootfsParentMount(MI, '/tmp/bundle/rootfs')).toEqual({ mountPoint: '/tmp', shared: true, unbindable: false });
    expect(rootfsParentMount(MI, '/srv/rootfs')).toEqual({ mountPoint: '/srv', shared: false, unbindable: true });
    expect(rootfsParentMount(MI, '/var/rootfs')).toEqual({ mountPoint: '/', shared: true, unbindable: false });
  });
  it('made private after the root propagation: rshared/runbindable always, rslave/rprivate never, a non-recursive one leaves a parent other than / as the host has it', () => {
    const sharedTmp = { mountPoint: '/tmp', shared: true };
    expect(rootfsParentNeedsPrivate(MS.SHARED | MS.REC, { mountPoint: '/srv', shared: false })).toBe(true);
    expect(rootfsParentNeedsPrivate(MS.SLAVE | MS.REC, sharedTmp)).toBe(false);
    expect(rootfsParentNeedsPrivate(MS.PRIVATE | MS.REC, sharedTmp)).toBe(false);
    expect(rootfsParentNeedsPrivate(MS.SHARED, { mountPoint: '/', shared: false })).toBe(true);
    expect(rootfsParentNeedsPrivate(MS.SLAVE, { mountPoint: '/', shared: true })).toBe(false);
    expect(rootfsParentNeedsPrivate(MS.SLAVE, sharedTmp)).toBe(true);
    expect(rootfsParentNeedsPrivate(MS.PRIVATE, { mountPoint: '/srv', shared: false })).toBe(false);
    // unbindable: the rbind of the rootfs would fail with EINVAL (runc 1.1.5 fails the suite's linux_rootfs_propagation so)
    expect(rootfsParentNeedsPrivate(MS.UNBINDABLE, { mountPoint: '/', shared: false })).toBe(true);
    expect(rootfsParentNeedsPrivate(MS.UNBINDABLE | MS.REC, { mountPoint: '/srv', shared: false })).toBe(true);
    expect(rootfsParentNeedsPrivate(MS.SLAVE, { mountPoint: '/srv', shared: false, unbindable: true })).toBe(true);
  });
  it('rootfsPropagation "shared" with the rootfs on /: / made private before the rootfs bind (the validation suite\'s config_updates_without_affect failed pivot_root with EINVAL); the default rslave adds nothing; --no-pivot needs none', () => {
    const label = "mount(/, private): the rootfs's parent mount, shared or unbindable, would fail pivot_root or the bind";
    const shared = buildInitPlan(input(specOf((c) => (c.linux.rootfsPropagation = 'shared')), { host: { ...host, rootfsParent: { mountPoint: '/', shared: true } } })).steps;
    expect(idx(shared, 'mount(/, shared)')).toBeLessThan(idx(shared, label));
    expect(idx(shared, label)).toBeLessThan(idx(shared, 'mount(rootfs, rootfs, rbind)'));
    expect(shared[idx(shared, label)]).toMatchObject({ op: 'mount', source: null, target: '/', flags: MS.PRIVATE });
    const dflt = buildInitPlan(input(specOf(), { host: { ...host, rootfsParent: { mountPoint: '/', shared: true } } })).steps;
    expect(names(dflt).filter((n) => n.includes('private'))).toEqual([]);
    const noPivot = buildInitPlan(input(specOf((c) => (c.linux.rootfsPropagation = 'shared')), { noPivot: true, host: { ...host, rootfsParent: { mountPoint: '/', shared: true } } })).steps;
    expect(names(noPivot)).not.toContain(label);
  });
  it('device nodes are made with umask 0 (fileMode 0660 stays 0660, as runc; validation suite linux_devices), the process umask set after; none in a user namespace (bound, not made)', () => {
    const s = buildInitPlan(input(specOf((c) => (c.linux.devices = [{ type: 'c', path: '/dev/test1', major: 10, minor: 666, fileMode: 0o660 }])))).steps;
    expect(idx(s, 'umask(0) for the device nodes')).toBeLessThan(idx(s, 'mknod(/dev/null)'));
    expect(s[idx(s, 'mknod(/dev/test1)')]).toMatchObject({ mode: 0o020000 | 0o660 });
    expect(idx(s, 'mknod(/dev/test1)')).toBeLessThan(names(s).lastIndexOf('umask'));
    const userns = buildInitPlan(input(specOf(() => {}, () => rootlessSpec(1000, 1000)), { rootless: true })).steps;
    expect(names(userns)).not.toContain('umask(0) for the device nodes');
  });
});
