/**
 * npm run build && node dist/bench/runtime.js [--runs 15]
 *
 * The runtime's cost, in one run, interleaved (A B C A B C …) after one warm-up each, medians of
 * wall and CPU time (user + sys of the commands and their waited-for children, from wait4(2)):
 * - `run ID` of a busybox `/bin/true` container, foreground: runc-ts, runc, crun (when installed);
 * - `create ID; start ID; delete ID` (three commands, summed): the same runtimes;
 * - `node -e 0`: Node's own start-up, what runc-ts cannot avoid;
 * - `hostscope run --rm busybox true` (issue 9: the front end, its monitor and its removal) against
 *   `runc-ts run` and against `unshare` of the same namespaces as the floor (a store of its own
 *   under the bench's temp dir; the busybox rootfs is made by the warm-up, as a user's first run).
 * The timer is a python3 subreaper: the inits of `create` are orphaned to it and reaped after
 * each sample. Ratios are against runc. crun 1.8.1 (Debian 12) refuses this VM's hybrid cgroup
 * layout ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"): its rows
 * then show every run failed (the `failed` column) and their times are of that failure. Needs root and /bin/busybox. Removes what it made; if crun
 * ran, checks the host's /dev/null (crun 1.8.1 chowns it with a user namespace; none is used here).
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { exampleSpec, renderSpecJson } from '../src/runtime/spec-default.js';

const ROOT = join(import.meta.dirname, '../..');
// the runc-ts command as installed: package.json "bin" (dist/bin/runc-ts.cjs, run through its code cache)
const RUNC_TS = join(ROOT, (JSON.parse(fs.readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['runc-ts']!);
const HOSTSCOPE = join(ROOT, 'dist/bin/hostscope.js');
const NODE = process.execPath;

const TIMER_PY = `
import ctypes, os, sys, json, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
for line in sys.stdin:
    seq = json.loads(line)
    wall = 0.0; cpu = 0.0; ok = True
    for argv in seq:
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
        wall += (time.monotonic_ns() - t) / 1e6
        cpu += (ru.ru_utime + ru.ru_stime) * 1e3
        ok = ok and os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0
    reap()
    print(json.dumps([wall, cpu, ok]), flush=True)
`;

class Timer {
  private proc: ChildProcessByStdio<Writable, Readable, null>;
  private lines: Interface;
  private queue: ((s: string) => void)[] = [];
  constructor() {
    this.proc = spawn('python3', ['-u', '-c', TIMER_PY], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.proc.stdout });
    this.lines.on('line', (l) => this.queue.shift()?.(l));
  }
  async run(seq: string[][]): Promise<[number, number, boolean]> {
    const answer = new Promise<string>((resolve) => this.queue.push(resolve));
    this.proc.stdin.write(`${JSON.stringify(seq)}\n`);
    return JSON.parse(await answer) as [number, number, boolean];
  }
  close(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.proc.on('exit', () => resolve()));
    this.proc.stdin.end();
    return exited;
  }
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runs = args[0] === '--runs' ? Number(args[1]) : 15;
  if (process.geteuid!() !== 0 || !fs.existsSync('/bin/busybox')) {
    console.error('bench/runtime: needs root and /bin/busybox');
    process.exitCode = 1;
    return;
  }
  const tmp = fs.mkdtempSync(join(os.tmpdir(), `hs-bench-rt-${process.pid}-`));
  const cgParent = `/hs-bench-rt-${process.pid}`;
  const runtimes: { name: string; argv: string[] }[] = [{ name: 'runc-ts', argv: [NODE, RUNC_TS, '--root', `${tmp}/state-runc-ts`] }];
  if (has('runc')) runtimes.push({ name: 'runc', argv: ['runc', '--root', `${tmp}/state-runc`] });
  if (has('crun')) runtimes.push({ name: 'crun', argv: ['crun', '--root', `${tmp}/state-crun`] });
  const rootfs = `${tmp}/rootfs`;
  fs.mkdirSync(`${rootfs}/bin`, { recursive: true });
  for (const d of ['proc', 'sys', 'dev']) fs.mkdirSync(`${rootfs}/${d}`);
  fs.copyFileSync('/bin/busybox', `${rootfs}/bin/busybox`);
  fs.chmodSync(`${rootfs}/bin/busybox`, 0o755);
  fs.symlinkSync('busybox', `${rootfs}/bin/true`);
  const bundle = (rt: string) => {
    const dir = `${tmp}/bundle-${rt}`;
    fs.mkdirSync(dir);
    const c = JSON.parse(renderSpecJson(exampleSpec()));
    c.process.terminal = false;
    c.process.args = ['/bin/true'];
    c.root = { path: rootfs, readonly: true };
    c.linux.cgroupsPath = `${cgParent}/${rt}`;
    fs.writeFileSync(`${dir}/config.json`, JSON.stringify(c));
    return dir;
  };
  const cases: { label: string; seq: string[][] }[] = [{ label: 'node -e 0', seq: [[NODE, '-e', '0']] }];
  for (const rt of runtimes) {
    const b = bundle(rt.name);
    const id = `hs-bench-${process.pid}-${rt.name}`;
    cases.push({ label: `${rt.name} run`, seq: [[...rt.argv, 'run', '--bundle', b, id]] });
    cases.push({ label: `${rt.name} create+start+delete`, seq: [[...rt.argv, 'create', '--bundle', b, id], [...rt.argv, 'start', id], [...rt.argv, 'delete', '--force', id]] });
  }
  cases.push({ label: 'hostscope run --rm busybox', seq: [['env', `HOSTSCOPE_RUN_ROOT=${tmp}/hs-store`, NODE, HOSTSCOPE, 'run', '--rm', 'busybox', 'true']] });
  cases.push({ label: 'unshare (floor)', seq: [['unshare', '--fork', '--pid', '--mount', '--uts', '--ipc', '--net', '--mount-proc', 'true']] });
  // hostscope run makes its containers' cgroups under /hostscope in each hierarchy: the parents it
  // made here (absent before the bench) are removed at the end, as the tests do
  const hsParentsBefore = new Set(fs.readdirSync('/sys/fs/cgroup').filter((h) => fs.existsSync(`/sys/fs/cgroup/${h}/hostscope`)));
  const timer = new Timer();
  const samples = cases.map(() => ({ wall: [] as number[], cpu: [] as number[], failed: 0 }));
  try {
    for (const c of cases) await timer.run(c.seq);
    for (let i = 0; i < runs; i++)
      for (const [j, c] of cases.entries()) {
        const [w, cpu, ok] = await timer.run(c.seq);
        samples[j]!.wall.push(w);
        samples[j]!.cpu.push(cpu);
        if (!ok) samples[j]!.failed++;
      }
  } finally {
    await timer.close();
    for (const rt of runtimes) spawnSync(rt.argv[0]!, [...rt.argv.slice(1), 'delete', '--force', `hs-bench-${process.pid}-${rt.name}`], { stdio: 'ignore' });
    for (const h of fs.readdirSync('/sys/fs/cgroup')) {
      for (const rt of runtimes) fs.rmSync(`/sys/fs/cgroup/${h}${cgParent}/${rt.name}`, { recursive: false, force: true });
      try {
        fs.rmdirSync(`/sys/fs/cgroup/${h}${cgParent}`);
      } catch {
        /* not made here */
      }
    }
    for (const h of fs.readdirSync('/sys/fs/cgroup')) {
      if (hsParentsBefore.has(h)) continue;
      try {
        fs.rmdirSync(`/sys/fs/cgroup/${h}/hostscope`);
      } catch {
        /* not made, or not empty: left as it is */
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const med = samples.map((s) => ({ wall: median(s.wall), cpu: median(s.cpu), failed: s.failed }));
  const byLabel = new Map(cases.map((c, i) => [c.label, med[i]!]));
  const node = byLabel.get('node -e 0')!;
  console.log(`runtime bench: ${runs} interleaved runs after one warm-up, medians; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ${os.cpus().length} cpus`);
  console.log(`${'command'.padEnd(30)} ${'wall ms'.padStart(9)} ${'cpu ms'.padStart(9)} ${'wall/runc'.padStart(10)} ${'wall-node'.padStart(10)} failed`);
  for (const [i, c] of cases.entries()) {
    const m = med[i]!;
    const kind = c.label.endsWith(' run') ? 'run' : c.label.endsWith('delete') ? 'create+start+delete' : undefined;
    const runc = kind ? byLabel.get(`runc ${kind}`) : undefined;
    const ratio = runc ? (m.wall / runc.wall).toFixed(2) : '';
    const overNode = c.label.startsWith('runc-ts') ? (m.wall - node.wall * (kind === 'run' ? 1 : 3)).toFixed(1) : '';
    console.log(`${c.label.padEnd(30)} ${m.wall.toFixed(1).padStart(9)} ${m.cpu.toFixed(1).padStart(9)} ${ratio.padStart(10)} ${overNode.padStart(10)} ${m.failed}`);
  }
  console.log('wall-node: runc-ts wall minus node -e 0 per Node start (1 for run, 3 for create+start+delete)');
  // the target: what runc-ts adds to Node's own start-up costs no more than runc's whole run
  const rtsRun = byLabel.get('runc-ts run');
  const runcRun = byLabel.get('runc run');
  if (rtsRun && runcRun) {
    const w = rtsRun.wall - node.wall;
    const c = rtsRun.cpu - node.cpu;
    const met = w <= runcRun.wall && c <= runcRun.cpu;
    console.log(`runc-ts run adds ${w.toFixed(1)} ms wall / ${c.toFixed(1)} ms CPU to node -e 0: ${(w / runcRun.wall).toFixed(2)}× / ${(c / runcRun.cpu).toFixed(2)}× runc run's whole (target ≤ 1×: ${met ? 'met' : 'NOT met'} in this run)`);
  }
  const hs = byLabel.get('hostscope run --rm busybox')!;
  const rts = byLabel.get('runc-ts run')!;
  const floor = byLabel.get('unshare (floor)')!;
  console.log(`hostscope run --rm busybox true: ${(hs.wall / rts.wall).toFixed(2)}× runc-ts run wall (${(hs.cpu / rts.cpu).toFixed(2)}× CPU), ${(hs.wall / floor.wall).toFixed(2)}× unshare wall (${(hs.cpu / floor.cpu).toFixed(2)}× CPU)`);
  if (runtimes.some((r) => r.name === 'crun')) {
    const st = fs.statSync('/dev/null');
    if (st.uid !== 0 || st.gid !== 0 || (st.mode & 0o7777) !== 0o666) console.log('WARNING: /dev/null changed after crun ran: restore with chown root:root /dev/null; chmod 0666 /dev/null');
  }
}

await main();
