/**
 * npm run bench [-- --sizes 2000,10000 --runs 7]
 *
 * Makes its own load (sleeping processes spread over 100 sets of pid/net/uts/ipc/mnt namespaces),
 * then times, in the same run and on the same load, hostscope's commands against the anchors:
 * `cinf --json` vs `lsns -J` and `ps -e -o pid,pidns,netns,mntns`; `capdecode HEX` vs
 * `capsh --decode=HEX` and `node -e 0`. Prints medians and ratios. Stops every process it made.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Spawned, descendants } from '../scripts/lib/spawned.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = (n: string): string => join(ROOT, 'dist/bin', `${n}.js`);
const NODE = process.execPath;

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

/**
 * Median wall times of several commands, run round-robin (A B C A B C …) after one warm-up each,
 * so that drift on a busy machine hits every command alike and the ratios stay fair.
 */
function timeAll(cmds: string[][], runs: number): { ms: number; ok: boolean }[] {
  const samples = cmds.map(() => [] as number[]);
  const ok = cmds.map(() => true);
  const once = (argv: string[]): { ms: number; ok: boolean } => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 << 30 });
    return { ms: Number(process.hrtime.bigint() - t0) / 1e6, ok: r.status === 0 };
  };
  for (const c of cmds) once(c);
  for (let i = 0; i < runs; i++) {
    cmds.forEach((c, j) => {
      const r = once(c);
      samples[j]!.push(r.ms);
      ok[j] &&= r.ok;
    });
  }
  return samples.map((s, j) => {
    s.sort((a, b) => a - b);
    return { ms: s[Math.floor(s.length / 2)]!, ok: ok[j]! };
  });
}

function processCount(): number {
  return spawnSync('sh', ['-c', 'ls -d /proc/[0-9]* | wc -l'], { encoding: 'utf8' }).stdout.trim() as unknown as number;
}

/** `total` sleeping processes in `sets` namespace sets (each: unshare + sh + sleeps) */
export async function makeLoad(spawned: Spawned, total: number, sets: number): Promise<number> {
  const perSet = Math.max(1, Math.floor(total / sets) - 2);
  for (let i = 0; i < sets; i++) {
    spawned.start('unshare', ['--net', '--uts', '--ipc', '--pid', '--fork', '--mount-proc', 'sh', '-c', `i=0; while [ $i -lt ${perSet} ]; do sleep 3600 & i=$((i+1)); done; wait`]);
  }
  const want = sets * (perSet + 2);
  for (let t = 0; t < 600; t++) {
    const n = spawned.tree().size;
    if (n >= want) return n;
    await sleep(100);
  }
  return spawned.tree().size;
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

async function main(): Promise<void> {
  const opts = parseOpts(process.argv.slice(2));
  for (const b of ['cinf', 'capdecode']) if (!existsSync(BIN(b))) throw new Error(`bench: ${BIN(b)} missing: run npm run build`);
  const lines: string[] = [];
  const out = (s: string): void => {
    process.stdout.write(`${s}\n`);
    lines.push(s);
  };
  out(`hostscope bench — ${new Date().toISOString()} — node ${process.version}, ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}, median of ${opts.runs} runs`);

  // capdecode: no load needed
  const mask = '00000000a80425fb';
  const startRuns = Math.max(30, opts.runs * 6);
  const [nodeE, cap, capshT] = timeAll([[NODE, '-e', '0'], [NODE, BIN('capdecode'), mask], has('capsh') ? ['capsh', `--decode=${mask}`] : ['true']], startRuns) as [
    { ms: number; ok: boolean },
    { ms: number; ok: boolean },
    { ms: number; ok: boolean },
  ];
  const capsh = has('capsh') ? capshT : undefined;
  out('');
  out('capdecode 00000000a80425fb');
  const w1 = [34, 10, 12];
  out(row(['command', 'median ms', 'ratio'], w1));
  out(row(['node -e 0', nodeE.ms.toFixed(1), '1.00×'], w1));
  out(row(['capdecode (hostscope)', cap.ms.toFixed(1), `${(cap.ms / nodeE.ms).toFixed(2)}× node`], w1));
  if (capsh) out(row(['capsh --decode', capsh.ms.toFixed(1), `${(cap.ms / capsh.ms).toFixed(1)}× capsh`], w1));

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
        const [node0, ours, theirs] = timeAll([[NODE, '-e', '0'], [NODE, BIN('nsenter-ts'), ...args], ['nsenter', ...args]], startRuns) as [
          { ms: number; ok: boolean },
          { ms: number; ok: boolean },
          { ms: number; ok: boolean },
        ];
        out('');
        out('nsenter -t PID -a true (user, mnt, uts, ipc, net, pid, cgroup)');
        out(row(['command', 'median ms', 'ratio'], w1));
        out(row(['node -e 0', node0.ms.toFixed(1), '1.00×'], w1));
        out(row(['nsenter-ts (hostscope)', ours.ms.toFixed(1), `${(ours.ms / node0.ms).toFixed(2)}× node`], w1));
        out(row(['nsenter (util-linux)', theirs.ms.toFixed(1), `${(ours.ms / theirs.ms).toFixed(1)}× nsenter`], w1));
        if (!ours.ok || !theirs.ok) out('  (a command exited non-zero during timing)');
      }
    } finally {
      await spawned.stopAll();
    }
  }

  for (const size of opts.sizes) {
    const spawned = new Spawned();
    try {
      const made = await makeLoad(spawned, size, opts.sets);
      const total = Number(processCount());
      out('');
      out(`namespaces: ${made} processes made in ${opts.sets} namespace sets (${total} on the host)`);
      const w = [44, 10, 14];
      out(row(['command', 'median ms', 'cinf / it'], w));
      const [c, lj, p, ct] = timeAll([[NODE, BIN('cinf'), '--json'], has('lsns') ? ['lsns', '-J'] : ['true'], ['ps', '-e', '-o', 'pid,pidns,netns,mntns'], [NODE, BIN('cinf')]], opts.runs) as { ms: number; ok: boolean }[] as [
        { ms: number; ok: boolean },
        { ms: number; ok: boolean },
        { ms: number; ok: boolean },
        { ms: number; ok: boolean },
      ];
      const l = has('lsns') ? lj : undefined;
      out(row(['cinf --json (hostscope)', c.ms.toFixed(1), ''], w));
      if (l) out(row(['lsns -J', l.ms.toFixed(1), `${(c.ms / l.ms).toFixed(2)}×`], w));
      out(row(['ps -e -o pid,pidns,netns,mntns', p.ms.toFixed(1), `${(c.ms / p.ms).toFixed(2)}×`], w));
      out(row(['cinf (table)', ct.ms.toFixed(1), l ? `${(ct.ms / l.ms).toFixed(2)}× lsns` : ''], w));
      if (!c.ok || (l && !l.ok)) out('  (a command exited non-zero during timing)');
    } finally {
      await spawned.stopAll(10_000);
      const left = descendants([process.pid]).size - 1;
      if (left > 0) out(`  warning: ${left} processes still below the bench after cleanup`);
    }
  }
}

if (process.argv[1]?.endsWith('run.js')) main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
