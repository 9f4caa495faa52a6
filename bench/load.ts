/**
 * Hold a load for profiling by hand: `node dist/bench/load.js 2000 [sets] [--cgroups]` starts the
 * processes, prints READY, and stops them all (reaped by their own parents) on SIGTERM, SIGINT or
 * stdin EOF. `--cgroups`: each namespace set in cgroups of its own, as bench/ctop.ts's default load
 * (removed again on the way out).
 */
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Spawned } from '../scripts/lib/spawned.js';
import { makeLoad } from './run.js';
import { makeCgroupLoad, removeCgroups } from './ctop.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const total = Number(args[0] ?? 2000);
const sets = Number(args[1] ?? 100);
const spawned = new Spawned();
let dirs: string[] = [];
let n: number;
if (process.argv.includes('--cgroups')) {
  const r = await makeCgroupLoad(spawned, total, sets);
  if (!r) {
    process.stderr.write('load: no v1 controller hierarchy (cpu, cpuacct, memory, pids) to make cgroups in\n');
    process.exit(1);
  }
  n = r.made;
  dirs = r.dirs;
} else n = await makeLoad(spawned, total, sets);
process.stdout.write(`READY ${n} (${readdirSync('/proc').filter((d) => /^[0-9]+$/.test(d)).length} processes on the host, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await spawned.stopAll(10_000);
  const left = await removeCgroups(dirs);
  if (left.length > 0) process.stderr.write(`load: could not remove ${left.length} cgroups, e.g. ${left[0]}\n`);
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
