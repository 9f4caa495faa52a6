import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { openSource } from '../../src/source/source.js';
import { inspectHost, readCgroupLayout } from '../../src/inspect/host.js';
import { readCgroupStats } from '../../src/cgroup/stats.js';
import { NodeCgroupFs } from '../../src/cgroup/fs.js';
import { scanSample } from '../../tui/sample.js';
import { readExporterSample } from '../../src/exporter/read.js';
import { buildFamilies } from '../../src/exporter/collect.js';
import { writeText } from '../../src/exporter/format.js';
import { parseExposition } from '../exporter/exposition-checker.js';
import { cinfMain } from '../../cli/cinf.js';
import { captureDeps } from '../helpers/fixtures.js';
import { IS_ROOT, has } from '../helpers/live.js';

/**
 * Issue 6, hostile input, live: two sibling cgroups `x<FE>` and `x<FF>` (names that are not UTF-8,
 * differing only in that byte) in the memory, cpu and cpuacct hierarchies, limits 32 and 64 MiB,
 * with a process each in its own pid, mount and uts namespaces (a container to the model). Decoded
 * with U+FFFD both were `x\ufffd`: one container path for two, and no directory of that name, so
 * their memory figures were lost in cinf, the model, ctop's sample and the exporter. Cleans up its
 * processes (by pid) and directories (by their bytes) in afterAll.
 */
const MEM = '/sys/fs/cgroup/memory';
const runs = IS_ROOT && existsSync(`${MEM}/cgroup.procs`) && has('unshare');
const T = `hostscope-bytes-${process.pid}`;
const HIER = ['memory', 'cpu', 'cpuacct'].filter((h) => existsSync(`/sys/fs/cgroup/${h}/cgroup.procs`));
const SIBS = [
  { byte: 0xfe, limit: 32 << 20 },
  { byte: 0xff, limit: 64 << 20 },
] as const;
/** a directory by its bytes (what the test itself hands node:fs) */
const dirBytes = (h: string, byte?: number): Buffer => Buffer.concat([Buffer.from(`/sys/fs/cgroup/${h}/${T}`), byte === undefined ? Buffer.alloc(0) : Buffer.from([0x2f, 0x78, byte])]);
/** the cgroup path as hostscope holds it: the byte as a lone surrogate */
const pathOf = (byte: number): string => `/${T}/x${String.fromCharCode(0xdc00 + byte)}`;

