// The steps an OCI runtime's init needs (live, root): each succeeding with an observable effect
// and failing with the errno the kernel gives; READY with the child parked on an exec fifo while
// the event loop runs; a pty master over SCM_RIGHTS; no runner fd crossing into another child.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, closeSync, writeSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NATIVE, ENV, runCaptured, sh } from '../helpers/native.js';
import { IS_ROOT, ROOT_DIR } from '../helpers/live.js';
import { NativeError, closeFd, listenUnix, recvFd, runSteps, socketPair, ttyClearOnlcr, ttySetWinsize } from '../../src/native/index.js';
import { MAX_STEPS, PR, RESOLVE, SECCOMP_FLAG, StepListError, type Step } from '../../src/native/steps.js';

const NEWNS = 0x20000;
const NEWUTS = 0x4000000;
const MS_PRIVATE = 0x40000;
const MS_REC = 0x4000;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_DIRECTORY = 0o200000;
const O_PATH = 0o10000000;
const S_IFCHR = 0o020000;
const CAP_KILL = 5;
const SKIP = 2; // runCaptured puts two dup2 steps first

async function failure(steps: Step[]): Promise<NativeError> {
  try {
    const r = await runCaptured(steps);
    throw new Error(`expected a failure, got exit ${r.code}: ${r.out}`);
  } catch (e) {
    if (!(e instanceof NativeError)) throw e;
    return e;
  }
}

