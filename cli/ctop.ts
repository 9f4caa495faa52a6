import { Chalk } from 'chalk';
import { CliError, EXIT_OK, EXIT_USAGE, PROC_ROOT_OPTION, SYS_ROOT_OPTION, UsageError, runHandler, sourceFrom, type Deps, type RootOptions } from './common.js';
import { HELP_OPTION, VERSION_OPTION, flag, helpText, lastString, parseOptions, versionLine, type OptionSpec, type ParsedOptions } from './options.js';
import { GROUP_MODES, type GroupBy } from '../tui/model.js';
import { GROUP_ALIASES, initialState, reduce, SORT_KEYS, parseFilter, type SortKey, type State } from '../tui/store.js';
import { buildFrame, groupsOf } from '../tui/frame.js';
import { takeNamedSample, type Sample } from '../tui/sample.js';
import { RecordingError } from '../tui/record/errors.js';
import { escapeControl, jsonText } from '../src/render/escape.js';

export interface CtopArgs extends RootOptions {
  interval: number;
  n?: number;
  once?: boolean;
  json?: boolean;
  group?: string;
  sort?: string;
  filter?: string;
  readonly?: boolean;
  record?: string;
  replay?: string;
  demo?: boolean;
}

const PROG = 'ctop';

const OPTIONS: OptionSpec[] = [
  { long: 'interval', short: 'd', arg: 'required', argName: '<secs>', help: 'seconds between samples (0.25 to 60; default 1)' },
  { long: 'n', short: 'n', arg: 'required', argName: '<count>', help: 'take N samples then exit (batch: print each)' },
  { long: 'once', arg: 'none', help: 'print one screen of groups and exit (two samples on a live host, so rates are real)' },
  { long: 'json', arg: 'none', help: 'with --once or -n: JSON, one object per sample' },
  { long: 'group', short: 'g', arg: 'required', argName: '<mode>', help: `group by: ${GROUP_MODES.join(', ')}` },
  { long: 'sort', short: 's', arg: 'required', argName: '<key>', help: `sort by: ${SORT_KEYS.join(', ')}` },
  { long: 'filter', short: 'f', arg: 'required', argName: '<expr>', help: 'filter, as the / key takes it' },
  { long: 'readonly', arg: 'none', help: 'no signals, freezing or shells' },
  { long: 'record', arg: 'required', argName: '<file>', help: 'write every sample to FILE' },
  { long: 'replay', arg: 'required', argName: '<file>', help: 'show the samples of a recording instead of the host' },
  { long: 'demo', arg: 'none', help: 'start three hostscope run demo containers (root) and remove them on exit' },
  PROC_ROOT_OPTION,
  SYS_ROOT_OPTION,
  HELP_OPTION,
  VERSION_OPTION,
];

const USAGE = [
  'ctop [options]             the interactive view of containers as processes',
  'ctop --once [--json]       one screen (or JSON) to stdout, for scripts',
  'ctop --record FILE         also keep every sample in FILE (raw counters, compressed)',
  'ctop --replay FILE         show a recording, with keys to step and jump in time',
  'ctop --demo                start throw-away demo containers, show them, remove them on exit',
];

export function ctopHelp(): string {
  return helpText(USAGE, OPTIONS, ['Keys: press ? inside ctop; docs/ctop.md lists them all.']);
}

function number(p: ParsedOptions, long: string, what: string): number | undefined {
  const v = lastString(p, long);
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? Number.NaN : Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`invalid ${what} '${v}'`);
  return n;
}

/** argv → CtopArgs (the house parser, getopt_long as util-linux: no yargs on the start-up path). */
export function parseCtopArgs(argv: string[]): CtopArgs | { help: true } | { version: true } {
  const r = parseOptions(argv, OPTIONS);
  if (!r.ok) throw new UsageError(r.message);
  const p = r.parsed;
  if (flag(p, 'help')) return { help: true };
  if (flag(p, 'version')) return { version: true };
  if (p.operands.length > 0) throw new UsageError(`unexpected argument '${p.operands[0]}'`);
  const args: CtopArgs = { interval: number(p, 'interval', 'interval') ?? 1 };
  const n = number(p, 'n', '-n');
  if (n !== undefined) args.n = n;
  for (const k of ['group', 'sort', 'filter', 'record', 'replay', 'proc-root', 'sys-root'] as const) {
    const v = lastString(p, k);
    if (v !== undefined) args[k] = v;
  }
  for (const k of ['once', 'json', 'readonly', 'demo'] as const) if (flag(p, k)) args[k] = true;
  if (args.replay !== undefined && args.record !== undefined) throw new UsageError('--replay and --record are mutually exclusive');
  if (args.replay !== undefined && args.demo) throw new UsageError('--replay and --demo are mutually exclusive');
  return args;
}

