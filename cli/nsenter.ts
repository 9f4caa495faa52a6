/**
 * nsenter-ts: util-linux nsenter, option for option, on the native step runner. Node never
 * enters a namespace itself: it reads its target through the source (src/nsenter/target.ts),
 * opens every file first through the source's live-only calls (files you name resolve where we
 * stand, as nsenter does), builds the step list, and a forked child enters, forks again for a pid
 * namespace (with CLONE_PARENT, so Node stays the parent and sees the exit status), and execs.
 */
import { environEntries } from '../src/util/environ.js';
import { constants as fsc } from 'node:fs';
import { constants as osc } from 'node:os';
import { basename } from 'node:path';
import { getoptLong, type LongOption } from './getopt.js';
import type { Deps } from './common.js';
import { versionLine } from './options.js';
import type { NsType } from '../src/parse/ns-link.js';
import type { ProcSource } from '../src/source/source.js';
import { isProcError } from '../src/source/errors.js';
import { buildNsenterSteps } from '../src/nsenter/plan.js';
import { IdParseError, parseId, parsePidArg } from '../src/nsenter/ids.js';
import { TargetError, readTargetExtras, resolveContainerRequest, resolveTarget, type FileRef, type TargetRequest } from '../src/nsenter/target.js';
import { escapeControl } from '../src/render/escape.js';
import { strerror } from '../src/util/strerror.js';

const PROG = 'nsenter-ts';
const EXIT_FAILURE = 1;
const EX_EXEC_FAILED = 126;
const EX_EXEC_ENOENT = 127;

const NS_OPTION: Record<string, NsType> = { m: 'mnt', u: 'uts', i: 'ipc', n: 'net', p: 'pid', C: 'cgroup', U: 'user', T: 'time' };

const LONGS: LongOption[] = [
  { name: 'all', arg: 'none', key: 'a' },
  { name: 'help', arg: 'none', key: 'h' },
  { name: 'version', arg: 'none', key: 'V' },
  { name: 'target', arg: 'required', key: 't' },
  { name: 'mount', arg: 'optional', key: 'm' },
  { name: 'uts', arg: 'optional', key: 'u' },
  { name: 'ipc', arg: 'optional', key: 'i' },
  { name: 'net', arg: 'optional', key: 'n' },
  { name: 'pid', arg: 'optional', key: 'p' },
  { name: 'user', arg: 'optional', key: 'U' },
  { name: 'cgroup', arg: 'optional', key: 'C' },
  { name: 'time', arg: 'optional', key: 'T' },
  { name: 'setuid', arg: 'required', key: 'S' },
  { name: 'setgid', arg: 'required', key: 'G' },
  { name: 'root', arg: 'optional', key: 'r' },
  { name: 'wd', arg: 'optional', key: 'w' },
  { name: 'wdns', arg: 'required', key: 'W' },
  { name: 'env', arg: 'none', key: 'e' },
  { name: 'no-fork', arg: 'none', key: 'F' },
  { name: 'join-cgroup', arg: 'none', key: 'c' },
  { name: 'preserve-credentials', arg: 'none', key: 'preserve-credentials' },
  { name: 'keep-caps', arg: 'none', key: 'keep-caps' },
  { name: 'user-parent', arg: 'none', key: 'user-parent' },
  { name: 'follow-context', arg: 'none', key: 'Z' },
  { name: 'container', arg: 'required', key: 'container' },
];
const SHORTS = '+ahVt:m::u::i::n::p::C::U::T::S:G:r::w::W:ecFZ';

