import { openSource, type ProcSource } from '../src/source/source.js';
import { isProcError } from '../src/source/errors.js';
import { escapeControl } from '../src/render/escape.js';

/** What a command handler may touch of the outside world: injected, so tests run it in-process. */
export interface Deps {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** terminal width, or undefined when stdout is not a terminal (never truncate then) */
  columns: number | undefined;
  openSource(opts: { procRoot?: string; sysRoot?: string }): ProcSource;
  euid: number;
  /** stdin and stdout are both terminals (ctop's interactive view needs them) */
  isTTY?: boolean;
}

export function realDeps(): Deps {
  const tty = process.stdout.isTTY === true;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    columns: tty ? process.stdout.columns || 80 : undefined,
    openSource,
    euid: typeof process.geteuid === 'function' ? process.geteuid() : 0,
    isTTY: tty && process.stdin.isTTY === true,
  };
}

/**
 * Exit codes, util-linux's as lsns and nsenter use them (docs/errors.md): 0 ok, 1 for every
 * failure, bad usage included (`lsns --bogus` and `nsenter --bogus` exit 1).
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 1;

/** A failure to report as one line, `prog: message`, with an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad usage: one line, then util-linux's "Try 'prog --help'" hint. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

export interface RootOptions {
  'proc-root'?: string;
  'sys-root'?: string;
}

export const PROC_ROOT_OPTION = { long: 'proc-root', arg: 'required', argName: '<dir>', help: 'read processes from this directory instead of /proc (a host dump)' } as const;
export const SYS_ROOT_OPTION = { long: 'sys-root', arg: 'required', argName: '<dir>', help: 'read cgroups from this directory instead of /sys' } as const;

export function sourceFrom(args: RootOptions, deps: Deps): ProcSource {
  try {
    return deps.openSource({
      ...(args['proc-root'] !== undefined ? { procRoot: args['proc-root'] } : {}),
      ...(args['sys-root'] !== undefined ? { sysRoot: args['sys-root'] } : {}),
    });
  } catch (e) {
    if (isProcError(e)) throw new CliError(e.message);
    throw e;
  }
}

/**
 * Run a handler and turn every expected failure into `prog: message` + exit code. Unexpected
 * exceptions also get one line (with the stack only under HOSTSCOPE_DEBUG=1).
 */
export async function runHandler(prog: string, deps: Deps, fn: () => number | Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    // messages quote user input and kernel text: never let them drive the terminal
    if (e instanceof CliError) {
      deps.stderr.write(`${prog}: ${escapeControl(e.message)}\n`);
      if (e instanceof UsageError) deps.stderr.write(`Try '${prog} --help' for more information.\n`);
      return e.exitCode;
    }
    if (isProcError(e)) {
      deps.stderr.write(`${prog}: ${escapeControl(e.message)}\n`);
      return EXIT_FAILURE;
    }
    const err = e as Error;
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return EXIT_OK;
    deps.stderr.write(`${prog}: internal error: ${escapeControl(err?.message ?? String(e))}\n`);
    if (process.env.HOSTSCOPE_DEBUG === '1') deps.stderr.write(`${err?.stack ?? ''}\n`);
    return EXIT_FAILURE;
  }
}

/** A pid argument: a positive integer, or a clear usage error. */
export function parsePid(text: unknown, what = 'pid'): number {
  const s = String(text ?? '').trim();
  if (!/^\d+$/.test(s) || Number(s) <= 0 || Number(s) > 4194304) throw new CliError(`invalid ${what} argument: '${s}'`, EXIT_USAGE);
  return Number(s);
}

/** cinf (Go flag package) accepts `-namespace`; getopt would read it as -n -a -m …: rewrite. */
export function normalizeLongSingleDash(argv: string[], longs: string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((a, i) => {
    if (end >= 0 && i > end) return a;
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(a);
    return m && longs.includes(m[1]!) ? `--${m[1]}${m[2] ?? ''}` : a;
  });
}
