import { textAhead, type ProcSource } from '../source/source.js';
import { isProcError, type ProcError, type ProcErrorCode } from '../source/errors.js';
import { ParseError } from '../parse/errors.js';
import type { CgroupMembership } from '../parse/proc-cgroup.js';
import { V1_MINUS_ONE_FILES, parseBlkioOps, parseCpuMax, parseFlatKeyed, parseNestedKeyed, parseSingleBig, parseSingleValue, v1Limit } from '../parse/cgroupfs-format.js';
import { cgroupSysRel, hierarchyFor, v1HierarchyOf, type CgroupLayout } from './layout.js';

/** Where a resource's numbers came from. */
export interface StatOrigin {
  version: 1 | 2;
  /** the cgroup directory as the host names it: `/sys/fs/cgroup/memory/docker/abc` */
  dir: string;
}

/** The directory relative to the sys root, for reading (`fs/cgroup/memory/docker/abc`). */
interface DirRef extends StatOrigin {
  rel: string;
}

function dirRef(version: 1 | 2, rel: string): DirRef {
  return { version, dir: `/sys/${rel}`, rel };
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

/**
 * `version`/`dir` name the cpu controller's directory (shares, weight, quota, throttling);
 * `usageFrom` names the directory the usage figures come from. They differ on v1 hosts where cpu
 * and cpuacct are mounted apart: a process can sit in /sys/fs/cgroup/cpu/x and in the root of
 * cpuacct, whose usage is the whole host's.
 */
export interface CpuStats extends StatOrigin {
  usageFrom: StatOrigin;
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

/**
 * Where each controller of a process lives: a v1 controller's own hierarchy, else the v2 one.
 * (A Map: controller names come from the process's cgroup file.)
 */
export function controllerDirs(layout: CgroupLayout, memberships: CgroupMembership[]): Partial<Record<'memory' | 'cpu' | 'cpuacct' | 'pids' | 'io' | 'blkio', DirRef>> {
  const found = new Map<string, DirRef>();
  let v2: DirRef | undefined;
  for (const line of memberships) {
    const h = hierarchyFor(layout, line);
    if (!h) continue;
    const rel = cgroupSysRel(h, line.path);
    if (rel === undefined) continue;
    if (h.version === 2) v2 = dirRef(2, rel);
    else for (const c of h.controllers) found.set(c, dirRef(1, rel));
  }
  const dirs: Partial<Record<'memory' | 'cpu' | 'cpuacct' | 'pids' | 'io' | 'blkio', DirRef>> = {};
  for (const c of ['memory', 'cpu', 'cpuacct', 'pids', 'blkio'] as const) {
    const d = found.get(c);
    if (d) dirs[c] = d;
  }
  for (const c of ['memory', 'cpu', 'cpuacct', 'pids', 'io', 'blkio'] as const) {
    if (!dirs[c] && v2 && !v1HierarchyOf(layout, c === 'io' ? 'blkio' : c)) dirs[c] = v2;
  }
  return dirs;
}

/**
 * One cgroup directory's control files, parsed: `value` and `flat` throw when the file is missing
 * or unreadable, the `opt*` forms give undefined for a file this kernel or controller lacks.
 */
class Dir {
  readonly origin: StatOrigin;

  constructor(
    private readonly src: ProcSource,
    private readonly ref: DirRef,
    private readonly io: CgroupReadIo | undefined,
  ) {
    this.origin = { version: ref.version, dir: ref.dir };
  }

  private text(file: string): string {
    const rel = `${this.ref.rel}/${file}`;
    this.io?.wanted?.push(rel);
    return textAhead(this.src, 'sys', rel, this.io?.pre);
  }

  private path(file: string): string {
    return `${this.ref.dir}/${file}`;
  }

  value(file: string): number | null {
    return parseSingleValue(this.text(file), this.path(file), this.ref.version === 1 && V1_MINUS_ONE_FILES.has(file));
  }

  big(file: string): bigint {
    return parseSingleBig(this.text(file), this.path(file));
  }

  flat(file: string): Record<string, number> {
    return parseFlatKeyed(this.text(file), this.path(file));
  }

  nested(file: string): Map<string, Record<string, string>> {
    return parseNestedKeyed(this.text(file), this.path(file));
  }

  cpuMax(): { quotaUsec: number | null; periodUsec: number } | undefined {
    return optional(() => parseCpuMax(this.text('cpu.max'), this.path('cpu.max')));
  }

  blkio(file: string): Map<string, number> {
    return parseBlkioOps(this.text(file), this.path(file));
  }

  optBig(file: string): bigint | undefined {
    return optional(() => this.big(file));
  }

  optValue(file: string): number | null | undefined {
    return optional(() => this.value(file));
  }

  optFlat(file: string): Record<string, number> {
    return optional(() => this.flat(file)) ?? (Object.create(null) as Record<string, number>);
  }

  optBlkio(file: string): Map<string, number> {
    return optional(() => this.blkio(file)) ?? new Map();
  }
}

/** undefined for a file that is absent or denied; parse errors still surface */
function optional<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (isProcError(e) && (e.code === 'NOT_FOUND' || e.code === 'PERMISSION_DENIED')) return undefined;
    throw e;
  }
}

