import { describe, expect, it } from 'vitest';
import { AUDIT_ARCH, SECCOMP_RET, compileSeccomp } from '../../src/runtime/seccomp/compile.js';
import { dockerDefaultProfile } from '../../src/runtime/seccomp/docker-default.js';
import { SYSCALLS_AARCH64, SYSCALLS_X86_64 } from '../../src/runtime/seccomp/syscalls.js';
import { runSeccomp } from '../helpers/bpf-interp.js';

/** Docker's default profile, resolved for a set of caps, compiled, and run in the BPF interpreter. */

// docker run's default capability set
const DOCKER_CAPS = ['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE'];
const EPERM = SECCOMP_RET.ERRNO | 1;
const ALLOW = SECCOMP_RET.ALLOW;
const CLONE_NEWUSER = 0x10000000n;
const SIGCHLD = 17n;

function verdicts(caps: string[], arch: 'amd64' | 'arm64' = 'amd64') {
  const c = compileSeccomp(dockerDefaultProfile(caps, { arch, kernelRelease: '6.18.0' }), { native: arch === 'amd64' ? 'x86_64' : 'aarch64' });
  const table = arch === 'amd64' ? SYSCALLS_X86_64 : SYSCALLS_AARCH64;
  const archValue = arch === 'amd64' ? AUDIT_ARCH.x86_64 : AUDIT_ARCH.aarch64;
  const call = (name: string, ...args: bigint[]): number => {
    const nr = table[name];
    if (nr === undefined) throw new Error(`no ${name} on ${arch}`);
    return runSeccomp(c.program, { nr, arch: archValue, args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6) }).ret;
  };
  return { c, call };
}

describe('dockerDefaultProfile (moby default.json semantics)', () => {
  it('docker run\'s default caps: the ordinary calls allowed, the privileged ones EPERM, and it fits in BPF_MAXINSNS', () => {
    const { c, call } = verdicts(DOCKER_CAPS);
    expect(c.warnings).toEqual([]);
    expect(c.instructions).toBeLessThan(4096);
    for (const n of ['read', 'write', 'openat', 'mkdir', 'execve', 'exit_group', 'futex', 'arch_prctl', 'chroot', 'io_uring_setup']) expect(call(n), n).toBe(ALLOW);
    for (const n of ['mount', 'umount2', 'unshare', 'setns', 'reboot', 'init_module', 'bpf', 'perf_event_open', 'open_by_handle_at', 'kexec_load', 'add_key', 'keyctl', 'pivot_root', 'swapon']) expect(call(n), n).toBe(EPERM);
    // newer than every syscall the profile names (futex_waitv, 449, without CAP_SYS_NICE): ENOSYS, so a libc trying a newer call falls back
    const nr = (n: number): number => runSeccomp(c.program, { nr: n, arch: AUDIT_ARCH.x86_64, args: [0n, 0n, 0n, 0n, 0n, 0n] }).ret;
    expect(nr(449)).toBe(ALLOW);
    expect(nr(442)).toBe(EPERM); // mount_setattr: below it, not allowed without CAP_SYS_ADMIN
    expect(nr(450)).toBe(SECCOMP_RET.ERRNO | 38);
    expect(nr(451)).toBe(SECCOMP_RET.ERRNO | 38);
    expect(verdicts(['CAP_SYS_NICE']).call('set_mempolicy_home_node')).toBe(ALLOW);
    expect(nr(1000)).toBe(SECCOMP_RET.ERRNO | 38);
  });

  it('clone may not make namespaces without CAP_SYS_ADMIN; clone3 says ENOSYS so libc falls back to clone', () => {
    const { call } = verdicts(DOCKER_CAPS);
    expect(call('clone', SIGCHLD)).toBe(ALLOW);
    expect(call('clone', SIGCHLD | CLONE_NEWUSER)).toBe(EPERM);
    expect(call('clone', 0x20000n)).toBe(EPERM); // CLONE_NEWNS
    expect(call('clone3')).toBe(SECCOMP_RET.ERRNO | 38);
    const admin = verdicts([...DOCKER_CAPS, 'CAP_SYS_ADMIN']);
    expect(admin.call('clone', SIGCHLD | CLONE_NEWUSER)).toBe(ALLOW);
    expect(admin.call('clone3')).toBe(ALLOW);
    expect(admin.call('mount')).toBe(ALLOW);
    expect(admin.call('unshare')).toBe(ALLOW);
  });

  it('argument rules: personality only for the 5 listed personas; socket for every family but AF_VSOCK', () => {
    const { call } = verdicts([]);
    for (const p of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) expect(call('personality', p)).toBe(ALLOW);
    for (const p of [1n, 0x400000n, 0x1ffffffffn]) expect(call('personality', p)).toBe(EPERM);
    expect(call('socket', 2n)).toBe(ALLOW);
    expect(call('socket', 40n)).toBe(EPERM);
    expect(call('socket', 40n | (1n << 32n))).toBe(ALLOW); // the whole 64-bit value is compared
  });

  it('capability includes: ptrace by kernel version (4.8+), the rest by their cap', () => {
    expect(verdicts([]).call('ptrace')).toBe(ALLOW);
    const old = compileSeccomp(dockerDefaultProfile([], { arch: 'amd64', kernelRelease: '4.4.0' }), { native: 'x86_64' });
    expect(runSeccomp(old.program, { nr: SYSCALLS_X86_64.ptrace!, arch: AUDIT_ARCH.x86_64, args: [0n, 0n, 0n, 0n, 0n, 0n] }).ret).toBe(EPERM);
    expect(verdicts(['sys_boot']).call('reboot')).toBe(ALLOW);
    expect(verdicts(['CAP_SYS_MODULE']).call('finit_module')).toBe(ALLOW);
    expect(verdicts(['CAP_SYS_TIME']).call('settimeofday')).toBe(ALLOW);
    expect(verdicts([]).call('chroot')).toBe(EPERM);
  });

  it('arch includes: arch_prctl only on amd64; aarch64 gets its own numbers and set_tls-style calls', () => {
    const p = dockerDefaultProfile([], { arch: 'arm64', kernelRelease: '6.1' });
    expect(p.architectures).toEqual(['SCMP_ARCH_AARCH64']);
    expect(p.syscalls!.some((s) => s.names.includes('arch_prctl'))).toBe(false);
    const { call } = verdicts([], 'arm64');
    expect(call('openat')).toBe(ALLOW);
    expect(call('mkdirat')).toBe(ALLOW);
    expect(call('mount')).toBe(EPERM);
  });
});
