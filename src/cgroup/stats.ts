import type { ProcSource } from '../source/source.js';
import { isProcError, type ProcErrorCode } from '../source/errors.js';
import type { CgroupMembership } from '../parse/proc-cgroup.js';
import { parseBlkioOps, parseFlatKeyed, parseNestedKeyed, parseSingleValue, v1Limit } from '../parse/cgroupfs-format.js';
import { cgroupSysRel, hierarchyFor, v1HierarchyOf, type CgroupLayout } from './layout.js';

/** Where a resource's numbers came from. */
export interface StatOrigin {
  version: 1 | 2;
  /** directory relative to the sys root */
  dir: string;
}

export interface MemoryStats extends StatOrigin {
  usageBytes: number;
  /** null: unlimited */
  limitBytes: number | null;
  /** usage − inactive_file, as `docker stats` computes it */
  workingSetBytes: number;
  inactiveFileBytes: number | undefined;
  anonBytes: number | undefined;
  fileBytes: number | undefined;
  /** times the cgroup hit its limit (v2 memory.events max; v1 failcnt) */
  limitHits: number | undefined;
  oomEvents: number | undefined;
  oomKills: number | undefined;
  swapBytes: number | undefined;
}

export interface CpuStats extends StatOrigin {
  usageUsec: number;
  userUsec: number | undefined;
  systemUsec: number | undefined;
  /** v2 cpu.weight (1..10000, default 100) */
  weight: number | undefined;
  /** v1 cpu.shares (default 1024) */
  shares: number | undefined;
  /** null: no quota */
  quotaUsec: number | null;
  periodUsec: number | undefined;
  nrPeriods: number | undefined;
  nrThrottled: number | undefined;
  throttledUsec: number | undefined;
}

export interface PidsStats extends StatOrigin {
  current: number;
  /** null: max */
  max: number | null;
}

export interface IoStats extends StatOrigin {
  readBytes: number;
  writeBytes: number;
  readOps: number;
  writeOps: number;
}

/** One shape for a cgroup's limits and usage, whichever cgroup version the host runs. */
export interface CgroupStats {
  memory?: MemoryStats;
  cpu?: CpuStats;
  pids?: PidsStats;
  io?: IoStats;
  errors: Partial<Record<'memory' | 'cpu' | 'pids' | 'io', ProcErrorCode>>;
}

/** Where each controller of a process lives: a v1 controller's own hierarchy, else the v2 one. */
export function controllerDirs(layout: CgroupLayout, memberships: CgroupMembership[]): Record<string, StatOrigin> {
  const dirs: Record<string, StatOrigin> = {};
  let v2: StatOrigin | undefined;
  for (const line of memberships) {
    const h = hierarchyFor(layout, line);
    if (!h) continue;
    const dir = cgroupSysRel(h, line.path);
    if (dir === undefined) continue;
    if (h.version === 2) v2 = { version: 2, dir };
    else for (const c of h.controllers) dirs[c] = { version: 1, dir };
  }
  for (const c of ['memory', 'cpu', 'cpuacct', 'pids', 'io', 'blkio']) {
    if (!dirs[c] && v2 && !v1HierarchyOf(layout, c === 'io' ? 'blkio' : c)) dirs[c] = v2;
  }
  return dirs;
}

