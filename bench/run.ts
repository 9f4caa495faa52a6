/**
 * npm run bench [-- --sizes 2000,10000 --runs 7 --sets 100]
 *
 * Makes its own load (sleeping processes spread over `sets` sets of pid/net/uts/ipc/mnt
 * namespaces), then times, in the same run and on the same load, hostscope's commands against the
 * anchors: `cinf --json` vs `lsns -J` and `ps -e -o pid,pidns,netns,mntns`; `capdecode HEX` vs
 * `capsh --decode=HEX`; `nsenter-ts` vs `nsenter`. The machine may be shared and noisy, so:
 *
 * - commands run in interleaved rounds (A B C A B C …) after one warm-up each, so drift hits all alike;
 * - every figure is a median, and both wall time and CPU time (user + sys of the command and its
 *   waited-for children, from wait4(2) in a small python3 timer) are printed, CPU being what the
 *   command cost whatever else the machine was doing;
 * - the host's process count and load average are printed before and after each size.
 *
 * It also measures, in this process, how long a scan holds the event loop (the longest late tick
 * of a 5 ms timer): inspectHost (synchronous), scanHost on the native path and on the TS path.
 * Stops every process it made.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Spawned, descendants } from '../scripts/lib/spawned.js';
import { openSource } from '../src/source/source.js';
import { inspectHost } from '../src/inspect/host.js';
import { nativeScanAvailable, scanHostWithStats } from '../src/inspect/scan.js';
import { HostScanner } from '../src/inspect/scanner.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = (n: string): string => join(ROOT, 'dist/bin', `${n}.js`);
const NODE = process.execPath;
/**
 * A command as a user runs it: the file package.json "bin" names, executed itself (its shebang
 * picks node and its flags), not `node FILE` (which skips the shebang). The first `node` on PATH
 * must then be this one (checked in main).
 */
function USER_BIN(n: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return join(ROOT, pkg.bin[n]!);
}

interface Opts {
  sizes: number[];
  runs: number;
  sets: number;
}

