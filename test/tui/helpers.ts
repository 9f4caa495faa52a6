import { fixtureSource } from '../helpers/fixtures.js';
import { takeSample, type Sample } from '../../tui/sample.js';

/**
 * Two samples of a fixture host one second apart: the dump itself (the later one) and an earlier
 * one made from it by taking known amounts off every counter, so rates are exercised exactly:
 * process i used (pid % 7) × 10 ticks, every cgroup 250 ms of CPU, 1 MiB read, 3 throttled
 * periods, every network namespace received 2 KiB and sent 1 KiB.
 */
export function fixtureSamples(host: string): { prev: Sample; cur: Sample } {
  let t = 10_000;
  const cur = takeSample(fixtureSource(host), { now: () => (t += 500), wallNow: () => Date.UTC(2026, 11, 1, 12, 0, 0) });
  const prev: Sample = structuredClone(cur);
  prev.startMs -= 1000;
  prev.endMs -= 1000;
  prev.wallMs -= 1000;
  for (const p of prev.procs) p.ticks = Math.max(0, p.ticks - (p.pid % 7) * 10);
  for (const c of Object.values(prev.cgroups)) {
    if (c.cpu) {
      c.cpu.usageUsec = Math.max(0, c.cpu.usageUsec - 250_000);
      if (c.cpu.nrThrottled !== undefined) c.cpu.nrThrottled = Math.max(0, c.cpu.nrThrottled - 3);
    }
    if (c.io) c.io.readBytes = Math.max(0, c.io.readBytes - (1 << 20));
  }
  for (const n of Object.values(prev.net)) {
    n.rx = Math.max(0, n.rx - 2048);
    n.tx = Math.max(0, n.tx - 1024);
  }
  return { prev, cur };
}