describe.skipIf(!runs)('live: sibling cgroups whose names differ only in a byte that is not UTF-8', () => {
  const shells: ChildProcess[] = [];
  const inits = new Map<number, number>(); // byte → pid of the process inside the namespaces

  beforeAll(async () => {
    for (const h of HIER) {
      mkdirSync(dirBytes(h));
      for (const s of SIBS) mkdirSync(dirBytes(h, s.byte));
    }
    for (const s of SIBS) {
      writeFileSync(Buffer.concat([dirBytes('memory', s.byte), Buffer.from('/memory.limit_in_bytes')]), String(s.limit));
      // the shell joins the cgroups by the byte's name (printf), then becomes unshare, whose child
      // (a new pid namespace's init) is the container
      const join = HIER.map((h) => `echo $$ > "/sys/fs/cgroup/${h}/${T}/$d/cgroup.procs"`).join(' && ');
      const c = spawn('sh', ['-c', `d="x$(printf '\\${s.byte.toString(8)}')" && ${join} && exec unshare --fork --pid --mount-proc --uts sh -c 'echo up; exec sleep 300'`], { stdio: ['ignore', 'pipe', 'ignore'] });
      shells.push(c);
      await new Promise((res, rej) => {
        c.stdout!.once('data', res);
        c.once('exit', (code) => rej(new Error(`the process for x\\x${s.byte.toString(16)} exited (${code})`)));
      });
      const kid = Number(spawnSync('pgrep', ['-P', String(c.pid)], { encoding: 'utf8' }).stdout.trim().split('\n')[0]);
      expect(kid).toBeGreaterThan(0);
      inits.set(s.byte, kid);
    }
  }, 30_000);

  afterAll(async () => {
    for (const pid of inits.values()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const c of shells) c.kill('SIGKILL');
    await Promise.all(shells.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    for (const h of HIER) {
      for (const d of [...SIBS.map((s) => dirBytes(h, s.byte)), dirBytes(h)]) {
        for (let t = 0; t < 50 && existsSync(d); t++) {
          try {
            rmdirSync(d);
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
    }
  }, 30_000);

  it('the kernel shows the raw byte in /proc/PID/cgroup', () => {
    for (const s of SIBS) expect(readFileSync(`/proc/${inits.get(s.byte)}/cgroup`).includes(Buffer.concat([Buffer.from(`:/${T}/x`), Buffer.from([s.byte, 0x0a])]))).toBe(true);
  });

  it('the model (TypeScript reader) keeps them apart: two containers, each with its own memory limit', () => {
    const src = openSource();
    const model = inspectHost(src, { files: ['stat', 'status', 'cgroup'], containers: true, excludeSelf: true });
    const layout = readCgroupLayout(src);
    for (const s of SIBS) {
      const pid = inits.get(s.byte)!;
      const k = model.containerOf.get(pid);
      expect(k?.cgroupPath).toBe(pathOf(s.byte));
      const p = model.snapshot.processes.find((x) => x.pid === pid)!;
      const stats = readCgroupStats(src, layout, p.cgroups!);
      expect(stats.memory?.dir).toBe(`${MEM}${pathOf(s.byte)}`);
      expect(stats.memory?.limitBytes).toBe(s.limit);
      expect(stats.memory?.usageBytes).toBeGreaterThan(0);
      expect(stats.errors).toEqual({});
    }
    expect(model.containerOf.get(inits.get(0xfe)!)).not.toBe(model.containerOf.get(inits.get(0xff)!));
  });

  it("ctop's sample (the native scan, then the batch read ahead) keeps them apart with their own memory figures", async () => {
    const src = openSource();
    for (let poll = 0; poll < 3; poll++) {
      const sample = await scanSample(src);
      for (const s of SIBS) {
        const c = sample.cgroups[pathOf(s.byte)];
        expect(c?.memory?.limitBytes, `poll ${poll}, x\\x${s.byte.toString(16)}`).toBe(s.limit);
        expect(c?.memory?.dir).toBe(`${MEM}${pathOf(s.byte)}`);
      }
      expect(sample.containers.filter((c) => c.cgroupPath?.startsWith(`/${T}/`)).map((c) => c.cgroupPath).sort()).toEqual(SIBS.map((s) => pathOf(s.byte)).sort());
    }
    // the batch (scan.c's readFiles) gets such a path's bytes right: read alone, not as EF BF BD
    const rels = SIBS.map((s) => `fs/cgroup/memory${pathOf(s.byte)}/memory.limit_in_bytes`);
    expect(await src.readTexts('sys', [...rels, 'fs/cgroup/memory/memory.use_hierarchy'])).toEqual([...SIBS.map((s) => `${s.limit}\n`), expect.any(String)]);
  });

  it('the exporter writes a memory series for each, its id label with \\xfe / \\xff text', async () => {
    const { sample } = await readExporterSample(openSource());
    const body = writeText(buildFamilies(sample, { durationSeconds: 0, cpuSeconds: 0, success: true, scansTotal: 1, errorsTotal: new Map() }));
    const limit = parseExposition(body, 'text').find((f) => f.name === 'container_spec_memory_limit_bytes')!;
    for (const s of SIBS) {
      const series = limit.samples.filter((x) => Object.fromEntries(x.labels).id === `/${T}/x\\x${s.byte.toString(16)}`);
      expect(series.map((x) => x.value)).toEqual([s.limit]);
    }
    expect(body).not.toContain('\ufffd');
  });

  it('cinf --pid prints the memory line of each, the name as \\xfe / \\xff', async () => {
    for (const s of SIBS) {
      const deps = captureDeps();
      expect(await cinfMain(['--pid', String(inits.get(s.byte))], deps)).toBe(0);
      const line = deps.out().split('\n').find((l) => l.startsWith('  memory  usage '));
      expect(line).toContain(`limit ${s.limit >> 20}.0 MiB`);
      expect(line).toContain(`[v1 ${MEM}/${T}/x\\x${s.byte.toString(16)}]`);
    }
  });

  it("the cgroup manager's fs lists and finds the children by their bytes", () => {
    const fs = new NodeCgroupFs();
    const names = fs.readdir(`${MEM}/${T}`).filter((e) => e.isDir).map((e) => e.name).sort();
    expect(names).toEqual(SIBS.map((s) => `x${String.fromCharCode(0xdc00 + s.byte)}`).sort());
    for (const n of names) expect(fs.readFile(`${MEM}/${T}/${n}/cgroup.procs`).trim().split('\n').length).toBeGreaterThan(0);
  });
});
