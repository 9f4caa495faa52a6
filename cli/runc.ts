/**
 * runc-ts: an OCI runtime with runc's command line. Global options come before the verb, as in
 * runc (urfave/cli). Implemented: spec, state, list, run [-d], create, start, kill, delete, ps, pause, resume, update, events --stats, features, exec,
 * with terminals (--console-socket, exec -t, run's foreground terminal) and hooks; checkpoint/restore answer that they are
 * not implemented yet (exit 1) — see docs/runtime.md for what exists underneath.
 */
import * as fs from 'node:fs';
import { escapeControl } from '../src/render/escape.js';
import { exampleSpec, renderSpecJson, rootlessSpec, RUNC_SPEC_VERSION } from '../src/runtime/spec-default.js';
import { DEFAULT_ROOT, deriveStatus, ociState, renderListJson, renderListTable, renderOciState, StateError, StateStore, type ListRow } from '../src/runtime/state.js';
import { probeInit } from '../src/runtime/probe.js';
import { UserNames } from '../src/proc/users.js';
import type { ProcSource } from '../src/source/source.js';
import { SpecError } from '../src/runtime/spec.js';
import { packageVersion } from '../src/util/package-root.js';
import { CliError, EXIT_FAILURE, EXIT_OK, runHandler, type Deps } from './common.js';

const PROG = 'runc-ts';
const VERBS_LATER = ['checkpoint', 'restore'];

export interface RuncGlobals {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
}

const USAGE = `Usage: runc-ts [global options] command [command options] [arguments...]

An OCI runtime with runc's command line (runc 1.1), on hostscope's native step runner.

Commands:
   list     lists containers started by runc-ts with the given root
   spec     create a new specification file
   state    output the state of a container
   run      create and run a container (foreground, or -d)
   create   create a container (its init parked until start)
   start    executes the user defined process in a created container
   kill     kill sends the specified signal (default: SIGTERM) to the container's init process
   delete   delete any resources held by the container
   ps       ps displays the processes running inside a container
   pause    pause suspends all processes inside the container
   resume   resumes all processes that have been previously paused
   update   update container resource constraints
   events   display container events (--stats: one stats object)
   features show the enabled features
   exec     execute new process inside the container

Global options:
   --root value        root directory for storage of container state (default: "${DEFAULT_ROOT}")
   --log value         set the log file to write runc-ts logs to
   --log-format value  set the log format ('text' (default), or 'json')
   --debug             enable debug logging
   --version, -v       print the version
   --help, -h          show help
`;

/** one option with a value: `--x v`, `--x=v`; -x v */
function takeValue(argv: string[], i: number, name: string): [string, number] {
  const a = argv[i]!;
  const eq = a.indexOf('=');
  if (eq >= 0) return [a.slice(eq + 1), i];
  if (i + 1 >= argv.length) throw new CliError(`flag needs an argument: ${name}`, EXIT_FAILURE);
  return [argv[i + 1]!, i + 1];
}

export async function runcMain(argv: string[], deps: Deps): Promise<number> {
  return runHandler(PROG, deps, () => dispatch(argv, deps));
}