export const NSENTER_HELP = `
Usage:
 ${PROG} [options] [<program> [<argument>...]]

Run a program with namespaces of other processes.

Options:
 -a, --all                     enter all namespaces (and, unlike nsenter, join the target's cgroups)
 -t, --target <pid>            target process to get namespaces from
     --container <name|id>     target a container's init (pid 1 inside it): name, id,
                               id prefix, member pid or cgroup path
 -m, --mount[=<file>]          enter mount namespace
 -u, --uts[=<file>]            enter UTS namespace (hostname etc)
 -i, --ipc[=<file>]            enter System V IPC namespace
 -n, --net[=<file>]            enter network namespace
 -p, --pid[=<file>]            enter pid namespace
 -C, --cgroup[=<file>]         enter cgroup namespace
 -U, --user[=<file>]           enter user namespace
     --user-parent             enter parent user namespace
 -T, --time[=<file>]           enter time namespace
 -S, --setuid <uid>|follow     set uid in entered namespace (0-4294967294)
 -G, --setgid <gid>|follow     set gid in entered namespace (0-4294967294)
     --preserve-credentials    do not touch uids or gids
     --keep-caps               retain capabilities granted in user namespaces
 -r, --root[=<dir>]            set the root directory
 -w, --wd[=<dir>]              set the working directory
 -W, --wdns <dir>              set the working directory in namespace
 -e, --env                     inherit environment variables from target process
 -F, --no-fork                 do not fork before exec'ing <program>
 -c, --join-cgroup             join the cgroup of the target process (v1, v2 and hybrid)

 -h, --help                    display this help
 -V, --version                 display version

For more details see nsenter(1) and docs/nsenter-ts.md.
`;

class Fail extends Error {
  constructor(
    message: string,
    readonly code = EXIT_FAILURE,
  ) {
    super(message);
  }
}

interface Opts {
  target?: number;
  container?: string;
  all: boolean;
  ns: Map<NsType, string | undefined>;
  setuid?: number | 'follow';
  setgid?: number | 'follow';
  preserveCred: boolean;
  keepCaps: boolean;
  userParent: boolean;
  root?: string | true;
  wd?: string | true;
  wdns?: string;
  env: boolean;
  noFork: boolean;
  joinCgroup: boolean;
  program: string[];
}

function parse(argv: string[], deps: Deps): Opts | number {
  const r = getoptLong(argv, SHORTS, LONGS);
  if (!r.ok) {
    deps.stderr.write(`${PROG}: ${escapeControl(r.message)}\nTry '${PROG} --help' for more information.\n`);
    return EXIT_FAILURE;
  }
  const o: Opts = { all: false, ns: new Map(), preserveCred: false, keepCaps: false, userParent: false, env: false, noFork: false, joinCgroup: false, program: r.rest };
  for (const { key, value } of r.options) {
    const strip = (v: string | undefined): string | undefined => (v?.startsWith('=') ? v.slice(1) : v);
    if (key in NS_OPTION) o.ns.set(NS_OPTION[key]!, strip(value));
    else if (key === 'a') o.all = true;
    else if (key === 't') {
      if (o.target !== undefined) throw new Fail('option --target may be given only once');
      o.target = parsePidArg(value ?? '');
    } else if (key === 'container') o.container = value;
    else if (key === 'S') o.setuid = value === 'follow' ? 'follow' : parseId(value ?? '', 'uid');
    else if (key === 'G') o.setgid = value === 'follow' ? 'follow' : parseId(value ?? '', 'gid');
    else if (key === 'r') o.root = strip(value) ?? true;
    else if (key === 'w') o.wd = strip(value) ?? true;
    else if (key === 'W') o.wdns = strip(value);
    else if (key === 'e') o.env = true;
    else if (key === 'F') o.noFork = true;
    else if (key === 'c') o.joinCgroup = true;
    else if (key === 'preserve-credentials') o.preserveCred = true;
    else if (key === 'keep-caps') o.keepCaps = true;
    else if (key === 'user-parent') o.userParent = true;
    else if (key === 'Z') throw new Fail('--follow-context: SELinux is not supported by this build');
    else if (key === 'h') {
      deps.stdout.write(NSENTER_HELP);
      return 0;
    } else if (key === 'V') {
      deps.stdout.write(versionLine(PROG));
      return 0;
    }
  }
  if (o.wd !== undefined && o.wdns !== undefined) throw new Fail('mutually exclusive arguments: --wd --wdns');
  return o;
}

function errText(e: unknown): string {
  if (isProcError(e)) return strerror(e.errno);
  const code = (e as NodeJS.ErrnoException).code;
  return code ? strerror(code) : (e as Error).message;
}

/**
 * open a file of the plan: the target's under the proc root, or the user's where we stand.
 * O_NONBLOCK: a FIFO named as a namespace file (`-n/tmp/fifo`), root or working directory opens at
 * once instead of blocking forever (util-linux nsenter blocks); setns or fchdir then refuses it.
 */
