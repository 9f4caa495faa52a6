/**
 * The step list a forked child runs before execve (src/native/c/steps.c), as typed data. Pure:
 * builders (nsenter-ts's plan, the runtime's init) produce Step[], tests inspect it, and
 * encodeSteps() turns it into what the addon takes.
 */

import { encodeBytes, isWellFormed } from '../parse/text.js';

/** op codes: must match enum hs_op in src/native/c/hs.h */
export const OP = {
  setns: 1,
  unshare: 2,
  waitParent: 3,
  fork: 4,
  writePid: 5,
  writeFile: 6,
  sethostname: 7,
  mount: 8,
  umount2: 9,
  pivotRoot: 10,
  chroot: 11,
  chdir: 12,
  fchdir: 13,
  open: 14,
  setgroups: 15,
  setresgid: 16,
  setresuid: 17,
  capset: 18,
  ambientRaise: 19,
  prctl: 20,
  setrlimit: 21,
  dup2: 22,
  setsid: 23,
  tiocsctty: 24,
  close: 25,
  exec: 26,
  ready: 27,
  seccomp: 28,
  mknod: 29,
  symlink: 30,
  mkdir: 31,
  chown: 32,
  umask: 33,
  closeRange: 34,
  writeFd: 35,
  setdomainname: 36,
  boundingSet: 37,
  openPty: 38,
  connect: 39,
  sendFd: 40,
  chmod: 41,
  lookPath: 42,
  writeHostname: 43,
} as const;

/** registers an `open`/`openPty`/`connect` step can keep an fd in (HS_NREGS in hs.h) */
export const NREGS = 64;
/** the most steps one list may have (HS_MAX_STEPS in hs.h) */
export const MAX_STEPS = 4096;
/** the largest byte buffer a step may carry (a seccomp program: BPF_MAXINSNS × 8 bytes) */
export const MAX_BYTES = 1 << 20;

/** an fd kept by an `open` step, usable where a step takes an fd */
export type FdRef = number | { reg: number };
export const REG_BASE = -1000;

interface Common {
  /** a failure is remembered for `when` conditions but does not stop the list */
  ignoreError?: boolean;
  /** run only if step `step` (an index in the list) succeeded (ok: true) or did not (ok: false) */
  when?: { step: number; ok: boolean };
  /** what the step is for, in error messages: `setns(mnt)` */
  label?: string;
}

