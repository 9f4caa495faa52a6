import { snapshotMidMs, type Snapshot } from '../proc/snapshot.js';
import type { CgroupStats } from '../cgroup/stats.js';

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat: 100 on every Linux ABI hostscope runs on */
import { CLOCK_TICKS } from '../util/sysconf.js';

export interface ProcessRate {
  /** 100 = one CPU busy for the whole interval; undefined on the first sample (as cgtop shows "—") */
  cpuPercent: number | undefined;
  /** first seen in this sample (new, or its pid reused by a new process) */
  isNew: boolean;
}

/**
 * Per-process CPU use between two snapshots (ctop polls every second). A pid whose start time
 * changed is a new process that reused the pid: no rate, marked new. The interval is taken on
 * the monotonic clock, between the middles of the two scans (the wall clock can jump).
 */
export function processRates(prev: Snapshot | undefined, cur: Snapshot, clockTicks = CLOCK_TICKS): Map<number, ProcessRate> {
  const before = new Map((prev?.processes ?? []).map((p) => [p.pid, p]));
  const dtSec = prev ? (snapshotMidMs(cur) - snapshotMidMs(prev)) / 1000 : 0;
  const out = new Map<number, ProcessRate>();
  for (const p of cur.processes) {
    const old = before.get(p.pid);
    const same = old?.stat && p.stat && old.stat.startTimeTicks === p.stat.startTimeTicks;
    if (!same || dtSec <= 0) {
      out.set(p.pid, { cpuPercent: undefined, isNew: prev !== undefined && !same });
      continue;
    }
    const ticks = p.stat!.utimeTicks + p.stat!.stimeTicks - (old!.stat!.utimeTicks + old!.stat!.stimeTicks);
    out.set(p.pid, { cpuPercent: Math.max(0, (ticks / clockTicks / dtSec) * 100), isNew: false });
  }
  return out;
}

/** pids in the previous snapshot that are not in this one (or were replaced under the same pid) */
export function exitedPids(prev: Snapshot, cur: Snapshot): number[] {
  const now = new Map(cur.processes.map((p) => [p.pid, p.stat?.startTimeTicks]));
  return prev.processes.filter((p) => !now.has(p.pid) || (p.stat && now.get(p.pid) !== p.stat.startTimeTicks)).map((p) => p.pid);
}

export interface CgroupRates {
  /** 100 = one CPU; cgtop's semantics (0 … N×100) */
  cpuPercent: number | undefined;
  /** share of the cpu.max / cfs quota used, when there is one */
  cpuOfQuotaPercent: number | undefined;
  /** periods throttled and time throttled in the interval: "the container is slow and the host looks idle" */
  throttledPeriods: number | undefined;
  throttledUsec: number | undefined;
  readBytesPerSec: number | undefined;
  writeBytesPerSec: number | undefined;
  /** OOM kills in the interval */
  oomKills: number | undefined;
}

/** Rates of one cgroup between two reads of its stats, `dtMs` apart. */
export function cgroupRates(prev: CgroupStats | undefined, cur: CgroupStats, dtMs: number): CgroupRates {
  const dt = dtMs / 1000;
  const delta = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined || b < a ? undefined : b - a);
  const cpuUsec = delta(prev?.cpu?.usageUsec, cur.cpu?.usageUsec);
  const cpuPercent = cpuUsec === undefined || dt <= 0 ? undefined : (cpuUsec / 1e6 / dt) * 100;
  const quota = cur.cpu?.quotaUsec;
  const period = cur.cpu?.periodUsec;
  const rb = delta(prev?.io?.readBytes, cur.io?.readBytes);
  const wb = delta(prev?.io?.writeBytes, cur.io?.writeBytes);
  return {
    cpuPercent,
    cpuOfQuotaPercent: cpuPercent !== undefined && quota && period ? cpuPercent / (quota / period) : undefined,
    throttledPeriods: delta(prev?.cpu?.nrThrottled, cur.cpu?.nrThrottled),
    throttledUsec: delta(prev?.cpu?.throttledUsec, cur.cpu?.throttledUsec),
    readBytesPerSec: rb === undefined || dt <= 0 ? undefined : rb / dt,
    writeBytesPerSec: wb === undefined || dt <= 0 ? undefined : wb / dt,
    oomKills: delta(prev?.memory?.oomKills, cur.memory?.oomKills),
  };
}
