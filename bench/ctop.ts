/**
 * ctop's benchmark, run by `npm run bench` or alone:
 * `node dist/bench/ctop.js [--loads 2000,10000] [--sets 100] [--secs 20] [--record-secs 120] [--cgroups | --shared]`.
 *
 * The load's containers each get a cgroup of their own in every v1 controller hierarchy (cpu,
 * cpuacct, memory, pids; at one path in every hierarchy), as every runtime gives its
 * containers: ctop reads each container's numbers from its cgroup and (tui/fresh.ts) no stat of
 * their processes, while htop still reads every process. Then the same processes are moved into
 * one cgroup (the load's parent) and ctop alone is measured again, printed as a second table: 100
 * namespace sets sharing one cgroup (as `unshare` alone makes them), where ctop must sum each over
 * its processes and so reads every process's stat, as htop does. `--cgroups`: the first table only.
 * `--shared`: the load made as namespace sets sharing one cgroup from the start (the default load
 * before stop 16), every tool measured on it.
 *
 * For each load (that many extra processes — `sleep`s — in `--sets` namespace sets, i.e. that many
 * containers, made by bench/run.ts's makeLoad and removed after), each tool runs in its own tmux
 * pane (a real terminal: Ink draws nothing without one; htop renders in it too) on the same load:
 * ctop at a 1 s interval, `htop -d 10` (1 s) and `systemd-cgtop -d 1` when installed. Measured:
 * CPU seconds used per wall second over the steady window (utime + stime of the process and its
 * threads, from /proc/PID/stat, after a warm-up), its RSS at the end (VmRSS), and for ctop the
 * time from start to the first full frame (the group table) and to the first frame with rates,
 * and how long a key takes to show on screen while refreshes run (`?` opens the help, any key
 * closes it; from the key's send to the arrival of the terminal output that shows it, through one
 * tmux control-mode client), max and median of 10.
 * Then the recording: `ctop --record FILE -d 5` on the first load for `--record-secs`, the
 * file's growth after its second frame (see benchRecording) extrapolated to an hour (printed as an extrapolation).
 * Prints one table per load and the recording line, with the load average and process counts.
 */
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Spawned } from '../scripts/lib/spawned.js';

const ROOT = join(import.meta.dirname, '../..');
/** run as its file (package.json "bin"), as a user runs it: its first line sets its environment */
const CTOP = join(ROOT, 'dist/bin/ctop.js');
const CLK = 100;

export interface ToolFigures {
  tool: string;
  cpuPercent: number | undefined;
  rssMiB: number | undefined;
  firstFrameMs?: number;
  firstRatesMs?: number;
  /** a key to the screen showing it, while refreshes run (tmux polling included) */
  keyMaxMs?: number;
  /** the same keys timed inside ctop (HOSTSCOPE_CTOP_KEYLOG): arrival on stdin to the end of the render showing them */
  keyInMaxMs?: number;
  keyInMedianMs?: number;
  /** Ink's render of those frames (the one stretch of the main thread a refresh does not cut up) */
  renderMaxMs?: number;
  keyMedianMs?: number;
  note?: string;
}

/**
 * `?` then any key, `n` times at uneven moments (so some land on a refresh): ms from the key's
 * send to the arrival of the terminal output that shows it. One tmux control-mode client stays
 * attached for all of them (no process started per key or per look): the key goes to it as a
 * send-keys command, and it reports every write of ctop to the terminal as it happens (%output);
 * each time output arrives and settles the screen is checked (capture-pane), and the key counts as
 * shown at the arrival of the output after which the screen shows it. (Until stop 17 the bench
 * timed its own capture-pane polls, a tmux process started per poll: tens to hundreds of ms at the
 * load averages these loads make, added to every figure.)
 */
async function keyLatency(p: Pane, n: number): Promise<{ max: number; median: number } | undefined> {
  const ctl = p.control();
  const arrivals: number[] = [];
  ctl.stdout.setEncoding('utf8');
  let partial = '';
  ctl.stdout.on('data', (chunk: string) => {
    const now = performance.now();
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('%output ')) arrivals.push(now);
  });
  const times: number[] = [];
  try {
    await sleep(200); // attached
    for (let i = 0; i < n; i++) {
      for (const [key, shows] of [
        ['?', (t: string) => t.includes('any key closes') || /lines 1-\d+ of/.test(t)],
        ['x', (t: string) => /procs, \d+ containers/.test(t) && !t.includes('any key closes') && !/lines 1-\d+ of/.test(t)],
      ] as const) {
        let seen = arrivals.length;
        const t0 = performance.now();
        ctl.stdin.write(`send-keys -t ${p.name} ${key}\n`);
        let at: number | undefined;
        while (at === undefined && performance.now() - t0 < 10_000) {
          if (arrivals.length === seen) {
            await sleep(1);
            continue;
          }
          const arrived = arrivals[seen]!;
          // the output so far: wait for the frame to be written whole
          let n0 = arrivals.length;
          do {
            n0 = arrivals.length;
            await sleep(5);
          } while (arrivals.length !== n0);
          seen = arrivals.length;
          if (shows(p.text())) at = arrived;
        }
        if (at === undefined) return undefined;
        times.push(at - t0);
      }
      await sleep(137 + ((i * 211) % 500));
    }
  } finally {
    ctl.stdin.end();
    ctl.kill();
  }
  times.sort((a, b) => a - b);
  return { max: times[times.length - 1]!, median: times[Math.floor(times.length / 2)]! };
}