export type Step = Common &
  (
    | { op: 'setns'; fd: FdRef; nstype: number }
    /** setns(pidfd, mask): several namespaces of a process at once (Linux 5.8) */
    | { op: 'setnsPidfd'; pidfd: number; mask: number }
    | { op: 'unshare'; flags: number }
    /** report WAITING, then block until the parent writes the sync byte (runSteps' beforeRelease, or StepProcess.release()) */
    | { op: 'waitParent' }
    /**
     * report READY: runSteps returns its StepProcess here (ready: true) while the child goes on
     * with the rest of its list, typically parking in a blocking `open` of an exec fifo
     * (runc create) or a `waitParent` (released by StepProcess.release()).
     */
    | { op: 'ready' }
    | { op: 'fork' }
    | { op: 'writePid'; fd: FdRef }
    /** open(path, O_WRONLY) and write all of data (oom_score_adj, /proc/sys/… sysctls, uid_map) */
    | { op: 'writeFile'; path: string; data: string | Uint8Array }
    /** write all of data to an fd (the exec fifo: runc writes "0") */
    | { op: 'writeFd'; fd: FdRef; data: string | Uint8Array }
    | { op: 'sethostname'; name: string }
    | { op: 'setdomainname'; name: string }
    /**
     * mount(2). source / target may be an fd (a register): the step then mounts from / onto
     * /proc/self/fd/N, i.e. exactly the file the fd was opened on (openat2 RESOLVE_IN_ROOT, then
     * mount: no symlink swapped in between). Propagation (MS_PRIVATE|MS_REC, MS_SLAVE, MS_SHARED)
     * and remounts (MS_REMOUNT|MS_BIND|MS_RDONLY) are flags.
     */
    | { op: 'mount'; source: string | null | { fd: FdRef }; target: string | { fd: FdRef }; fstype: string | null; flags: number; data: string | null }
    | { op: 'umount2'; target: string; flags: number }
    | { op: 'pivotRoot'; newRoot: string; putOld: string }
    | { op: 'chroot'; path: string }
    | { op: 'chdir'; path: string }
    | { op: 'fchdir'; fd: FdRef }
    /**
     * openat(2) into register `reg`. O_CLOEXEC is added unless keepOnExec (an fd the program
     * inherits). dirfd: relative to this fd (default the cwd). resolve: RESOLVE_* flags, which
     * makes it openat2(2) (RESOLVE.IN_ROOT to resolve inside a rootfs). A blocking open of a
     * FIFO for writing parks the child until someone opens it for reading (runc's exec.fifo).
     */
    | { op: 'open'; path: string; flags: number; reg: number; mode?: number; dirfd?: FdRef; resolve?: number; keepOnExec?: boolean }
    /** mknod(path, mode, makedev(major, minor)); mode includes the type (S_IFCHR 0o020000, S_IFBLK 0o060000, S_IFIFO) */
    | { op: 'mknod'; path: string; mode: number; major: number; minor: number }
    /** symlink(target, path): path becomes a link to target */
    | { op: 'symlink'; target: string; path: string }
    /** mkdir(path, mode); with parents, like mkdir -p (an existing directory is fine) */
    | { op: 'mkdir'; path: string; mode: number; parents?: boolean }
    /** fchownat(path, uid, gid); noFollow: of the link itself (-1 leaves an id unchanged) */
    | { op: 'chown'; path: string; uid: number; gid: number; noFollow?: boolean }
    | { op: 'chmod'; path: string; mode: number }
    | { op: 'umask'; mask: number }
    /**
     * close_range(first, last, cloexec ? CLOSE_RANGE_CLOEXEC : 0). The runner's own report and
     * sync pipes are skipped (they are close-on-exec anyway), so later steps can still report.
     */
    | { op: 'closeRange'; first: number; last: number; cloexec: boolean }
    | { op: 'setgroups'; gids: number[] }
    | { op: 'setresgid'; rgid: number; egid: number; sgid: number }
    | { op: 'setresuid'; ruid: number; euid: number; suid: number }
    | { op: 'capset'; effective: bigint; permitted: bigint; inheritable: bigint }
    /** drop every capability not in keep from the bounding set (PR_CAPBSET_DROP up to the kernel's last) */
    | { op: 'boundingSet'; keep: bigint }
    | { op: 'ambientRaise'; mask: bigint; allPermitted?: boolean }
    | { op: 'prctl'; option: number; arg: number }
    /**
     * install a seccomp filter: program is the BPF program, an array of struct sock_filter
     * (8 bytes each: u16 code, u8 jt, u8 jf, u32 k, little-endian here). flags: SECCOMP_FILTER_FLAG_*
     * (LOG 2, SPEC_ALLOW 4, TSYNC 1…); 0 with noSyscall uses prctl(PR_SET_SECCOMP) instead.
     */
    | { op: 'seccomp'; program: Uint8Array; flags: number; noSyscall?: boolean }
    | { op: 'setrlimit'; resource: number; soft: number; hard: number }
    | { op: 'dup2'; from: FdRef; to: number }
    | { op: 'setsid' }
    | { op: 'tiocsctty'; fd: FdRef }
    | { op: 'close'; fd: FdRef }
    /**
     * allocate a pty: open ptmx (default /dev/ptmx: after pivot_root, the container's own devpts),
     * unlockpt, open its peer (TIOCGPTPEER, O_NOCTTY) — master in register `master`, slave in
     * `slave`, both close-on-exec: dup2 the slave to 0–2, setsid, tiocsctty, sendFd the master.
     * rows and cols (both > 0): its window size (process.consoleSize), set with TIOCSWINSZ.
     */
    | { op: 'openPty'; master: number; slave: number; ptmx?: string; rows?: number; cols?: number }
    /** connect a unix stream socket to path (before pivot_root: a host path) into register reg */
    | { op: 'connect'; path: string; reg: number }
    /**
     * sendmsg(SCM_RIGHTS) of fd over a unix socket (a register from `connect`, or a path to
     * connect to), with name as the message bytes (runc sends the pty's name; default "/dev/ptmx")
     */
    | { op: 'sendFd'; socket: FdRef | { path: string }; fd: FdRef; name?: string }
    /** execve; with search, look the file up in envp's PATH like execvp */
    | { op: 'exec'; file: string; argv: string[]; envp: string[]; search: boolean; /** exec the file an earlier lookPath step found (runc execs what its LookPath found: no second search) */ looked?: boolean }
    /**
     * runc's exec.LookPath: fail as exec would (ENOENT, EACCES, EISDIR) without exec'ing. With
     * search, the first file in envp's PATH the effective ids may run, else ENOENT.
     */
    | { op: 'lookPath'; file: string; envp: string[]; search: boolean }
    /** write uname()'s nodename and a NUL to fd: the hostname of the uts namespace the child is in */
    | { op: 'writeHostname'; fd: FdRef }
  );