/** Check the flags; returns the initial state they ask for. */
export function stateFromArgs(args: CtopArgs, over: Partial<State> = {}): State {
  if (!Number.isFinite(args.interval) || args.interval < 0.25 || args.interval > 60) throw new CliError(`invalid interval '${args.interval}': 0.25 to 60 seconds`, EXIT_USAGE);
  if (args.n !== undefined && (!Number.isInteger(args.n) || args.n < 1)) throw new CliError(`invalid -n '${args.n}': a positive number of samples`, EXIT_USAGE);
  let groupBy: GroupBy = 'container';
  if (args.group !== undefined) {
    const g = GROUP_ALIASES[args.group];
    if (!g) throw new CliError(`invalid --group '${args.group}': ${GROUP_MODES.join(', ')}`, EXIT_USAGE);
    groupBy = g;
  }
  let sort: { key: SortKey; desc: boolean } = { key: 'cpu', desc: true };
  if (args.sort !== undefined) {
    const k = args.sort.replace(/^-/, '');
    if (!(SORT_KEYS as readonly string[]).includes(k)) throw new CliError(`invalid --sort '${args.sort}': ${SORT_KEYS.join(', ')}`, EXIT_USAGE);
    sort = { key: k as SortKey, desc: k === 'name' ? args.sort.startsWith('-') : !args.sort.startsWith('-') };
  }
  if (args.filter !== undefined) {
    const f = parseFilter(args.filter);
    if (typeof f === 'string') throw new CliError(`invalid --filter: ${f}`, EXIT_USAGE);
  }
  return initialState({ intervalMs: Math.round(args.interval * 1000), groupBy, sort, filter: args.filter ?? '', readonly: args.readonly === true, ...over });
}

/** The batch view of a state: every group row (no windowing), as text or JSON. */
export function batchText(s: State, colour: boolean): string {
  const frame = buildFrame({ ...s, rows: 100_000 }, new Chalk({ level: colour ? 1 : 0 }));
  return `${[frame.head[0], frame.columns, ...frame.rows.map((r) => r.text)].join('\n')}\n`;
}

export function batchJson(s: State): string {
  const cur = s.history[s.history.length - 1]!;
  const prev = s.history[s.history.length - 2];
  const frame = buildFrame({ ...s, rows: 100_000, cols: 200 }, new Chalk({ level: 0 }));
  const keep = new Set(frame.rowKeys);
  const groups = groupsOf(prev, cur, s.groupBy).filter((g) => keep.has(g.key));
  const order = new Map(frame.rowKeys.map((k, i) => [k, i]));
  groups.sort((a, b) => order.get(a.key)! - order.get(b.key)!);
  return jsonText({ time: new Date(cur.wallMs).toISOString(), groupBy: s.groupBy, intervalSec: prev ? (cur.endMs - prev.endMs) / 1000 : null, groups: groups.map(jsonGroup) }, 0);
}

