/**
 * The exporter's cost, beside Debian's prometheus-node-exporter scraped in the same run:
 *
 *   npm run build && node dist/bench/exporter.js [sizes…]      (default: 2000 10000)
 *   EXPORTER_BENCH_STEADY_S=60 EXPORTER_BENCH_SCRAPES=7 node dist/bench/exporter.js
 *
 * For each size, a load of sleeping processes in 100 sets of namespaces (bench/run.ts's
 * makeLoad: each set is a container to hostscope), then:
 * - one scrape: wall time seen by the client and CPU time of the exporter process (utime+stime
 *   from /proc/<pid>/stat, 10 ms ticks, so averaged over several scrapes; hostscope also reports
 *   its own in-process figure of the scan, hostscope_scrape_cpu_seconds): the first (cold) scrape
 *   of a fresh exporter alone, then, after 3 scrapes not counted, the mean of
 *   EXPORTER_BENCH_SCRAPES steady ones (hostscope's scanner then re-reads a known process's stat
 *   only; every scrape scans: --interval 0);
 * - steady CPU: both exporters scraped every 15 s for EXPORTER_BENCH_STEADY_S seconds (default 60),
 *   CPU used over that window as a % of one core, and how hostscope's scans in the window made
 *   the model (hostscope_model_updates_total: reused, patched, rebuilt — rebuilds follow churn
 *   anywhere on the host, a new namespace or container, and cost several times a reused model).
 * The host's process count and load average are printed: the machine is shared, read the figures
 * with them. Each size ends with issue 11's targets (a scrape at 10,000 processes under 0.5 s
 * CPU, steady CPU under 1 % of one core) judged on that run's figures.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Spawned } from '../scripts/lib/spawned.js';
import { makeLoad } from './run.js';
import { openSource } from '../src/source/source.js';

const src = openSource();

const ROOT = join(import.meta.dirname, '../..');
const TICK = 100; // USER_HZ

function cpuSecondsOf(pid: number): number {
  const stat = src.readProcText(`${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

function processCount(): number {
  return src.readProcText('loadavg').split(' ')[3]!.split('/').map(Number)[1]!;
}

function hostLine(): string {
  return `host: ${processCount()} tasks, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

interface Target {
  name: string;
  proc: ChildProcess;
  url: string;
}

async function waitUp(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await sleep(100);
  }
  throw new Error(`${url} never answered`);
}

async function startHostscope(spawned: Spawned): Promise<Target> {
  const port = await freePort();
  const proc = spawned.start(process.execPath, [join(ROOT, 'dist/bin/hostscope.js'), 'exporter', '--listen', `127.0.0.1:${port}`, '--interval', '0']);
  const url = `http://127.0.0.1:${port}/metrics`;
  await waitUp(url);
  return { name: 'hostscope exporter', proc, url };
}

async function startNodeExporter(spawned: Spawned): Promise<Target | undefined> {
  const port = await freePort();
  const proc = spawned.start('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`]);
  const url = `http://127.0.0.1:${port}/metrics`;
  try {
    await waitUp(url);
  } catch {
    return undefined;
  }
  return { name: 'prometheus-node-exporter', proc, url };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** hostscope_model_updates_total by `how` in a body (empty for node-exporter) */
