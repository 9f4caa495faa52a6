// runSteps' protocol against the RecordingSyscalls double (no root, no fork): the order of the
// parent's writes and the child's steps, READY, failures at every index, limits.
import { describe, expect, it } from 'vitest';
import { NativeError, runSteps } from '../../src/native/index.js';
import { RecordingSyscalls } from '../../src/native/syscalls.js';
import { MAX_STEPS, NREGS, StepListError, encodeStep, validateSteps, type Step } from '../../src/native/steps.js';

const exec: Step = { op: 'exec', file: '/bin/true', argv: ['true'], envp: [], search: false };
const NEWUSER = 0x10000000;
const NEWPID = 0x20000000;

describe('runSteps protocol (RecordingSyscalls)', () => {
  it('the parent joins cgroups, denies setgroups, writes uid then gid map only after the child says it waits, then releases it', async () => {
    const sys = new RecordingSyscalls();
    const p = await runSteps(
      [{ op: 'unshare', flags: NEWUSER }, { op: 'waitParent' }, { op: 'setresuid', ruid: 0, euid: 0, suid: 0 }, exec],
      {
        sys,
        parent: { cgroupProcs: ['/cg/a/cgroup.procs', '/cg/b/cgroup.procs'], setgroups: 'deny', uidMap: [{ inside: 0, outside: 100000, count: 65536 }], gidMap: [{ inside: 0, outside: 100000, count: 65536 }] },
        beforeRelease: (pid) => void sys.log.push(`beforeRelease ${pid}`),
      },
    );
    expect(p.ready).toBe(false);
    expect(sys.log).toEqual([
      'spawn 1000',
      'child unshare',
      'child waitParent',
      'parent write /cg/a/cgroup.procs "1000"',
      'parent write /cg/b/cgroup.procs "1000"',
      'parent write /proc/1000/setgroups "deny"',
      'parent write /proc/1000/uid_map "0 100000 65536\\n"',
      'parent write /proc/1000/gid_map "0 100000 65536\\n"',
      'beforeRelease 1000',
      'parent release',
      'child setresuid',
      'child exec',
    ]);
    expect(await p.finished).toBe(null);
    expect(p.signal(9)).toBe(true);
    expect(await p.exited).toEqual({ code: null, signal: 9 });
    expect(sys.openFds.size).toBe(0);
  });

  it('after a fork the parent works on the forked process, and the intermediate one is reaped before runSteps returns', async () => {
    const sys = new RecordingSyscalls();
    const p = await runSteps([{ op: 'unshare', flags: NEWPID }, { op: 'fork' }, { op: 'waitParent' }, exec], { sys, parent: { uidMap: [{ inside: 0, outside: 0, count: 1 }] } });
    expect(p.pid).toBe(1001);
    expect(sys.log).toEqual(['spawn 1000', 'child unshare', 'child fork', 'exit 1000 0', 'child waitParent', 'parent write /proc/1001/uid_map "0 0 1\\n"', 'parent release', 'child exec']);
    p.signal(15);
    await p.exited;
    expect(sys.openFds.size).toBe(0);
  });

  it('ready: runSteps returns while the child is parked; release() lets it go on to exec; finished settles then', async () => {
    const sys = new RecordingSyscalls();
    const p = await runSteps([{ op: 'ready' }, { op: 'waitParent' }, { op: 'chdir', path: '/' }, exec], { sys });
    expect(p.ready).toBe(true);
    expect(sys.log).toEqual(['spawn 1000', 'child ready', 'child waitParent']);
    let settled = false;
    void p.finished.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    p.unref();
    expect(sys.unrefd.size).toBe(2); // the exit watch and the report watch
    p.release();
    expect(await p.finished).toBe(null);
    expect(sys.log.slice(3)).toEqual(['parent release', 'child chdir', 'child exec']);
    p.signal(9);
    await p.exited;
    expect(sys.openFds.size).toBe(0);
  });

  it('a step failing after ready settles finished with its NativeError (index and name), never a rejection', async () => {
    const sys = new RecordingSyscalls();
    sys.failures.set(2, 2);
    const p = await runSteps([{ op: 'ready' }, { op: 'waitParent' }, { op: 'open', path: '/run/x/exec.fifo', flags: 1, reg: 0 }, exec], { sys });
    p.release();
    const e = await p.finished;
    expect(e).toBeInstanceOf(NativeError);
    expect([e!.step, e!.code, e!.syscall, e!.path]).toEqual([2, 'ENOENT', 'open', '/run/x/exec.fifo']);
    expect(await p.exited).toEqual({ code: 125, signal: null });
    expect(sys.openFds.size).toBe(0);
  });

  it('a failure at every index is reported with that index (thrown before ready, in finished after it), everything reaped and closed', async () => {
    const list: Step[] = [{ op: 'unshare', flags: NEWPID }, { op: 'fork' }, { op: 'waitParent' }, { op: 'ready' }, { op: 'mkdir', path: '/x', mode: 0o755 }, exec];
    for (let i = 0; i < list.length; i++) {
      const sys = new RecordingSyscalls();
      const e = await runSteps(list, { sys, failAt: i }).then(
        async (p) => {
          expect(p.ready).toBe(true);
          expect(i).toBeGreaterThan(3);
          const err = await p.finished;
          await p.exited;
          return err;
        },
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(NativeError);
      expect([(e as NativeError).step, (e as NativeError).code]).toEqual([i, 'EIO']);
      expect(sys.openFds.size).toBe(0);
      expect(sys.log.filter((l) => l.startsWith('exit')).length).toBe(i > 1 ? 2 : 1); // the intermediate too, after the fork
    }
  });

  it('a parent write that fails (cgroup.procs EACCES): the child is cancelled, not released, and reaped; the error is the write', async () => {
    const sys = new RecordingSyscalls();
    sys.writeErrors.set('/cg/cgroup.procs', 'EACCES');
    await expect(runSteps([{ op: 'waitParent' }, exec], { sys, parent: { cgroupProcs: ['/cg/cgroup.procs'], uidMap: [{ inside: 0, outside: 0, count: 1 }] } })).rejects.toThrow('EACCES: /cg/cgroup.procs');
    expect(sys.log).toEqual(['spawn 1000', 'child waitParent', 'parent write /cg/cgroup.procs "1000" EACCES', 'child wait-parent cancelled', 'exit 1000 125']);
    expect(sys.openFds.size).toBe(0);
  });

  it('a report cut short (a partial message before EOF) is a protocol error (EPROTO), never a silent success; the child is killed and reaped', async () => {
    const sys = new RecordingSyscalls();
    const watch = sys.watchReports.bind(sys);
    sys.watchReports = (fd, onMsg) => watch(fd, (m) => onMsg(m.kind === 'eof' ? { ...m, partial: 7 } : m));
    const e = await runSteps([{ op: 'chdir', path: '/' }, exec], { sys }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(NativeError);
    expect([(e as NativeError).code, (e as NativeError).syscall]).toEqual(['EPROTO', 'read(report)']);
    expect(sys.log.at(-2)).toBe('signal 1000 9');
    expect(sys.openFds.size).toBe(0);
  });

  it('limits are errors before anything is forked, naming the step', async () => {
    const sys = new RecordingSyscalls();
    const tooMany = Array.from({ length: MAX_STEPS + 1 }, (): Step => ({ op: 'setsid' }));
    await expect(runSteps(tooMany, { sys })).rejects.toThrow(`${MAX_STEPS + 1} steps: the runner takes at most ${MAX_STEPS}`);
    await expect(runSteps([{ op: 'setsid' }, { op: 'open', path: '/', flags: 0, reg: NREGS }], { sys })).rejects.toThrow(`step 1: register ${NREGS} out of range`);
    await expect(runSteps([{ op: 'dup2', from: { reg: -1 }, to: 0 }], { sys })).rejects.toThrow(StepListError);
    await expect(runSteps([{ op: 'seccomp', program: new Uint8Array(12), flags: 0 }], { sys })).rejects.toThrow('not 12 bytes');
    await expect(runSteps([{ op: 'seccomp', program: new Uint8Array(8 * 4097), flags: 0 }], { sys })).rejects.toThrow('at most 4096 instructions');
    await expect(runSteps([{ op: 'setsid', when: { step: 0, ok: true } }], { sys })).rejects.toThrow('step 0: condition on step 0');
    await expect(runSteps([{ op: 'ready' }, { op: 'fork' }, exec], { sys })).rejects.toThrow('step 1: a fork after the ready step 0');
    expect(sys.log).toEqual([]);
    expect(() => validateSteps(Array.from({ length: MAX_STEPS }, (): Step => ({ op: 'setsid' })))).not.toThrow();
  });

  it('encoding: byte buffers, fd-valued mount source/target, open with openat2 resolve and without O_CLOEXEC', () => {
    expect(encodeStep({ op: 'writeFd', fd: { reg: 3 }, data: '0' })).toEqual({ op: 35, flags: 0, a: [-1003], b: new Uint8Array([0x30]) });
    expect(encodeStep({ op: 'mount', source: { fd: { reg: 1 } }, target: { fd: 7 }, fstype: null, flags: 0x1000, data: null })).toEqual({ op: 8, flags: 0, s: [null, null, null, null], a: [0x1000, -1001, 7, 3] });
    expect(encodeStep({ op: 'open', path: 'dev/null', flags: 2, reg: 4, dirfd: { reg: 0 }, resolve: 0x10, keepOnExec: true })).toEqual({ op: 14, flags: 0, s: ['dev/null'], a: [2, 4, 0, -1000, 0x10, 1] });
    expect(encodeStep({ op: 'sendFd', socket: { reg: 2 }, fd: { reg: 1 } })).toEqual({ op: 40, flags: 0, s: [null, '/dev/ptmx'], a: [-1002, -1001, 0] });
  });
});