function openRef(src: ProcSource, ref: FileRef): number {
  const flags = fsc.O_RDONLY | fsc.O_NONBLOCK;
  return 'proc' in ref ? src.kernel.openProcFd(ref.proc, flags) : src.kernel.openPathFd(ref.path, flags);
}

/**
 * A namespace file the user named must be one: anything else (a regular file, a FIFO, a socket, a
 * device, a directory) is refused before anything is forked, with what it is (checked on the open fd).
 */
function checkNsFile(src: ProcSource, fd: number, path: string): void {
  const kind = src.kernel.nsFileKind(fd);
  if (kind !== 'namespace') throw new Fail(`${path}: not a namespace file (${kind})`);
}

export async function nsenterMain(argv: string[], deps: Deps): Promise<number> {
  const native = await import('../src/native/index.js');
  const opened: number[] = [];
  let src: ProcSource | undefined;
  let relay: SignalRelay | undefined;
  const closeAll = (): void => {
    for (const fd of opened.splice(0)) src?.kernel.closeFd(fd);
  };
  try {
    const o = parse(argv, deps);
    if (typeof o === 'number') return o;
    const why = native.nativeUnavailableReason();
    if (why) throw new Fail(why);
    src = deps.openSource({});
    const k = src.kernel;

    const req: TargetRequest = {
      ...(o.target !== undefined ? { pid: o.target } : {}),
      ...(o.container !== undefined ? { container: o.container } : {}),
      all: o.all,
      ns: o.ns,
      userParent: o.userParent,
      ...(o.root !== undefined ? { root: o.root } : {}),
      ...(o.wd !== undefined ? { wd: o.wd } : {}),
      env: o.env,
      ...(o.setuid !== undefined ? { setuid: o.setuid } : {}),
      ...(o.setgid !== undefined ? { setgid: o.setgid } : {}),
      joinCgroup: o.joinCgroup,
    };
    const plan = resolveTarget(src, await resolveContainerRequest(src, req));
    const nsFds: Partial<Record<NsType, number>> = {};
    for (const { type, file } of plan.namespaces) {
      const fd = openRef(src, file);
      opened.push(fd);
      if ('path' in file) checkNsFile(src, fd, file.path);
      nsFds[type] = fd;
    }
    if (o.userParent) {
      const parent = k.nsIoctl(nsFds.user!, native.NS_IOCTL.GET_USERNS);
      opened.push(parent);
      nsFds.user = parent;
    }
    const rootFd = plan.root === undefined ? undefined : openRef(src, plan.root);
    if (rootFd !== undefined) opened.push(rootFd);
    const wdFd = plan.wd === undefined ? undefined : openRef(src, plan.wd);
    if (wdFd !== undefined) opened.push(wdFd);

    const extras = readTargetExtras(src, plan.pid, req);
    const envp = extras.envp ?? environEntries();
    let uid = extras.uid;
    let gid = extras.gid;
    const userNs = nsFds.user !== undefined;
    if (userNs && !o.preserveCred) {
      uid ??= 0;
      gid ??= 0;
    }
    const cgroupFds: number[] = [];
    for (const rel of extras.cgroupProcs) {
      let fd: number;
      try {
        fd = k.openSysFd(rel, fsc.O_WRONLY | fsc.O_APPEND);
      } catch (e) {
        if (!isProcError(e)) throw e;
        throw new Fail(`failed to open ${e.path}: ${errText(e)}`);
      }
      opened.push(fd);
      cgroupFds.push(fd);
    }

    const program = o.program;
    const shell = (process.env.SHELL && environEntries({ SHELL: process.env.SHELL })[0]!.slice('SHELL='.length)) || '/bin/sh';
    // execvp("") fails with ENOENT (an empty pathname names no file): 127, as nsenter gives
    if (program.length > 0 && program[0] === '') throw new Fail(`failed to execute : ${strerror('ENOENT')}`, EX_EXEC_ENOENT);
    const steps = buildNsenterSteps({
      nsFds,
      ...(rootFd !== undefined ? { rootFd } : {}),
      ...(wdFd !== undefined ? { wdFd } : {}),
      ...(o.wdns !== undefined ? { wdns: o.wdns } : {}),
      cgroupProcsFds: cgroupFds,
      fork: nsFds.pid !== undefined && !o.noFork,
      ...(uid !== undefined ? { uid } : {}),
      ...(gid !== undefined ? { gid } : {}),
      dropGroupsEarly: userNs && !o.preserveCred,
      keepCaps: o.keepCaps,
      file: program.length > 0 ? program[0]! : shell,
      argv: program.length > 0 ? program : [`-${basename(shell)}`],
      envp,
      search: program.length > 0,
    });

    let child;
    // signals are caught from before the fork: the program may run before runSteps resolves, and a
    // SIGTERM meanwhile must reach it, not kill nsenter-ts with the program left behind
    relay = new SignalRelay(stdinIsTerminal(src));
    try {
      child = await native.runSteps(steps);
    } catch (e) {
      if (e instanceof native.NativeError) {
        if (e.syscall === 'execve') {
          const name = program[0] ?? shell;
          throw new Fail(`failed to execute ${name}: ${native.errnoText(e.errno)}`, e.code === 'ENOENT' ? EX_EXEC_ENOENT : EX_EXEC_FAILED);
        }
        throw new Fail(e.message);
      }
      throw e;
    } finally {
      closeAll();
    }
    return await superviseChild(child, relay);
  } catch (e) {
    // every failure is one line: ours, the target's, the native layer's, or the file system's
    if (e instanceof Fail) {
      deps.stderr.write(`${PROG}: ${escapeControl(e.message)}\n`);
      return e.code;
    }
    if (e instanceof TargetError || e instanceof IdParseError || e instanceof native.NativeError || isProcError(e)) {
      deps.stderr.write(`${PROG}: ${escapeControl(e.message)}\n`);
      return EXIT_FAILURE;
    }
    const err = e as NodeJS.ErrnoException;
    const where = err.path ? `${err.syscall ?? 'open'} ${err.path}: ` : '';
    deps.stderr.write(`${PROG}: ${escapeControl(err.code ? `${where}${errText(err)}` : `internal error: ${err.message}`)}\n`);
    return EXIT_FAILURE;
  } finally {
    closeAll();
    relay?.close();
  }
}