/** openat2 RESOLVE_* flags (linux/openat2.h) */
export const RESOLVE = { NO_XDEV: 0x01, NO_MAGICLINKS: 0x02, NO_SYMLINKS: 0x04, BENEATH: 0x08, IN_ROOT: 0x10 } as const;
/** seccomp(2) SECCOMP_FILTER_FLAG_* */
export const SECCOMP_FLAG = { TSYNC: 1, LOG: 2, SPEC_ALLOW: 4, NEW_LISTENER: 8 } as const;

/** what the addon takes for one step */
export interface EncodedStep {
  op: number;
  flags: number;
  cond?: [number, number];
  /** up to 6 integer arguments */
  a?: (number | bigint)[];
  /** up to 4 strings (bytes where a string holds bytes that are not UTF-8: wire()) */
  s?: (string | Uint8Array | null)[];
  /** one byte buffer (a seccomp program, data to write) */
  b?: Uint8Array;
  argv?: (string | Uint8Array)[];
  envp?: (string | Uint8Array)[];
  gids?: number[];
}

/**
 * A uid_t/gid_t a step carries: 0 … 2^32−2. (uid_t)-1 means "unchanged" to setresuid(2) and larger
 * values would wrap to small ids (bug 16 of issue 6: -S 4294967296 became uid 0). The addon checks again.
 */
export function checkId(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xfffffffe) throw new RangeError(`${what} out of range: ${n} (0 to 4294967294)`);
  return n;
}

function fdArg(fd: FdRef): number {
  return typeof fd === 'number' ? fd : REG_BASE - fd.reg;
}

const utf8 = new TextEncoder();
function bytes(d: string | Uint8Array): Uint8Array {
  return typeof d === 'string' ? utf8.encode(d) : d;
}

/** AT_FDCWD */
const AT_FDCWD = -100;

export function encodeStep(st: Step): EncodedStep {
  const e = encodeStepStrings(st);
  if (e.s) e.s = e.s.map((x) => (x === null ? null : wire(x)));
  if (e.argv) e.argv = e.argv.map(wire);
  if (e.envp) e.envp = e.envp.map(wire);
  return e;
}

/**
 * A string as the addon takes it: as it is when it is well-formed (N-API encodes it as UTF-8), else
 * the bytes it was decoded from (decodeBytes: a byte that is not UTF-8 is a lone surrogate
 * U+DC80+byte), which N-API would have turned into EF BF BD. So a program argument, an environment
 * value or a path that is not UTF-8 (`nsenter-ts -t P ls $'\xff'`, a target's environ) reaches the
 * kernel byte for byte, as util-linux passes it. A NUL, which no C string can hold, is refused.
 */