/** Read limits and usage of the cgroups a process (or a cgroup path) is in. */
export function readCgroupStats(src: ProcSource, layout: CgroupLayout, memberships: CgroupMembership[]): CgroupStats {
  const dirs = controllerDirs(layout, memberships);
  const stats: CgroupStats = { errors: {} };
  const attempt = <K extends 'memory' | 'cpu' | 'pids' | 'io'>(key: K, fn: () => CgroupStats[K] | undefined): void => {
    try {
      const v = fn();
      if (v) stats[key] = v;
    } catch (e) {
      if (!isProcError(e)) throw e;
      if (e.code !== 'NOT_FOUND') stats.errors[key] = e.code;
    }
  };
  const read = (dir: string, file: string): string => src.readSysText(`${dir}/${file}`);
  const optional = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (e) {
      if (isProcError(e) && (e.code === 'NOT_FOUND' || e.code === 'PERMISSION_DENIED')) return undefined;
      throw e;
    }
  };

  const mem = dirs.memory;
  if (mem) attempt('memory', () => (mem.version === 2 ? readMemoryV2(mem, read, optional) : readMemoryV1(mem, read, optional)));
  const cpu = dirs.cpu ?? dirs.cpuacct;
  if (cpu) attempt('cpu', () => (cpu.version === 2 ? readCpuV2(cpu, read, optional) : readCpuV1(dirs.cpu, dirs.cpuacct, read, optional)));
  const pids = dirs.pids;
  if (pids) {
    attempt('pids', () => ({
      ...pids,
      current: parseSingleValue(read(pids.dir, 'pids.current'), `${pids.dir}/pids.current`) ?? 0,
      max: parseSingleValue(read(pids.dir, 'pids.max'), `${pids.dir}/pids.max`),
    }));
  }
  const io = dirs.blkio ?? dirs.io;
  if (io) attempt('io', () => (io.version === 2 ? readIoV2(io, read) : readIoV1(io, read, optional)));
  return stats;
}

type Read = (dir: string, file: string) => string;
type Optional = <T>(fn: () => T) => T | undefined;

function readMemoryV2(o: StatOrigin, read: Read, optional: Optional): MemoryStats {
  const usage = parseSingleValue(read(o.dir, 'memory.current'), `${o.dir}/memory.current`) ?? 0;
  const limit = parseSingleValue(read(o.dir, 'memory.max'), `${o.dir}/memory.max`);
  const stat = optional(() => parseFlatKeyed(read(o.dir, 'memory.stat'), `${o.dir}/memory.stat`)) ?? {};
  const events = optional(() => parseFlatKeyed(read(o.dir, 'memory.events'), `${o.dir}/memory.events`)) ?? {};
  const swap = optional(() => parseSingleValue(read(o.dir, 'memory.swap.current'), `${o.dir}/memory.swap.current`));
  const inactive = stat.inactive_file;
  return {
    ...o,
    usageBytes: usage,
    limitBytes: limit,
    workingSetBytes: Math.max(0, usage - (inactive ?? 0)),
    inactiveFileBytes: inactive,
    anonBytes: stat.anon,
    fileBytes: stat.file,
    limitHits: events.max,
    oomEvents: events.oom,
    oomKills: events.oom_kill,
    swapBytes: swap ?? undefined,
  };
}

function readMemoryV1(o: StatOrigin, read: Read, optional: Optional): MemoryStats {
  const usage = parseSingleValue(read(o.dir, 'memory.usage_in_bytes'), `${o.dir}/memory.usage_in_bytes`) ?? 0;
  const limit = v1Limit(parseSingleValue(read(o.dir, 'memory.limit_in_bytes'), `${o.dir}/memory.limit_in_bytes`) ?? -1);
  const stat = optional(() => parseFlatKeyed(read(o.dir, 'memory.stat'), `${o.dir}/memory.stat`)) ?? {};
  const oom = optional(() => parseFlatKeyed(read(o.dir, 'memory.oom_control'), `${o.dir}/memory.oom_control`)) ?? {};
  const failcnt = optional(() => parseSingleValue(read(o.dir, 'memory.failcnt'), `${o.dir}/memory.failcnt`));
  // docker's CLI: v1 working set subtracts total_inactive_file (hierarchical), else inactive_file
  const inactive = stat.total_inactive_file ?? stat.inactive_file;
  const memsw = optional(() => parseSingleValue(read(o.dir, 'memory.memsw.usage_in_bytes'), `${o.dir}/memory.memsw.usage_in_bytes`));
  return {
    ...o,
    usageBytes: usage,
    limitBytes: limit,
    workingSetBytes: Math.max(0, usage - (inactive ?? 0)),
    inactiveFileBytes: inactive,
    anonBytes: stat.total_rss ?? stat.rss,
    fileBytes: stat.total_cache ?? stat.cache,
    limitHits: failcnt ?? undefined,
    oomEvents: undefined,
    oomKills: oom.oom_kill,
    swapBytes: memsw === undefined || memsw === null ? undefined : Math.max(0, memsw - usage),
  };
}

