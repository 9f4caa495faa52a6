import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryProcSource } from '../../src/source/source.js';
import { HOSTS_DIR } from '../helpers/fixtures.js';
import { takeSample } from '../../tui/sample.js';

/**
 * Between two polls of one source, a process whose figures did not change keeps its RawProc object
 * (the history's samples share it); one whose counters moved gets a new object with the new
 * figures; another source never shares objects with this one.
 */
const dir = mkdtempSync(join(tmpdir(), `ctop-reuse-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sampleFromModel reuses unchanged per-process data', () => {
  it('unchanged processes keep their objects; a changed one is new and fresh', () => {
    cpSync(join(HOSTS_DIR, 'v2-docker-systemd'), dir, { recursive: true, verbatimSymlinks: true });
    const src = new DirectoryProcSource({ procRoot: join(dir, 'proc'), sysRoot: join(dir, 'sys') });
    const a = takeSample(src);
    // pid 1234's utime goes up by 50 ticks
    const statFile = join(dir, 'proc/1234/stat');
    const f = readFileSync(statFile, 'utf8').split(' ');
    f[13] = String(Number(f[13]) + 50);
    writeFileSync(statFile, f.join(' '));
    const b = takeSample(src);
    const byPid = (s: typeof a) => new Map(s.procs.map((p) => [p.pid, p]));
    const [pa, pb] = [byPid(a), byPid(b)];
    expect(pb.get(1234)).not.toBe(pa.get(1234));
    expect(pb.get(1234)!.ticks).toBe(pa.get(1234)!.ticks + 50);
    const same = [...pb].filter(([pid, p]) => pid !== 1234 && pa.get(pid) === p).length;
    expect(same).toBe(pb.size - 1);
    // the same figures from another source object: equal, never the same objects
    const c = takeSample(new DirectoryProcSource({ procRoot: join(dir, 'proc'), sysRoot: join(dir, 'sys') }));
    expect(c.procs).toEqual(b.procs);
    expect(c.procs.some((p, i) => p === b.procs[i])).toBe(false);
  });
});
