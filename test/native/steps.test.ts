import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NATIVE, ENV, runCaptured, sh } from '../helpers/native.js';
import { IS_ROOT } from '../helpers/live.js';
import { NativeError, NS_IOCTL, nsIoctl, runSteps } from '../../src/native/index.js';
import { PR, type Step } from '../../src/native/steps.js';
import { Spawned, parentMap, waitFor } from '../../scripts/lib/spawned.js';

const NEWNS = 0x20000;
const NEWUTS = 0x4000000;
const NEWPID = 0x20000000;
const NEWNET = 0x40000000;
const NEWUSER = 0x10000000;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_PRIVATE = 0x40000;
const MNT_DETACH = 2;
const RLIMIT_NOFILE = 7;
const CAP_KILL = 1n << 5n;
const CAP_SYS_RESOURCE = 1n << 24n;
const SKIP = 2; // runCaptured puts two dup2 steps first

/** the failing step and errno of a list that must fail */
async function failure(steps: Step[], opts: { failAt?: number } = {}): Promise<NativeError> {
  try {
    const r = await runCaptured(steps, opts);
    throw new Error(`expected a failure, got exit ${r.code}: ${r.out}`);
  } catch (e) {
    if (!(e instanceof NativeError)) throw e;
    return e;
  }
}

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** children of this process other than the test's own long-lived target */
let keep = new Set<number>();
function myChildren(): number[] {
  return [...parentMap()].filter(([pid, ppid]) => ppid === process.pid && !keep.has(pid)).map(([pid]) => pid);
}

