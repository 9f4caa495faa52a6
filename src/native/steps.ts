/**
 * The step list a forked child runs before execve (src/native/c/steps.c), as typed data. Pure:
 * builders (nsenter-ts's plan, the runtime's init) produce Step[], tests inspect it, and
 * encodeSteps() turns it into what the addon takes.
 */

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
} as const;

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
    | { op: 'waitParent' }
    | { op: 'fork' }
    | { op: 'writePid'; fd: FdRef }
    | { op: 'writeFile'; path: string; data: string }
    | { op: 'sethostname'; name: string }
    | { op: 'mount'; source: string | null; target: string; fstype: string | null; flags: number; data: string | null }
    | { op: 'umount2'; target: string; flags: number }
    | { op: 'pivotRoot'; newRoot: string; putOld: string }
    | { op: 'chroot'; path: string }
    | { op: 'chdir'; path: string }
    | { op: 'fchdir'; fd: FdRef }
    | { op: 'open'; path: string; flags: number; reg: number }
    | { op: 'setgroups'; gids: number[] }
    | { op: 'setresgid'; rgid: number; egid: number; sgid: number }
    | { op: 'setresuid'; ruid: number; euid: number; suid: number }
    | { op: 'capset'; effective: bigint; permitted: bigint; inheritable: bigint }
    | { op: 'ambientRaise'; mask: bigint; allPermitted?: boolean }
    | { op: 'prctl'; option: number; arg: number }
    | { op: 'setrlimit'; resource: number; soft: number; hard: number }
    | { op: 'dup2'; from: number; to: number }
    | { op: 'setsid' }
    | { op: 'tiocsctty'; fd: number }
    | { op: 'close'; fd: FdRef }
    /** execve; with search, look the file up in envp's PATH like execvp */
    | { op: 'exec'; file: string; argv: string[]; envp: string[]; search: boolean }
  );

/** what the addon takes for one step */
export interface EncodedStep {
  op: number;
  flags: number;
  cond?: [number, number];
  a?: (number | bigint)[];
  s?: (string | null)[];
  argv?: string[];
  envp?: string[];
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

export function encodeStep(st: Step): EncodedStep {
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
    case 'fork':
      return { ...base, op: OP.fork };
    case 'writePid':
      return { ...base, op: OP.writePid, a: [fdArg(st.fd)] };
    case 'writeFile':
      return { ...base, op: OP.writeFile, s: [st.path, st.data] };
    case 'sethostname':
      return { ...base, op: OP.sethostname, s: [st.name] };
    case 'mount':
      return { ...base, op: OP.mount, s: [st.source, st.target, st.fstype, st.data], a: [st.flags] };
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
      return { ...base, op: OP.open, s: [st.path], a: [st.flags, st.reg] };
    case 'setgroups':
      return { ...base, op: OP.setgroups, gids: st.gids.map((g) => checkId(g, 'gid')) };
    case 'setresgid':
      return { ...base, op: OP.setresgid, a: [checkId(st.rgid, 'gid'), checkId(st.egid, 'gid'), checkId(st.sgid, 'gid')] };
    case 'setresuid':
      return { ...base, op: OP.setresuid, a: [checkId(st.ruid, 'uid'), checkId(st.euid, 'uid'), checkId(st.suid, 'uid')] };
    case 'capset':
      return { ...base, op: OP.capset, a: [st.effective, st.permitted, st.inheritable] };
    case 'ambientRaise':
      return { ...base, op: OP.ambientRaise, a: [st.mask, st.allPermitted ? 1 : 0] };
    case 'prctl':
      return { ...base, op: OP.prctl, a: [st.option, st.arg] };
    case 'setrlimit':
      return { ...base, op: OP.setrlimit, a: [st.resource, st.soft, st.hard] };
    case 'dup2':
      return { ...base, op: OP.dup2, a: [st.from, st.to] };
    case 'setsid':
      return { ...base, op: OP.setsid };
    case 'tiocsctty':
      return { ...base, op: OP.tiocsctty, a: [st.fd] };
    case 'close':
      return { ...base, op: OP.close, a: [fdArg(st.fd)] };
    case 'exec':
      return { ...base, op: OP.exec, s: [st.file], argv: st.argv, envp: st.envp, a: [st.search ? 1 : 0] };
  }
}

/** A step's name in messages: its label, else the syscall. */
export function stepName(st: Step): string {
  if (st.label) return st.label;
  switch (st.op) {
    case 'setnsPidfd':
      return 'setns';
    case 'exec':
      return 'execve';
    case 'pivotRoot':
      return 'pivot_root';
    case 'waitParent':
      return 'wait for parent';
    case 'ambientRaise':
      return 'prctl(PR_CAP_AMBIENT_RAISE)';
    case 'tiocsctty':
      return 'ioctl(TIOCSCTTY)';
    default:
      return st.op;
  }
}

/** prctl options the builders use (linux/prctl.h) */
export const PR = { SET_PDEATHSIG: 1, SET_KEEPCAPS: 8, CAPBSET_DROP: 24, SET_NO_NEW_PRIVS: 38 } as const;
