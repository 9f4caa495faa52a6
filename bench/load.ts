/**
 * Hold a load for profiling by hand: `node dist/bench/load.js 2000 [sets]` starts the processes,
 * prints READY, and stops them all (reaped by their own parents) on SIGTERM, SIGINT or stdin EOF.
 */
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Spawned } from '../scripts/lib/spawned.js';
import { makeLoad } from './run.js';

const spawned = new Spawned();
const n = await makeLoad(spawned, Number(process.argv[2] ?? 2000), Number(process.argv[3] ?? 100));
process.stdout.write(`READY ${n} (${readdirSync('/proc').filter((d) => /^[0-9]+$/.test(d)).length} processes on the host, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await spawned.stopAll(10_000);
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