function dispatch(argv: string[], deps: Deps): number | Promise<number> {
  const g: RuncGlobals = { root: DEFAULT_ROOT, logFormat: 'text', debug: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) break;
    const name = a.split('=')[0]!;
    switch (name) {
      case '--root':
        [g.root, i] = takeValue(argv, i, 'root');
        if (!g.root.startsWith('/')) throw new CliError(`--root must be an absolute path: ${g.root}`);
        break;
      case '--log':
        [g.log, i] = takeValue(argv, i, 'log');
        break;
      case '--log-format': {
        let v: string;
        [v, i] = takeValue(argv, i, 'log-format');
        if (v !== 'text' && v !== 'json') throw new CliError(`invalid log-format: ${v}`);
        g.logFormat = v;
        break;
      }
      case '--debug':
        g.debug = true;
        break;
      case '--systemd-cgroup':
        throw new CliError('--systemd-cgroup is not supported');
      case '-v':
      case '--version':
        deps.stdout.write(`runc-ts version ${version()}\nspec: ${RUNC_SPEC_VERSION}\n`);
        return EXIT_OK;
      case '-h':
      case '--help':
        deps.stdout.write(USAGE);
        return EXIT_OK;
      default:
        throw new CliError(`flag provided but not defined: ${a}`);
    }
  }
  const verb = argv[i];
  const rest = argv.slice(i + 1);
  if (verb === undefined || verb === 'help') {
    deps.stdout.write(USAGE);
    return EXIT_OK;
  }
  switch (verb) {
    case 'spec':
      return handleSpec(rest, deps);
    case 'state':
      return handleState(rest, g, deps);
    case 'list':
      return handleList(rest, g, deps);
    case 'run':
      return handleRun(rest, g, deps);
    case 'create':
      return handleCreate(rest, g, deps);
    case 'start':
    case 'pause':
    case 'resume':
      return handleSimple(verb, rest, g, deps);
    case 'kill':
      return handleKill(rest, g, deps);
    case 'delete':
      return handleDelete(rest, g, deps);
    case 'ps':
      return handlePs(rest, g, deps);
    case 'update':
      return handleUpdate(rest, g, deps);
    case 'events':
      return handleEvents(rest, g, deps);
    case 'features':
      return handleFeatures(rest, deps);
    case 'exec':
      return handleExec(rest, g, deps);
  }
  if (VERBS_LATER.includes(verb)) throw new CliError(`${verb}: not implemented yet`);
  throw new CliError(`no such command: ${verb}`);
}

function version(): string {
  return packageVersion(import.meta.dirname);
}

function exactArgs(verb: string, args: string[], n: number): void {
  if (args.length !== n) throw new CliError(`"${verb}" requires exactly ${n} argument(s)`);
}

/** runc spec [--rootless] [--bundle DIR] */
export function handleSpec(argv: string[], deps: Deps & { geteuid?: () => number; getegid?: () => number }): number {
  let rootless = false;
  let bundle: string | undefined;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (name === '--rootless') rootless = true;
    else if (name === '--bundle' || name === '-b') [bundle, i] = takeValue(argv, i, 'bundle');
    else if (name === '-h' || name === '--help') {
      deps.stdout.write('Usage: runc-ts spec [--rootless] [--bundle DIR]\n\nCreate a new specification file (config.json) for the bundle, as runc spec writes it.\n');
      return EXIT_OK;
    } else if (a.startsWith('-') && a !== '-') throw new CliError(`flag provided but not defined: ${a}`);
    else args.push(a);
  }
  exactArgs('spec', args, 0);
  const dir = bundle ?? '.';
  try {
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`chdir ${dir}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'ENOTDIR' ? 'not a directory' : (e as Error).message}`);
  }
  const path = `${dir}/config.json`;
  const euid = deps.geteuid?.() ?? process.geteuid!();
  const egid = deps.getegid?.() ?? process.getegid!();
  const text = renderSpecJson(rootless ? rootlessSpec(euid, egid) : exampleSpec());
  try {
    // O_EXCL: never follows a planted symlink, never overwrites (runc: "File config.json exists. Remove it first")
    fs.writeFileSync(path, text, { flag: 'wx', mode: 0o666 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError('File config.json exists. Remove it first');
    throw new CliError(`cannot write ${path}: ${(e as Error).message}`);
  }
  return EXIT_OK;
}

function statusOf(src: ProcSource, store: StateStore, id: string) {
  const saved = store.load(id);
  const status = deriveStatus(saved, probeInit(src, saved, store.fifoExists(id)));
  return ociState(saved, status);
}

function wrapState<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof StateError) throw new CliError(e.message);
    throw e;
  }
}

export function handleState(argv: string[], g: RuncGlobals, deps: Deps): number {
  if (argv.includes('-h') || argv.includes('--help')) {
    deps.stdout.write('Usage: runc-ts state <container-id>\n\nOutput the state of a container (JSON, as runc prints it).\n');
    return EXIT_OK;
  }
  exactArgs('state', argv, 1);
  const store = new StateStore(g.root);
  deps.stdout.write(renderOciState(wrapState(() => statusOf(deps.openSource({}), store, argv[0]!))));
  return EXIT_OK;
}

