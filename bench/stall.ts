/**
 * The event-loop stall lines of bench/run.ts alone (no command table), at one or more sizes:
 *
 *   npm run build && flock /tmp/hostscope-bench.lock node dist/bench/stall.js [sizes…] (default 10000)
 *
 * For each size, a load of sleeping processes in 100 namespace sets (makeLoad), then the stall of
 * inspectHost, scanHost (native, ts) and a steady HostScanner scan, as bench/run.ts prints them.
 */
import { loadavg } from 'node:os';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Spawned } from '../scripts/lib/spawned.js';
import { makeLoad, stallBothWays, stallLines } from './run.js';

const hostLine = (): string =>
  `host: ${readdirSync('/proc').filter((d) => /^[0-9]+$/.test(d)).length} processes, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;

async function main(): Promise<void> {
  // `--here RUNS [--native-only]`: the stall lines of this host as it is, no load made (bench/run.ts's
  // child, run with ctop's node flags; --native-only: the native scans alone, no target line)
  if (process.argv[2] === '--here') {
    await stallLines((s) => void process.stdout.write(`${s}\n`), Number(process.argv[3] ?? 5), process.argv[4] !== '--native-only', process.argv[4] === '--native-only');
    return;
  }
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  const out = (s: string): void => void process.stdout.write(`${s}\n`);
  out(`stall bench — node ${process.version}`);
  for (const size of sizes.length ? sizes : [10000]) {
    const spawned = new Spawned();
    try {
      const n = await makeLoad(spawned, size, 100);
      await sleep(2000);
      out(`\n== ${n} load processes in 100 namespace sets; ${hostLine()}`);
      await stallBothWays(out, 5);
      out(`after: ${hostLine()}`);
    } finally {
      await spawned.stopAll(15_000);
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/stall: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
