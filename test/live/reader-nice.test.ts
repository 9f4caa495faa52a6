/**
 * The native scan's reading thread runs at the process's nice + 10 (scan.c, HS_SCAN_NICE): on two
 * busy cores it competes with the event loop's thread, which decodes what it read and must answer
 * ctop's keys and timers (issue 6). The kernel reports the value the thread ran at (ScanStats.readerNice),
 * and afterwards every thread of the process is back at the process's own priority (as root:
 * lowering a nice needs CAP_SYS_NICE).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { openSource } from '../../src/source/source.js';
import { nativeScanAvailable, scanHostWithStats } from '../../src/inspect/scan.js';
import { HostScanner } from '../../src/inspect/scanner.js';

/** nice of every thread of this process (field 19 of /proc/self/task/TID/stat) */
function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out.set(Number(t), Number(f[16]));
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}

const native = process.env.HOSTSCOPE_REQUIRE_NATIVE === '1' || nativeScanAvailable(openSource());

describe.skipIf(!native)('the native scan reads at a lower priority than the event loop', () => {
  const own = getPriority();
  const expected = Math.min(19, own + 10);

  it('a one-shot scan (read in parts) reads at nice + 10, and the threads go back', async () => {
    const { stats } = await scanHostWithStats(openSource(), { files: ['ids'], containers: true, path: 'native' });
    expect(stats.path).toBe('native');
    expect(stats.readerNice).toBe(expected);
    if (process.geteuid?.() === 0) for (const [tid, n] of threadNices()) expect({ tid, nice: n }).toEqual({ tid, nice: own });
  });

  it("HostScanner's steady scans read at nice + 10 too", async () => {
    const scanner = new HostScanner(openSource(), { files: ['ids'], containers: true, path: 'native' });
    const first = await scanner.scan();
    const second = await scanner.scan();
    expect(first.stats.readerNice).toBe(expected);
    expect(second.stats.readerNice).toBe(expected);
    if (process.geteuid?.() === 0) for (const [tid, n] of threadNices()) expect({ tid, nice: n }).toEqual({ tid, nice: own });
  });

  it('the TypeScript path reads on the event loop thread itself: no reader nice', async () => {
    const { stats } = await scanHostWithStats(openSource(), { files: ['ids'], containers: true, path: 'ts' });
    expect(stats.readerNice).toBeUndefined();
  });
});
