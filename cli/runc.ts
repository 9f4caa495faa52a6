/**
 * runc-ts: an OCI runtime with runc's command line. Global options come before the verb, as in
 * runc (urfave/cli). Implemented so far: spec, state, list, run (foreground); the other verbs answer that they are
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
const VERBS_LATER = ['create', 'start', 'exec', 'kill', 'delete', 'ps', 'pause', 'resume', 'update', 'events', 'features', 'checkpoint', 'restore'];

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
   run      create and run a container in the foreground (no -d, no --console-socket yet)
   (create, start, exec, kill, delete, ps, pause, resume, update, events, features: not implemented yet)

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
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (name === '--bundle' || name === '-b') [bundle, i] = takeValue(argv, i, 'bundle');
    else if (name === '--pid-file') [pidFile, i] = takeValue(argv, i, 'pid-file');
    else if (name === '--keep') keep = true;
    else if (name === '--no-pivot') noPivot = true;
    else if (name === '-d' || name === '--detach' || name === '--console-socket' || name === '-t' || name === '--tty') throw new CliError(`run ${name}: not implemented yet`);
    else if (name === '-h' || name === '--help') {
      deps.stdout.write('Usage: runc-ts run [--bundle DIR] [--pid-file FILE] [--keep] [--no-pivot] <container-id>\n\nCreate and run a container in the foreground; exit with its exit code.\n');
      return EXIT_OK;
    } else if (a.startsWith('-')) throw new CliError(`flag provided but not defined: ${a}`);
    else args.push(a);
  }
  exactArgs('run', args, 1);
  const { runContainer } = await import('../src/runtime/container.js');
  try {
    return await runContainer({ root: g.root, id: args[0]!, bundle, pidFile, keep, noPivot, warn: (m) => deps.stderr.write(`runc-ts: warning: ${escapeControl(m)}\n`) });
  } catch (e) {
    if (e instanceof StateError || e instanceof SpecError || (e as Error).name === 'RuntimeError' || (e as Error).name === 'CgroupError') throw new CliError((e as Error).message);
    throw e;
  }
}