describe.skipIf(!NATIVE || !IS_ROOT)('native step runner (fork → steps → execve)', () => {
  const spawned = new Spawned();
  let target = 0;
  const cgroupDir = `/sys/fs/cgroup/pids/hostscope-test-${process.pid}`;
  let root = '';

  beforeAll(async () => {
    target = spawned.start('unshare', ['--net', '--uts', 'sh', '-c', 'hostname native-target; exec sleep 600']).pid!;
    keep = new Set([target]);
    expect(await waitFor(() => readlinkSync(`/proc/${target}/ns/net`) !== readlinkSync('/proc/self/ns/net') && readlinkSync(`/proc/${target}/exe`).endsWith('sleep'), 60_000)).toBe(true);
    // a tiny root: /usr bind-mounted inside the child's own mount namespace, symlinks for /bin, /lib…
    root = mkdtempSync(join(tmpdir(), 'hostscope-root-'));
    for (const d of ['usr', 'old', 'proc', 'tmp']) mkdirSync(join(root, d));
    for (const l of ['bin', 'lib', 'lib64', 'sbin']) if (existsSync(`/${l}`)) symlinkSync(`usr/${l}`, join(root, l));
  });
  afterAll(async () => {
    await spawned.stopAll();
    rmSync(root, { recursive: true, force: true });
    if (existsSync(cgroupDir)) rmdirSync(cgroupDir);
  });

  it('exec: runs the program with the given environment, PATH looked up in it; exit code', async () => {
    const r = await runCaptured([sh('echo "$LANG"; exit 3')]);
    expect(r).toMatchObject({ code: 3, signal: null, out: 'C\n' });
    expect((await failure([{ op: 'exec', file: 'true', argv: ['true'], envp: ['PATH=/nonexistent'], search: true }])).code).toBe('ENOENT');
    const eacces = await failure([{ op: 'exec', file: '/etc/passwd', argv: ['x'], envp: ENV, search: false }]);
    expect({ syscall: eacces.syscall, code: eacces.code, step: eacces.step, path: eacces.path }).toEqual({ syscall: 'execve', code: 'EACCES', step: SKIP, path: '/etc/passwd' });
  });

  it('exec: signals are reset (Node ignores SIGPIPE) and stdio is inherited', async () => {
    const r = await runCaptured([sh('grep -E "^Sig(Ign|Blk)" /proc/self/status')]);
    expect(r.out).toBe('SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  });

  it('setns by fd: the program is in the target net and uts namespaces; a bad fd is EBADF', async () => {
    const net = openSync(`/proc/${target}/ns/net`, 'r');
    const uts = openSync(`/proc/${target}/ns/uts`, 'r');
    try {
      const r = await runCaptured([{ op: 'setns', fd: net, nstype: NEWNET }, { op: 'setns', fd: uts, nstype: NEWUTS }, sh('hostname; readlink /proc/self/ns/net')]);
      expect(r.out).toBe(`native-target\n${readlinkSync(`/proc/${target}/ns/net`)}\n`);
      const e = await failure([{ op: 'setns', fd: 9999, nstype: NEWNET, label: 'setns(net)' }, sh('true')]);
      expect([e.message, e.step]).toEqual(['setns(net): Bad file descriptor', SKIP]);
      const wrongType = await failure([{ op: 'setns', fd: net, nstype: NEWUTS }, sh('true')]);
      expect(wrongType.code).toBe('EINVAL');
    } finally {
      closeSync(net);
      closeSync(uts);
    }
  });

  it('setns by pidfd: several namespaces at once', async () => {
    const { pidfdOpen } = await import('../../src/native/index.js');
    const pidfd = pidfdOpen(target);
    try {
      const r = await runCaptured([{ op: 'setnsPidfd', pidfd, mask: NEWNET | NEWUTS }, sh('hostname')]);
      expect(r.out).toBe('native-target\n');
      expect((await failure([{ op: 'setnsPidfd', pidfd, mask: 0x1 }, sh('true')])).code).toBe('EINVAL');
    } finally {
      closeSync(pidfd);
    }
  });

  it('unshare + sethostname; an invalid flag and a too long name fail', async () => {
    const r = await runCaptured([{ op: 'unshare', flags: NEWUTS }, { op: 'sethostname', name: 'stepped' }, sh('hostname')]);
    expect(r.out).toBe('stepped\n');
    expect((await failure([{ op: 'unshare', flags: 0x1 }, sh('true')])).code).toBe('EINVAL');
    expect((await failure([{ op: 'unshare', flags: NEWUTS }, { op: 'sethostname', name: 'x'.repeat(70) }, sh('true')])).message).toBe('sethostname: Invalid argument');
  });

  it('waitParent: the parent writes the uid map of a new user namespace while the child waits', async () => {
    const r = await runCaptured([{ op: 'unshare', flags: NEWUSER }, { op: 'waitParent' }, sh('cat /proc/self/uid_map; id -u')], {
      beforeRelease: (pid) => {
        writeFileSync(`/proc/${pid}/uid_map`, '0 0 1\n');
      },
    });
    expect(r.out.replace(/ +/g, ' ')).toBe(' 0 0 1\n0\n');
  });

  it('waitParent after a fork: the parent is told the pid of the process that waits', async () => {
    let told = 0;
    const r = await runCaptured([{ op: 'unshare', flags: NEWPID }, { op: 'fork' }, { op: 'waitParent' }, sh('echo $$')], {
      beforeRelease: (pid) => {
        told = pid;
        // it is the process in the new pid namespace: its NSpid says 1 there
        expect(/^NSpid:\t(\d+)\t1$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]).toBe(String(pid));
      },
    });
    expect(r.out).toBe('1\n');
    expect(told).toBe(r.pid); // the grandchild, whose host pid runSteps returns too
  });

  it('waitParent: when the parent gives up, the child stops and everything is reaped', async () => {
    const before = fdCount();
    await expect(runSteps([{ op: 'waitParent' }, sh('true')], { beforeRelease: () => Promise.reject(new Error('parent gave up')) })).rejects.toThrow('parent gave up');
    expect(fdCount()).toBe(before);
    expect(myChildren()).toEqual([]);
  });

  it('fork: unshare(pid) needs a second process; the program is pid 1 and Node still gets its status', async () => {
    const r = await runCaptured([{ op: 'unshare', flags: NEWPID }, { op: 'fork' }, sh('echo $$; exit 9')]);
    expect(r).toMatchObject({ code: 9, out: '1\n' });
    expect(myChildren()).toEqual([]);
  });

  it('mount, pivot_root, umount2, chdir: a root of its own', async () => {
    const r = await runCaptured([
      { op: 'unshare', flags: NEWNS },
      { op: 'mount', source: null, target: '/', fstype: null, flags: MS_REC | MS_PRIVATE, data: null },
      { op: 'mount', source: root, target: root, fstype: null, flags: MS_BIND, data: null },
      { op: 'mount', source: '/usr', target: join(root, 'usr'), fstype: null, flags: MS_BIND | MS_REC, data: null },
      { op: 'mount', source: 'tmpfs', target: join(root, 'tmp'), fstype: 'tmpfs', flags: 0, data: 'size=1m' },
      { op: 'pivotRoot', newRoot: root, putOld: join(root, 'old') },
      { op: 'chdir', path: '/' },
      { op: 'umount2', target: '/old', flags: MNT_DETACH },
      sh('ls /; ls /old | wc -l; stat -f -c %T /tmp'),
    ]);
    expect(r.out.split('\n').filter(Boolean)).toEqual([...readdirSync(root).sort(), '0', 'tmpfs']);
    expect((await failure([{ op: 'unshare', flags: NEWNS }, { op: 'mount', source: 'x', target: '/mnt', fstype: 'nosuchfs', flags: 0, data: null }, sh('true')])).code).toBe('ENODEV');
    expect((await failure([{ op: 'unshare', flags: NEWNS }, { op: 'umount2', target: '/nonexistent', flags: 0 }, sh('true')])).code).toBe('ENOENT');
    expect((await failure([{ op: 'pivotRoot', newRoot: '/nonexistent', putOld: '/nonexistent/old' }, sh('true')])).code).toBe('ENOENT');
  });

  it('chroot, open + fchdir with a register, close', async () => {
    const r = await runCaptured([
      { op: 'unshare', flags: NEWNS },
      { op: 'mount', source: null, target: '/', fstype: null, flags: MS_REC | MS_PRIVATE, data: null },
      { op: 'mount', source: '/usr', target: join(root, 'usr'), fstype: null, flags: MS_BIND | MS_REC, data: null },
      { op: 'open', path: join(root, 'usr'), flags: 0o200000, reg: 1 },
      { op: 'chroot', path: root },
      { op: 'fchdir', fd: { reg: 1 } },
      sh('ls -d /old; pwd'),
    ]);
    expect(r.out).toBe('/old\n/usr\n');
    expect((await failure([{ op: 'chroot', path: '/nonexistent' }, sh('true')])).code).toBe('ENOENT');
    expect((await failure([{ op: 'chdir', path: '/nonexistent' }, sh('true')])).code).toBe('ENOENT');
    expect((await failure([{ op: 'open', path: '/nonexistent', flags: 0, reg: 0 }, sh('true')])).code).toBe('ENOENT');
    expect((await failure([{ op: 'fchdir', fd: { reg: 3 } }, sh('true')])).code).toBe('EBADF');
    expect((await failure([{ op: 'close', fd: 9999 }, sh('true')])).code).toBe('EBADF');
  });

  it('setgroups, setresgid, setresuid; no way back to root', async () => {
    const r = await runCaptured([{ op: 'setgroups', gids: [65534, 100] }, { op: 'setresgid', rgid: 65534, egid: 65534, sgid: 65534 }, { op: 'setresuid', ruid: 65534, euid: 65534, suid: 65534 }, sh('id -u; id -g; id -G')]);
    expect(r.out).toBe('65534\n65534\n65534 100\n');
    const e = await failure([{ op: 'setresuid', ruid: 65534, euid: 65534, suid: 65534 }, { op: 'setresuid', ruid: 0, euid: 0, suid: 0 }, sh('true')]);
    expect([e.syscall, e.code, e.step]).toEqual(['setresuid', 'EPERM', SKIP + 1]);
  });

  it('capset drops for good; ambient capabilities survive exec as non-root; CAP_SYS_RESOURCE is not ours to raise', async () => {
    const e = await failure([{ op: 'capset', effective: CAP_KILL, permitted: CAP_KILL, inheritable: 0n }, { op: 'capset', effective: CAP_KILL | 1n, permitted: CAP_KILL | 1n, inheritable: 0n }, sh('true')]);
    expect([e.syscall, e.code, e.step]).toEqual(['capset', 'EPERM', SKIP + 1]);
    const r = await runCaptured([
      { op: 'prctl', option: PR.SET_KEEPCAPS, arg: 1 },
      { op: 'setresuid', ruid: 65534, euid: 65534, suid: 65534 },
      { op: 'capset', effective: CAP_KILL, permitted: CAP_KILL, inheritable: CAP_KILL },
      { op: 'ambientRaise', mask: CAP_KILL },
      sh('grep -E "^Cap(Eff|Amb)" /proc/self/status'),
    ]);
    expect(r.out).toBe('CapEff:\t0000000000000020\nCapAmb:\t0000000000000020\n');
    expect((await failure([{ op: 'ambientRaise', mask: CAP_SYS_RESOURCE }, sh('true')])).code).toBe('EPERM');
  });

  it('prctl no_new_privs and bounding-set drop; an unknown option is EINVAL', async () => {
    const r = await runCaptured([{ op: 'prctl', option: PR.SET_NO_NEW_PRIVS, arg: 1 }, { op: 'prctl', option: PR.CAPBSET_DROP, arg: 5 }, sh('grep -E "^(CapBnd|NoNewPrivs)" /proc/self/status')]);
    expect(r.out).toMatch(/^CapBnd:\t[0-9a-f]+\nNoNewPrivs:\t1\n$/);
    expect(BigInt(`0x${/CapBnd:\t([0-9a-f]+)/.exec(r.out)![1]}`) & CAP_KILL).toBe(0n);
    expect((await failure([{ op: 'prctl', option: 9999, arg: 0 }, sh('true')])).code).toBe('EINVAL');
  });

  it('setrlimit; soft above hard is EINVAL', async () => {
    expect((await runCaptured([{ op: 'setrlimit', resource: RLIMIT_NOFILE, soft: 100, hard: 200 }, sh('ulimit -n; ulimit -Hn')])).out).toBe('100\n200\n');
    expect((await failure([{ op: 'setrlimit', resource: RLIMIT_NOFILE, soft: 300, hard: 200 }, sh('true')])).code).toBe('EINVAL');
  });

  it('setsid makes a session leader (twice is EPERM); TIOCSCTTY on a non-terminal fails', async () => {
    const r = await runCaptured([{ op: 'setsid' }, sh('echo $$ $(cut -d" " -f6 /proc/$$/stat)')]);
    const [pid, sid] = r.out.trim().split(' ');
    expect(sid).toBe(pid);
    expect((await failure([{ op: 'setsid' }, { op: 'setsid' }, sh('true')])).code).toBe('EPERM');
    expect((await failure([{ op: 'tiocsctty', fd: 1 }, sh('true')])).code).toBe('ENOTTY');
  });

  it('writeFile and writePid (joins a v1 pids cgroup the test made); dup2 onto a bad fd fails', async () => {
    expect((await runCaptured([{ op: 'writeFile', path: '/proc/self/oom_score_adj', data: '500' }, sh('cat /proc/self/oom_score_adj')])).out).toBe('500\n');
    expect((await failure([{ op: 'writeFile', path: '/nonexistent/x', data: '1' }, sh('true')])).code).toBe('ENOENT');
    mkdirSync(cgroupDir);
    const procs = openSync(join(cgroupDir, 'cgroup.procs'), 'a');
    try {
      const r = await runCaptured([{ op: 'writePid', fd: procs }, sh('grep pids /proc/self/cgroup')]);
      expect(r.out).toBe(`8:pids:/hostscope-test-${process.pid}\n`.replace(/^8/, r.out.split(':')[0]!));
      expect(r.out).toContain(`:pids:/hostscope-test-${process.pid}`);
    } finally {
      closeSync(procs);
    }
    const ro = openSync('/dev/null', 'r');
    expect((await failure([{ op: 'writePid', fd: ro }, sh('true')])).code).toBe('EBADF');
    closeSync(ro);
    expect((await failure([{ op: 'dup2', from: 9999, to: 5 }, sh('true')])).code).toBe('EBADF');
  });

  it('a failure injected at every position is reported with that step, and nothing leaks', async () => {
    const list: Step[] = [{ op: 'unshare', flags: NEWUTS }, { op: 'sethostname', name: 'x' }, { op: 'chdir', path: '/' }, { op: 'setrlimit', resource: RLIMIT_NOFILE, soft: 512, hard: 1024 }, sh('true')];
    const fds = fdCount();
    for (let i = 0; i < list.length + SKIP; i++) {
      const e = await failure(list, { failAt: i });
      expect([e.step, e.code]).toEqual([i, 'EIO']);
    }
    expect(fdCount()).toBe(fds);
    expect(myChildren()).toEqual([]);
  });

  it('an ignored failure does not stop the list; conditions run a step only after another failed or succeeded', async () => {
    const r = await runCaptured([
      { op: 'chdir', path: '/nonexistent', ignoreError: true },
      { op: 'chdir', path: '/tmp', when: { step: SKIP, ok: false } },
      { op: 'chdir', path: '/etc', when: { step: SKIP, ok: true } },
      sh('pwd'),
    ]);
    expect(r.out).toBe('/tmp\n');
  });

  it('100 concurrent spawns: all exit 0, no fd, child or zombie left', async () => {
    const fds = fdCount();
    const devnull = openSync('/dev/null', 'w');
    const procs = await Promise.all(Array.from({ length: 100 }, () => runSteps([{ op: 'dup2', from: devnull, to: 1 }, { op: 'unshare', flags: NEWUTS }, sh('hostname')])));
    const statuses = await Promise.all(procs.map((p) => p.exited));
    closeSync(devnull);
    expect(statuses.every((s) => s.code === 0)).toBe(true);
    expect(fdCount()).toBe(fds);
    expect(myChildren()).toEqual([]);
  });

  it('signal(): pidfd_send_signal reaches the program; after exit it reports false', async () => {
    const p = await runSteps([sh('sleep 30')]);
    expect(p.signal(15)).toBe(true);
    expect(await p.exited).toEqual({ code: null, signal: 15 });
    expect(p.signal(15)).toBe(false);
  });

  it('namespace ioctls: type, owner user namespace and uid, no parent for the initial pid namespace', () => {
    const net = openSync('/proc/self/ns/net', 'r');
    const pid = openSync('/proc/self/ns/pid', 'r');
    try {
      expect(nsIoctl(net, NS_IOCTL.GET_NSTYPE)).toBe(NEWNET);
      const owner = nsIoctl(net, NS_IOCTL.GET_USERNS);
      expect(statSync(`/proc/self/fd/${owner}`).ino).toBe(statSync('/proc/self/ns/user').ino);
      expect(nsIoctl(owner, NS_IOCTL.GET_OWNER_UID)).toBe(0);
      closeSync(owner);
      expect(() => nsIoctl(pid, NS_IOCTL.GET_PARENT)).toThrow(/NS_GET_PARENT.*Operation not permitted/);
    } finally {
      closeSync(net);
      closeSync(pid);
    }
  });
});