function wire(x: string | Uint8Array): string | Uint8Array {
  if (typeof x !== 'string') {
    if (x.includes(0)) throw new StepListError('bytes hold a NUL byte');
    return x;
  }
  if (x.includes('\0')) throw new StepListError(`a string holds a NUL byte: ${JSON.stringify(x.slice(0, 40))}`);
  if (isWellFormed(x)) return x;
  try {
    return encodeBytes(x);
  } catch (e) {
    throw new StepListError((e as Error).message);
  }
}

function encodeStepStrings(st: Step): EncodedStep {
  const base = { flags: st.ignoreError ? 1 : 0, ...(st.when ? { cond: [st.when.step, st.when.ok ? 1 : 0] as [number, number] } : {}) };
  switch (st.op) {
    case 'setns':
      return { ...base, op: OP.setns, a: [fdArg(st.fd), st.nstype, 0] };
    case 'setnsPidfd':
      return { ...base, op: OP.setns, a: [st.pidfd, 0, st.mask] };
    case 'unshare':
      return { ...base, op: OP.unshare, a: [st.flags] };
    case 'waitParent':
      return { ...base, op: OP.waitParent };
    case 'ready':
      return { ...base, op: OP.ready };
    case 'fork':
      return { ...base, op: OP.fork };
    case 'writePid':
      return { ...base, op: OP.writePid, a: [fdArg(st.fd)] };
    case 'writeFile':
      return { ...base, op: OP.writeFile, s: [st.path], b: bytes(st.data) };
    case 'writeFd':
      return { ...base, op: OP.writeFd, a: [fdArg(st.fd)], b: bytes(st.data) };
    case 'writeHostname':
      return { ...base, op: OP.writeHostname, a: [fdArg(st.fd)] };
    case 'sethostname':
      return { ...base, op: OP.sethostname, s: [st.name] };
    case 'setdomainname':
      return { ...base, op: OP.setdomainname, s: [st.name] };
    case 'mount': {
      // a[1], a[2]: source / target fds, a[3] bit 1: source is an fd, bit 2: target is
      const srcFd = st.source !== null && typeof st.source === 'object' ? fdArg(st.source.fd) : 0;
      const tgtFd = typeof st.target === 'object' ? fdArg(st.target.fd) : 0;
      const which = (st.source !== null && typeof st.source === 'object' ? 1 : 0) | (typeof st.target === 'object' ? 2 : 0);
      const src = typeof st.source === 'string' ? st.source : null;
      const tgt = typeof st.target === 'string' ? st.target : null;
      return { ...base, op: OP.mount, s: [src, tgt, st.fstype, st.data], a: which ? [st.flags, srcFd, tgtFd, which] : [st.flags] };
    }
    case 'umount2':
      return { ...base, op: OP.umount2, s: [st.target], a: [st.flags] };
    case 'pivotRoot':
      return { ...base, op: OP.pivotRoot, s: [st.newRoot, st.putOld] };
    case 'chroot':
      return { ...base, op: OP.chroot, s: [st.path] };
    case 'chdir':
      return { ...base, op: OP.chdir, s: [st.path] };
    case 'fchdir':
      return { ...base, op: OP.fchdir, a: [fdArg(st.fd)] };
    case 'open':
      if (st.mode === undefined && st.dirfd === undefined && st.resolve === undefined && !st.keepOnExec) return { ...base, op: OP.open, s: [st.path], a: [st.flags, st.reg] };
      return { ...base, op: OP.open, s: [st.path], a: [st.flags, st.reg, st.mode ?? 0, st.dirfd === undefined ? AT_FDCWD : fdArg(st.dirfd), st.resolve ?? 0, st.keepOnExec ? 1 : 0] };
    case 'mknod':
      return { ...base, op: OP.mknod, s: [st.path], a: [st.mode, st.major, st.minor] };
    case 'symlink':
      return { ...base, op: OP.symlink, s: [st.target, st.path] };
    case 'mkdir':
      return { ...base, op: OP.mkdir, s: [st.path], a: [st.mode, st.parents ? 1 : 0] };
    case 'chown':
      return { ...base, op: OP.chown, s: [st.path], a: [st.uid, st.gid, st.noFollow ? 1 : 0] };
    case 'chmod':
      return { ...base, op: OP.chmod, s: [st.path], a: [st.mode] };
    case 'umask':
      return { ...base, op: OP.umask, a: [st.mask] };
    case 'closeRange':
      return { ...base, op: OP.closeRange, a: [st.first, st.last, st.cloexec ? 1 : 0] };
    case 'setgroups':
      return { ...base, op: OP.setgroups, gids: st.gids.map((g) => checkId(g, 'gid')) };
    case 'setresgid':
      return { ...base, op: OP.setresgid, a: [checkId(st.rgid, 'gid'), checkId(st.egid, 'gid'), checkId(st.sgid, 'gid')] };
    case 'setresuid':
      return { ...base, op: OP.setresuid, a: [checkId(st.ruid, 'uid'), checkId(st.euid, 'uid'), checkId(st.suid, 'uid')] };
    case 'capset':
      return { ...base, op: OP.capset, a: [st.effective, st.permitted, st.inheritable] };
    case 'boundingSet':
      return { ...base, op: OP.boundingSet, a: [st.keep] };
    case 'ambientRaise':
      return { ...base, op: OP.ambientRaise, a: [st.mask, st.allPermitted ? 1 : 0] };
    case 'prctl':
      return { ...base, op: OP.prctl, a: [st.option, st.arg] };
    case 'seccomp':
      return { ...base, op: OP.seccomp, a: [st.flags, st.noSyscall ? 1 : 0], b: st.program };
    case 'setrlimit':
      return { ...base, op: OP.setrlimit, a: [st.resource, st.soft, st.hard] };
    case 'dup2':
      return { ...base, op: OP.dup2, a: [fdArg(st.from), st.to] };
    case 'setsid':
      return { ...base, op: OP.setsid };
    case 'tiocsctty':
      return { ...base, op: OP.tiocsctty, a: [fdArg(st.fd)] };
    case 'close':
      return { ...base, op: OP.close, a: [fdArg(st.fd)] };
    case 'openPty':
      return { ...base, op: OP.openPty, s: [st.ptmx ?? '/dev/ptmx'], a: st.rows && st.cols ? [st.master, st.slave, st.rows, st.cols] : [st.master, st.slave] };
    case 'connect':
      return { ...base, op: OP.connect, s: [st.path], a: [st.reg] };
    case 'sendFd': {
      const name = st.name ?? '/dev/ptmx';
      if (typeof st.socket === 'object' && 'path' in st.socket) return { ...base, op: OP.sendFd, s: [st.socket.path, name], a: [0, fdArg(st.fd), 1] };
      return { ...base, op: OP.sendFd, s: [null, name], a: [fdArg(st.socket), fdArg(st.fd), 0] };
    }
    case 'exec':
      return { ...base, op: OP.exec, s: [st.file], argv: st.argv, envp: st.envp, a: [st.search ? 1 : 0, st.looked ? 1 : 0] };
    case 'lookPath':
      return { ...base, op: OP.lookPath, s: [st.file], envp: st.envp, a: [st.search ? 1 : 0] };
  }
}

