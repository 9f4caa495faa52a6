/**
 * nsenter-ts: util-linux nsenter, option for option, on the native step runner. Node never
 * enters a namespace itself: it opens every file first (paths are resolved where we stand, as
 * nsenter does), builds the step list, and a forked child enters, forks again for a pid
 * namespace (with CLONE_PARENT, so Node stays the parent and sees the exit status), and execs.
 */
import { closeSync, constants as fsc, fstatSync, openSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { constants as osc } from 'node:os';
import { basename } from 'node:path';
import { getoptLong, type LongOption } from './getopt.js';
import type { Deps } from './common.js';
import { versionLine } from './options.js';
import type { NsType } from '../src/parse/ns-link.js';
import { buildNsenterSteps, NSENTER_ORDER } from '../src/nsenter/plan.js';
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
     --container <name|id>     target a container's init process (from the host model)
 -m, --mount[=<file>]          enter mount namespace
 -u, --uts[=<file>]            enter UTS namespace (hostname etc)
 -i, --ipc[=<file>]            enter System V IPC namespace
 -n, --net[=<file>]            enter network namespace
 -p, --pid[=<file>]            enter pid namespace
 -C, --cgroup[=<file>]         enter cgroup namespace
 -U, --user[=<file>]           enter user namespace
     --user-parent             enter parent user namespace
 -T, --time[=<file>]           enter time namespace
 -S, --setuid <uid>|follow     set uid in entered namespace
 -G, --setgid <gid>|follow     set gid in entered namespace
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
  setuid?: string;
  setgid?: string;
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
      if (!/^\d+$/.test(value ?? '') || Number(value) <= 0) throw new Fail(`failed to parse pid: '${value}'`);
      o.target = Number(value);
    } else if (key === 'container') o.container = value;
    else if (key === 'S') o.setuid = value;
    else if (key === 'G') o.setgid = value;
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

function openOrFail(path: string, flags = fsc.O_RDONLY): number {
  try {
    return openSync(path, flags); // Node opens with O_CLOEXEC
  } catch (e) {
    throw new Fail(`cannot open ${path}: ${errText(e)}`);
  }
}

function errText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code ? strerror(code) : (e as Error).message;
}

function nsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