function readCpuV2(o: StatOrigin, read: Read, optional: Optional): CpuStats {
  const stat = parseFlatKeyed(read(o.dir, 'cpu.stat'), `${o.dir}/cpu.stat`);
  const weight = optional(() => parseSingleValue(read(o.dir, 'cpu.weight'), `${o.dir}/cpu.weight`));
  const max = optional(() => read(o.dir, 'cpu.max').trim().split(/\s+/));
  return {
    ...o,
    usageUsec: stat.usage_usec ?? 0,
    userUsec: stat.user_usec,
    systemUsec: stat.system_usec,
    weight: weight ?? undefined,
    shares: undefined,
    quotaUsec: max && max[0] !== 'max' ? Number(max[0]) : null,
    periodUsec: max ? Number(max[1]) : undefined,
    nrPeriods: stat.nr_periods,
    nrThrottled: stat.nr_throttled,
    throttledUsec: stat.throttled_usec,
  };
}

/** USER_HZ: cpuacct.stat counts in it; 100 on every Linux ABI we run on. */
const USER_HZ = 100;

function readCpuV1(cpu: StatOrigin | undefined, acct: StatOrigin | undefined, read: Read, optional: Optional): CpuStats {
  const origin = cpu ?? acct!;
  const usageNs = acct ? optional(() => parseSingleValue(read(acct.dir, 'cpuacct.usage'), `${acct.dir}/cpuacct.usage`)) : undefined;
  const acctStat = acct ? optional(() => parseFlatKeyed(read(acct.dir, 'cpuacct.stat'), `${acct.dir}/cpuacct.stat`)) : undefined;
  const shares = cpu ? optional(() => parseSingleValue(read(cpu.dir, 'cpu.shares'), `${cpu.dir}/cpu.shares`)) : undefined;
  const quota = cpu ? optional(() => parseSingleValue(read(cpu.dir, 'cpu.cfs_quota_us'), `${cpu.dir}/cpu.cfs_quota_us`)) : undefined;
  const period = cpu ? optional(() => parseSingleValue(read(cpu.dir, 'cpu.cfs_period_us'), `${cpu.dir}/cpu.cfs_period_us`)) : undefined;
  const stat = cpu ? optional(() => parseFlatKeyed(read(cpu.dir, 'cpu.stat'), `${cpu.dir}/cpu.stat`)) ?? {} : {};
  const tick = 1_000_000 / USER_HZ;
  return {
    ...origin,
    usageUsec: usageNs === undefined || usageNs === null ? 0 : Math.round(usageNs / 1000),
    userUsec: acctStat?.user === undefined ? undefined : acctStat.user * tick,
    systemUsec: acctStat?.system === undefined ? undefined : acctStat.system * tick,
    weight: undefined,
    shares: shares ?? undefined,
    quotaUsec: quota === undefined || quota === null || quota < 0 ? null : quota,
    periodUsec: period ?? undefined,
    nrPeriods: stat.nr_periods,
    nrThrottled: stat.nr_throttled,
    throttledUsec: stat.throttled_time === undefined ? undefined : Math.round(stat.throttled_time / 1000),
  };
}

function readIoV2(o: StatOrigin, read: Read): IoStats {
  const stat = parseNestedKeyed(read(o.dir, 'io.stat'), `${o.dir}/io.stat`);
  const sum = (k: string): number => Object.values(stat).reduce((a, d) => a + Number(d[k] ?? 0), 0);
  return { ...o, readBytes: sum('rbytes'), writeBytes: sum('wbytes'), readOps: sum('rios'), writeOps: sum('wios') };
}

function readIoV1(o: StatOrigin, read: Read, optional: Optional): IoStats {
  const bytes = optional(() => parseBlkioOps(read(o.dir, 'blkio.throttle.io_service_bytes'), `${o.dir}/blkio.throttle.io_service_bytes`)) ?? {};
  const ops = optional(() => parseBlkioOps(read(o.dir, 'blkio.throttle.io_serviced'), `${o.dir}/blkio.throttle.io_serviced`)) ?? {};
  return { ...o, readBytes: bytes.Read ?? 0, writeBytes: bytes.Write ?? 0, readOps: ops.Read ?? 0, writeOps: ops.Write ?? 0 };
}