/** A step list the runner cannot take: which step and why, before anything is forked. */
export class StepListError extends RangeError {
  readonly step: number | undefined;
  constructor(message: string, step?: number) {
    super(step === undefined ? message : `step ${step}: ${message}`);
    this.name = 'StepListError';
    this.step = step;
  }
}

function regsOf(st: Step): number[] {
  const out: number[] = [];
  const fd = (f: FdRef | undefined) => {
    if (f !== undefined && typeof f === 'object') out.push(f.reg);
  };
  switch (st.op) {
    case 'open':
      out.push(st.reg);
      fd(st.dirfd);
      break;
    case 'openPty':
      out.push(st.master, st.slave);
      break;
    case 'connect':
      out.push(st.reg);
      break;
    case 'sendFd':
      fd(st.fd);
      if (typeof st.socket === 'object' && 'reg' in st.socket) out.push(st.socket.reg);
      break;
    case 'mount':
      if (st.source !== null && typeof st.source === 'object') fd(st.source.fd);
      if (typeof st.target === 'object') fd(st.target.fd);
      break;
    case 'dup2':
      fd(st.from);
      break;
    case 'setns':
    case 'writePid':
    case 'writeFd':
    case 'writeHostname':
    case 'fchdir':
    case 'tiocsctty':
    case 'close':
      fd(st.fd);
      break;
    default:
  }
  return out;
}

