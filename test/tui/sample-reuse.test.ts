import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryProcSource, openSource } from '../../src/source/source.js';
import { HOSTS_DIR } from '../helpers/fixtures.js';
import { procIndex, scanSample, takeSample, type RawProc, type Sample } from '../../tui/sample.js';

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

describe('sampleSteps with the scanner reusing its model', () => {
  it('the same model with fresh stat: unchanged processes keep their objects, a changed one gets its new figures, equal to a sample from scratch', async () => {
    const { inspectHost, readCgroupLayout } = await import('../../src/inspect/host.js');
    const { sampleFromModel } = await import('../../tui/sample.js');
    const src = new DirectoryProcSource({ procRoot: join(HOSTS_DIR, 'v2-docker-systemd', 'proc'), sysRoot: join(HOSTS_DIR, 'v2-docker-systemd', 'sys') });
    const model = inspectHost(src, { files: ['ids', 'stat', 'cgroup'], containers: true, excludeSelf: true });
    const layout = readCgroupLayout(src);
    const fixed = { wallNow: () => 1, ncpu: 2 };
    const a = sampleFromModel(src, model, layout, 0, fixed);
    // the model reused as it was (as HostScanner does when nothing it groups by changed), with
    // this scan's stat: pid 1234 used 50 more ticks and grew by 3 pages
    const stat = new Map(model.snapshot.processes.filter((p) => p.stat).map((p) => [p.pid, p.stat!]));
    const old = stat.get(1234)!;
    stat.set(1234, { ...old, utimeTicks: old.utimeTicks + 50, rssPages: old.rssPages + 3 });
    const b = sampleFromModel(src, model, layout, 0, { ...fixed, stat });
    const pa = new Map(a.procs.map((p) => [p.pid, p]));
    const pb = new Map(b.procs.map((p) => [p.pid, p]));
    expect(pb.get(1234)!.ticks).toBe(pa.get(1234)!.ticks + 50);
    expect(pb.get(1234)!.rssBytes).toBeGreaterThan(pa.get(1234)!.rssBytes);
    expect([...pb].filter(([pid, p]) => pid !== 1234 && pa.get(pid) === p).length).toBe(pb.size - 1);
    // a fresh source (nothing carried over) with the same model and stat builds an equal sample
    const scratch = sampleFromModel(new DirectoryProcSource({ procRoot: join(HOSTS_DIR, 'v2-docker-systemd', 'proc'), sysRoot: join(HOSTS_DIR, 'v2-docker-systemd', 'sys') }), model, layout, 0, { ...fixed, stat });
    expect(b.procs).toEqual(scratch.procs);
  });
});

describe('procIndex', () => {
  const proc = (pid: number): RawProc => ({ pid, ppid: 1, comm: `p${pid}`, cmd: `p${pid}`, state: 'S', ticks: 0, start: pid, rssBytes: 0, threads: 1, ns: {} });
  const sample = (pids: number[]): Sample => ({ v: 1, startMs: 0, endMs: 0, wallMs: 0, ncpu: 1, cgroupMode: 'v2', host: {}, procs: pids.map(proc), containers: [], cgroups: {}, net: {}, vanished: 0, denied: 0 });
  it('finds every pid of a sample in pid order, and none that is absent', () => {
    const pids = [1, 2, 7, 40, 41, 300, 4194304];
    const ix = procIndex(sample(pids));
    for (const pid of pids) expect(ix.get(pid)?.pid).toBe(pid);
    for (const pid of [0, 3, 39, 42, 299, 301, 4194305, -1]) expect(ix.get(pid)).toBeUndefined();
    expect(procIndex(sample([])).get(1)).toBeUndefined();
  });
  it('a sample not in pid order (made by hand) is indexed all the same', () => {
    const pids = [40, 7, 1, 300, 2];
    const ix = procIndex(sample(pids));
    for (const pid of pids) expect(ix.get(pid)?.pid).toBe(pid);
    expect(ix.get(3)).toBeUndefined();
  });
  it('live: the processes of one namespace set share one frozen ns object', async () => {
    // the native scan hands one ns value per namespace set (the host's processes share one)
    const src = openSource();
    const s = await scanSample(src);
    const bySet = new Map<string, RawProc['ns']>();
    let sharing = 0;
    for (const p of s.procs) {
      if (Object.keys(p.ns).length === 0) continue;
      expect(Object.isFrozen(p.ns)).toBe(true);
      const k = JSON.stringify(p.ns);
      const had = bySet.get(k);
      if (had) {
        // the scanner shares its ns value among a set's processes as far as its dedup reaches (a
        // process read while others come and go may get a value of its own): equal, mostly the same
        expect(p.ns).toEqual(had);
        if (p.ns === had) sharing++;
      } else bySet.set(k, p.ns);
    }
    // this test's own process tree alone puts several processes in the host's set (one object
    // per process, as before, would give none)
    expect(sharing).toBeGreaterThan(0);
  });
});
