import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryProcSource, openSource, type ProcSource } from '../../src/source/source.js';
import { nativeScanAvailable } from '../../src/inspect/scan.js';
import { HOSTS_DIR } from '../helpers/fixtures.js';
import { scanSample, takeSample } from '../../tui/sample.js';

/**
 * The live poll reads each cgroup's files (and each network namespace's net/dev) in one batch,
 * ahead, from what the last poll wanted: from the second poll on, no cgroup file is read one by
 * one on the event loop, and the figures are the same as reading them one by one.
 */
const dir = mkdtempSync(join(tmpdir(), `ctop-ahead-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function counting(inner: ProcSource): { src: ProcSource; counts: { sys: number; proc: number; batches: string[][] } } {
  const counts = { sys: 0, proc: 0, batches: [] as string[][] };
  const src = new Proxy(inner, {
    get(target, prop) {
      const v = Reflect.get(target, prop) as unknown;
      if (prop === 'readSysText')
        return (rel: string) => {
          if (rel.startsWith('fs/cgroup/')) counts.sys++;
          return target.readSysText(rel);
        };
      if (prop === 'readProcText')
        return (rel: string) => {
          if (rel.endsWith('/net/dev')) counts.proc++;
          return target.readProcText(rel);
        };
      if (prop === 'readTexts')
        return (kind: 'sys' | 'proc', rels: string[]) => {
          counts.batches.push([kind, ...rels]);
          return target.readTexts(kind, rels);
        };
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { src, counts };
}

describe('the live poll reads cgroup files ahead, in one batch', () => {
  it.skipIf(!nativeScanAvailable(openSource()))('live: the second poll reads no cgroup file one by one, and gets the same figures', async () => {
    const { src, counts } = counting(openSource());
    const a = await scanSample(src);
    const firstSys = counts.sys;
    const firstNet = counts.proc;
    expect(firstSys).toBeGreaterThan(0);
    expect(firstNet).toBeGreaterThan(0);
    counts.sys = 0;
    counts.proc = 0;
    const b = await scanSample(src);
    const sysBatch = counts.batches.find((x) => x[0] === 'sys');
    expect(sysBatch?.length).toBeGreaterThan(1);
    // every cgroup of the first poll that is still there was read ahead (a cgroup new to this
    // poll, of a process started between the two, may still be read alone)
    const newPaths = Object.keys(b.cgroups).filter((p) => !(p in a.cgroups)).length;
    expect(counts.sys).toBeLessThanOrEqual(newPaths * 20);
    expect(counts.proc).toBeLessThanOrEqual(Object.keys(b.net).length - Object.keys(a.net).filter((k) => k in b.net).length + 1);
    // the same cgroups, with the same limits and directories (counters move)
    for (const [path, s] of Object.entries(a.cgroups)) {
      const t = b.cgroups[path];
      if (!t) continue;
      expect(t.memory?.dir).toBe(s.memory?.dir);
      expect(t.memory?.limitBytes).toBe(s.memory?.limitBytes);
      expect(t.cpu?.dir).toBe(s.cpu?.dir);
      expect(t.cpu?.quotaUsec).toBe(s.cpu?.quotaUsec);
      expect(t.pids?.max).toBe(s.pids?.max);
      expect(t.errors).toEqual(s.errors);
      if (s.memory && t.memory) expect(t.memory.usageBytes).toBeGreaterThan(0);
    }
    expect(Object.keys(b.net).sort()).toEqual(Object.keys(a.net).sort());
  });

  it('a v2 cgroup with pressure files: its PSI figures reach the sample (the path is relative to the sys root)', () => {
    cpSync(join(HOSTS_DIR, 'v2-docker-systemd'), dir, { recursive: true, verbatimSymlinks: true });
    const cg = join(dir, 'sys/fs/cgroup/system.slice/docker-0a5ceea3df52e200d45772c4507b20d7c95a97dcd3939cb33a8d5bc1b842e334.scope');
    writeFileSync(join(cg, 'cpu.pressure'), 'some avg10=12.50 avg60=3.00 avg300=1.00 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
    writeFileSync(join(cg, 'memory.pressure'), 'some avg10=1.25 avg60=0.00 avg300=0.00 total=42\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
    const s = takeSample(new DirectoryProcSource({ procRoot: join(dir, 'proc'), sysRoot: join(dir, 'sys') }));
    const path = '/system.slice/docker-0a5ceea3df52e200d45772c4507b20d7c95a97dcd3939cb33a8d5bc1b842e334.scope';
    expect(s.cgroups[path]?.psi).toEqual({ cpu: 12.5, memory: 1.25 });
  });
});
