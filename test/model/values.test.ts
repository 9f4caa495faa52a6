import { describe, expect, it } from 'vitest';
import { fixtureSource, captureDeps, rootArgs } from '../helpers/fixtures.js';
import { inspectHost } from '../../src/inspect/host.js';
import { readProcess, withFiles } from '../../src/proc/process.js';
import { takeSnapshot, type Snapshot } from '../../src/proc/snapshot.js';
import { processRates } from '../../src/model/rates.js';
import type { ProcessInfo } from '../../src/model/process.js';
import { cinfMain } from '../../cli/cinf.js';
import { NS_COLUMNS, PROC_COLUMNS } from '../../src/render/columns.js';
import type { ProcSource } from '../../src/source/source.js';

describe('issue 6: snapshots are values', () => {
  it('a process read is frozen; reading more gives a new object and leaves the first as it was', () => {
    const src = fixtureSource('v2-docker-systemd');
    const p = readProcess(src, 1234, ['ns'])!;
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.errors)).toBe(true);
    expect(() => {
      (p as { stat?: unknown }).stat = undefined;
    }).toThrow(TypeError);
    const more = withFiles(src, p, ['stat', 'environ']);
    expect(more).not.toBe(p);
    expect(more.stat?.comm).toBe('redis-server');
    expect(p.stat).toBeUndefined();
    expect(p.environ).toBeUndefined();
    expect(withFiles(src, more, ['stat'])).toBe(more); // nothing missing: the same value
  });

  it('inspectHost reads container hostnames (environ) and kthreadd’s stat aside, not into the snapshot', () => {
    // vm-hybrid-v1's unshare containers have no runtime name: their init's environ is read for HOSTNAME
    const counts = new Map<string, number>();
    const src = countingSource(fixtureSource('vm-hybrid-v1'), counts);
    const host = inspectHost(src, { containers: true });
    expect(host.containers.length).toBeGreaterThan(0);
    expect(counts.get('environ')).toBeGreaterThan(0);
    expect(host.snapshot.processes.every((p) => p.environ === undefined)).toBe(true);
    expect(host.snapshot.processes.every((p) => Object.isFrozen(p))).toBe(true);
    const nsOnly = inspectHost(fixtureSource('v2-docker-systemd'), {});
    expect(nsOnly.ref.how).toBe('kthreadd');
    expect(nsOnly.snapshot.processes.every((p) => Object.isFrozen(p))).toBe(true);
  });

  it('cinf views run on frozen processes (any write to a ProcessInfo would throw)', async () => {
    for (const argv of [['-o', NS_COLUMNS.map((c) => c.id).filter((c) => c !== 'PNS' && c !== 'ONS').join(',')], ['--tree'], ['--namespace', '4026532504', '-o', PROC_COLUMNS.map((c) => c.id).join(',')], ['--pid', '1234', '--env', '--mounts']]) {
      const deps = captureDeps();
      expect(await cinfMain([...rootArgs('v2-docker-systemd'), ...argv], deps)).toBe(0);
      expect(deps.err()).toBe('');
    }
  });

  it('a snapshot records a monotonic start and end and the wall time', () => {
    const s = takeSnapshot(fixtureSource('v2-docker-systemd'), { files: ['stat'] });
    expect(s.monoEndMs).toBeGreaterThanOrEqual(s.monoStartMs);
    expect(Math.abs(s.takenAtMs - Date.now())).toBeLessThan(60_000);
  });

  it('rates use the monotonic times: a wall clock that jumped back changes nothing', () => {
    const proc = (utime: number): ProcessInfo => ({
      pid: 10,
      stat: { pid: 10, comm: 'x', state: 'R', ppid: 1, pgrp: 10, session: 10, ttyNr: 0, tpgid: -1, flags: 0, minflt: 0, majflt: 0, utimeTicks: utime, stimeTicks: 0, priority: 20, nice: 0, numThreads: 1, startTimeTicks: 5, vsizeBytes: 0, rssPages: 0, processor: 0 },
      errors: {},
    });
    const a: Snapshot = { processes: [proc(0)], vanished: 0, denied: 0, selfPid: undefined, takenAtMs: 1_000_000, monoStartMs: 100, monoEndMs: 300 };
    // one second later on the monotonic clock; NTP stepped the wall clock back an hour meanwhile
    const b: Snapshot = { processes: [proc(50)], vanished: 0, denied: 0, selfPid: undefined, takenAtMs: 1_000_000 - 3_600_000, monoStartMs: 1100, monoEndMs: 1300 };
    expect(processRates(a, b).get(10)?.cpuPercent).toBe(50);
  });
});

/** A source that counts reads of each kind of /proc file (`status`, `cmdline`, …). */
function countingSource(inner: ProcSource, counts: Map<string, number>): ProcSource {
  const count = (rel: string) => {
    const m = /^\d+\/(.+)$/.exec(rel);
    if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if ((prop === 'readProc' || prop === 'readProcText') && typeof v === 'function') {
        return (rel: string) => {
          count(rel);
          return (v as (r: string) => unknown).call(target, rel);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('issue 6: columns declare the files they need; cinf reads exactly those', () => {
  async function run(argv: string[], counts = new Map<string, number>()) {
    const deps = captureDeps();
    const open = deps.openSource;
    deps.openSource = (o) => countingSource(open(o), counts);
    const code = await cinfMain([...rootArgs('v2-docker-systemd'), ...argv], deps);
    return { code, out: deps.out(), counts };
  }

  it('columns that need no file read none; USERS reads every status, UID only the rows’', async () => {
    const bare = await run(['-o', 'NS,TYPE,NPROCS,PID']);
    expect(bare.counts.get('status') ?? 0).toBe(0);
    expect(bare.counts.get('cmdline') ?? 0).toBe(0);
    const users = await run(['-o', 'NS,USERS']);
    const uid = await run(['-o', 'NS,UID']);
    expect(uid.counts.get('status') ?? 0).toBeGreaterThan(0);
    expect(uid.counts.get('status')!).toBeLessThan(users.counts.get('status')!);
  });

  // each column alone must show what it shows beside every other column: a column that forgot
  // to declare a file would only work when another column happened to read it
  it.each(NS_COLUMNS.map((c) => c.id).filter((c) => c !== 'PNS' && c !== 'ONS'))('list column %s alone equals its value among all columns', async (id) => {
    const all = NS_COLUMNS.map((c) => c.id).filter((c) => c !== 'PNS' && c !== 'ONS');
    const whole = JSON.parse((await run(['-J', '-o', all.join(',')])).out) as { namespaces: Record<string, unknown>[] };
    const alone = JSON.parse((await run(['-J', '-o', `NS,TYPE,${id}`])).out) as { namespaces: Record<string, unknown>[] };
    const key = id.toLowerCase();
    expect(alone.namespaces.map((r) => r[key])).toEqual(whole.namespaces.map((r) => r[key]));
  });

  it.each(PROC_COLUMNS.map((c) => c.id))('namespace view column %s alone equals its value among all columns', async (id) => {
    const all = PROC_COLUMNS.map((c) => c.id);
    const whole = JSON.parse((await run(['-J', '--namespace', '4026532504', '-o', all.join(',')])).out) as { processes: Record<string, unknown>[] };
    const alone = JSON.parse((await run(['-J', '--namespace', '4026532504', '-o', `PID,${id}`])).out) as { processes: Record<string, unknown>[] };
    const key = id.toLowerCase();
    expect(alone.processes.map((r) => r[key])).toEqual(whole.processes.map((r) => r[key]));
  });
});
