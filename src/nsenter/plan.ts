/**
 * nsenter's algorithm as a step list (pure: no I/O, unit-tested for order). util-linux
 * sys-utils/nsenter.c, reimplemented: namespaces are entered in two passes over a fixed table —
 * every namespace but user with errors ignored, then user and whatever failed with errors
 * reported — so the user namespace comes first when it grants the privilege to enter the rest
 * and last when it takes privilege away. Then root, working directory, cgroup, the fork a pid
 * namespace needs, credentials, ambient capabilities, exec.
 */
import { NS_CLONE_FLAG, type NsType } from '../parse/ns-link.js';
import type { Step } from '../native/steps.js';

/** nsenter's table order; the user namespace is first (see above) */
export const NSENTER_ORDER: readonly NsType[] = ['user', 'cgroup', 'ipc', 'uts', 'net', 'pid', 'mnt', 'time'];

/** O_RDONLY | O_DIRECTORY for the saved working directory */
const O_RDONLY_DIRECTORY = 0o200000;

export interface NsenterInput {
  /** opened namespace files, by type (from the target or given as --ns=FILE) */
  nsFds: Partial<Record<NsType, number>>;
  rootFd?: number;
  wdFd?: number;
  /** -W: a directory opened inside the entered namespaces */
  wdns?: string;
  /** cgroup.procs files to join (-c, or -a beyond nsenter) */
  cgroupProcsFds: number[];
  /** fork after entering (default: when a pid namespace is entered; -F turns it off) */
  fork: boolean;
  /** -S / -G (or the user namespace default 0), undefined when not forced */
  uid?: number;
  gid?: number;
  /** setgroups(0, NULL) before entering: a user namespace without --preserve-credentials */
  dropGroupsEarly: boolean;
  keepCaps: boolean;
  file: string;
  argv: string[];
  envp: string[];
  /** look `file` up in PATH (a program given on the command line); false for the default shell */
  search: boolean;
}

export function buildNsenterSteps(inp: NsenterInput): Step[] {
  const steps: Step[] = [];
  const add = (s: Step): number => steps.push(s) - 1;
  const entering = NSENTER_ORDER.filter((t) => inp.nsFds[t] !== undefined);

  let earlyGroups = -1;
  if (inp.dropGroupsEarly) earlyGroups = add({ op: 'setgroups', gids: [], ignoreError: true, label: 'setgroups' });

  // pass 1: all but user, errors ignored (they may need the user namespace first)
  const firstTry = new Map<NsType, number>();
  for (const t of entering) {
    if (t === 'user') continue;
    firstTry.set(t, add({ op: 'setns', fd: inp.nsFds[t]!, nstype: NS_CLONE_FLAG[t], ignoreError: true, label: `setns(${t})` }));
  }
  // pass 2: user, then the ones that failed, errors reported
  for (const t of entering) {
    const tried = firstTry.get(t);
    add({ op: 'setns', fd: inp.nsFds[t]!, nstype: NS_CLONE_FLAG[t], label: `setns(${t})`, ...(tried !== undefined ? { when: { step: tried, ok: false } } : {}) });
  }

  if (inp.rootFd !== undefined) {
    // remember the working directory if nothing else sets it
    if (inp.wdFd === undefined && inp.wdns === undefined) add({ op: 'open', path: '.', flags: O_RDONLY_DIRECTORY, reg: 0, label: 'open(.)' });
    add({ op: 'fchdir', fd: inp.rootFd, label: 'fchdir(root)' });
    add({ op: 'chroot', path: '.' });
    add({ op: 'chdir', path: '/' });
    if (inp.wdFd === undefined && inp.wdns === undefined) add({ op: 'fchdir', fd: { reg: 0 }, label: 'fchdir(cwd)' });
  }
  if (inp.wdns !== undefined) add({ op: 'chdir', path: inp.wdns, label: `chdir(${inp.wdns})` });
  if (inp.wdFd !== undefined) add({ op: 'fchdir', fd: inp.wdFd, label: 'fchdir(wd)' });

  for (const fd of inp.cgroupProcsFds) add({ op: 'writePid', fd, label: 'write(cgroup.procs)' });

  if (inp.fork) add({ op: 'fork' });

  if (inp.gid !== undefined) {
    // nsenter complains about setgroups only if it failed before and after entering
    if (earlyGroups >= 0) {
      add({ op: 'setgroups', gids: [], when: { step: earlyGroups, ok: false }, label: 'setgroups' });
      add({ op: 'setgroups', gids: [], when: { step: earlyGroups, ok: true }, ignoreError: true, label: 'setgroups' });
    } else add({ op: 'setgroups', gids: [], label: 'setgroups' });
    add({ op: 'setresgid', rgid: inp.gid, egid: inp.gid, sgid: inp.gid, label: 'setgid' });
  }
  if (inp.uid !== undefined) add({ op: 'setresuid', ruid: inp.uid, euid: inp.uid, suid: inp.uid, label: 'setuid' });
  if (inp.keepCaps && inp.nsFds.user !== undefined) add({ op: 'ambientRaise', mask: 0n, allPermitted: true });

  add({ op: 'exec', file: inp.file, argv: inp.argv, envp: inp.envp, search: inp.search });
  return steps;
}