export function handleList(argv: string[], g: RuncGlobals, deps: Deps): number {
  let quiet = false;
  let format = 'table';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (name === '-q' || name === '--quiet') quiet = true;
    else if (name === '-f' || name === '--format') [format, i] = takeValue(argv, i, 'format');
    else if (name === '-h' || name === '--help') {
      deps.stdout.write('Usage: runc-ts list [-q] [--format table|json]\n\nList containers started by runc-ts with the given root.\n');
      return EXIT_OK;
    } else throw new CliError(a.startsWith('-') ? `flag provided but not defined: ${a}` : `"list" takes no arguments`);
  }
  if (format !== 'table' && format !== 'json') throw new CliError('invalid format option');
  const store = new StateStore(g.root);
  const src = deps.openSource({});
  const users = new UserNames(src);
  const rows: ListRow[] = [];
  for (const id of store.list()) {
    try {
      const state = statusOf(src, store, id);
      rows.push({ state, ownerName: users.name(fs.statSync(store.dir(id)).uid) ?? '' });
    } catch (e) {
      // a container deleted while we list, or a state file we refuse: runc skips it too
      if (e instanceof StateError || (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
  }
  if (quiet) {
    for (const r of rows) deps.stdout.write(`${escapeControl(r.state.id)}\n`);
    return EXIT_OK;
  }
  deps.stdout.write(format === 'json' ? renderListJson(rows) : renderListTable(rows));
  return EXIT_OK;
}

/** runc run [--bundle DIR] [--pid-file F] [--keep] [--no-pivot] ID (foreground only so far) */
export async function handleRun(argv: string[], g: RuncGlobals, deps: Deps): Promise<number> {
  let bundle = '.';
  let pidFile: string | undefined;
  let keep = false;
  let noPivot = false;
  let detach = false;
  let consoleSocket: string | undefined;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (name === '--bundle' || name === '-b') [bundle, i] = takeValue(argv, i, 'bundle');
    else if (name === '--pid-file') [pidFile, i] = takeValue(argv, i, 'pid-file');
    else if (name === '--keep') keep = true;
    else if (name === '--no-pivot') noPivot = true;
    else if (name === '-d' || name === '--detach') detach = true;
    else if (name === '--console-socket') [consoleSocket, i] = takeValue(argv, i, 'console-socket');
    else if (name === '-h' || name === '--help') {
      deps.stdout.write(RUN_HELP);
      return EXIT_OK;
    } else if (a.startsWith('-')) throw new CliError(`flag provided but not defined: ${a}`);
    else args.push(a);
  }
  exactArgs('run', args, 1);
  const { runContainer, createContainer } = await import('../src/runtime/container.js');
  if (detach && keep) throw new CliError('--detach and --keep cannot both be set');
  if (detach)
    return runtimeErrors(async () => {
      await createContainer({ root: g.root, id: args[0]!, bundle, pidFile, noPivot, consoleSocket: absSocket(consoleSocket), detach: true, warn: warner(deps) });
      const { ctxOf, startContainer } = await import('../src/runtime/lifecycle.js');
      try {
        await startContainer(ctxOf(g.root), args[0]!);
      } catch (e) {
        // runc run -d: a container that failed to start is destroyed
        await deleteQuietly(g.root, args[0]!, deps);
        throw e;
      }
      return EXIT_OK;
    });
  return runtimeErrors(() => runContainer({ root: g.root, id: args[0]!, bundle, pidFile, keep, noPivot, consoleSocket: absSocket(consoleSocket), warn: warner(deps) }));
}

async function deleteQuietly(root: string, id: string, deps: Deps): Promise<void> {
  const L = await import('../src/runtime/lifecycle.js');
  try {
    await L.deleteContainer(L.ctxOf(root), id, true, warner(deps));
  } catch {
    /* what is left is reported by the next command */
  }
}

/** runc takes the socket path as given; the init connects to it from its own cwd, so make it absolute here */
function absSocket(p: string | undefined): string | undefined {
  if (p === undefined) return undefined;
  if (p === '') throw new CliError('--console-socket: empty path');
  return p.startsWith('/') ? p : `${process.cwd()}/${p}`;
}

const TERMINAL_HELP = `Terminal: with "terminal": true in config.json the container's init allocates a pty from its own
/dev/pts and sends the master over --console-socket (a unix socket the caller listens on; SCM_RIGHTS,
message "/dev/ptmx", as runc). Detached (create, run -d) without --console-socket is an error; run in
the foreground without one attaches the pty to runc-ts's own terminal (raw mode, resized on SIGWINCH).
`;

const HOOKS_HELP = `Hooks (config.json "hooks"): prestart and createRuntime (runtime namespaces) and createContainer
(container namespaces) run during create before pivot_root; startContainer (container namespaces and
root) during start before the program; poststart after it started; poststop after delete. Each gets
the state JSON on stdin; a failing one fails the command and the container is removed (poststop: a
warning only).
`;

const RUN_HELP = `Usage: runc-ts run [-d] [--bundle DIR] [--pid-file FILE] [--console-socket PATH] [--keep] [--no-pivot] <container-id>

Create and run a container: in the foreground (exit with its exit code), or with -d create and start it and return.

${TERMINAL_HELP}
${HOOKS_HELP}`;

function warner(deps: Deps) {
  return (m: string) => void deps.stderr.write(`runc-ts: warning: ${escapeControl(m)}\n`);
}

/** the runtime's own errors as one line, exit 1 */
async function runtimeErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const n = (e as Error).name;
    if (e instanceof StateError || e instanceof SpecError || n === 'RuntimeError' || n === 'CgroupError' || n === 'NativeError' || n === 'PlanError' || n === 'HookError' || n === 'StepListError') throw new CliError((e as Error).message);
    throw e;
  }
}