/**
 * A poller's read-ahead (tui/sample.ts): the files a cgroup's last read of the same kind wanted,
 * read in one batch off the event loop (ProcSource.readTexts) before this one. A file found in
 * `pre` is taken from there (its text, or the ProcError its read gave); any other is read now.
 */
export interface CgroupReadIo {
  /** texts read ahead, by path relative to the sys root */
  pre?: ReadonlyMap<string, string | ProcError>;
  /** filled with every path (relative to the sys root) this read wanted, in order */
  wanted?: string[];
}

/**
 * Read limits and usage of the cgroups a process (or a cgroup path) is in.
 *
 * With `counters`: only the files whose figures move all the time are read — memory usage and
 * memory.stat, CPU usage and cpu.stat (throttling), pids.current, IO bytes (PSI is the caller's)
 * — and every other figure (limits, quota, period, shares or weight, pids.max, swap, failcnt, OOM
 * counts, IO operation counts, cpuacct's user/system split) is `counters`' own: a poller that reads
 * every cgroup each second (ctop) reads those whole only now and then (6 files a cgroup on a v1
 * host instead of 16). A controller whose directory differs from `counters`' (the cgroup moved, a
 * hierarchy mounted since) or that `counters` lacks is read whole.
 */
export function readCgroupStats(src: ProcSource, layout: CgroupLayout, memberships: CgroupMembership[], counters?: CgroupStats, ahead?: CgroupReadIo): CgroupStats {
  const dirs = controllerDirs(layout, memberships);
  const at = (o: DirRef | undefined): Dir | undefined => (o ? new Dir(src, o, ahead) : undefined);
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
  const mem = at(dirs.memory);
  const m0 = counters?.memory;
  if (mem && m0 && m0.version === mem.origin.version && m0.dir === mem.origin.dir) attempt('memory', () => (mem.origin.version === 2 ? readMemoryV2Counters(mem, m0) : readMemoryV1Counters(mem, m0)));
  else if (mem) attempt('memory', () => (mem.origin.version === 2 ? readMemoryV2(mem) : readMemoryV1(mem)));
  const cpu = at(dirs.cpu ?? dirs.cpuacct);
  const c0 = counters?.cpu;
  if (cpu && c0 && c0.version === cpu.origin.version && c0.dir === cpu.origin.dir && c0.usageFrom.dir === (cpu.origin.version === 2 ? cpu.origin.dir : (dirs.cpuacct?.dir ?? cpu.origin.dir)))
    attempt('cpu', () => (cpu.origin.version === 2 ? readCpuV2Counters(cpu, c0) : readCpuV1Counters(at(dirs.cpu), at(dirs.cpuacct), c0)));
  else if (cpu) attempt('cpu', () => (cpu.origin.version === 2 ? readCpuV2(cpu) : readCpuV1(at(dirs.cpu), at(dirs.cpuacct), cpu.origin)));
  const pids = at(dirs.pids);
  const p0 = counters?.pids;
  if (pids && p0 && p0.version === pids.origin.version && p0.dir === pids.origin.dir) attempt('pids', () => ({ ...p0, current: pids.value('pids.current') ?? 0 }));
  else if (pids) attempt('pids', () => ({ ...pids.origin, current: pids.value('pids.current') ?? 0, max: pids.value('pids.max') }));
  const io = at(dirs.blkio ?? dirs.io);
  const i0 = counters?.io;
  if (io && i0 && i0.version === io.origin.version && i0.dir === io.origin.dir) attempt('io', () => (io.origin.version === 2 ? readIoV2(io) : readIoV1Counters(io, i0)));
  else if (io) attempt('io', () => (io.origin.version === 2 ? readIoV2(io) : readIoV1(io)));
  return stats;
}

