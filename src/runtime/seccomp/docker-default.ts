import { release as osRelease } from 'node:os';
import type { LinuxSeccomp, SeccompSyscall } from './compile.js';

/**
 * Docker's default seccomp profile (moby `profiles/seccomp/default.json`, read at commit
 * 00f3d189e420 through its documentation and source), as compact data: default ERRNO(EPERM), one
 * big allow list, then rules included or excluded by the container's capabilities (its bounding
 * set, as dockerd passes it) and by arch. `dockerDefaultProfile(caps)` resolves them into the
 * plain OCI `linux.seccomp` object that `hostscope run --seccomp default` hands to the runtime.
 *
 * Differences from what dockerd emits, on purpose: only the 64-bit arch is listed (dockerd adds
 * x86/x32 on amd64 and arm on arm64; our compiler has no 32-bit tables, so a 32-bit syscall gets
 * the bad-arch action instead of the profile), and names newer than this machine's kernel headers
 * are skipped by the compiler as libseccomp skips names it does not know.
 */

/** allowed for everyone (names for other arches are harmless: the compiler skips them per arch) */
const ALLOW = `
accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3
epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old
eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate
fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr
flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate
ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64 getegid
getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp
getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit
get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid
getuid32 getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl
io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit
io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset
landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek
lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier memfd_create memfd_secret mincore mkdir
mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open
mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget
msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open
openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll
ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64
pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg
recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir
rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr
sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler
sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64
sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32
setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid
setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32
setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn
socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync sync_file_range
syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64
timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime
utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
`;

/** Go arch names, as moby's includes/excludes use them */
export type DockerArch = 'amd64' | 'arm64';

interface Cond {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

interface Entry {
  names: string;
  action?: 'SCMP_ACT_ERRNO';
  errnoRet?: number;
  args?: SeccompSyscall['args'];
  includes?: Cond;
  excludes?: Cond;
}

/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone may not make namespaces without CAP_SYS_ADMIN */
const CLONE_NS_FLAGS = 0x7e020000;

const RULES: Entry[] = [
  { names: 'process_vm_readv process_vm_writev ptrace', includes: { minKernel: '4.8' } },
  { names: 'socket', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] }, // every family but AF_VSOCK
  ...[0, 8, 0x20000, 0x20008, 0xffffffff].map((p): Entry => ({ names: 'personality', args: [{ index: 0, value: p, op: 'SCMP_CMP_EQ' }] })),
  { names: 'sync_file_range2 swapcontext', includes: { arches: ['ppc64le'] } },
  { names: 'arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls', includes: { arches: ['arm', 'arm64'] } },
  { names: 'arch_prctl', includes: { arches: ['amd64', 'x32'] } },
  { names: 'modify_ldt', includes: { arches: ['amd64', 'x32', 'x86'] } },
  { names: 's390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr', includes: { arches: ['s390', 's390x'] } },
  { names: 'riscv_flush_icache', includes: { arches: ['riscv64'] } },
  { names: 'open_by_handle_at', includes: { caps: ['CAP_DAC_READ_SEARCH'] } },
  {
    names: 'bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare',
    includes: { caps: ['CAP_SYS_ADMIN'] },
  },
  { names: 'clone', args: [{ index: 0, value: CLONE_NS_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }], excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] } },
  { names: 'clone', args: [{ index: 1, value: CLONE_NS_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }], includes: { arches: ['s390', 's390x'] }, excludes: { caps: ['CAP_SYS_ADMIN'] } },
  // clone3 passes its flags in memory seccomp cannot read: ENOSYS so libc falls back to clone
  { names: 'clone3', action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
  { names: 'reboot', includes: { caps: ['CAP_SYS_BOOT'] } },
  { names: 'chroot', includes: { caps: ['CAP_SYS_CHROOT'] } },
  { names: 'delete_module init_module finit_module', includes: { caps: ['CAP_SYS_MODULE'] } },
  { names: 'acct', includes: { caps: ['CAP_SYS_PACCT'] } },
  { names: 'kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace', includes: { caps: ['CAP_SYS_PTRACE'] } },
  { names: 'iopl ioperm', includes: { caps: ['CAP_SYS_RAWIO'] } },
  { names: 'settimeofday stime clock_settime clock_settime64', includes: { caps: ['CAP_SYS_TIME'] } },
  { names: 'vhangup', includes: { caps: ['CAP_SYS_TTY_CONFIG'] } },
  { names: 'get_mempolicy mbind set_mempolicy set_mempolicy_home_node', includes: { caps: ['CAP_SYS_NICE'] } },
  { names: 'syslog', includes: { caps: ['CAP_SYSLOG'] } },
  { names: 'bpf', includes: { caps: ['CAP_BPF'] } },
  { names: 'perf_event_open', includes: { caps: ['CAP_PERFMON'] } },
];

function kernelAtLeast(release: string, min: string): boolean {
  const [a = 0, b = 0] = release.split(/[.-]/).map(Number);
  const [x = 0, y = 0] = min.split('.').map(Number);
  return a > x || (a === x && b >= y);
}

function normCap(c: string): string {
  const u = c.trim().toUpperCase();
  return u.startsWith('CAP_') ? u : `CAP_${u}`;
}

export interface DockerProfileOptions {
  /** default: this machine's (amd64 on x64, arm64 on arm64) */
  arch?: DockerArch;
  /** `uname -r`, for minKernel includes (default: this machine's) */
  kernelRelease?: string;
}

/**
 * Docker's default profile for a container with these capabilities (its bounding set: `CAP_SYS_ADMIN`
 * or `sys_admin` alike), resolved into a plain OCI `linux.seccomp` object.
 */
export function dockerDefaultProfile(caps: string[], opts: DockerProfileOptions = {}): LinuxSeccomp {
  const have = new Set(caps.map(normCap));
  const arch: DockerArch = opts.arch ?? (process.arch === 'arm64' ? 'arm64' : 'amd64');
  const release = opts.kernelRelease ?? osRelease();
  const holds = (c: Cond | undefined, all: boolean): boolean => {
    if (!c) return all;
    const parts: boolean[] = [];
    if (c.caps && c.caps.length > 0) parts.push(all ? c.caps.every((x) => have.has(x)) : c.caps.some((x) => have.has(x)));
    if (c.arches && c.arches.length > 0) parts.push(c.arches.includes(arch));
    if (c.minKernel) parts.push(kernelAtLeast(release, c.minKernel));
    // includes: every stated condition must hold; excludes: any stated condition excludes
    return all ? parts.every(Boolean) : parts.some(Boolean);
  };
  const syscalls: SeccompSyscall[] = [{ names: ALLOW.trim().split(/\s+/), action: 'SCMP_ACT_ALLOW' }];
  for (const r of RULES) {
    if (!holds(r.includes, true) || holds(r.excludes, false)) continue;
    syscalls.push({
      names: r.names.split(' '),
      action: r.action ?? 'SCMP_ACT_ALLOW',
      ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
      ...(r.args ? { args: r.args } : {}),
    });
  }
  return { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: [arch === 'arm64' ? 'SCMP_ARCH_AARCH64' : 'SCMP_ARCH_X86_64'], syscalls };
}
