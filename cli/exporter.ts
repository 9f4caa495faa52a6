/**
 * `hostscope exporter`: the host model for Prometheus (docs/exporter.md). Serves /metrics until
 * SIGTERM or SIGINT; `--once` writes one exposition to stdout instead (golden tests, promtool,
 * a cron job writing to node_exporter's textfile directory).
 */
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { exporterReader, readExporterSample } from '../src/exporter/read.js';
import { createExporter } from '../src/exporter/server.js';
import { buildFamilies } from '../src/exporter/collect.js';
import { writeFormat } from '../src/exporter/format.js';
import { escapeControl } from '../src/render/escape.js';
import { CliError, EXIT_OK, PROC_ROOT_OPTION, SYS_ROOT_OPTION, UsageError, runHandler, sourceFrom, type Deps, type RootOptions } from './common.js';
import { HELP_OPTION, VERSION_OPTION, flag, helpText, lastString, parseOptions, versionLine, type OptionSpec } from './options.js';

const PROG = 'hostscope exporter';

const OPTIONS: OptionSpec[] = [
  { long: 'listen', short: 'l', arg: 'required', argName: '<host:port>', help: 'address to serve on (default 127.0.0.1:9256; loopback unless you say otherwise)' },
  { long: 'interval', arg: 'required', argName: '<seconds>', help: 'reuse a scan younger than this for further scrapes (default 1; 0: scan on every scrape)' },
  { long: 'all-cgroups', arg: 'none', help: 'series for every cgroup, not only those holding a container' },
  { long: 'max-connections', arg: 'required', argName: '<n>', help: 'most client connections at once (default 256)' },
  { long: 'once', arg: 'none', help: 'write one exposition to stdout and exit (no server)' },
  { long: 'openmetrics', arg: 'none', help: 'with --once: OpenMetrics 1.0 instead of text 0.0.4' },
  PROC_ROOT_OPTION,
  SYS_ROOT_OPTION,
  HELP_OPTION,
  VERSION_OPTION,
];

export interface ExporterArgs extends RootOptions {
  host: string;
  port: number;
  intervalMs: number;
  allCgroups: boolean;
  maxConnections: number;
  once: boolean;
  openmetrics: boolean;
}

/** How a test (or an embedding program) drives the server instead of signals. */
export interface ExporterControl {
  /** stop serving when aborted (as SIGTERM does) */
  signal?: AbortSignal;
  /** told the bound address once listening */
  onListening?: (addr: { host: string; port: number }) => void;
}

export function exporterHelp(): string {
  return helpText(
    ['hostscope exporter [--listen 127.0.0.1:9256] [--interval 1] [--all-cgroups] [--proc-root DIR --sys-root DIR]', 'hostscope exporter --once [--openmetrics]'],
    OPTIONS,
    [
      'Serves /metrics (Prometheus text 0.0.4, OpenMetrics 1.0 when the Accept header asks) with',
      "cAdvisor's container_* series and hostscope_* series for namespaces, capabilities and seccomp.",
      'Stops cleanly on SIGTERM or SIGINT. See docs/exporter.md.',
      'Exit status: 0 ok; 1 failure or bad usage.',
    ],
  );
}