function helpWanted(argv: string[], deps: Deps, text: string): boolean {
  if (!argv.includes('-h') && !argv.includes('--help')) return false;
  deps.stdout.write(text);
  return true;
}

/** runc create [--bundle DIR] [--pid-file F] [--no-pivot] ID */
export async function handleCreate(argv: string[], g: RuncGlobals, deps: Deps): Promise<number> {
  let bundle = '.';
  let pidFile: string | undefined;
  let noPivot = false;
  let consoleSocket: string | undefined;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (name === '--bundle' || name === '-b') [bundle, i] = takeValue(argv, i, 'bundle');
    else if (name === '--pid-file') [pidFile, i] = takeValue(argv, i, 'pid-file');
    else if (name === '--no-pivot') noPivot = true;
    else if (name === '--console-socket') [consoleSocket, i] = takeValue(argv, i, 'console-socket');
    else if (name === '-h' || name === '--help') {
      deps.stdout.write(
        `Usage: runc-ts create [--bundle DIR] [--pid-file FILE] [--console-socket PATH] [--no-pivot] <container-id>\n\nCreate a container: returns once its init is parked on its exec fifo (status "created"); "start" runs the process.\nThe init keeps runc-ts's stdio and outlives it: run it under a subreaper that reaps it.\n\n${TERMINAL_HELP}\n${HOOKS_HELP}`,
      );
      return EXIT_OK;
    } else if (a.startsWith('-')) throw new CliError(`flag provided but not defined: ${a}`);
    else args.push(a);
  }
  exactArgs('create', args, 1);
  const { createContainer } = await import('../src/runtime/container.js');
  return runtimeErrors(() => createContainer({ root: g.root, id: args[0]!, bundle, pidFile, noPivot, consoleSocket: absSocket(consoleSocket), warn: warner(deps) }));
}

const SIMPLE_HELP: Record<string, string> = {
  start: 'Usage: runc-ts start <container-id>\n\nRelease a created container\'s init: it executes the process of config.json.\nstartContainer hooks run first (in the container), poststart hooks after; a failing one kills the container.\n',
  pause: 'Usage: runc-ts pause <container-id>\n\nFreeze every process of the container (the cgroup freezer).\n',
  resume: 'Usage: runc-ts resume <container-id>\n\nThaw a paused container.\n',
};

export async function handleSimple(verb: string, argv: string[], g: RuncGlobals, deps: Deps): Promise<number> {
  if (helpWanted(argv, deps, SIMPLE_HELP[verb]!)) return EXIT_OK;
  for (const a of argv) if (a.startsWith('-')) throw new CliError(`flag provided but not defined: ${a}`);
  exactArgs(verb, argv, 1);
  const L = await import('../src/runtime/lifecycle.js');
  const c = L.ctxOf(g.root);
  return runtimeErrors(async () => {
    if (verb === 'start') await L.startContainer(c, argv[0]!);
    else if (verb === 'pause') await L.pauseContainer(c, argv[0]!);
    else await L.resumeContainer(c, argv[0]!);
    return EXIT_OK;
  });
}

