/**
 * The native scan's reading thread runs at the process's nice + 10 (scan.c, HS_SCAN_NICE): on two
 * busy cores it competes with the event loop's thread, which decodes what it read and must answer
 * ctop's keys and timers (issue 6). The kernel reports the value the thread ran at (ScanStats.readerNice),
 * and afterwards every thread of the process is back at the process's own priority. Going back
 * needs CAP_SYS_NICE (or RLIMIT_NICE): without it the thread is not niced at all (a threadpool
 * thread left lower would run every later job there, and each scan would push it lower: at first
 * it went 10, then 19, and stayed).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
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

/** CAP_SYS_NICE (23) in this process's effective set */
function hasSysNice(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m !== null && (BigInt(`0x${m[1]}`) & (1n << 23n)) !== 0n;
}

const native = process.env.HOSTSCOPE_REQUIRE_NATIVE === '1' || nativeScanAvailable(openSource());

describe.skipIf(!native || !hasSysNice())('the native scan reads at a lower priority than the event loop', () => {
  const own = getPriority();
  const expected = Math.min(19, own + 10);

  it('a one-shot scan (read in parts) reads at nice + 10, and the threads go back', async () => {
    const { stats } = await scanHostWithStats(openSource(), { files: ['ids'], containers: true, path: 'native' });
    expect(stats.path).toBe('native');
    expect(stats.readerNice).toBe(expected);
    for (const [tid, n] of threadNices()) expect({ tid, nice: n }).toEqual({ tid, nice: own });
  });

  it("HostScanner's steady scans read at nice + 10 too", async () => {
    const scanner = new HostScanner(openSource(), { files: ['ids'], containers: true, path: 'native' });
    const first = await scanner.scan();
    const second = await scanner.scan();
    expect(first.stats.readerNice).toBe(expected);
    expect(second.stats.readerNice).toBe(expected);
    for (const [tid, n] of threadNices()) expect({ tid, nice: n }).toEqual({ tid, nice: own });
  });

  it('the TypeScript path reads on the event loop thread itself: no reader nice', async () => {
    const { stats } = await scanHostWithStats(openSource(), { files: ['ids'], containers: true, path: 'ts' });
    expect(stats.readerNice).toBeUndefined();
  });
});

const ROOT = join(import.meta.dirname, '../..');
/** a child without CAP_SYS_NICE, one threadpool thread: three scans, then its threads' nice values */
const CHILD = `
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
const { openSource } = await import(${JSON.stringify(join(ROOT, 'dist/src/source/source.js'))});
const { scanHostWithStats } = await import(${JSON.stringify(join(ROOT, 'dist/src/inspect/scan.js'))});
const seen = [];
for (let i = 0; i < 3; i++) seen.push((await scanHostWithStats(openSource(), { files: ['ids'], path: 'native' })).stats.readerNice);
const threads = readdirSync('/proc/self/task').map((t) => { const st = readFileSync('/proc/self/task/' + t + '/stat', 'utf8'); return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16]); });
console.log(JSON.stringify({ own: getPriority(), seen, threads }));
`;

describe.skipIf(!native || process.geteuid?.() !== 0)('without CAP_SYS_NICE the reading thread is not niced (it could not go back)', () => {
  it('three scans on one threadpool thread: each at the process nice, every thread left there', () => {
    const r = spawnSync('setpriv', ['--inh-caps=-sys_nice', '--bounding-set=-sys_nice', process.execPath, '--input-type=module', '-e', CHILD], {
      encoding: 'utf8',
      env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout) as { own: number; seen: number[]; threads: number[] };
    expect(got.seen).toEqual([got.own, got.own, got.own]);
    expect(new Set(got.threads)).toEqual(new Set([got.own]));
  });
});