/** `127.0.0.1:9256`, `[::1]:9256`, `0.0.0.0:9256`, `:9256` (every address: your explicit choice). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`invalid listen address '${text}' (want host:port)`);
  const host = m[1] ?? m[2]!;
  return { host: host === '' ? '::' : host, port };
}

export function parseExporterArgs(argv: string[]): ExporterArgs | { help: true } | { version: true } {
  const r = parseOptions(argv, OPTIONS);
  if (!r.ok) throw new UsageError(r.message);
  const p = r.parsed;
  if (flag(p, 'help')) return { help: true };
  if (flag(p, 'version')) return { version: true };
  if (p.operands.length) throw new UsageError(`unexpected argument '${p.operands[0]}'`);
  const { host, port } = parseListen(lastString(p, 'listen') ?? '127.0.0.1:9256');
  const interval = lastString(p, 'interval') ?? '1';
  if (!/^[0-9]+(\.[0-9]+)?$/.test(interval) || Number(interval) > 86400) throw new UsageError(`invalid interval '${interval}' (seconds, 0 to 86400)`);
  const maxConn = lastString(p, 'max-connections') ?? '256';
  if (!/^[0-9]{1,6}$/.test(maxConn) || Number(maxConn) < 1) throw new UsageError(`invalid max-connections '${maxConn}'`);
  const args: ExporterArgs = {
    host,
    port,
    intervalMs: Math.round(Number(interval) * 1000),
    allCgroups: flag(p, 'all-cgroups'),
    maxConnections: Number(maxConn),
    once: flag(p, 'once'),
    openmetrics: flag(p, 'openmetrics'),
  };
  for (const k of ['proc-root', 'sys-root'] as const) {
    const v = lastString(p, k);
    if (v !== undefined) args[k] = v;
  }
  return args;
}

export async function exporterMain(argv: string[], deps: Deps, ctl: ExporterControl = {}): Promise<number> {
  return runHandler(PROG, deps, async () => {
    const args = parseExporterArgs(argv);
    if ('help' in args) {
      deps.stdout.write(exporterHelp());
      return EXIT_OK;
    }
    if ('version' in args) {
      deps.stdout.write(versionLine('hostscope exporter'));
      return EXIT_OK;
    }
    return handleExporter(args, deps, ctl);
  });
}

/**
 * V8's GC policy for a server that works ~0.1 s every 15 s and idles in between (docs/exporter.md,
 * "Sixth pass"), set at run time before the first scan (these are policy flags; heap sizes cannot
 * be changed once V8 runs). A scrape allocates a few MB that are garbage once its body is sent;
 * V8's defaults spend more CPU than that work deserves on a 2-core host:
 * - no incremental marking: a major GC is one atomic mark-compact of a ~20 MB heap (tens of ms)
 *   instead of marking steps on helper threads across the next scrapes; and V8's memory reducer,
 *   which after a major GC on an idle heap runs up to three more full GCs a few seconds apart
 *   (it starts only incremental marking), never starts. `--no-memory-reducer` itself does nothing
 *   at run time: the reducer exists from V8's start.
 * - scavenges, sweeping, compaction, pointer updates, concurrent marking and optimizing compiles
 *   on the main thread: the same work without helper threads spinning for their share of a
 *   small heap on a shared machine.
 * Process-wide: set only by the server (not --once), once.
 */
export const EXPORTER_V8_FLAGS = [
  '--no-incremental-marking',
  '--no-concurrent-marking',
  '--no-parallel-scavenge',
  '--no-concurrent-sweeping',
  '--no-parallel-compaction',
  '--no-parallel-pointer-update',
  '--no-concurrent-recompilation',
];

let v8FlagsSet = false;
function setExporterV8Flags(): void {
  if (v8FlagsSet || process.env.HOSTSCOPE_EXPORTER_V8_DEFAULTS === '1') return;
  v8FlagsSet = true;
  for (const f of EXPORTER_V8_FLAGS) setFlagsFromString(f);
}

export async function handleExporter(args: ExporterArgs, deps: Deps, ctl: ExporterControl = {}): Promise<number> {
  const src = sourceFrom(args, deps);
  if (args.once) {
    const scan = () => readExporterSample(src, { allCgroups: args.allCgroups });
    const { sample, errors } = await scan();
    const meta = { durationSeconds: 0, cpuSeconds: 0, success: true, scansTotal: 1, errorsTotal: errors };
    deps.stdout.write(writeFormat(args.openmetrics ? 'openmetrics' : 'text', buildFamilies(sample, meta)));
    return EXIT_OK;
  }
  setExporterV8Flags();
  // one long-lived scanner: a scrape re-reads only what can have changed
  const scan = exporterReader(src, { allCgroups: args.allCgroups });
  let lastError = '';
  const exp = createExporter({
    scan,
    minIntervalMs: args.intervalMs,
    maxConnections: args.maxConnections,
    onScanError: (e) => {
      // one line per distinct failure, not one per scrape
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== lastError) deps.stderr.write(`${PROG}: scan failed: ${escapeControl(msg)}\n`);
      lastError = msg;
    },
  });
  await new Promise<void>((resolve, reject) => {
    exp.server.once('error', (e: NodeJS.ErrnoException) => reject(new CliError(`cannot listen on ${args.host}:${args.port}: ${e.code === 'EADDRINUSE' ? 'address in use' : e.code === 'EACCES' ? 'permission denied' : e.message}`)));
    exp.server.listen({ host: args.host, port: args.port }, () => resolve());
  });
  const addr = exp.server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  deps.stderr.write(`${PROG}: serving http://${shown}:${addr.port}/metrics\n`);
  ctl.onListening?.({ host: addr.address, port: addr.port });
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      ctl.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    if (ctl.signal?.aborted) stop();
    else ctl.signal?.addEventListener('abort', stop);
  });
  await exp.close();
  return EXIT_OK;
}
