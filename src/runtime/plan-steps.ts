/**
 * The subset of the native Step type (src/native/steps.ts) that the runtime's plans produce,
 * mirrored here while the native branch that adds mknod, mkdir, openat2, mount-onto-fd, seccomp,
 * openPty … lands in main (its commit 47a5106, read from the native engineer's work). The shapes
 * are the same member for member, so once main has them this file becomes
 * `export type { Step as PlanStep } from '../native/steps.js'` and nothing else changes.
 */

export type FdRef = number | { reg: number };

interface Common {
  ignoreError?: boolean;
  when?: { step: number; ok: boolean };
  label?: string;
}

export type PlanStep = Common &
  (
    | { op: 'setns'; fd: FdRef; nstype: number }
    | { op: 'setnsPidfd'; pidfd: number; mask: number }
    | { op: 'unshare'; flags: number }
    | { op: 'waitParent' }
    | { op: 'ready' }
    | { op: 'fork' }
    | { op: 'writeFile'; path: string; data: string | Uint8Array }
    | { op: 'writeFd'; fd: FdRef; data: string | Uint8Array }
    | { op: 'sethostname'; name: string }
    | { op: 'setdomainname'; name: string }
    | { op: 'mount'; source: string | null | { fd: FdRef }; target: string | { fd: FdRef }; fstype: string | null; flags: number; data: string | null }
    | { op: 'umount2'; target: string; flags: number }
    | { op: 'pivotRoot'; newRoot: string; putOld: string }
    | { op: 'chroot'; path: string }
    | { op: 'chdir'; path: string }
    | { op: 'fchdir'; fd: FdRef }
    | { op: 'open'; path: string; flags: number; reg: number; mode?: number; dirfd?: FdRef; resolve?: number; keepOnExec?: boolean }
    | { op: 'mknod'; path: string; mode: number; major: number; minor: number }
    | { op: 'symlink'; target: string; path: string }
    | { op: 'mkdir'; path: string; mode: number; parents?: boolean }
    | { op: 'chown'; path: string; uid: number; gid: number; noFollow?: boolean }
    | { op: 'umask'; mask: number }
    | { op: 'closeRange'; first: number; last: number; cloexec: boolean }
    | { op: 'setgroups'; gids: number[] }
    | { op: 'setresgid'; rgid: number; egid: number; sgid: number }
    | { op: 'setresuid'; ruid: number; euid: number; suid: number }
    | { op: 'capset'; effective: bigint; permitted: bigint; inheritable: bigint }
    | { op: 'boundingSet'; keep: bigint }
    | { op: 'ambientRaise'; mask: bigint; allPermitted?: boolean }
    | { op: 'prctl'; option: number; arg: number }
    | { op: 'seccomp'; program: Uint8Array; flags: number; noSyscall?: boolean }
    | { op: 'setrlimit'; resource: number; soft: number; hard: number }
    | { op: 'dup2'; from: FdRef; to: number }
    | { op: 'setsid' }
    | { op: 'tiocsctty'; fd: FdRef }
    | { op: 'close'; fd: FdRef }
    | { op: 'openPty'; master: number; slave: number; ptmx?: string }
    | { op: 'connect'; path: string; reg: number }
    | { op: 'sendFd'; socket: FdRef | { path: string }; fd: FdRef; name?: string }
    | { op: 'exec'; file: string; argv: string[]; envp: string[]; search: boolean }
  );

/** openat2 RESOLVE_* flags (linux/openat2.h) */
export const RESOLVE = { NO_XDEV: 0x01, NO_MAGICLINKS: 0x02, NO_SYMLINKS: 0x04, BENEATH: 0x08, IN_ROOT: 0x10 } as const;

/** open(2) flags (x86-64/arm64 asm-generic values) */
export const O = {
  RDONLY: 0,
  WRONLY: 0o1,
  RDWR: 0o2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
} as const;

/** prctl options (linux/prctl.h) */
export const PR = { SET_PDEATHSIG: 1, SET_DUMPABLE: 4, SET_KEEPCAPS: 8, CAPBSET_DROP: 24, SET_NO_NEW_PRIVS: 38 } as const;

/** umount2 flags */
export const MNT_DETACH = 2;

/** file type bits for mknod */
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

/** A step's short name for plan listings and goldens: label, else op. */
export function planStepName(s: PlanStep): string {
  return s.label ?? s.op;
}