/**
 * Check a list against the runner's limits (MAX_STEPS, NREGS, MAX_BYTES), conditions pointing
 * backwards, a seccomp program of whole instructions: throws StepListError naming the step.
 */
export function validateSteps(steps: Step[]): void {
  if (steps.length > MAX_STEPS) throw new StepListError(`${steps.length} steps: the runner takes at most ${MAX_STEPS}`);
  let readyAt = -1;
  steps.forEach((st, i) => {
    if (st.op === 'ready' && readyAt < 0) readyAt = i;
    // the handle runSteps returns at READY names the process then running the steps
    if (st.op === 'fork' && readyAt >= 0) throw new StepListError(`a fork after the ready step ${readyAt}: the process runSteps returned would not be the one that goes on`, i);
    for (const r of regsOf(st)) if (!Number.isInteger(r) || r < 0 || r >= NREGS) throw new StepListError(`register ${r} out of range (0–${NREGS - 1})`, i);
    if (st.when && (!Number.isInteger(st.when.step) || st.when.step < 0 || st.when.step >= i)) throw new StepListError(`condition on step ${st.when.step}, which does not come before it`, i);
    if ((st.op === 'writeFile' || st.op === 'writeFd') && bytes(st.data).length > MAX_BYTES) throw new StepListError(`more than ${MAX_BYTES} bytes to write`, i);
    if (st.op === 'seccomp') {
      const n = st.program.length;
      if (n === 0 || n % 8 !== 0) throw new StepListError(`a seccomp program is whole 8-byte sock_filter instructions, not ${n} bytes`, i);
      if (n / 8 > 4096) throw new StepListError(`a seccomp program has at most 4096 instructions (BPF_MAXINSNS), not ${n / 8}`, i);
    }
  });
}

/** A step's name in messages: its label, else the syscall. */
export function stepName(st: Step): string {
  if (st.label) return st.label;
  switch (st.op) {
    case 'setnsPidfd':
      return 'setns';
    case 'exec':
      return 'execve';
    case 'lookPath':
      return 'lookpath';
    case 'pivotRoot':
      return 'pivot_root';
    case 'waitParent':
      return 'wait for parent';
    case 'ambientRaise':
      return 'prctl(PR_CAP_AMBIENT_RAISE)';
    case 'tiocsctty':
      return 'ioctl(TIOCSCTTY)';
    case 'closeRange':
      return 'close_range';
    case 'writeFd':
      return 'write';
    case 'writeHostname':
      return 'uname';
    case 'boundingSet':
      return 'prctl(PR_CAPBSET_DROP)';
    case 'openPty':
      return 'open(ptmx)';
    case 'sendFd':
      return 'sendmsg(SCM_RIGHTS)';
    case 'mkdir':
    case 'mknod':
    case 'symlink':
    case 'chown':
    case 'chmod':
      return st.op;
    default:
      return st.op;
  }
}

/** prctl options the builders use (linux/prctl.h) */
export const PR = { SET_PDEATHSIG: 1, SET_KEEPCAPS: 8, CAPBSET_DROP: 24, SET_NO_NEW_PRIVS: 38 } as const;