/** runc kill [--all|-a] ID [SIGNAL] */
export async function handleKill(argv: string[], g: RuncGlobals, deps: Deps): Promise<number> {
  if (helpWanted(argv, deps, 'Usage: runc-ts kill [--all] <container-id> [signal]\n\nSend a signal (default SIGTERM; a name, SIG-name or number) to the container\'s init, or with --all to every process of its cgroup.\n')) return EXIT_OK;
  let all = false;
  const args: string[] = [];
  for (const a of argv) {
    if (a === '-a' || a === '--all') all = true;
    else if (a.startsWith('-') && !/^-\d+$/.test(a)) throw new CliError(`flag provided but not defined: ${a}`);
    else args.push(a);
  }
  if (args.length < 1 || args.length > 2) throw new CliError(args.length < 1 ? '"kill" requires a minimum of 1 argument(s)' : '"kill" requires a maximum of 2 argument(s)');
  const L = await import('../src/runtime/lifecycle.js');
  return runtimeErrors(async () => {
    const sig = L.parseSignal(args[1] ?? 'SIGTERM');
    await L.killContainer(L.ctxOf(g.root), args[0]!, sig, all);
    return EXIT_OK;
  });
}

/** runc delete [--force|-f] ID */
export async function handleDelete(argv: string[], g: RuncGlobals, deps: Deps): Promise<number> {
  if (helpWanted(argv, deps, 'Usage: runc-ts delete [--force] <container-id>\n\nDelete a stopped (or created) container: its state and cgroup. --force kills a running one first.\nThen the poststop hooks run; a failing one is a warning.\n')) return EXIT_OK;
  let force = false;
  const args: string[] = [];
  for (const a of argv) {
    if (a === '-f' || a === '--force') force = true;
    else if (a.startsWith('-')) throw new CliError(`flag provided but not defined: ${a}`);
    else args.push(a);
  }
  if (args.length < 1) throw new CliError('"delete" requires a minimum of 1 argument(s)');
  const L = await import('../src/runtime/lifecycle.js');
  const c = L.ctxOf(g.root);
  let failed = false;
  for (const id of args) {
    try {
      await runtimeErrors(() => L.deleteContainer(c, id, force, warner(deps)));
    } catch (e) {
      if (!(e instanceof CliError) || args.length === 1) throw e;
      deps.stderr.write(`runc-ts: ${escapeControl(e.message)}\n`);
      failed = true;
    }
  }
  return failed ? EXIT_FAILURE : EXIT_OK;
}

/** runc ps [--format table|json] ID [ps options] */
export async function handlePs(argv: string[], g: RuncGlobals, deps: Deps): Promise<number> {
  let format = 'table';
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (name === '-f' || name === '--format') [format, i] = takeValue(argv, i, 'format');
    else if (name === '-h' || name === '--help') {
      deps.stdout.write('Usage: runc-ts ps [--format table|json] <container-id> [ps options]\n\nThe processes of the container: json = their pids, table = `ps` (default -ef) filtered to them.\n');
      return EXIT_OK;
    } else if (a.startsWith('-')) throw new CliError(`flag provided but not defined: ${a}`);
    else break;
  }
  const id = argv[i];
  if (id === undefined) throw new CliError('"ps" requires a minimum of 1 argument(s)');
  const psArgs = argv.slice(i + 1);
  if (format !== 'table' && format !== 'json') throw new CliError(`invalid format option`);
  const L = await import('../src/runtime/lifecycle.js');
  const pids = await runtimeErrors(() => L.containerPids(L.ctxOf(g.root), id));
  if (format === 'json') {
    deps.stdout.write(`${JSON.stringify(pids)}\n`);
    return EXIT_OK;
  }
  if (psArgs.length === 1 && psArgs[0] === '-ef') throw new CliError('ps: -ef is the default; give other ps options');
  // a builtin, not import(): the runc-ts bundle runs as a vm.Script, which has no dynamic import
  const { execFileSync } = process.getBuiltinModule('node:child_process');
  let out: string;
  try {
    out = execFileSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    throw new CliError(`ps: ${(e as Error).message.split('\n')[0]}`);
  }
  const lines = out.split('\n');
  const header = lines[0] ?? '';
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new CliError("couldn't find PID field in ps output");
  const want = new Set(pids);
  deps.stdout.write(`${escapeControl(header)}\n`);
  for (const l of lines.slice(1)) {
    const f = l.trim().split(/\s+/);
    if (want.has(Number(f[col]))) deps.stdout.write(`${escapeControl(l)}\n`);
  }
  return EXIT_OK;
}