export async function nsenterMain(argv: string[], deps: Deps): Promise<number> {
  const native = await import('../src/native/index.js');
  const opened: number[] = [];
  try {
    const o = parse(argv, deps);
    if (typeof o === 'number') return o;
    const why = native.nativeUnavailableReason();
    if (why) throw new Fail(why);

    if (o.container !== undefined) {
      if (o.target !== undefined) throw new Fail('--target and --container are mutually exclusive');
      o.target = await resolveContainer(o.container);
    }
    const pid = o.target;

    // -a: every namespace of the target the kernel has, skipping those we already share with it
    // (nsenter skips only the user namespace, where setns fails with EINVAL); the mount namespace
    // is entered even when shared, since entering it also sets root and cwd, as nsenter users expect
    if (o.all) {
      if (pid === undefined) throw new Fail('no target PID specified for --all');
      for (const t of NSENTER_ORDER) {
        if (o.ns.has(t)) continue;
        const mine = nsInode(`/proc/self/ns/${t}`);
        if (mine === undefined) continue; // the kernel lacks it
        const theirs = nsInode(`/proc/${pid}/ns/${t}`);
        if (theirs === undefined && t === 'user') throw new Fail(`stat of /proc/${pid}/ns/user failed: No such file or directory`);
        if (mine === theirs && t !== 'mnt') continue;
        o.ns.set(t, undefined);
      }
    }
    if (o.userParent && !o.ns.has('user')) o.ns.set('user', undefined);
    if (o.ns.size === 0) throw new Fail('no namespace specified');

    const nsFds: Partial<Record<NsType, number>> = {};
    for (const t of NSENTER_ORDER) {
      if (!o.ns.has(t)) continue;
      const file = o.ns.get(t);
      if (file === undefined && pid === undefined) throw new Fail(`neither filename nor target pid supplied for ns/${t}`);
      const fd = openOrFail(file ?? `/proc/${pid}/ns/${t}`);
      opened.push(fd);
      nsFds[t] = fd;
    }
    if (o.userParent) {
      const parent = native.nsIoctl(nsFds.user!, native.NS_IOCTL.GET_USERNS);
      opened.push(parent);
      nsFds.user = parent;
    }
    const rootFd = o.root === undefined ? undefined : openOrFail(o.root === true ? targetPath(pid, 'root') : o.root);
    const wdFd = o.wd === undefined ? undefined : openOrFail(o.wd === true ? targetPath(pid, 'cwd') : o.wd);
    for (const fd of [rootFd, wdFd]) if (fd !== undefined) opened.push(fd);

    const envp = o.env ? readEnviron(targetPath(pid, 'environ')) : Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
    const owner = o.setuid === 'follow' || o.setgid === 'follow' ? statSync(targetPath(pid, '')) : undefined;
    const idArg = (v: string | undefined, which: 'uid' | 'gid'): number | undefined => {
      if (v === undefined) return undefined;
      if (v === 'follow') return which === 'uid' ? owner!.uid : owner!.gid;
      if (!/^\d+$/.test(v)) throw new Fail(`failed to parse ${which}: '${v}'`);
      return Number(v);
    };
    let uid = idArg(o.setuid, 'uid');
    let gid = idArg(o.setgid, 'gid');
    const userNs = nsFds.user !== undefined;
    if (userNs && !o.preserveCred) {
      uid ??= 0;
      gid ??= 0;
    }
    const cgroupProcsFds = o.joinCgroup || o.all ? await openCgroupProcs(pid, o.joinCgroup) : [];
    opened.push(...cgroupProcsFds);

    const program = o.program;
    const shell = process.env.SHELL || '/bin/sh';
    const steps = buildNsenterSteps({
      nsFds,
      ...(rootFd !== undefined ? { rootFd } : {}),
      ...(wdFd !== undefined ? { wdFd } : {}),
      ...(o.wdns !== undefined ? { wdns: o.wdns } : {}),
      cgroupProcsFds,
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
      for (const fd of opened.splice(0)) closeSync(fd);
    }
    return await superviseChild(child);
  } catch (e) {
    // every failure is one line: ours, the native layer's, or the file system's
    if (e instanceof Fail) {
      deps.stderr.write(`${PROG}: ${escapeControl(e.message)}\n`);
      return e.code;
    }
    if (e instanceof native.NativeError) {
      deps.stderr.write(`${PROG}: ${escapeControl(e.message)}\n`);
      return EXIT_FAILURE;
    }
    const err = e as NodeJS.ErrnoException;
    const where = err.path ? `${err.syscall ?? 'open'} ${err.path}: ` : '';
    deps.stderr.write(`${PROG}: ${escapeControl(err.code ? `${where}${errText(err)}` : `internal error: ${err.message}`)}\n`);
    return EXIT_FAILURE;
  } finally {
    for (const fd of opened) closeSync(fd);
  }
}

function targetPath(pid: number | undefined, what: string): string {
  if (pid === undefined) throw new Fail(`neither filename nor target pid supplied for ${what}`);
  return what === '' ? `/proc/${pid}` : `/proc/${pid}/${what}`;
}

function readEnviron(path: string): string[] {
  try {
    const buf = readFileSync(path);
    return buf.toString('latin1').split('\0').filter((e) => e !== '').map((e) => Buffer.from(e, 'latin1').toString('utf8'));
  } catch (e) {
    throw new Fail(`cannot open ${path}: ${errText(e)}`);
  }
}

/** Forward signals to the program and return its exit status the way a shell reports it. */
async function superviseChild(child: { exited: Promise<{ code: number | null; signal: number | null }>; signal(sig: number): boolean }): Promise<number> {
  const forwarded: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGINT', 'SIGQUIT', 'SIGALRM'];
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of forwarded) {
    // Ctrl-C and Ctrl-\ from a terminal reach the program through its process group already
    const h = (): void => {
      if ((sig === 'SIGINT' || sig === 'SIGQUIT') && stdinIsTerminal()) return;
      child.signal(osc.signals[sig]);
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  try {
    const st = await child.exited;
    return st.code ?? 128 + (st.signal ?? 0);
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

/** isatty(0) without loading node:tty (and with it net): a character device that answers TCGETS */
function stdinIsTerminal(): boolean {
  try {
    return fstatSync(0).isCharacterDevice() && readlinkSync('/proc/self/fd/0').startsWith('/dev/');
  } catch {
    return false;
  }
}

/** --container NAME|ID: the init pid of the one container the host model names so */
async function resolveContainer(name: string): Promise<number> {
  const { openSource } = await import('../src/source/source.js');
  const { inspectHost } = await import('../src/inspect/host.js');
  const host = inspectHost(openSource(), { containers: true, excludeSelf: true });
  const asPid = /^\d+$/.test(name) ? Number(name) : undefined;
  const hits = host.containers.filter((c) => c.name === name || c.id === name || (c.id?.startsWith(name) && name.length >= 4) || (asPid !== undefined && c.pids.includes(asPid)));
  if (hits.length === 0) throw new Fail(`no container '${name}' (cinf -o +CONTAINER lists them)`);
  if (hits.length > 1) throw new Fail(`'${name}' names ${hits.length} containers: ${hits.map((c) => `${c.name} (pid ${c.initPid})`).join(', ')}`);
  return hits[0]!.initPid;
}

/**
 * The cgroup.procs files of the target's cgroups, for every hierarchy mounted here (v2, v1 and
 * hybrid: nsenter -c is v2-only and takes the path after the last ':' of the first line). A
 * hierarchy where we already share the target's cgroup is skipped. `strict` (-c): a cgroup that
 * cannot be opened is an error; for -a it is skipped.
 */
async function openCgroupProcs(pid: number | undefined, strict: boolean): Promise<number[]> {
  if (pid === undefined) throw new Fail('no target PID specified for --join-cgroup');
  const { parseProcCgroup } = await import('../src/parse/proc-cgroup.js');
  const { hierarchyFor, cgroupSysRel } = await import('../src/cgroup/layout.js');
  const { readCgroupLayout } = await import('../src/inspect/host.js');
  const { openSource } = await import('../src/source/source.js');
  let theirs, mine;
  try {
    theirs = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
    mine = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  } catch (e) {
    throw new Fail(`cannot read /proc/${pid}/cgroup: ${errText(e)}`);
  }
  const layout = readCgroupLayout(openSource());
  const fds: number[] = [];
  for (const line of theirs) {
    const same = mine.find((m) => m.hierarchyId === line.hierarchyId && m.controllers.join(',') === line.controllers.join(','));
    if (same && same.path === line.path) continue;
    const h = hierarchyFor(layout, line);
    const rel = h ? cgroupSysRel(h, line.path) : undefined;
    if (!h || rel === undefined) {
      if (strict) throw new Fail(`cgroup ${line.path} (${line.controllers.join(',') || 'unified'}) of pid ${pid} is not reachable from here`);
      continue;
    }
    const path = `/sys/${rel}/cgroup.procs`;
    try {
      fds.push(openSync(path, fsc.O_WRONLY | fsc.O_APPEND));
    } catch (e) {
      for (const fd of fds) closeSync(fd);
      throw new Fail(`failed to open ${path}: ${errText(e)}`);
    }
  }
  return fds;
}

