import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
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

/** root, with v1 memory and pids hierarchies to make cgroups in */
function canMakeCgroups(): boolean {
  return process.geteuid?.() === 0 && existsSync('/sys/fs/cgroup/memory/cgroup.procs') && existsSync('/sys/fs/cgroup/pids/cgroup.procs') && nativeScanAvailable(openSource());
}

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
  it.skipIf(!nativeScanAvailable(openSource()))(
    'live: from the second poll no cgroup file is read one by one, and each cgroup gets its own figures',
    async () => {
      const { src, counts } = counting(openSource());
      const a = await scanSample(src);
      expect(counts.sys).toBeGreaterThan(0);
      counts.sys = 0;
      const b = await scanSample(src);
      const sysBatch = counts.batches.find((x) => x[0] === 'sys');
      expect(sysBatch?.length).toBeGreaterThan(1);
      // every cgroup of the first poll still there was read ahead; a cgroup new to this poll (a
      // process started between the two: other work shares this host) may be read one by one
      const newPaths = Object.keys(b.cgroups).filter((p) => !(p in a.cgroups)).length;
      expect(counts.sys).toBeLessThanOrEqual(newPaths * 20);
      for (const [path, x] of Object.entries(a.cgroups)) {
        const y = b.cgroups[path];
        if (!y) continue;
        expect(y.memory?.dir).toBe(x.memory?.dir);
        expect(y.cpu?.dir).toBe(x.cpu?.dir);
        expect(y.pids?.dir).toBe(x.pids?.dir);
      }
    },
    60_000,
  );

  it.skipIf(!canMakeCgroups())(
    'live: two cgroups made here keep their own pids and limits through a dozen polls read ahead',
    async () => {
      const made: string[] = [];
      const kids: ChildProcess[] = [];
      try {
        const tag = `hs-ahead-${process.pid}`;
        const limits = { a: { pids: 50, mem: 64 << 20, n: 1 }, b: { pids: 70, mem: 128 << 20, n: 2 } };
        for (const [k, l] of Object.entries(limits)) {
          const mem = `/sys/fs/cgroup/memory/${tag}-${k}`;
          const pids = `/sys/fs/cgroup/pids/${tag}-${k}`;
          mkdirSync(mem);
          made.push(mem);
          mkdirSync(pids);
          made.push(pids);
          writeFileSync(`${mem}/memory.limit_in_bytes`, String(l.mem));
          writeFileSync(`${pids}/pids.max`, String(l.pids));
          for (let i = 0; i < l.n; i++) {
            const c = spawn('sleep', ['120'], { stdio: 'ignore' });
            kids.push(c);
            writeFileSync(`${mem}/cgroup.procs`, String(c.pid));
            writeFileSync(`${pids}/cgroup.procs`, String(c.pid));
          }
        }
        const { src, counts } = counting(openSource());
        for (let poll = 0; poll < 12; poll++) {
          const s = await scanSample(src);
          for (const [k, l] of Object.entries(limits)) {
            const stats = Object.values(s.cgroups).find((c) => c.pids?.dir === `/sys/fs/cgroup/pids/${tag}-${k}`);
            expect(stats, `poll ${poll}: cgroup ${k}`).toBeDefined();
            expect(stats!.pids!.current).toBe(l.n);
            expect(stats!.pids!.max).toBe(l.pids);
            expect(stats!.memory!.dir).toBe(`/sys/fs/cgroup/memory/${tag}-${k}`);
            expect(stats!.memory!.limitBytes).toBe(l.mem);
          }
        }
        expect(counts.batches.filter((x) => x[0] === 'sys' && x.some((r) => r.includes(tag))).length).toBeGreaterThanOrEqual(10);
      } finally {
        for (const c of kids) c.kill('SIGKILL');
        await Promise.all(kids.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
        for (const d of made.reverse()) {
          for (let t = 0; t < 50; t++) {
            try {
              rmdirSync(d);
              break;
            } catch {
              await new Promise((r) => setTimeout(r, 100));
            }
          }
        }
      }
    },
    60_000,
  );

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