/** runc update [--memory N] [--memory-swap N] [--pids-limit N] [--cpu-quota N] [--cpu-period N] [--cpu-share N] [--cpuset-cpus S] [--cpuset-mems S] [-r FILE] ID */
export async function handleUpdate(argv: string[], g: RuncGlobals, deps: Deps): Promise<number> {
  let file: string | undefined;
  const flags = new Map<string, string>();
  const args: string[] = [];
  const known = ['--memory', '--memory-swap', '--memory-reservation', '--pids-limit', '--cpu-quota', '--cpu-period', '--cpu-share', '--cpuset-cpus', '--cpuset-mems'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (name === '-r' || name === '--resources') [file, i] = takeValue(argv, i, 'resources');
    else if (known.includes(name)) {
      let v: string;
      [v, i] = takeValue(argv, i, name.slice(2));
      flags.set(name, v);
    } else if (name === '-h' || name === '--help') {
      deps.stdout.write(`Usage: runc-ts update [options] <container-id>\n\nChange a running container's cgroup limits.\nOptions: ${known.join(' ')} (bytes may have k/m/g suffixes; -1 = unlimited), -r FILE (a JSON resources object, "-" for stdin)\n`);
      return EXIT_OK;
    } else if (a.startsWith('-')) throw new CliError(`flag provided but not defined: ${a}`);
    else args.push(a);
  }
  exactArgs('update', args, 1);
  const { updateResourcesOf } = await import('../src/runtime/update.js');
  const r = await runtimeErrors(async () => updateResourcesOf(flags, file === undefined ? undefined : file === '-' ? fs.readFileSync(0, 'utf8').slice(0, 1 << 20) : readSmall(file)));
  const L = await import('../src/runtime/lifecycle.js');
  return runtimeErrors(async () => {
    await L.updateContainer(L.ctxOf(g.root), args[0]!, r);
    return EXIT_OK;
  });
}

function readSmall(p: string): string {
  const st = fs.statSync(p);
  if (!st.isFile()) throw new CliError(`${p} is not a regular file`);
  if (st.size > 1 << 20) throw new CliError(`${p} is larger than 1 MiB`);
  return fs.readFileSync(p, 'utf8');
}

/** runc events --stats ID: one stats object (the streaming form is not implemented) */
export async function handleEvents(argv: string[], g: RuncGlobals, deps: Deps): Promise<number> {
  if (helpWanted(argv, deps, 'Usage: runc-ts events --stats <container-id>\n\nPrint one {"type":"stats","id":…,"data":{…}} object with the container\'s cgroup statistics.\n')) return EXIT_OK;
  let stats = false;
  const args: string[] = [];
  for (const a of argv) {
    if (a === '--stats') stats = true;
    else if (a.startsWith('-')) throw new CliError(`flag provided but not defined: ${a}`);
    else args.push(a);
  }
  exactArgs('events', args, 1);
  if (!stats) throw new CliError('events: only --stats is implemented (the event stream is not)');
  const L = await import('../src/runtime/lifecycle.js');
  const { runcStatsData } = await import('../src/runtime/update.js');
  const st = await runtimeErrors(() => L.containerStats(L.ctxOf(g.root), args[0]!));
  deps.stdout.write(`${JSON.stringify({ type: 'stats', id: args[0], data: runcStatsData(st) })}\n`);
  return EXIT_OK;
}