/** struct sock_filter[] as bytes */
function bpf(insns: [code: number, jt: number, jf: number, k: number][]): Uint8Array {
  const b = new Uint8Array(insns.length * 8);
  const v = new DataView(b.buffer);
  insns.forEach(([code, jt, jf, k], i) => {
    v.setUint16(i * 8, code, true);
    v.setUint8(i * 8 + 2, jt);
    v.setUint8(i * 8 + 3, jf);
    v.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return b;
}
const LD_ABS = 0x20;
const JEQ = 0x15;
const RET = 0x06;
const ALLOW = 0x7fff0000;
const ERRNO_EPERM = 0x00050000 | 1;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const NR_UNAME = 63; // x86_64
const NR_CLOSE_RANGE = 436; // x86_64
/** uname(2) fails with EPERM, everything else allowed (x86_64; other arches allowed through) */
const DENY_UNAME = bpf([
  [LD_ABS, 0, 0, 4],
  [JEQ, 1, 0, AUDIT_ARCH_X86_64],
  [RET, 0, 0, ALLOW],
  [LD_ABS, 0, 0, 0],
  [JEQ, 0, 1, NR_UNAME],
  [RET, 0, 0, ERRNO_EPERM],
  [RET, 0, 0, ALLOW],
]);

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** inodes of the pipes a process holds on fds above 2 */
function pipeInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    if (Number(fd) < 3) continue;
    try {
      const l = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (l.startsWith('pipe:') || l.startsWith('anon_inode:[pidfd]')) out.add(l);
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!NATIVE || !IS_ROOT)('runtime steps (live)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `hostscope-rtsteps-${process.pid}-`));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('mkdir (with parents: mkdir -p), umask applies, symlink, chmod; EEXIST, ENOENT as the kernel says', async () => {
    const d = join(dir, 'mk');
    const r = await runCaptured([
      { op: 'umask', mask: 0o077 },
      { op: 'mkdir', path: join(d, 'a/b/c'), mode: 0o777, parents: true },
      { op: 'mkdir', path: join(d, 'a/b/c'), mode: 0o777, parents: true }, // existing: fine
      { op: 'symlink', target: 'a/b', path: join(d, 'link') },
      { op: 'mkdir', path: join(d, 'm'), mode: 0o755 },
      { op: 'chmod', path: join(d, 'm'), mode: 0o1777 },
      sh('true'),
    ]);
    expect(r.code).toBe(0);
    expect(statSync(join(d, 'a/b/c')).mode & 0o7777).toBe(0o700);
    expect(readlinkSync(join(d, 'link'))).toBe('a/b');
    expect(statSync(join(d, 'm')).mode & 0o7777).toBe(0o1777);
    expect((await failure([{ op: 'mkdir', path: join(d, 'm'), mode: 0o755 }, sh('true')])).code).toBe('EEXIST');
    expect((await failure([{ op: 'mkdir', path: join(d, 'no/such'), mode: 0o755 }, sh('true')])).code).toBe('ENOENT');
    writeFileSync(join(d, 'file'), '');
    const notDir = await failure([{ op: 'mkdir', path: join(d, 'file'), mode: 0o755, parents: true }, sh('true')]);
    expect([notDir.code, notDir.step, notDir.path]).toEqual(['ENOTDIR', SKIP, join(d, 'file')]);
    expect((await failure([{ op: 'symlink', target: 'x', path: join(d, 'link') }, sh('true')])).code).toBe('EEXIST');
    expect((await failure([{ op: 'chmod', path: join(d, 'nope'), mode: 0o644 }, sh('true')])).code).toBe('ENOENT');
  });

  it('lookPath as runc\'s exec.LookPath, as the user the steps made: found in PATH or not (ENOENT), not executable (EACCES), a directory (EISDIR); nothing exec\'d', async () => {
    const d = join(dir, 'lp');
    mkdirSync(d, { mode: 0o755 });
    chmodSync(dir, 0o755); // nobody may look in: the mode of the file decides
    writeFileSync(join(d, 'noexec'), '#!/bin/sh\n', { mode: 0o644 });
    writeFileSync(join(d, 'rootonly'), '#!/bin/sh\n', { mode: 0o700 });
    const look = (file: string, envp: string[] = ['PATH=/nonexistent:/usr/bin:/bin']): Step => ({ op: 'lookPath', file, envp, search: !file.includes('/') });
    expect((await runCaptured([look('sh'), look(join(d, 'rootonly')), sh('echo found')])).out).toBe('found\n');
    const nf = await failure([look('hostscope-no-such-command'), sh('true')]);
    expect([nf.code, nf.syscall, nf.step, nf.path]).toEqual(['ENOENT', 'lookpath', SKIP, 'hostscope-no-such-command']);
    // a file in PATH that cannot be run is passed over, as Go's LookPath does: not found
    expect((await failure([look('noexec', [`PATH=${d}`]), sh('true')])).code).toBe('ENOENT');
    expect((await failure([look(join(d, 'noexec')), sh('true')])).code).toBe('EACCES');
    expect((await failure([look(join(d, 'missing')), sh('true')])).code).toBe('ENOENT');
    expect((await failure([look(d), sh('true')])).code).toBe('EISDIR');
    // checked with the effective ids: mode 0700 root's is not nobody's
    expect((await failure([{ op: 'setresuid', ruid: 65534, euid: 65534, suid: 65534 }, look(join(d, 'rootonly')), sh('true')])).code).toBe('EACCES');
  });

  it("lookPath under a seccomp filter that refuses faccessat2 (EPERM, ENOSYS): the mode bits decide, as Go's LookPath does; the last PATH of envp is searched, as runc keeps it", async () => {
    const d = join(dir, 'lp2');
    mkdirSync(d, { mode: 0o755 });
    writeFileSync(join(d, 'noexec'), '#!/bin/sh\n', { mode: 0o644 });
    const look = (file: string, envp: string[] = ['PATH=/nonexistent:/usr/bin:/bin']): Step => ({ op: 'lookPath', file, envp, search: !file.includes('/') });
    for (const ret of [ERRNO_EPERM, 0x00050000 | 38 /* ENOSYS */]) {
      const deny = bpf([
        [LD_ABS, 0, 0, 4],
        [JEQ, 1, 0, AUDIT_ARCH_X86_64],
        [RET, 0, 0, ALLOW],
        [LD_ABS, 0, 0, 0],
        [JEQ, 0, 1, 439 /* faccessat2 */],
        [RET, 0, 0, ret],
        [RET, 0, 0, ALLOW],
      ]);
      expect((await runCaptured([{ op: 'seccomp', program: deny, flags: 0 }, look('sh'), sh('echo found')])).out).toBe('found\n');
      expect((await failure([{ op: 'seccomp', program: deny, flags: 0 }, look(join(d, 'noexec')), sh('true')])).code).toBe('EACCES');
    }
    expect((await runCaptured([look('sh', ['PATH=/nonexistent', 'PATH=/bin']), sh('echo found')])).out).toBe('found\n');
  });

  it('exec with looked runs what the lookPath step found, not what a second search of PATH would find (a file that appeared earlier in PATH meanwhile)', async () => {
    const d1 = join(dir, 'lp3a');
    const d2 = join(dir, 'lp3b');
    mkdirSync(d1, { mode: 0o755 });
    mkdirSync(d2, { mode: 0o755 });
    writeFileSync(join(d2, 'prog'), '#!/bin/sh\necho found-at-create\n', { mode: 0o755 });
    const envp = [`PATH=${d1}:${d2}`];
    const steps = (looked: boolean): Step[] => [
      { op: 'lookPath', file: 'prog', envp, search: true },
      // between create and start: a prog in an earlier PATH directory becomes runnable
      { op: 'chmod', path: join(d1, 'prog'), mode: 0o755 },
      { op: 'exec', file: 'prog', argv: ['prog'], envp, search: true, looked },
    ];
    writeFileSync(join(d1, 'prog'), '#!/bin/sh\necho appeared-later\n', { mode: 0o644 });
    expect((await runCaptured(steps(true))).out).toBe('found-at-create\n');
    // without it, the exec searches again (nsenter-ts's exec: no lookPath before it)
    chmodSync(join(d1, 'prog'), 0o644);
    expect((await runCaptured(steps(false))).out).toBe('appeared-later\n');
  });

  it('mknod makes a char device (1,3 as /dev/null); twice is EEXIST; a bad type is EINVAL', async () => {
    const p = join(dir, 'null');
    expect((await runCaptured([{ op: 'umask', mask: 0 }, { op: 'mknod', path: p, mode: S_IFCHR | 0o666, major: 1, minor: 3 }, sh('echo x > ' + p + '; echo ok')])).out).toBe('ok\n');
    const st = statSync(p);
    expect([st.isCharacterDevice(), st.rdev, st.mode & 0o777]).toEqual([true, 0x103, 0o666]);
    expect((await failure([{ op: 'mknod', path: p, mode: S_IFCHR | 0o666, major: 1, minor: 3 }, sh('true')])).code).toBe('EEXIST');
    expect((await failure([{ op: 'mknod', path: join(dir, 'bad'), mode: 0o170000 | 0o666, major: 0, minor: 0 }, sh('true')])).code).toBe('EINVAL');
  });

  it('chown of the file, and with noFollow of the link itself; ENOENT', async () => {
    const f = join(dir, 'owned');
    const l = join(dir, 'owned-link');
    writeFileSync(f, '');
    symlinkSync(f, l);
    await runCaptured([{ op: 'chown', path: f, uid: 65534, gid: 100 }, { op: 'chown', path: l, uid: 1, gid: -1, noFollow: true }, sh('true')]);
    expect([statSync(f).uid, statSync(f).gid]).toEqual([65534, 100]);
    expect([lstatSync(l).uid, lstatSync(l).gid]).toEqual([1, 0]);
    expect((await failure([{ op: 'chown', path: join(dir, 'nope'), uid: 0, gid: 0 }, sh('true')])).code).toBe('ENOENT');
  });

  it('open into a register, writeFd to it; open without O_CLOEXEC survives exec, with it does not; EBADF on an empty register', async () => {
    const f = join(dir, 'written');
    await runCaptured([{ op: 'open', path: f, flags: O_WRONLY | O_CREAT, mode: 0o600, reg: 5 }, { op: 'writeFd', fd: { reg: 5 }, data: new Uint8Array([0x68, 0x69, 0x00, 0x21]) }, sh('true')]);
    expect([...readFileSync(f)]).toEqual([0x68, 0x69, 0x00, 0x21]);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    const listing = 'for f in /proc/self/fd/*; do readlink $f; done';
    const kept = await runCaptured([{ op: 'open', path: '/etc/hostname', flags: 0, reg: 0, keepOnExec: true }, sh(listing)]);
    expect(kept.out.split('\n')).toContain('/etc/hostname');
    const closed = await runCaptured([{ op: 'open', path: '/etc/hostname', flags: 0, reg: 0 }, sh(listing)]);
    expect(closed.out.split('\n')).not.toContain('/etc/hostname');
    expect((await failure([{ op: 'writeFd', fd: { reg: 7 }, data: '0' }, sh('true')])).code).toBe('EBADF');
  });

  it('openat2 RESOLVE_IN_ROOT keeps an absolute symlink inside the root; RESOLVE_BENEATH refuses ..', async () => {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/passwd'), 'inside\n');
    symlinkSync('/etc/passwd', join(root, 'escape'));
    const r = await runCaptured([
      { op: 'open', path: root, flags: O_DIRECTORY, reg: 0 },
      { op: 'open', path: 'escape', flags: 0, reg: 1, dirfd: { reg: 0 }, resolve: RESOLVE.IN_ROOT, keepOnExec: true },
      sh('for f in /proc/self/fd/*; do readlink $f; done'),
    ]);
    expect(r.out.split('\n')).toContain(join(root, 'etc/passwd'));
    const e = await failure([{ op: 'open', path: root, flags: O_DIRECTORY, reg: 0 }, { op: 'open', path: '../', flags: 0, reg: 1, dirfd: { reg: 0 }, resolve: RESOLVE.BENEATH }, sh('true')]);
    expect([e.code, e.step]).toEqual(['EXDEV', SKIP + 1]);
  });

  it('mount onto an fd (/proc/self/fd/N of an O_PATH open), with propagation flags first; a closed register is EBADF', async () => {
    const m = join(dir, 'mnt');
    mkdirSync(m);
    const r = await runCaptured([
      { op: 'unshare', flags: NEWNS },
      { op: 'mount', source: null, target: '/', fstype: null, flags: MS_REC | MS_PRIVATE, data: null },
      { op: 'open', path: m, flags: O_PATH, reg: 3 },
      { op: 'mount', source: 'tmpfs', target: { fd: { reg: 3 } }, fstype: 'tmpfs', flags: 0, data: 'size=64k' },
      sh(`stat -f -c %T ${m}`),
    ]);
    expect(r.out).toBe('tmpfs\n');
    expect((await failure([{ op: 'unshare', flags: NEWNS }, { op: 'mount', source: 'tmpfs', target: { fd: { reg: 3 } }, fstype: 'tmpfs', flags: 0, data: null }, sh('true')])).code).toBe('EBADF');
  });

  it('closeRange with CLOSE_RANGE_CLOEXEC leaves only stdio to the program; without it later steps still report (the runner pipes are kept); first > last is EINVAL', async () => {
    const r = await runCaptured([{ op: 'open', path: '/etc/hostname', flags: 0, reg: 0, keepOnExec: true }, { op: 'closeRange', first: 3, last: 0xffffffff, cloexec: true }, sh('ls /proc/$$/fd | tr "\\n" " "')]);
    expect(r.out).toBe('0 1 2 ');
    const e = await failure([{ op: 'closeRange', first: 3, last: 0xffffffff, cloexec: false }, { op: 'chdir', path: '/nonexistent' }, sh('true')]);
    expect([e.code, e.step, e.syscall]).toEqual(['ENOENT', SKIP + 1, 'chdir']);
    expect((await failure([{ op: 'closeRange', first: 10, last: 3, cloexec: false }, sh('true')])).code).toBe('EINVAL');
  });

  it('closeRange(CLOEXEC) refused by a seccomp filter installed before it (EPERM, as the OCI validation suite\'s default profile does) falls back to marking each fd close-on-exec: still only stdio reaches the program', async () => {
    const denyCloseRange = bpf([
      [LD_ABS, 0, 0, 4],
      [JEQ, 1, 0, AUDIT_ARCH_X86_64],
      [RET, 0, 0, ALLOW],
      [LD_ABS, 0, 0, 0],
      [JEQ, 0, 1, NR_CLOSE_RANGE],
      [RET, 0, 0, ERRNO_EPERM],
      [RET, 0, 0, ALLOW],
    ]);
    const r = await runCaptured([
      { op: 'open', path: '/etc/hostname', flags: 0, reg: 0, keepOnExec: true },
      { op: 'open', path: '/etc/passwd', flags: 0, reg: 1, keepOnExec: true },
      { op: 'seccomp', program: denyCloseRange, flags: 0 },
      { op: 'closeRange', first: 3, last: 0xffffffff, cloexec: true },
      sh('ls /proc/$$/fd | tr "\\n" " "; grep ^Seccomp: /proc/self/status'),
    ]);
    expect(r.out).toBe('0 1 2 Seccomp:\t2\n');
  });

  it('setdomainname in a new uts namespace; too long is EINVAL', async () => {
    expect((await runCaptured([{ op: 'unshare', flags: NEWUTS }, { op: 'setdomainname', name: 'example.test' }, sh('cat /proc/sys/kernel/domainname')])).out).toBe('example.test\n');
    expect((await failure([{ op: 'unshare', flags: NEWUTS }, { op: 'setdomainname', name: 'x'.repeat(70) }, sh('true')])).code).toBe('EINVAL');
  });

  it('boundingSet keeps exactly the mask (CAP_KILL); after dropping CAP_SETPCAP a second drop is EPERM', async () => {
    const r = await runCaptured([{ op: 'boundingSet', keep: 1n << BigInt(CAP_KILL) }, sh('grep CapBnd /proc/self/status')]);
    expect(r.out).toBe('CapBnd:\t0000000000000020\n');
    const e = await failure([{ op: 'capset', effective: 1n << BigInt(CAP_KILL), permitted: 1n << BigInt(CAP_KILL), inheritable: 0n }, { op: 'boundingSet', keep: 0n }, sh('true')]);
    expect([e.code, e.step]).toEqual(['EPERM', SKIP + 1]);
  });

  it('seccomp: a BPF program from bytes makes uname(2) fail with EPERM (seccomp(2) with LOG, and prctl); a malformed program is EINVAL; unprivileged without no_new_privs is EACCES', async () => {
    const r = await runCaptured([{ op: 'prctl', option: PR.SET_NO_NEW_PRIVS, arg: 1 }, { op: 'seccomp', program: DENY_UNAME, flags: SECCOMP_FLAG.LOG }, sh('uname -s; echo "rc=$?"; grep ^Seccomp: /proc/self/status')]);
    expect(r.out).toBe('uname: cannot get system name: Operation not permitted\nrc=1\nSeccomp:\t2\n');
    const viaPrctl = await runCaptured([{ op: 'seccomp', program: DENY_UNAME, flags: 0, noSyscall: true }, sh('uname -s 2>&1; true')]);
    expect(viaPrctl.out).toMatch(/Operation not permitted/);
    expect((await failure([{ op: 'seccomp', program: bpf([[0xffff, 0, 0, 0]]), flags: 0 }, sh('true')])).code).toBe('EINVAL');
    const e = await failure([{ op: 'setresuid', ruid: 65534, euid: 65534, suid: 65534 }, { op: 'seccomp', program: DENY_UNAME, flags: 0 }, sh('true')]);
    expect([e.syscall, e.code, e.step]).toEqual(['seccomp', 'EACCES', SKIP + 1]);
  });

  it('console socket: a pty allocated in the child is the program’s controlling terminal and its master arrives over SCM_RIGHTS', async () => {
    const sock = join(dir, 'console.sock');
    const listen = listenUnix(sock);
    const fds = fdCount();
    try {
      const got = recvFd(listen, 30_000);
      const p = await runSteps([
        { op: 'connect', path: sock, reg: 2 },
        { op: 'openPty', master: 0, slave: 1 },
        { op: 'setsid' },
        { op: 'dup2', from: { reg: 1 }, to: 0 },
        { op: 'dup2', from: { reg: 1 }, to: 1 },
        { op: 'dup2', from: { reg: 1 }, to: 2 },
        { op: 'tiocsctty', fd: 0 },
        { op: 'sendFd', socket: { reg: 2 }, fd: { reg: 0 } },
        { op: 'close', fd: { reg: 0 } },
        { op: 'close', fd: { reg: 2 } },
        sh('tty; [ -t 0 ] && echo "is a tty"; ps -o tty= -p $$ >/dev/null && echo "pid $$"'),
      ]);
      const { fd, name } = await got;
      expect(name).toBe('/dev/ptmx');
      expect(readlinkSync(`/proc/self/fd/${fd}`)).toBe('/dev/ptmx');
      const status = await p.exited;
      expect(status).toEqual({ code: 0, signal: null });
      // what the program wrote is buffered in the master until read; EIO once drained and the slave is gone
      let out = '';
      const buf = Buffer.alloc(4096);
      for (;;) {
        let n = 0;
        try {
          n = readSync(fd, buf);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EIO') break;
          throw e;
        }
        if (n === 0) break;
        out += buf.toString('utf8', 0, n);
      }
      closeSync(fd);
      expect(out).toMatch(/^\/dev\/pts\/\d+\r\nis a tty\r\npid \d+\r\n$/);
      expect(fdCount()).toBe(fds);
    } finally {
      closeFd(listen);
    }
    expect((await failure([{ op: 'sendFd', socket: { path: join(dir, 'nobody.sock') }, fd: 0 }, sh('true')])).code).toBe('ENOENT');
    expect((await failure([{ op: 'connect', path: join(dir, 'x'.repeat(120)), reg: 0 }, sh('true')])).code).toBe('ENAMETOOLONG');
    expect((await failure([{ op: 'openPty', master: 0, slave: 1, ptmx: join(dir, 'no-ptmx') }, sh('true')])).code).toBe('ENOENT');
    const nf = await failure([{ op: 'sendFd', socket: 1, fd: 0 }, sh('true')]);
    expect(nf.code).toBe('ENOTSOCK');
  });

  it('console socket pair (run in the foreground): the child sends on its inherited end, recvFd takes it without accept; the pty is sized by openPty, resized and ONLCR cleared by ttyOp', async () => {
    const fds = fdCount();
    const [a, b] = socketPair();
    try {
      const got = recvFd(a, 30_000, true);
      const p = await runSteps([
        { op: 'openPty', master: 0, slave: 1, rows: 33, cols: 101 },
        { op: 'setsid' },
        { op: 'dup2', from: { reg: 1 }, to: 0 },
        { op: 'dup2', from: { reg: 1 }, to: 1 },
        { op: 'dup2', from: { reg: 1 }, to: 2 },
        { op: 'tiocsctty', fd: 0 },
        { op: 'sendFd', socket: b, fd: { reg: 0 } },
        { op: 'close', fd: { reg: 0 } },
        sh('stty size; read x; stty size; stty -a | grep -o -- "-\\?onlcr"'),
      ]);
      closeFd(b);
      const { fd, name } = await got;
      expect(name).toBe('/dev/ptmx');
      // the size openPty set, as the program saw it, before we change anything
      let first = '';
      const b1 = Buffer.alloc(256);
      while (!first.includes('\n')) first += b1.toString('utf8', 0, readSync(fd, b1));
      expect(first).toBe('33 101\r\n');
      ttySetWinsize(fd, 40, 120);
      ttyClearOnlcr(fd);
      // (never through /proc/self/fd/N: reopening a master's path is a new pty)
      writeSync(fd, 'go\n');
      expect(await p.exited).toEqual({ code: 0, signal: null });
      let out = '';
      const buf = Buffer.alloc(4096);
      for (;;) {
        let n = 0;
        try {
          n = readSync(fd, buf);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EIO') break;
          throw e;
        }
        if (n === 0) break;
        out += buf.toString('utf8', 0, n);
      }
      closeSync(fd);
      // before ONLCR was cleared the pty wrote \r\n; after, \n
      expect(out).toMatch(/^go\r?\n40 120\n-onlcr\n$/);
    } finally {
      closeFd(a);
    }
    expect(fdCount()).toBe(fds);
  });

  it('READY: runSteps returns while the child is parked on its exec fifo; timers keep firing; opening the fifo (start) releases it once', async () => {
    const fifo = join(dir, 'exec.fifo');
    execFileSync('mkfifo', [fifo]);
    const outFile = join(dir, 'ready.out');
    const out = openSync(outFile, 'w');
    const p = await runSteps([
      { op: 'dup2', from: out, to: 1 },
      { op: 'ready' },
      { op: 'open', path: fifo, flags: O_WRONLY, reg: 0 },
      { op: 'writeFd', fd: { reg: 0 }, data: '0' },
      { op: 'close', fd: { reg: 0 } },
      sh('echo started'),
    ]);
    closeSync(out);
    try {
      expect(p.ready).toBe(true);
      let ticks = 0;
      const t = setInterval(() => ticks++, 5);
      await sleep(200);
      clearInterval(t);
      expect(ticks).toBeGreaterThan(1); // the loop is free while the child is parked
      // still the runner (node's image), blocked in open(2) of the fifo
      expect(readlinkSync(`/proc/${p.pid}/exe`)).toBe(readlinkSync('/proc/self/exe'));
      expect(readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1]![0]).toBe('S');
      let finished = false;
      void p.finished.then(() => (finished = true));
      await sleep(20);
      expect(finished).toBe(false);
      // start: open for reading, read the byte
      const rd = openSync(fifo, 'r');
      const b = Buffer.alloc(4);
      expect(readSync(rd, b)).toBe(1);
      expect(b.toString('utf8', 0, 1)).toBe('0');
      closeSync(rd);
      expect(await p.finished).toBe(null);
      expect(await p.exited).toEqual({ code: 0, signal: null });
      expect(readFileSync(outFile, 'utf8')).toBe('started\n');
    } finally {
      p.signal(9);
      await p.exited;
    }
  });

  it('READY then waitParent: release() lets it go on; a later failure is in finished with its index', async () => {
    const p = await runSteps([{ op: 'ready' }, { op: 'waitParent' }, { op: 'chdir', path: '/nonexistent' }, sh('true')]);
    expect(p.ready).toBe(true);
    p.release();
    const e = await p.finished;
    expect([e?.step, e?.code, e?.syscall]).toEqual([2, 'ENOENT', 'chdir']);
    expect(await p.exited).toEqual({ code: 125, signal: null });
  });

  it('a child forked while another is parked holds none of its pipes or pidfd (close-on-fork of runner fds)', async () => {
    const before = pipeInodes(process.pid);
    const a = await runSteps([{ op: 'ready' }, { op: 'waitParent' }, sh('true')]);
    const b = await runSteps([{ op: 'ready' }, { op: 'waitParent' }, sh('true')]);
    try {
      // A's runner pipes: new in the parent since, and held by A (one inode for both ends of a pipe)
      const parent = pipeInodes(process.pid);
      const runnerA = [...pipeInodes(a.pid)].filter((x) => parent.has(x) && !before.has(x) && x.startsWith('pipe:'));
      expect(runnerA.length).toBe(2); // its report and sync pipes
      const inB = pipeInodes(b.pid);
      expect(runnerA.filter((x) => inB.has(x))).toEqual([]);
      expect([...inB].some((x) => x.includes('pidfd'))).toBe(false);
    } finally {
      a.release();
      b.release();
      await Promise.all([a.exited, b.exited]);
    }
  });

  it('the pidfd and report watches do not keep Node alive after unref(): a script creates a parked child and exits by itself', async () => {
    const fifo = join(dir, 'alive.fifo');
    execFileSync('mkfifo', [fifo]);
    const script = join(ROOT_DIR, 'build', `keepalive-${process.pid}.mjs`);
    const { build } = await import('esbuild');
    await build({
      stdin: {
        contents: `import { runSteps } from ${JSON.stringify(join(ROOT_DIR, 'src/native/index.ts'))};
          const p = await runSteps([{ op: 'open', path: '/dev/null', flags: 2, reg: 1 }, { op: 'dup2', from: { reg: 1 }, to: 1 }, { op: 'dup2', from: { reg: 1 }, to: 2 }, { op: 'ready' }, { op: 'open', path: ${JSON.stringify(fifo)}, flags: 1, reg: 0 }, { op: 'exec', file: 'true', argv: ['true'], envp: ${JSON.stringify(ENV)}, search: true }]);
          p.unref();
          process.stdout.write(String(p.pid));`,
        resolveDir: ROOT_DIR,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: script,
      logLevel: 'silent',
    });
    // a python subreaper runs the script, so that the orphaned init is its child to reap
    const py = `
import ctypes, os, subprocess, sys
# (the parked child's stdout and stderr are /dev/null: capture_output waits for the script alone)
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
r = subprocess.run([sys.argv[1], sys.argv[2]], capture_output=True, timeout=120)
pid = int(r.stdout or b'0')
alive = pid > 0 and open('/proc/%d/stat' % pid).read().split(') ')[1][0]
print(r.returncode, pid, alive, flush=True)
fd = os.open(sys.argv[3], os.O_RDONLY)  # start: release it
os.close(fd)
_, st = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(st))
`;
    try {
      const r = spawnSync('python3', ['-c', py, process.execPath, script, fifo], { encoding: 'utf8', timeout: 180_000 });
      expect(r.stderr).toBe('');
      const [first, second] = r.stdout.trim().split('\n');
      const [code, pid, state] = first!.split(' ');
      expect(code).toBe('0'); // node exited by itself, with the child still parked
      expect(Number(pid)).toBeGreaterThan(0);
      expect(state).toBe('S'); // parked (sleeping in open), not a zombie
      expect(second).toBe('0'); // released, exec'd true, reaped by the subreaper
    } finally {
      rmSync(script, { force: true });
    }
  });

  it('a failure injected at every index of a runtime-like list (fork, waitParent, ready, fifo) is reported with that index; nothing leaks', async () => {
    const fifo = join(dir, 'inject.fifo');
    execFileSync('mkfifo', [fifo]);
    const list: Step[] = [
      { op: 'unshare', flags: 0x20000000 | NEWUTS },
      { op: 'fork' },
      { op: 'waitParent' },
      { op: 'sethostname', name: 'inj' },
      { op: 'ready' },
      { op: 'open', path: fifo, flags: O_WRONLY, reg: 0 },
      { op: 'writeFd', fd: { reg: 0 }, data: '0' },
      sh('true'),
    ];
    const fds = fdCount();
    for (let i = 0; i < list.length + SKIP; i++) {
      let e: NativeError | null = null;
      try {
        // start: a reader that does not block (the child may have failed before it opens the fifo), kept until the child is done
        let reader = -1;
        const p = await runCaptured(list, {
          failAt: i,
          onReady: (q) => {
            reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
            void q.finished.then(() => closeSync(reader));
          },
        }).finally(() => void reader);
        throw new Error(`step ${i}: expected a failure, got exit ${p.code}`);
      } catch (x) {
        if (!(x instanceof NativeError)) throw x;
        e = x;
      }
      expect([e.step, e.code]).toEqual([i, 'EIO']);
    }
    expect(fdCount()).toBe(fds);
  });

  it('five fork steps (the old runner kept four pids and dropped the fifth): the last process is returned, every intermediate one reaped', async () => {
    const before = readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8');
    const r = await runCaptured([{ op: 'fork' }, { op: 'fork' }, { op: 'fork' }, { op: 'fork' }, { op: 'fork' }, sh('echo $$')]);
    expect(r.out).toBe(`${r.pid}\n`);
    expect(readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8')).toBe(before);
  });

  it('limits: too many steps and a register out of range are errors before any fork', async () => {
    await expect(runSteps(Array.from({ length: MAX_STEPS + 1 }, (): Step => ({ op: 'setsid' })))).rejects.toThrow(StepListError);
    await expect(runSteps([{ op: 'open', path: '/', flags: 0, reg: 64 }, sh('true')])).rejects.toThrow('register 64 out of range');
    // the largest list runs: 4095 no-op umasks and an exec
    const big = await runCaptured([...Array.from({ length: MAX_STEPS - 3 }, (): Step => ({ op: 'umask', mask: 0o22 })), sh('echo big')]);
    expect(big.out).toBe('big\n');
    void O_RDWR;
  });
});