function memoryStats(d: Dir, usage: number, limit: number | null, inactive: number | undefined, rest: Omit<MemoryStats, keyof StatOrigin | 'usageBytes' | 'limitBytes' | 'workingSetBytes' | 'inactiveFileBytes'>): MemoryStats {
  return { ...d.origin, usageBytes: usage, limitBytes: limit, workingSetBytes: Math.max(0, usage - (inactive ?? 0)), inactiveFileBytes: inactive, ...rest };
}

function readMemoryV2(d: Dir): MemoryStats {
  const usage = d.value('memory.current') ?? 0;
  const stat = d.optFlat('memory.stat');
  const events = d.optFlat('memory.events');
  return memoryStats(d, usage, d.value('memory.max'), stat.inactive_file, {
    anonBytes: stat.anon,
    fileBytes: stat.file,
    limitHits: events.max,
    oomEvents: events.oom,
    oomKills: events.oom_kill,
    swapBytes: d.optValue('memory.swap.current') ?? undefined,
  });
}

function readMemoryV1(d: Dir): MemoryStats {
  const usage = d.value('memory.usage_in_bytes') ?? 0;
  const stat = d.optFlat('memory.stat');
  const memsw = d.optValue('memory.memsw.usage_in_bytes');
  // docker's CLI: v1 working set subtracts total_inactive_file (hierarchical), else inactive_file
  return memoryStats(d, usage, v1Limit(d.value('memory.limit_in_bytes') ?? -1), stat.total_inactive_file ?? stat.inactive_file, {
    anonBytes: stat.total_rss ?? stat.rss,
    fileBytes: stat.total_cache ?? stat.cache,
    limitHits: d.optValue('memory.failcnt') ?? undefined,
    oomEvents: undefined,
    oomKills: d.optFlat('memory.oom_control').oom_kill,
    swapBytes: memsw === undefined || memsw === null ? undefined : Math.max(0, memsw - usage),
  });
}

/** memory.current and memory.stat; the limit, events and swap as `was` had them */
function readMemoryV2Counters(d: Dir, was: MemoryStats): MemoryStats {
  const usage = d.value('memory.current') ?? 0;
  const stat = d.optFlat('memory.stat');
  return { ...was, usageBytes: usage, workingSetBytes: Math.max(0, usage - (stat.inactive_file ?? 0)), inactiveFileBytes: stat.inactive_file, anonBytes: stat.anon, fileBytes: stat.file };
}

/** usage_in_bytes and memory.stat; the limit, failcnt, OOM kills and swap as `was` had them */
function readMemoryV1Counters(d: Dir, was: MemoryStats): MemoryStats {
  const usage = d.value('memory.usage_in_bytes') ?? 0;
  const stat = d.optFlat('memory.stat');
  const inactive = stat.total_inactive_file ?? stat.inactive_file;
  return { ...was, usageBytes: usage, workingSetBytes: Math.max(0, usage - (inactive ?? 0)), inactiveFileBytes: inactive, anonBytes: stat.total_rss ?? stat.rss, fileBytes: stat.total_cache ?? stat.cache };
}

/** cpu.stat (usage and throttling); weight and cpu.max as `was` had them */
function readCpuV2Counters(d: Dir, was: CpuStats): CpuStats {
  const stat = d.flat('cpu.stat');
  return {
    ...was,
    usageUsec: stat.usage_usec ?? 0,
    userUsec: stat.user_usec,
    systemUsec: stat.system_usec,
    nrPeriods: stat.nr_periods,
    nrThrottled: stat.nr_throttled,
    throttledUsec: stat.throttled_usec,
  };
}

