import yargs from 'yargs';
import { Chalk } from 'chalk';
import { CliError, EXIT_OK, EXIT_USAGE, parseArgs, runHandler, sourceFrom, withRootOptions, type Deps, type RootOptions } from './common.js';
import { GROUP_MODES, type GroupBy } from '../tui/model.js';
import { GROUP_ALIASES, initialState, reduce, SORT_KEYS, parseFilter, type SortKey, type State } from '../tui/store.js';
import { buildFrame, groupsOf } from '../tui/frame.js';
import { takeSample, type Sample } from '../tui/sample.js';

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

export function ctopYargs() {
  return withRootOptions(
    yargs()
      .usage(
        [
          'Usage:',
          '  ctop [options]             the interactive view of containers as processes',
          '  ctop --once [--json]       one screen (or JSON) to stdout, for scripts',
          '  ctop --record FILE         also keep every sample in FILE (raw counters, compressed)',
          '  ctop --replay FILE         show a recording, with keys to step and jump in time',
          '  ctop --demo                start throw-away demo containers, show them, remove them on exit',
        ].join('\n'),
      )
      .option('interval', { alias: 'd', type: 'number', default: 1, describe: 'seconds between samples (0.25 to 60)' })
      .option('n', { type: 'number', describe: 'take N samples then exit (batch: print each)' })
      .option('once', { type: 'boolean', describe: 'print one screen of groups and exit (two samples on a live host, so rates are real)' })
      .option('json', { type: 'boolean', describe: 'with --once or -n: JSON, one object per sample' })
      .option('group', { alias: 'g', type: 'string', describe: `group by: ${GROUP_MODES.join(', ')}` })
      .option('sort', { alias: 's', type: 'string', describe: `sort by: ${SORT_KEYS.join(', ')}` })
      .option('filter', { alias: 'f', type: 'string', describe: 'filter, as the / key takes it' })
      .option('readonly', { type: 'boolean', describe: 'no signals, freezing or shells' })
      .option('record', { type: 'string', describe: 'write every sample to FILE' })
      .option('replay', { type: 'string', describe: 'show the samples of a recording instead of the host' })
      .option('demo', { type: 'boolean', describe: 'start demo containers (root) and remove them on exit' })
      .conflicts('replay', 'record')
      .conflicts('replay', 'demo')
      .version(false)
      .help('help')
      .alias('help', 'h'),
  );
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
  return `${JSON.stringify({ time: new Date(cur.wallMs).toISOString(), groupBy: s.groupBy, intervalSec: prev ? (cur.endMs - prev.endMs) / 1000 : null, groups: groups.map(jsonGroup) })}\n`;
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
    const { openRecording, RecordingError } = await import('../tui/record/replay.js');
    let rec: ReturnType<typeof openRecording>;
    try {
      rec = openRecording(args.replay);
    } catch (e) {
      if (e instanceof RecordingError) throw new CliError(e.message);
      throw e;
    }
    if (rec.problem) deps.stderr.write(`${PROG}: ${rec.problem}\n`);
    if (rec.count === 0) throw new CliError(`${args.replay}: no intact sample in the recording`);
    if (batch) {
      const last = args.once ? [rec.count - 1] : [...Array(Math.min(rec.count, args.n ?? rec.count)).keys()];
      for (const i of last) {
        state = reduce(state, { type: 'replaceHistory', history: rec.window(i, 2) });
        deps.stdout.write(args.json ? batchJson(state) : batchText(state, false));
      }
      return EXIT_OK;
    }
    const { runInteractive } = await import('../tui/run.js');
    return runInteractive({ state, replay: rec, deps, args });
  }
  const src = sourceFrom(args, deps);
  if (batch) {
    const samples = args.once ? (src.isLive ? 2 : 1) : args.n ?? 1;
    let rec: { append(s: Sample): void; close(): void } | undefined;
    if (args.record !== undefined) rec = (await import('../tui/record/record.js')).openRecorder(args.record);
    try {
      for (let i = 0; i < samples; i++) {
        if (i > 0) await sleep(state.intervalMs);
        const s = takeSample(src);
        rec?.append(s);
        state = reduce(state, { type: 'sample', sample: s });
        if (!args.once || i === samples - 1) deps.stdout.write(args.json ? batchJson(state) : batchText(state, deps.isTTY === true));
      }
    } finally {
      rec?.close();
    }
    return EXIT_OK;
  }
  if (!deps.isTTY) throw new CliError('not a terminal: use --once, --json or -n N for output to a pipe or file');
  const { runInteractive } = await import('../tui/run.js');
  return runInteractive({ state, src, deps, args });
}

export async function ctopMain(argv: string[], deps: Deps): Promise<number> {
  const parsed = await parseArgs(ctopYargs(), argv, PROG, deps);
  if ('exit' in parsed) return parsed.exit;
  return runHandler(PROG, deps, () => handleCtop(parsed.args, deps));
}