function modelUpdates(body: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of body.matchAll(/^hostscope_model_updates_total\{how="([a-z]+)"\} ([0-9]+)$/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

async function scrape(t: Target): Promise<{ wallMs: number; cpuS: number; bytes: number; selfCpuS: number | undefined; body: string }> {
  const c0 = cpuSecondsOf(t.proc.pid!);
  const t0 = performance.now();
  const body = await (await fetch(t.url, { headers: { accept: ACCEPT } })).text();
  const wallMs = performance.now() - t0;
  const cpuS = cpuSecondsOf(t.proc.pid!) - c0;
  const m = /^hostscope_scrape_cpu_seconds ([0-9.e+-]+)$/m.exec(body);
  return { wallMs, cpuS, bytes: body.length, selfCpuS: m ? Number(m[1]) : undefined, body };
}

interface ScrapeFigures {
  line: string;
  /** the cold (first) scrape's CPU, s */
  coldCpuS: number;
  /** steady scrapes: mean CPU, s */
  cpuS: number;
  /** the last scrape's body */
  lastBody: string;
}

/**
 * The first scrape of a fresh exporter (cold: hostscope reads every process whole, its code is
 * not compiled yet), then WARM scrapes not counted (its compiler settles), then `runs` steady
 * scrapes: the mean CPU (10 ms ticks) and median wall of those.
 */
const WARM = 3;
async function scrapes(t: Target, runs: number): Promise<ScrapeFigures> {
  const cold = await scrape(t);
  for (let i = 0; i < WARM; i++) await scrape(t);
  const r = [];
  for (let i = 0; i < runs; i++) r.push(await scrape(t));
  const meanCpu = r.reduce((a, x) => a + x.cpuS, 0) / r.length;
  const self = r.every((x) => x.selfCpuS !== undefined) ? median(r.map((x) => x.selfCpuS!)) : undefined;
  const line =
    `${t.name.padEnd(26)} cold: wall ${cold.wallMs.toFixed(0).padStart(6)} ms cpu ${(cold.cpuS * 1000).toFixed(0).padStart(6)} ms;` +
    `   steady: wall ${median(r.map((x) => x.wallMs)).toFixed(0).padStart(6)} ms cpu ${(meanCpu * 1000).toFixed(0).padStart(6)} ms (mean of ${runs} after ${WARM} not counted, /proc ticks)` +
    `${self === undefined ? '' : `   in-process scan ${(self * 1000).toFixed(0)} ms`}   body ${(r[0]!.bytes / 1024).toFixed(0)} KiB`;
  return { line, coldCpuS: cold.cpuS, cpuS: meanCpu, lastBody: r[r.length - 1]!.body };
}

/**
 * Both exporters scraped every 15 s for `seconds`; `before[i]` is target i's last body before the
 * window: hostscope's line then says how its scans in the window made the model (a rebuild, after
 * a new namespace or container appeared anywhere on the host, costs several times a reused model)
 */
async function steady(targets: Target[], seconds: number, before: string[]): Promise<{ lines: string[]; pct: number[] }> {
  const c0 = targets.map((t) => cpuSecondsOf(t.proc.pid!));
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const last = [...before];
  while (performance.now() < end) {
    const bodies = await Promise.all(targets.map((t) => fetch(t.url, { headers: { accept: ACCEPT } }).then((r) => r.text())));
    bodies.forEach((b, i) => (last[i] = b));
    const next = Math.min(end, performance.now() + 15_000);
    await sleep(Math.max(0, next - performance.now()));
  }
  const wall = (performance.now() - t0) / 1000;
  const pct = targets.map((t, i) => ((cpuSecondsOf(t.proc.pid!) - c0[i]!) / wall) * 100);
  const models = targets.map((_, i) => {
    const a = modelUpdates(before[i] ?? '');
    const b = modelUpdates(last[i] ?? '');
    if (b.size === 0) return '';
    const n = (how: string): number => (b.get(how) ?? 0) - (a.get(how) ?? 0);
    return `   model: ${n('reused')} reused, ${n('patched')} patched, ${n('rebuilt')} rebuilt`;
  });
  return { lines: targets.map((t, i) => `${t.name.padEnd(26)} ${pct[i]!.toFixed(2)} % of one core over ${wall.toFixed(0)} s (scraped every 15 s)${models[i]}`), pct };
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  const runs = Number(process.env.EXPORTER_BENCH_SCRAPES ?? 7);
  const steadyS = Number(process.env.EXPORTER_BENCH_STEADY_S ?? 60);
  const out = (s: string): void => void process.stdout.write(`${s}\n`);
  out(`exporter bench — node ${process.version}; ${hostLine()}`);
  for (const size of sizes.length ? sizes : [2000, 10000]) {
    const load = new Spawned();
    const servers = new Spawned();
    try {
      const n = await makeLoad(load, size, 100);
      await sleep(2000);
      out(`\n== ${n} load processes in 100 namespace sets; ${hostLine()}`);
      const targets = [await startHostscope(servers)];
      const ne = await startNodeExporter(servers);
      if (ne) targets.push(ne);
      else out('(prometheus-node-exporter not installed: apt-get install prometheus-node-exporter)');
      out('one scrape:');
      const figs: ScrapeFigures[] = [];
      for (const t of targets) {
        const f = await scrapes(t, runs);
        figs.push(f);
        out(`  ${f.line}`);
      }
      let pct: number | undefined;
      if (steadyS > 0) {
        out('steady:');
        const st = await steady(targets, steadyS, figs.map((f) => f.lastBody));
        pct = st.pct[0];
        for (const l of st.lines) out(`  ${l}`);
      }
      // issue 11's targets, judged on this run's figures
      const h = figs[0]!;
      out(
        `target: a steady scrape at ${n} load processes under 0.5 s CPU: ${(h.cpuS * 1000).toFixed(0)} ms — ${h.cpuS < 0.5 ? 'met' : 'NOT met'} in this run` +
          ` (cold, first scrape: ${(h.coldCpuS * 1000).toFixed(0)} ms — ${h.coldCpuS < 0.5 ? 'met' : 'NOT met'})`,
      );
      if (pct !== undefined) out(`target: steady CPU at a 15 s interval under 1 % of one core: ${pct.toFixed(2)} % — ${pct < 1 ? 'met' : 'NOT met'} in this run`);
      out(`after: ${hostLine()}`);
    } finally {
      await servers.stopAll(5000);
      await load.stopAll(15_000);
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/exporter: ${(e as Error).message}\n`);
  process.exitCode = 1;
});

