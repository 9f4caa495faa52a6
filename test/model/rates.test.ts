import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroupRates, exitedPids, processRates } from '../../src/model/rates.js';
import type { Snapshot } from '../../src/proc/snapshot.js';
import type { ProcessInfo } from '../../src/model/process.js';
import type { CgroupStats } from '../../src/cgroup/stats.js';
import { DirectoryProcSource } from '../../src/source/source.js';
import { takeSnapshot } from '../../src/proc/snapshot.js';

function p(pid: number, start: number, utime: number, stime: number): ProcessInfo {
  return {
    pid,
    stat: { pid, comm: 'x', state: 'R', ppid: 1, pgrp: pid, session: pid, ttyNr: 0, tpgid: -1, flags: 0, minflt: 0, majflt: 0, utimeTicks: utime, stimeTicks: stime, priority: 20, nice: 0, numThreads: 1, startTimeTicks: start, vsizeBytes: 0, rssPages: 0, processor: 0 },
    errors: {},
  };
}
const snap = (at: number, ps: ProcessInfo[]): Snapshot => ({ processes: ps, vanished: 0, denied: 0, selfPid: undefined, takenAtMs: at, monoStartMs: at, monoEndMs: at });

describe('rates between two snapshots', () => {
  it('cpu %: ticks over wall time; none on the first sample; a reused pid is new, not a rate', () => {
    const a = snap(1000, [p(10, 500, 100, 50), p(11, 600, 0, 0), p(12, 700, 5, 5)]);
    const b = snap(3000, [p(10, 500, 250, 100), p(11, 999, 10, 0), p(13, 800, 0, 0)]);
    const r = processRates(a, b);
    expect(r.get(10)).toEqual({ cpuPercent: 100, isNew: false }); // 200 ticks in 2 s = 1 CPU
    expect(r.get(11)).toEqual({ cpuPercent: undefined, isNew: true }); // start time changed
    expect(r.get(13)).toEqual({ cpuPercent: undefined, isNew: true });
    expect(processRates(undefined, a).get(10)).toEqual({ cpuPercent: undefined, isNew: false });
    expect(exitedPids(a, b).sort()).toEqual([11, 12]);
  });

  it('cgroup rates: cpu (and of quota), throttling, io, oom kills; counters that went back give none', () => {
    const s = (usage: number, thr: number, rd: number, oom: number): CgroupStats => ({
      cpu: { version: 2, dir: 'x', usageUsec: usage, userUsec: undefined, systemUsec: undefined, weight: 100, shares: undefined, quotaUsec: 50000, periodUsec: 100000, nrPeriods: 10, nrThrottled: thr, throttledUsec: thr * 1000 },
      io: { version: 2, dir: 'x', readBytes: rd, writeBytes: 0, readOps: 0, writeOps: 0 },
      memory: { version: 2, dir: 'x', usageBytes: 1, limitBytes: 2, workingSetBytes: 1, inactiveFileBytes: 0, anonBytes: 1, fileBytes: 0, limitHits: 0, oomEvents: oom, oomKills: oom, swapBytes: 0 },
      errors: {},
    });
    const r = cgroupRates(s(1_000_000, 2, 0, 0), s(1_500_000, 7, 4096, 1), 1000);
    expect(r).toEqual({ cpuPercent: 50, cpuOfQuotaPercent: 100, throttledPeriods: 5, throttledUsec: 5000, readBytesPerSec: 4096, writeBytesPerSec: 0, oomKills: 1 });
    expect(cgroupRates(s(9, 9, 9, 9), s(1, 1, 1, 1), 1000).cpuPercent).toBeUndefined();
    expect(cgroupRates(undefined, s(1, 1, 1, 1), 1000).cpuPercent).toBeUndefined();
  });

  it('live: a busy loop is seen using CPU, a sleeper is not', async () => {
    const busy = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    const idle = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const src = new DirectoryProcSource();
      const pids = [busy.pid!, idle.pid!];
      const a = takeSnapshot(src, { files: ['stat'], pids });
      await sleep(1000);
      const r = processRates(a, takeSnapshot(src, { files: ['stat'], pids }));
      expect(r.get(busy.pid!)!.cpuPercent!).toBeGreaterThan(20);
      expect(r.get(idle.pid!)!.cpuPercent!).toBeLessThan(5);
    } finally {
      const gone = Promise.all([once(busy, 'exit'), once(idle, 'exit')]);
      busy.kill('SIGKILL');
      idle.kill('SIGKILL');
      await gone;
    }
  });
});