/** cpuacct.usage and cpu.stat (throttling); the user/system split, shares, quota and period as `was` had them */
function readCpuV1Counters(cpu: Dir | undefined, acct: Dir | undefined, was: CpuStats): CpuStats {
  const usageNs = acct?.optBig('cpuacct.usage');
  const stat = cpu?.optFlat('cpu.stat') ?? (Object.create(null) as Record<string, number>);
  return {
    ...was,
    usageUsec: usageNs === undefined ? 0 : Number((usageNs + 500n) / 1000n),
    nrPeriods: stat.nr_periods,
    nrThrottled: stat.nr_throttled,
    throttledUsec: stat.throttled_time === undefined ? undefined : Math.round(stat.throttled_time / 1000),
  };
}

function readCpuV2(d: Dir): CpuStats {
  const stat = d.flat('cpu.stat');
  const max = d.cpuMax();
  return {
    ...d.origin,
    usageFrom: d.origin,
    usageUsec: stat.usage_usec ?? 0,
    userUsec: stat.user_usec,
    systemUsec: stat.system_usec,
    weight: d.optValue('cpu.weight') ?? undefined,
    shares: undefined,
    quotaUsec: max?.quotaUsec ?? null,
    periodUsec: max?.periodUsec,
    nrPeriods: stat.nr_periods,
    nrThrottled: stat.nr_throttled,
    throttledUsec: stat.throttled_usec,
  };
}

/** USER_HZ: cpuacct.stat counts in it; 100 on every Linux ABI we run on. */
const USER_HZ = 100;

/**
 * v1: usage from cpuacct's own directory (cpuacct.usage is in ns and passes 2^53 after 104 days
 * of CPU: read as BigInt), shares, quota and throttling from cpu's. Each labelled with its own.
 */
function readCpuV1(cpu: Dir | undefined, acct: Dir | undefined, origin: StatOrigin): CpuStats {
  const usageNs = acct?.optBig('cpuacct.usage');
  const acctStat = acct?.optFlat('cpuacct.stat');
  const quota = cpu?.optValue('cpu.cfs_quota_us');
  const stat = cpu?.optFlat('cpu.stat') ?? (Object.create(null) as Record<string, number>);
  const tick = 1_000_000 / USER_HZ;
  return {
    ...origin,
    usageFrom: acct?.origin ?? origin,
    usageUsec: usageNs === undefined ? 0 : Number((usageNs + 500n) / 1000n),
    userUsec: acctStat?.user === undefined ? undefined : acctStat.user * tick,
    systemUsec: acctStat?.system === undefined ? undefined : acctStat.system * tick,
    weight: undefined,
    shares: cpu?.optValue('cpu.shares') ?? undefined,
    quotaUsec: quota === undefined || quota === null || quota < 0 ? null : quota,
    periodUsec: cpu?.optValue('cpu.cfs_period_us') ?? undefined,
    nrPeriods: stat.nr_periods,
    nrThrottled: stat.nr_throttled,
    throttledUsec: stat.throttled_time === undefined ? undefined : Math.round(stat.throttled_time / 1000),
  };
}

function readIoV2(d: Dir): IoStats {
  const stat = d.nested('io.stat');
  const sum = (k: string): number => {
    let total = 0n;
    for (const dev of stat.values()) {
      const v = dev[k];
      if (v === undefined) continue;
      if (!/^[0-9]{1,20}$/.test(v)) throw new ParseError(`${d.origin.dir}/io.stat`, `${k}=${v.slice(0, 40)} is not a count`);
      total += BigInt(v);
    }
    return Number(total);
  };
  return { ...d.origin, readBytes: sum('rbytes'), writeBytes: sum('wbytes'), readOps: sum('rios'), writeOps: sum('wios') };
}

/** the bytes (rates); the operation counts as `was` had them */
function readIoV1Counters(d: Dir, was: IoStats): IoStats {
  const bytes = d.optBlkio('blkio.throttle.io_service_bytes');
  return { ...was, readBytes: bytes.get('Read') ?? 0, writeBytes: bytes.get('Write') ?? 0 };
}

function readIoV1(d: Dir): IoStats {
  const bytes = d.optBlkio('blkio.throttle.io_service_bytes');
  const ops = d.optBlkio('blkio.throttle.io_serviced');
  return { ...d.origin, readBytes: bytes.get('Read') ?? 0, writeBytes: bytes.get('Write') ?? 0, readOps: ops.get('Read') ?? 0, writeOps: ops.get('Write') ?? 0 };
}