function parseOpts(argv: string[]): Opts {
  const o: Opts = { sizes: [2000, 10000], runs: 7, sets: 100 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--sizes') o.sizes = argv[++i]!.split(',').map(Number);
    else if (argv[i] === '--runs') o.runs = Number(argv[++i]);
    else if (argv[i] === '--sets') o.sets = Number(argv[++i]);
  }
  return o;
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** One measurement: wall ms from fork to wait4, CPU ms (user + sys) from wait4's rusage. */
interface Sample {
  wallMs: number;
  cpuMs: number | undefined;
  ok: boolean;
}

/**
 * A python3 process that forks, execs and wait4()s each command it is sent and answers with
 * wall time and rusage: the child's CPU time, which Node's spawnSync does not report.
 */
const TIMER_PY = `
import os, sys, json, time
for line in sys.stdin:
    argv = json.loads(line)
    t = time.monotonic_ns()
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open('/dev/null', os.O_RDWR)
            for k in (0, 1, 2): os.dup2(fd, k)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, st, ru = os.wait4(pid, 0)
    w = time.monotonic_ns() - t
    ok = os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0
    print(json.dumps([w / 1e6, (ru.ru_utime + ru.ru_stime) * 1e3, ok]), flush=True)
`;

class Timer {
  private proc: ChildProcessByStdio<Writable, Readable, null> | undefined;
  private lines: Interface | undefined;
  private queue: ((s: string) => void)[] = [];

  constructor() {
    if (!has('python3')) return;
    const proc = spawn('python3', ['-u', '-c', TIMER_PY], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc = proc;
    this.lines = createInterface({ input: proc.stdout });
    this.lines.on('line', (l) => this.queue.shift()?.(l));
  }

  get cpu(): boolean {
    return this.proc !== undefined;
  }

  async run(argv: string[]): Promise<Sample> {
    if (!this.proc) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
      return { wallMs: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: undefined, ok: r.status === 0 };
    }
    const answer = new Promise<string>((resolve) => this.queue.push(resolve));
    this.proc.stdin.write(`${JSON.stringify(argv)}\n`);
    const [wallMs, cpuMs, ok] = JSON.parse(await answer) as [number, number, boolean];
    return { wallMs, cpuMs, ok };
  }

  close(): Promise<void> {
    if (!this.proc) return Promise.resolve();
    const p = this.proc;
    const exited = new Promise<void>((resolve) => p.on('exit', () => resolve()));
    p.stdin.end();
    return exited;
  }
}

interface Result {
  wallMs: number;
  cpuMs: number | undefined;
  ok: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** Medians of several commands, run round-robin after one warm-up each. */
async function timeAll(timer: Timer, cmds: string[][], runs: number): Promise<Result[]> {
  const samples = cmds.map(() => [] as Sample[]);
  for (const c of cmds) await timer.run(c);
  for (let i = 0; i < runs; i++) for (const [j, c] of cmds.entries()) samples[j]!.push(await timer.run(c));
  return samples.map((s) => ({
    wallMs: median(s.map((x) => x.wallMs)),
    cpuMs: s[0]!.cpuMs === undefined ? undefined : median(s.map((x) => x.cpuMs!)),
    ok: s.every((x) => x.ok),
  }));
}

function processCount(): number {
  try {
    return spawnSync('sh', ['-c', 'ls /proc | grep -c "^[0-9]"'], { encoding: 'utf8' }).stdout.trim() as unknown as number;
  } catch {
    return NaN;
  }
}

function hostLine(): string {
  return `${processCount()} processes on the host, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
}

/** `total` sleeping processes in `sets` namespace sets (each: unshare + sh + sleeps) */
export async function makeLoad(spawned: Spawned, total: number, sets: number): Promise<number> {
  const perSet = Math.max(1, Math.floor(total / sets) - 2);
  for (let i = 0; i < sets; i++) {
    spawned.start('unshare', ['--net', '--uts', '--ipc', '--pid', '--fork', '--mount-proc', 'sh', '-c', `i=0; while [ $i -lt ${perSet} ]; do sleep 3600 & i=$((i+1)); done; wait`]);
  }
  const want = sets * (perSet + 2);
  for (let t = 0; t < 1200; t++) {
    const n = spawned.tree().size;
    if (n >= want) return n;
    await sleep(100);
  }
  return spawned.tree().size;
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

const ms = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(1));
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || b === 0 ? '-' : `${(a / b).toFixed(2)}×`);

/** A table of commands: median wall and CPU, and both ratios against one reference. */
function table(out: (s: string) => void, rows: { name: string; r: Result }[], ref: Result | undefined, refName: string): void {
  const w = [40, 10, 10, 12, 12];
  out(row(['command', 'wall ms', 'cpu ms', `wall/${refName}`, `cpu/${refName}`], w));
  for (const { name, r } of rows) out(row([name + (r.ok ? '' : ' (exit≠0)'), ms(r.wallMs), ms(r.cpuMs), ratio(r.wallMs, ref?.wallMs), ratio(r.cpuMs, ref?.cpuMs)], w));
}

/**
 * How long a scan holds this process's event loop: the latest tick of a 5 ms timer (minus the
 * 5 ms), median of `runs` scans after a warm-up. For scanHost, also the longest slice of its own
 * synchronous work, and how much of the worst stall the event loop's thread spent runnable but
 * waiting for a core (its run-queue delay, /proc/thread-self/schedstat): a stall the scan did not
 * cause but a busy host did (the native scan's own reading thread runs at nice + 10 so as not to
 * be one of those: src/native/c/scan.c).
 */
async function stallOf(
  scan: () => Promise<number | undefined>,
  runs: number,
): Promise<{ stall: number; slice: number | undefined; wait: number | undefined; spanMs: number }> {
  await scan();
  const stalls: number[] = [];
  const slices: number[] = [];
  const waits: number[] = [];
  const spans: number[] = [];
  for (let i = 0; i < runs; i++) {
    const ticks = [performance.now()];
    const queued = [runQueueMs()];
    const timer = setInterval(() => {
      ticks.push(performance.now());
      queued.push(runQueueMs());
    }, 5);
    const slice = await scan();
    ticks.push(performance.now());
    queued.push(runQueueMs());
    clearInterval(timer);
    spans.push(ticks[ticks.length - 1]! - ticks[0]!);
    let worst = 0;
    let at = 1;
    for (let k = 1; k < ticks.length; k++) {
      const late = ticks[k]! - ticks[k - 1]! - 5;
      if (late > worst) [worst, at] = [late, k];
    }
    stalls.push(worst);
    const w0 = queued[at - 1];
    const w1 = queued[at];
    if (w0 !== undefined && w1 !== undefined) waits.push(Math.min(worst, w1 - w0));
    if (slice !== undefined) slices.push(slice);
  }
  return { stall: median(stalls), slice: slices.length ? median(slices) : undefined, wait: waits.length === stalls.length ? median(waits) : undefined, spanMs: median(spans) };
}

/** this thread's run-queue delay so far, ms (undefined without schedstats) */
function runQueueMs(): number | undefined {
  try {
    const f = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    const ns = Number(f[1]);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The stall lines twice: in this process (node's default young generation: up to 16 MB
 * semi-spaces) and in a child run as ctop's bin runs node (`--max-semi-space-size=2`, its first
 * line: scripts/bundle-bins.mjs). A young-generation GC (scavenge) during the scan is a stall the
 * scan's slicing cannot cut; its length grows with what survives, and a smaller young generation
 * collects more often with fewer survivors each time. The target is judged as ctop runs, the
 * process whose keys must not wait (docs/benchmarks.md).
 */
export async function stallBothWays(out: (s: string) => void, runs: number): Promise<void> {
  await stallLines((l) => out(`node defaults: ${l}`), runs, false);
  const child = join(import.meta.dirname, 'stall.js');
  const r = spawnSync(NODE, [...CTOP_NODE_FLAGS, child, '--here', String(runs)], { encoding: 'utf8', timeout: 600_000 });
  for (const l of (r.stdout ?? '').split('\n')) if (l) out(`as ctop runs (node ${CTOP_NODE_FLAGS.join(' ')}): ${l}`);
  if (r.status !== 0) out(`as ctop runs: the child failed (${r.error?.message ?? (r.stderr ?? '').trim().split('\n')[0] ?? r.status})`);
  // the same child with parallel scavenges (ctop's flags before stop 19): what the flag buys, in this run
  const before = CTOP_NODE_FLAGS.filter((f) => f !== '--no-parallel-scavenge');
  const b = spawnSync(NODE, [...before, child, '--here', String(runs), '--native-only'], { encoding: 'utf8', timeout: 600_000 });
  for (const l of (b.stdout ?? '').split('\n')) if (l) out(`with parallel scavenges (node ${before.join(' ')}): ${l}`);
}

/** "; waiting for a core X ms": of the worst stall, the run-queue delay of the event loop's thread */
function queuedNote(r: { wait: number | undefined }): string {
  return r.wait === undefined ? '' : `; of the stall, waiting for a core ${ms(r.wait)} ms`;
}

/** the V8 flags ctop's bin puts on node's command line (scripts/bundle-bins.mjs) */
export const CTOP_NODE_FLAGS = ['--max-semi-space-size=2', '--no-parallel-scavenge'];

/** `nativeOnly`: the native scans alone (no inspectHost, no TypeScript path: a comparison child) */
export async function stallLines(out: (s: string) => void, runs: number, target = true, nativeOnly = false): Promise<void> {
  const src = openSource();
  const opts = { files: ['ids' as const], containers: true, bound: true, excludeSelf: true };
  const sync = nativeOnly
    ? undefined
    : await stallOf(async () => {
        inspectHost(src, opts);
        return undefined;
      }, runs);
  const native = nativeScanAvailable(src)
    ? await stallOf(async () => (await scanHostWithStats(src, { ...opts, path: 'native' })).stats.longestSliceMs, runs)
    : undefined;
  const ts = nativeOnly ? undefined : await stallOf(async () => (await scanHostWithStats(src, { ...opts, path: 'ts' })).stats.longestSliceMs, runs);
  out(
    `event-loop stall during a scan (ids, containers; median of ${runs}, late 5 ms tick): ` +
      (sync ? `inspectHost ${ms(sync.stall)} ms; ` : '') +
      `scanHost native ${native ? `${ms(native.stall)} ms (longest own slice ${ms(native.slice)} ms${queuedNote(native)})` : 'n/a (no addon)'}` +
      (ts ? `; scanHost ts ${ms(ts.stall)} ms (longest own slice ${ms(ts.slice)} ms${queuedNote(ts)})` : ''),
  );
  if (native) {
    // ctop's and the exporter's scan: a long-lived HostScanner, after its first (whole) scan
    const scanner = new HostScanner(src, { ...opts, path: 'native' });
    await scanner.scan();
    const steady = await stallOf(async () => (await scanner.scan()).stats.longestSliceMs, runs);
    out(`event-loop stall during a steady HostScanner scan (same options, median of ${runs}): ${ms(steady.stall)} ms (longest own slice ${ms(steady.slice)} ms${queuedNote(steady)})`);
    // the control: the same timer as long as a one-shot scan lasts, with no scan at all. On a shared
    // host other processes delay the event loop's thread too; this is how much, in the same run.
    const idle = await stallOf(async () => {
      await sleep(native.spanMs);
      return undefined;
    }, runs);
    out(`event-loop stall with no scan, the same timer for as long (${ms(native.spanMs)} ms, median of ${runs}): ${ms(idle.stall)} ms${queuedNote(idle)}`);
    const stall = Math.max(native.stall, steady.stall);
    if (target) out(`target: a scan never holds the event loop over 20 ms (issue 6): scanHost native ${ms(native.stall)} ms, HostScanner ${ms(steady.stall)} ms — ${stall <= 20 ? 'met' : 'NOT met'} in this run`);
  }
}

async function main(): Promise<void> {
  const opts = parseOpts(process.argv.slice(2));
  for (const b of ['cinf', 'capdecode']) if (!existsSync(BIN(b))) throw new Error(`bench: ${BIN(b)} missing: run npm run build`);
  const out = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };
  const timer = new Timer();
  const cpu = cpus();
  out(
    `hostscope bench — ${new Date().toISOString()} — node ${process.version}, linux ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}, ` +
      `${cpu.length} × ${cpu[0]?.model ?? '?'}, median of ${opts.runs} interleaved rounds`,
  );
  out(`CPU = user + sys of the command and its children (wait4 rusage)${timer.cpu ? '' : ' — unavailable: python3 missing, wall time only'}`);
  out(`at start: ${hostLine()}`);
  // the bins run through their shebang: `env node` must find the node this bench runs on
  const pathNode = spawnSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).stdout.trim();
  if (pathNode && realpathSync(pathNode) !== realpathSync(NODE)) out(`warning: the node on PATH (${pathNode}) is not this one (${NODE}): cinf runs on that one`);
  // Node loads NODE_EXTRA_CA_CERTS at every start, before any of a command's code (~45 ms of CPU
  // for a full CA bundle here): every node row pays it, lsns does not
  if (process.env.NODE_EXTRA_CA_CERTS) out(`note: NODE_EXTRA_CA_CERTS is set: every Node process (node -e 0 too) parses that file at start`);

  try {
    // capdecode: no load needed
    const mask = '00000000a80425fb';
    const startRuns = Math.max(15, opts.runs * 3);
    const capsh = has('capsh');
    const [nodeE, cap, capshR] = await timeAll(timer, [[NODE, '-e', '0'], [NODE, BIN('capdecode'), mask], capsh ? ['capsh', `--decode=${mask}`] : ['true']], startRuns);
    out('');
    out(`capdecode ${mask}`);
    table(out, [{ name: 'node -e 0', r: nodeE! }, { name: 'capdecode (hostscope)', r: cap! }, ...(capsh ? [{ name: 'capsh --decode', r: capshR! }] : [])], nodeE, 'node');

    // nsenter-ts: `true` in every namespace of a target made here
    if (existsSync(BIN('nsenter-ts')) && has('nsenter') && process.geteuid?.() === 0) {
      const spawned = new Spawned();
      try {
        const outer = spawned.start('unshare', ['--user', '--map-root-user', '--uts', '--net', '--ipc', '--pid', '--cgroup', '--fork', '--mount-proc', 'sleep', '3600']);
        let target: number | undefined;
        for (let i = 0; i < 100 && target === undefined; i++) {
          await sleep(20);
          target = [...descendants([outer.pid!])].find((p) => p !== outer.pid);
        }
        if (target !== undefined) {
          const args = ['-t', String(target), '-a', 'true'];
          const [node0, ours, theirs] = await timeAll(timer, [[NODE, '-e', '0'], [NODE, BIN('nsenter-ts'), ...args], ['nsenter', ...args]], startRuns);
          out('');
          out('nsenter -t PID -a true (user, mnt, uts, ipc, net, pid, cgroup)');
          table(out, [{ name: 'node -e 0', r: node0! }, { name: 'nsenter-ts (hostscope)', r: ours! }, { name: 'nsenter (util-linux)', r: theirs! }], theirs, 'nsenter');
        }
      } finally {
        await spawned.stopAll();
      }
    }

    const lsns = has('lsns');
    for (const size of opts.sizes) {
      const spawned = new Spawned();
      try {
        const made = await makeLoad(spawned, size, opts.sets);
        await sleep(2000); // let the load's own start-up settle
        out('');
        out(`namespaces: ${made} processes made in ${opts.sets} namespace sets; before: ${hostLine()}`);
        // cinf as a user runs it: the bin itself (dist/bin/cinf.cjs: its shebang, its code cache, which
        // the warm-up run writes when a build removed it)
        const cinf = USER_BIN('cinf');
        const cmds: { name: string; argv: string[] }[] = [
          { name: 'cinf --json (hostscope)', argv: [cinf, '--json'] },
          { name: 'cinf --json, TS reader (HOSTSCOPE_SCAN=ts)', argv: ['env', 'HOSTSCOPE_SCAN=ts', cinf, '--json'] },
          { name: 'cinf (table)', argv: [cinf] },
          ...(lsns ? [{ name: 'lsns -J', argv: ['lsns', '-J'] }] : []),
          { name: 'ps -e -o pid,pidns,netns,mntns', argv: ['ps', '-e', '-o', 'pid,pidns,netns,mntns'] },
          { name: 'node -e 0', argv: [NODE, '-e', '0'] },
        ];
        const res = await timeAll(
          timer,
          cmds.map((c) => c.argv),
          opts.runs,
        );
        const rows = cmds.map((c, i) => ({ name: c.name, r: res[i]! }));
        const ref = rows.find((r) => r.name === 'lsns -J')?.r;
        const ps = rows.find((r) => r.name.startsWith('ps '))!.r;
        table(out, rows, ref, 'lsns');
        const c = rows[0]!.r;
        out(`cinf --json / ps: wall ${ratio(c.wallMs, ps.wallMs)}, cpu ${ratio(c.cpuMs, ps.cpuMs)}`);
        const target = size >= 10000 ? 0.2 : 0.6;
        if (ref) {
          const met = c.wallMs <= target * ref.wallMs && (c.cpuMs === undefined || ref.cpuMs === undefined || c.cpuMs <= target * ref.cpuMs);
          out(`target cinf --json ≤ ${target}× lsns -J: wall ${ratio(c.wallMs, ref.wallMs)}, cpu ${ratio(c.cpuMs, ref.cpuMs)} — ${met ? 'met' : 'NOT met'} in this run`);
        }
        await stallBothWays(out, Math.max(3, Math.min(opts.runs, 5)));
        out(`after: ${hostLine()}`);
      } finally {
        await spawned.stopAll(10_000);
        const left = descendants([process.pid]).size - 2; // this process and the python timer
        if (left > 0) out(`  warning: ${left} processes still below the bench after cleanup`);
      }
    }
  } finally {
    await timer.close();
  }
}

if (process.argv[1]?.endsWith('run.js'))
  main().catch((e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