/** ctop --record at `intervalSec` for `secs`: bytes per hour, extrapolated from the growth after the first frame. */
export async function benchRecording(secs: number, intervalSec = 5): Promise<{ bytes: number; secs: number; frames: number; keyBytes: number; perHourMiB: number } | undefined> {
  const sock = `ctop-rec-${process.pid}`;
  const file = join(tmpdir(), `ctop-bench-${process.pid}.ctop`);
  rmSync(file, { force: true });
  try {
    const p = Pane.start(sock, 'rec', `env -u CI ${CTOP} -d ${intervalSec} --readonly --record ${file}`);
    // the clock starts at the second frame written: the header and the first sample are a one-off,
    // and so is the second, a key frame when the view's processes are left out of the poll's stat
    // (tui/fresh.ts): the first scan read every process, the second marks those it did not read
    // stale, so most processes differ from the first frame and a delta would be the larger
    const t0 = Date.now();
    let first: number | undefined;
    let base: number | undefined;
    let baseAt = 0;
    while (Date.now() - t0 < 300_000 && base === undefined) {
      const sz = sizeOf(file);
      if (first === undefined && sz !== undefined && sz > 200) first = sz;
      else if (first !== undefined && sz !== undefined && sz > first) {
        base = sz;
        baseAt = Date.now();
      }
      if (base === undefined) await sleep(100);
    }
    if (base === undefined || first === undefined) return undefined;
    await sleep(secs * 1000);
    const end = sizeOf(file)!;
    const took = (Date.now() - baseAt) / 1000;
    p.keys('q');
    await sleep(1000);
    const { openRecording } = await import('../tui/record/replay.js');
    const { FILE_MAGIC, KEY_EVERY } = await import('../tui/record/format.js');
    const frames = openRecording(file).count;
    // a key frame (a whole sample) every KEY_EVERY frames: a window shorter than that may hold
    // none, so their share is added from the first frame's size (a key frame)
    const keyBytes = first - FILE_MAGIC.length;
    const keysPerHour = 3600 / (intervalSec * KEY_EVERY);
    return { bytes: end - base, secs: took, frames, keyBytes, perHourMiB: (((end - base) / took) * 3600 + keyBytes * keysPerHour) / 1048576 };
  } finally {
    try {
      execFileSync('tmux', ['-L', sock, 'kill-server'], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
    rmSync(file, { force: true });
  }
}

function sizeOf(f: string): number | undefined {
  try {
    return statSync(f).size;
  } catch {
    return undefined;
  }
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
  /** a tmux control-mode client attached to the pane's session (commands on stdin, %output events on stdout; it sets no size) */
  control(): ChildProcessWithoutNullStreams {
    return spawn('tmux', ['-L', this.sock, '-C', 'attach', '-t', this.name], { stdio: ['pipe', 'pipe', 'pipe'] });
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

export async function benchCtop(opts: { secs?: number; warmupSecs?: number; ctopOnly?: boolean } = {}): Promise<ToolFigures[]> {
  const secs = opts.secs ?? 20;
  const warm = opts.warmupSecs ?? 5;
  const sock = `ctop-bench-${process.pid}`;
  const out: ToolFigures[] = [];
  try {
    // ctop: time to the first frame, then to the first frame with rates
    const t0 = Date.now();
    const keylog = join(tmpdir(), `ctop-bench-keys-${process.pid}.txt`);
    rmSync(keylog, { force: true });
    const p = Pane.start(sock, 'ctop', `env -u CI HOSTSCOPE_CTOP_KEYLOG=${keylog} ${CTOP} -d 1 --readonly`);
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
    const keys = await keyLatency(p, 10);
    let inCtop: { max: number; median: number; renderMax: number } | undefined;
    try {
      const rows = readFileSync(keylog, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number]);
      const lat = rows.map((r) => r[0]).sort((a, b) => a - b);
      if (lat.length > 0) inCtop = { max: lat[lat.length - 1]!, median: lat[Math.floor(lat.length / 2)]!, renderMax: Math.max(...rows.map((r) => r[1])) };
    } catch {
      /* no log: an older ctop */
    }
    rmSync(keylog, { force: true });
    out.push({
      tool: 'ctop -d 1',
      cpuPercent: c.cpu,
      rssMiB: c.rss,
      ...(firstFrame !== undefined ? { firstFrameMs: firstFrame } : {}),
      ...(firstRates !== undefined ? { firstRatesMs: firstRates } : {}),
      ...(keys ? { keyMaxMs: keys.max, keyMedianMs: keys.median } : {}),
      ...(inCtop ? { keyInMaxMs: inCtop.max, keyInMedianMs: inCtop.median, renderMaxMs: inCtop.renderMax } : {}),
    });
    p.keys('q');
    if (opts.ctopOnly) return out;

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

export function formatCtopBench(rows: ToolFigures[], procs: number, context = ''): string {
  const f = (v: number | undefined, d = 1): string => (v === undefined ? '-' : v.toFixed(d));
  const lines = [`ctop vs htop vs systemd-cgtop, ${procs} processes on the host${context}`, 'tool                 cpu%   rss MiB   first frame ms   first rates ms   key max/median ms'];
  for (const r of rows) {
    const keys = r.keyMaxMs === undefined ? '-' : `${r.keyMaxMs.toFixed(0)}/${r.keyMedianMs!.toFixed(0)}`;
    lines.push(`${r.tool.padEnd(20)} ${f(r.cpuPercent).padStart(5)} ${f(r.rssMiB).padStart(9)} ${String(r.firstFrameMs ?? '-').padStart(16)} ${String(r.firstRatesMs ?? '-').padStart(16)} ${keys.padStart(19)}${r.note ? `  (${r.note})` : ''}`);
  }
  for (const r of rows) {
    if (r.keyInMaxMs !== undefined) lines.push(`${r.tool}: the same keys timed inside ctop, arrival to rendered: max/median ${r.keyInMaxMs.toFixed(0)}/${r.keyInMedianMs!.toFixed(0)} ms (Ink's render at most ${r.renderMaxMs!.toFixed(0)} ms)`);
  }
  return `${lines.join('\n')}\n`;
}

const CG_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids'];

/** this process's cgroup in each v1 controller hierarchy mounted apart at /sys/fs/cgroup/<controller> */
function ownV1Cgroups(): Map<string, string> {
  // each controller's hierarchy root: the load's cgroups get one path in every hierarchy
  // (/hostscope-ctop-bench-PID/setN), as a runtime gives a container's (/docker/ID, a
  // cgroupsPath). Under this process's own cgroups the paths could differ by hierarchy (a
  // session's memory cgroup nested deeper than its cpu one), and ctop then rightly refuses to
  // take the cpu figures as the container's own (tui/model.ts: sameCgroupApart)
  const out = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m || !m[1]) continue;
    for (const c of m[1].split(',')) if (CG_CONTROLLERS.includes(c) && existsSync(join('/sys/fs/cgroup', c, 'cgroup.procs'))) out.set(c, join('/sys/fs/cgroup', c));
  }
  return out;
}

/**
 * bench/run.ts's makeLoad, each set in cgroups of its own (one per v1 controller, named
 * hostscope-ctop-bench-PID/setN at each hierarchy's root): the set's shell joins them before it
 * execs unshare, so every process of the container is in them. Returns the processes made and the
 * cgroup directories (deepest first, for removeCgroups), or undefined without v1 controllers.
 */
export async function makeCgroupLoad(spawned: Spawned, total: number, sets: number): Promise<{ made: number; dirs: string[]; parents: string[] } | undefined> {
  const own = ownV1Cgroups();
  if (own.size === 0) return undefined;
  const tag = `hostscope-ctop-bench-${process.pid}`;
  const dirs: string[] = [];
  const perSet = Math.max(1, Math.floor(total / sets) - 2);
  for (const base of own.values()) {
    mkdirSync(join(base, tag));
    dirs.push(join(base, tag));
  }
  for (let i = 0; i < sets; i++) {
    const mine = [...own.values()].map((base) => join(base, tag, `set${i}`));
    for (const d of mine) {
      mkdirSync(d);
      dirs.push(d);
    }
    const loop = `i=0; while [ $i -lt ${perSet} ]; do sleep 3600 & i=$((i+1)); done; wait`;
    spawned.start('sh', ['-c', 'for d in "$@"; do echo $$ > "$d/cgroup.procs" || exit 1; done; exec unshare --net --uts --ipc --pid --fork --mount-proc sh -c "$0"', loop, ...mine]);
  }
  const want = sets * (perSet + 2);
  for (let t = 0; t < 1200; t++) {
    if (spawned.tree().size >= want) break;
    await sleep(100);
  }
  return { made: spawned.tree().size, dirs: dirs.reverse(), parents: [...own.values()].map((base) => join(base, tag)) };
}

/**
 * Every process of the load into the load's parent cgroups (one per controller): its containers
 * then share one cgroup, as namespace sets made by `unshare` alone do. Returns how many moved.
 */
export function shareOneCgroup(spawned: Spawned, parents: string[]): number {
  let moved = 0;
  for (const pid of spawned.tree()) {
    let ok = true;
    for (const d of parents) {
      try {
        writeFileSync(join(d, 'cgroup.procs'), String(pid));
      } catch {
        ok = false; // exited meanwhile
      }
    }
    if (ok) moved++;
  }
  return moved;
}

/** rmdir the load's cgroups once its processes have gone (retrying while they exit). */
export async function removeCgroups(dirs: string[]): Promise<string[]> {
  let left = dirs;
  for (let t = 0; t < 100 && left.length > 0; t++) {
    const next: string[] = [];
    for (const d of left) {
      try {
        rmdirSync(d);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') next.push(d);
      }
    }
    left = next;
    if (left.length > 0) await sleep(100);
  }
  return left;
}

function procCount(): number {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
}

function loadAvg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

if (process.argv[1]?.endsWith('ctop.js') && process.argv[1].includes('bench')) {
  const arg = (n: string): string | undefined => {
    const i = process.argv.indexOf(n);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const loads = (arg('--loads') ?? arg('--load') ?? '2000,10000').split(',').map(Number).filter((n) => n >= 0);
  const sets = Number(arg('--sets') ?? 100);
  const secs = Number(arg('--secs') ?? 20);
  const recSecs = Number(arg('--record-secs') ?? 120);
  const perCgroupOnly = process.argv.includes('--cgroups');
  const shared = process.argv.includes('--shared');
  const { makeLoad } = await import('./run.js');
  for (const [i, load] of loads.entries()) {
    const spawned = new Spawned();
    let cgDirs: string[] = [];
    let parents: string[] = [];
    try {
      let made = 0;
      if (load > 0 && !shared) {
        const r = await makeCgroupLoad(spawned, load, sets);
        if (!r) throw new Error('no v1 controller hierarchy (cpu, cpuacct, memory, pids) at /sys/fs/cgroup/<controller>: run with --shared');
        made = r.made;
        cgDirs = r.dirs;
        parents = r.parents;
      } else if (load > 0) made = await makeLoad(spawned, load, sets);
      const before = loadAvg();
      const rows = await benchCtop({ secs });
      const how = shared ? ' (namespace sets sharing one cgroup)' : ' with a cgroup each';
      process.stdout.write(formatCtopBench(rows, procCount(), `: ${made} of them the load's, in ${load > 0 ? sets : 0} containers${load > 0 ? how : ''}; load average ${before} before, ${loadAvg()} after`));
      if (i === 0 && recSecs > 0) {
        const r = await benchRecording(recSecs, 5);
        process.stdout.write(
          r
            ? `recording at -d 5, ${procCount()} processes (${made} in ${sets} containers${load > 0 ? how : ''}): ${r.bytes} bytes in ${r.secs.toFixed(0)} s after the second frame (${r.frames} frames in the file), key frame ${r.keyBytes} bytes → ${r.perHourMiB.toFixed(2)} MiB per hour (extrapolated from ${r.secs.toFixed(0)} s plus a key frame every 5 min, not measured over an hour)\n`
            : 'recording: no frame written within 300 s\n',
        );
      }
      if (load > 0 && !shared && !perCgroupOnly) {
        const moved = shareOneCgroup(spawned, parents);
        const before2 = loadAvg();
        const again = await benchCtop({ secs, ctopOnly: true });
        process.stdout.write(
          formatCtopBench(again, procCount(), `: the same load, its ${moved} processes moved into one cgroup (${sets} namespace sets sharing it: ctop sums each over its processes, reading every process's stat as htop does); load average ${before2} before, ${loadAvg()} after`),
        );
      }
    } finally {
      await spawned.stopAll(20_000);
      const left = await removeCgroups(cgDirs);
      if (left.length > 0) process.stderr.write(`ctop bench: could not remove ${left.length} cgroups, e.g. ${left[0]}\n`);
    }
  }
}