export async function handleFeatures(argv: string[], deps: Deps): Promise<number> {
  if (helpWanted(argv, deps, 'Usage: runc-ts features\n\nShow what runc-ts supports (JSON, runc\'s features document).\n')) return EXIT_OK;
  if (argv.length) throw new CliError('"features" takes no arguments');
  const { featuresDocument } = await import('../src/runtime/update.js');
  deps.stdout.write(`${JSON.stringify(featuresDocument(), null, '    ')}\n`);
  return EXIT_OK;
}

/** runc exec [-d] [--user U[:G]] [--env K=V] [--cwd D] [--cap C] [--process F] [--pid-file F] ID CMD… */
export async function handleExec(argv: string[], g: RuncGlobals, deps: Deps): Promise<number> {
  const o: { detach: boolean; user?: string; env: string[]; cwd?: string; caps: string[]; process?: string; pidFile?: string; tty?: boolean; consoleSocket?: string } = { detach: false, env: [], caps: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) break;
    const name = a.split('=')[0]!;
    if (name === '-d' || name === '--detach') o.detach = true;
    else if (name === '-u' || name === '--user') [o.user, i] = takeValue(argv, i, 'user');
    else if (name === '-e' || name === '--env') {
      let v: string;
      [v, i] = takeValue(argv, i, 'env');
      if (!v.includes('=')) throw new CliError(`invalid --env ${JSON.stringify(v)}: want KEY=VALUE`);
      o.env.push(v);
    } else if (name === '--cwd') [o.cwd, i] = takeValue(argv, i, 'cwd');
    else if (name === '-c' || name === '--cap') {
      let v: string;
      [v, i] = takeValue(argv, i, 'cap');
      o.caps.push(v);
    } else if (name === '-p' || name === '--process') [o.process, i] = takeValue(argv, i, 'process');
    else if (name === '--pid-file') [o.pidFile, i] = takeValue(argv, i, 'pid-file');
    else if (name === '-t' || name === '--tty') {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : 'true';
      if (v !== 'true' && v !== 'false') throw new CliError(`invalid boolean value ${JSON.stringify(v)} for -tty`);
      o.tty = v === 'true';
    } else if (name === '--console-socket') [o.consoleSocket, i] = takeValue(argv, i, 'console-socket');
    else if (name === '-h' || name === '--help') {
      deps.stdout.write(
        'Usage: runc-ts exec [-d] [-t] [--console-socket PATH] [--user UID[:GID]] [--env K=V] [--cwd DIR] [--cap CAP] [--process FILE] [--pid-file FILE] <container-id> <command> [args...]\n\nRun a process in a running container (its namespaces and cgroup); exit with its status, 255 when it cannot be started.\n-t: allocate a pty in the container (default: the process\'s "terminal"); its master goes over --console-socket, or without -d and a socket it is attached to runc-ts\'s own terminal. -d with a terminal needs --console-socket.\n',
      );
      return EXIT_OK;
    } else throw new CliError(`flag provided but not defined: ${a}`);
  }
  const id = argv[i];
  if (id === undefined) throw new CliError('"exec" requires a minimum of 1 argument(s)');
  const args = argv.slice(i + 1);
  if (args.length === 0 && o.process === undefined) throw new CliError('"exec" requires a minimum of 2 argument(s)');
  const L = await import('../src/runtime/lifecycle.js');
  try {
    return await L.execInContainer(L.ctxOf(g.root), { id, args, detach: o.detach, user: o.user, env: o.env, cwd: o.cwd, caps: o.caps, processJson: o.process === undefined ? undefined : readSmall(o.process), pidFile: o.pidFile, tty: o.tty, consoleSocket: absSocket(o.consoleSocket), warn: warner(deps) });
  } catch (e) {
    const n = (e as Error).name;
    if (n === 'NativeError') {
      const { lookPathFailure } = await import('../src/runtime/container.js');
      throw new CliError(`exec failed: ${lookPathFailure(e as Parameters<typeof lookPathFailure>[0]) ?? (e as Error).message}`, L.EXEC_START_FAILED);
    }
    if (e instanceof StateError || e instanceof SpecError || n === 'RuntimeError' || n === 'CgroupError' || n === 'PlanError' || n === 'SeccompError' || n === 'HookError') throw new CliError((e as Error).message);
    throw e;
  }
}
