import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileSeccomp, type LinuxSeccomp } from '../../src/runtime/seccomp/compile.js';
import { dockerDefaultProfile } from '../../src/runtime/seccomp/docker-default.js';
import { NATIVE, runCaptured, sh } from '../helpers/native.js';
import { has } from '../helpers/live.js';

/**
 * Programs from the TypeScript compiler installed for real by the native layer's `seccomp` step
 * in a forked child, which then execs coreutils: the kernel is the judge.
 */

const native = process.arch === 'x64' ? 'x86_64' : 'aarch64';

function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `hostscope-seccomp-${process.pid}-`));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

describe.skipIf(!NATIVE)('seccomp programs in the kernel (native seccomp step)', () => {
  it('a profile returning EPERM for mkdir makes mkdir fail with EPERM; Seccomp: 2 in status; other calls still work', async () => {
    const spec: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    const { program, flags } = compileSeccomp(spec, { native });
    await withDir(async (dir) => {
      const r = await runCaptured([{ op: 'seccomp', program, flags }, sh(`grep '^Seccomp:' /proc/self/status; mkdir ${dir}/blocked; echo "rc=$?"; touch ${dir}/file && echo touched`)]);
      expect(r.code).toBe(0);
      expect(r.out).toContain('Seccomp:\t2');
      expect(r.out).toMatch(/mkdir: cannot create directory '.*blocked': Operation not permitted/);
      expect(r.out).toContain('rc=1');
      expect(r.out).toContain('touched');
      expect(existsSync(join(dir, 'blocked'))).toBe(false);
      expect(existsSync(join(dir, 'file'))).toBe(true);
    });
  });

  it('errnoRet is what the process sees (ENOSPC), and the same mkdir works without the filter', async () => {
    const { program, flags } = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 }] }, { native });
    await withDir(async (dir) => {
      const r = await runCaptured([{ op: 'seccomp', program, flags }, sh(`mkdir ${dir}/a`)]);
      expect(r.out).toMatch(/No space left on device/);
      const free = await runCaptured([sh(`mkdir ${dir}/a && echo made`)]);
      expect(free.out).toBe('made\n');
    });
  });

  it('an argument rule in the kernel: kill(pid, 0) allowed, kill(pid, SIGUSR1) EPERM (64-bit EQ on arg 1)', async () => {
    const spec: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 10, op: 'SCMP_CMP_EQ' }] }] };
    const { program, flags } = compileSeccomp(spec, { native });
    const r = await runCaptured([{ op: 'seccomp', program, flags }, sh('kill -0 $$ && echo zero-ok; kill -USR1 $$; echo "usr1 rc=$?"')]);
    expect(r.out).toContain('zero-ok');
    expect(r.out).toMatch(/Operation not permitted/);
    expect(r.out).toContain('usr1 rc=1');
  });

  it.skipIf(!has('unshare'))('Docker\'s default profile without CAP_SYS_ADMIN: a shell runs, unshare(2) is EPERM', async () => {
    const { program, flags, warnings } = compileSeccomp(dockerDefaultProfile(['CAP_CHOWN', 'CAP_SETUID', 'CAP_SETGID', 'CAP_KILL']), { native });
    expect(warnings).toEqual([]);
    await withDir(async (dir) => {
      const r = await runCaptured([{ op: 'seccomp', program, flags }, sh(`mkdir ${dir}/d && echo made; unshare -U true; echo "unshare rc=$?"`)]);
      expect(r.out).toContain('made');
      expect(r.out).toMatch(/unshare: unshare failed: Operation not permitted/);
      expect(r.out).toContain('unshare rc=1');
    });
  });
});
