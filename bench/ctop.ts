/**
 * ctop's benchmark, callable from `npm run bench` (bench/run.ts, owned by the speed engineer) or
 * alone: `node dist/bench/ctop.js [--secs 20] [--load 2000] [--sets 100]`.
 *
 * Each tool runs in its own tmux pane (a real terminal: Ink draws nothing without one) on the same
 * load: ctop at a 1 s interval, `htop -d 10` and `systemd-cgtop -d 1` when installed. Measured:
 * CPU seconds used per wall second over the steady window (utime + stime of the process and its
 * threads, from /proc/PID/stat, after a warm-up), its RSS at the end (VmRSS), and for ctop the
 * time from start to the first frame with the group table and to the first frame with rates.
 * Prints one table; returns the figures for a caller.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Spawned } from '../scripts/lib/spawned.js';

const ROOT = join(import.meta.dirname, '../..');
const CTOP = join(ROOT, 'dist/bin/ctop.js');
const CLK = 100;

export interface ToolFigures {
  tool: string;
  cpuPercent: number | undefined;
  rssMiB: number | undefined;
  firstFrameMs?: number;
  firstRatesMs?: number;
  note?: string;
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function cpuTicks(pid: number): number | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

class Pane {
  constructor(
    private readonly sock: string,
    readonly name: string,
  ) {}
  static start(sock: string, name: string, cmd: string): Pane {
    execFileSync('tmux', ['-L', sock, 'new-session', '-d', '-s', name, '-x', '160', '-y', '50', `${cmd}; sleep 3600`]);
    return new Pane(sock, name);
  }
  text(): string {
    return execFileSync('tmux', ['-L', this.sock, 'capture-pane', '-p', '-t', this.name], { encoding: 'utf8' });
  }
  /** the tool: the pane shell's child */
  pid(): number | undefined {
    const shell = Number(execFileSync('tmux', ['-L', this.sock, 'display-message', '-p', '-t', this.name, '#{pane_pid}'], { encoding: 'utf8' }).trim());
    try {
      return Number(execFileSync('pgrep', ['-P', String(shell)], { encoding: 'utf8' }).trim().split('\n')[0]);
    } catch {
      return undefined;
    }
  }
  keys(...k: string[]): void {
    execFileSync('tmux', ['-L', this.sock, 'send-keys', '-t', this.name, ...k]);
  }
}

async function steady(pid: number | undefined, secs: number): Promise<{ cpu: number | undefined; rss: number | undefined }> {
  if (pid === undefined) return { cpu: undefined, rss: undefined };
  const t0 = cpuTicks(pid);
  const w0 = Date.now();
  await sleep(secs * 1000);
  const t1 = cpuTicks(pid);
  const dt = (Date.now() - w0) / 1000;
  return { cpu: t0 === undefined || t1 === undefined ? undefined : ((t1 - t0) / CLK / dt) * 100, rss: rssMiB(pid) };
}

export async function benchCtop(opts: { secs?: number; warmupSecs?: number } = {}): Promise<ToolFigures[]> {
  const secs = opts.secs ?? 20;
  const warm = opts.warmupSecs ?? 5;
  const sock = `ctop-bench-${process.pid}`;
  const out: ToolFigures[] = [];
  try {
    // ctop: time to the first frame, then to the first frame with rates
    const t0 = Date.now();
    const p = Pane.start(sock, 'ctop', `env -u CI ${process.execPath} ${CTOP} -d 1 --readonly`);
    let firstFrame: number | undefined;
    let firstRates: number | undefined;
    while (Date.now() - t0 < 300_000 && firstRates === undefined) {
      const t = p.text();
      if (firstFrame === undefined && /procs, \d+ containers/.test(t)) firstFrame = Date.now() - t0;
      if (/^host\s+host\s+\d+\s+\d+\.\d/m.test(t)) firstRates = Date.now() - t0;
      await sleep(50);
    }
    await sleep(warm * 1000);
    const c = await steady(p.pid(), secs);
    out.push({ tool: 'ctop -d 1', cpuPercent: c.cpu, rssMiB: c.rss, ...(firstFrame !== undefined ? { firstFrameMs: firstFrame } : {}), ...(firstRates !== undefined ? { firstRatesMs: firstRates } : {}) });
    p.keys('q');

    if (has('htop')) {
      const h = Pane.start(sock, 'htop', 'htop -d 10');
      await sleep(warm * 1000);
      const r = await steady(h.pid(), secs);
      out.push({ tool: 'htop -d 10', cpuPercent: r.cpu, rssMiB: r.rss });
      h.keys('q');
    } else out.push({ tool: 'htop', cpuPercent: undefined, rssMiB: undefined, note: 'not installed (apt-get install htop)' });

    if (has('systemd-cgtop')) {
      const g = Pane.start(sock, 'cgtop', 'systemd-cgtop -d 1');
      await sleep(warm * 1000);
      const r = await steady(g.pid(), secs);
      out.push({ tool: 'systemd-cgtop -d 1', cpuPercent: r.cpu, rssMiB: r.rss });
      g.keys('q');
    } else out.push({ tool: 'systemd-cgtop', cpuPercent: undefined, rssMiB: undefined, note: 'not installed' });
  } finally {
    try {
      execFileSync('tmux', ['-L', sock, 'kill-server'], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  }
  return out;
}

export function formatCtopBench(rows: ToolFigures[], procs: number): string {
  const f = (v: number | undefined, d = 1): string => (v === undefined ? '-' : v.toFixed(d));
  const lines = [`ctop vs htop vs systemd-cgtop, ${procs} processes on the host`, 'tool                 cpu%   rss MiB   first frame ms   first rates ms'];
  for (const r of rows) lines.push(`${r.tool.padEnd(20)} ${f(r.cpuPercent).padStart(5)} ${f(r.rssMiB).padStart(9)} ${String(r.firstFrameMs ?? '-').padStart(16)} ${String(r.firstRatesMs ?? '-').padStart(16)}${r.note ? `  (${r.note})` : ''}`);
  return `${lines.join('\n')}\n`;
}

if (process.argv[1]?.endsWith('ctop.js') && process.argv[1].includes('bench')) {
  const arg = (n: string): string | undefined => {
    const i = process.argv.indexOf(n);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const spawned = new Spawned();
  try {
    const load = Number(arg('--load') ?? 0);
    if (load > 0) {
      const { makeLoad } = await import('./run.js');
      await makeLoad(spawned, load, Number(arg('--sets') ?? 100));
    }
    const procs = spawnSync('sh', ['-c', 'ls /proc | grep -c "^[0-9]"'], { encoding: 'utf8' }).stdout.trim();
    const rows = await benchCtop({ secs: Number(arg('--secs') ?? 20) });
    process.stdout.write(formatCtopBench(rows, Number(procs)));
  } finally {
    await spawned.stopAll(10_000);
  }
}