function jsonGroup(g: ReturnType<typeof groupsOf>[number]): Record<string, unknown> {
  const n = (v: number | undefined): number | null => (v === undefined ? null : Math.round(v * 100) / 100);
  return {
    key: g.key,
    name: g.name,
    kind: g.kind,
    initPid: g.initPid ?? null,
    cgroup: g.cgroupPath ?? null,
    source: g.source,
    pids: g.pids,
    cpuPercent: n(g.cpuPct),
    cpuQuota: n(g.quotaCpus),
    cpuOfQuotaPercent: n(g.cpuOfQuotaPct),
    throttledPeriods: g.throttledPeriods ?? null,
    memoryBytes: g.memBytes ?? null,
    memoryLimitBytes: g.memLimit ?? null,
    memoryPercent: n(g.memPct),
    oomKills: g.oomKills ?? null,
    pidsCurrent: g.pidsCur ?? null,
    pidsMax: g.pidsMax ?? null,
    ioReadBytesPerSec: n(g.ioReadBps),
    ioWriteBytesPerSec: n(g.ioWriteBps),
    netRxBytesPerSec: n(g.netRxBps),
    netTxBytesPerSec: n(g.netTxBps),
    netns: g.netns ?? null,
    psiSomeAvg10: g.psi ?? null,
    ageSec: g.ageSec === undefined ? null : Math.round(g.ageSec),
    sharedWithHost: g.sharedWithHost,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function handleCtop(args: CtopArgs, deps: Deps): Promise<number> {
  let state = stateFromArgs(args, { cols: deps.columns ?? 160 });
  const batch = args.once === true || args.json === true || (args.n !== undefined && !deps.isTTY);
  if (args.replay !== undefined) {
    const { openRecording } = await import('../tui/record/replay.js');
    let rec: ReturnType<typeof openRecording>;
    try {
      rec = openRecording(args.replay);
    } catch (e) {
      if (e instanceof RecordingError) throw new CliError(e.message);
      throw e;
    }
    if (rec.problem) deps.stderr.write(`${PROG}: ${escapeControl(rec.problem)}\n`);
    if (rec.count === 0) throw new CliError(`${args.replay}: no intact sample in the recording`);
    if (batch) {
      const last = args.once ? [rec.count - 1] : [...Array(Math.min(rec.count, args.n ?? rec.count)).keys()];
      const times = rec.frames.map((f) => f.wallMs);
      for (const i of last) {
        let history;
        try {
          history = rec.window(i, 2);
        } catch (e) {
          // a frame whose checksum holds but whose content is refused (too big once decompressed)
          if (e instanceof RecordingError) throw new CliError(`${args.replay}: ${e.message}`);
          throw e;
        }
        // the title says REPLAY i/N, as the interactive view does, never LIVE
        state = reduce(state, { type: 'replaceHistory', history, replay: { index: i, total: rec.count, times } });
        deps.stdout.write(args.json ? batchJson(state) : batchText(state, false));
      }
      return EXIT_OK;
    }
    try {
      // the frame the view opens on is refused before the screen is taken (later ones are skipped aloud)
      rec.window(rec.count - 1, 2);
    } catch (e) {
      if (e instanceof RecordingError) throw new CliError(`${args.replay}: ${e.message}`);
      throw e;
    }
    productionReact();
    const { runInteractive } = await import('../tui/run.js');
    return runInteractive({ state, replay: rec, deps, args });
  }
  const src = sourceFrom(args, deps);
  // the recording is opened (or refused: not a recording, an older format, no permission) before anything is shown
  let rec: { append(s: Sample): void; close(): void } | undefined;
  if (args.record !== undefined) {
    const { openRecorder } = await import('../tui/record/record.js');
    try {
      rec = openRecorder(args.record);
    } catch (e) {
      if (e instanceof RecordingError) throw new CliError(e.message);
      throw e;
    }
    // the interactive view opens it again itself
    if (!batch) rec.close();
  }
  if (batch) {
    const samples = args.once ? (src.isLive ? 2 : 1) : args.n ?? 1;
    try {
      for (let i = 0; i < samples; i++) {
        if (i > 0) await sleep(state.intervalMs);
        const s = await takeNamedSample(src);
        try {
          rec?.append(s);
        } catch (e) {
          // a full disk, EIO: one line, exit 1 (the frames written so far stay replayable)
          if (e instanceof RecordingError) throw new CliError(e.message);
          throw e;
        }
        state = reduce(state, { type: 'sample', sample: s });
        if (!args.once || i === samples - 1) deps.stdout.write(args.json ? batchJson(state) : batchText(state, deps.isTTY === true));
      }
    } finally {
      rec?.close();
    }
    return EXIT_OK;
  }
  if (!deps.isTTY) throw new CliError('not a terminal: use --once, --json or -n N for output to a pipe or file');
  productionReact();
  const { runInteractive } = await import('../tui/run.js');
  return runInteractive({ state, src, deps, args });
}

/**
 * React checks NODE_ENV when it loads: unset, it runs its development build (checks, fiber
 * tracing), which the profile showed on every render. Set it before Ink and React load, unless
 * the user set it; the shell of `S` gets the environment without it (tui/run.ts).
 */
function productionReact(): void {
  if (process.env.NODE_ENV === undefined) {
    process.env.NODE_ENV = 'production';
    process.env.HOSTSCOPE_CTOP_NODE_ENV = '1';
  }
}

export async function ctopMain(argv: string[], deps: Deps): Promise<number> {
  return runHandler(PROG, deps, () => {
    const args = parseCtopArgs(argv);
    if ('help' in args) {
      deps.stdout.write(ctopHelp());
      return EXIT_OK;
    }
    if ('version' in args) {
      deps.stdout.write(versionLine(PROG));
      return EXIT_OK;
    }
    return handleCtop(args, deps);
  });
}