/**
 * The signals nsenter-ts passes on to the program, caught from before the fork: until the program
 * is known they are kept, then delivered in order (Ctrl-C and Ctrl-\\ from a terminal reach the
 * program through its process group already, so those are not passed on from a terminal).
 */
class SignalRelay {
  private readonly pending: NodeJS.Signals[] = [];
  private target: ((sig: number) => void) | undefined;
  private readonly handlers = new Map<NodeJS.Signals, () => void>();
  constructor(onTerminal: boolean) {
    for (const sig of ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGINT', 'SIGQUIT', 'SIGALRM'] as NodeJS.Signals[]) {
      const h = (): void => {
        if ((sig === 'SIGINT' || sig === 'SIGQUIT') && onTerminal) return;
        if (this.target) this.target(osc.signals[sig]);
        else this.pending.push(sig);
      };
      this.handlers.set(sig, h);
      process.on(sig, h);
    }
  }
  attach(send: (sig: number) => void): void {
    this.target = send;
    for (const sig of this.pending.splice(0)) send(osc.signals[sig]);
  }
  close(): void {
    for (const [sig, h] of this.handlers) process.off(sig, h);
    this.handlers.clear();
  }
}

/** Forward signals to the program and return its exit status the way a shell reports it. */
async function superviseChild(child: { exited: Promise<{ code: number | null; signal: number | null }>; signal(sig: number): boolean }, relay: SignalRelay): Promise<number> {
  relay.attach((sig) => void child.signal(sig));
  const st = await child.exited;
  return st.code ?? 128 + (st.signal ?? 0);
}

/** isatty(0) without loading node:tty (and with it net): fd 0 is a terminal device (through the source) */
function stdinIsTerminal(src: ProcSource): boolean {
  try {
    return /^\/dev\/(pts\/\d+|tty\w*|console)$/.test(src.readProcLink('self/fd/0'));
  } catch {
    return false;
  }
}
