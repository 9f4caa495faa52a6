import type { ProcSource } from '../source/source.js';
import { errnoOf } from '../source/errors.js';
import type { CgroupMembership } from '../parse/proc-cgroup.js';
import { strerror } from '../util/strerror.js';
import { formatBytes } from '../util/units.js';
import type { CgroupFs } from './fs.js';
import { hierarchyFor, hierarchyName, type CgroupHierarchy, type CgroupLayout } from './layout.js';
import { readCgroupStats, type CgroupStats } from './stats.js';

/**
 * The cgroup writer the OCI runtime stands on: create a cgroup in every hierarchy, apply the
 * OCI `linux.resources` limits, add a process, freeze/thaw, list pids, kill all, destroy — for v1
 * (one hierarchy per controller; cpu and cpuacct may be mounted apart), hybrid (v1 controllers plus
 * an unified hierarchy that is only joined, as runc does) and v2. What it writes and in which order
 * follows runc's `libcontainer/cgroups` fs and fs2 managers; docs/cgroups.md has the mapping table.
 *
 * Every write goes through an injected CgroupFs; the layout comes from mountinfo (CgroupLayout),
 * never from guessed paths. Numbers are taken as given — bytes, microseconds, shares — as int64
 * (`number` when it is a safe integer, else `bigint`), with -1 meaning unlimited and 0 or absent
 * meaning "leave as is", like runc.
 */

export type Int64 = number | bigint;

/** OCI runtime spec `linux.resources.devices[]` */
export interface DeviceRule {
  allow: boolean;
  /** `a` (all), `c`, `b`; default `a` */
  type?: string;
  /** absent or null: any (`*`) */
  major?: number | null;
  minor?: number | null;
  /** any of `rwm`; default `rwm` */
  access?: string;
}

/** OCI runtime spec `linux.resources` (the parts a cgroup manager writes) */
export interface CgroupResources {
  memory?: {
    /** bytes; -1 unlimited */
    limit?: Int64;
    /** soft limit (v1 memory.soft_limit_in_bytes, v2 memory.low); -1 unlimited */
    reservation?: Int64;
    /** memory+swap total in bytes, as v1's memsw (OCI's meaning); -1 unlimited */
    swap?: Int64;
    /** 0..100 (v1 only) */
    swappiness?: Int64;
    disableOOMKiller?: boolean;
    /** v1 only: memory.kmem.tcp.limit_in_bytes (bytes; -1 unlimited), as runc 1.1 writes it */
    kernelTCP?: Int64;
  };
  pids?: { limit?: Int64 };
  cpu?: {
    shares?: Int64;
    /** µs per period; -1 no quota */
    quota?: Int64;
    period?: Int64;
    cpus?: string;
    mems?: string;
  };
  blockIO?: { weight?: number };
  devices?: DeviceRule[];
  hugepageLimits?: { pageSize: string; limit: Int64 }[];
}

/** A cgroup write or setup that failed: names the file and the value. */
export class CgroupError extends Error {
  constructor(
    message: string,
    readonly file: string | undefined,
    readonly value: string | undefined,
    readonly errno: string | undefined,
  ) {
    super(message);
    this.name = 'CgroupError';
  }
}

export function isCgroupError(e: unknown): e is CgroupError {
  return e instanceof CgroupError;
}

/** Where the cgroup lives in one hierarchy. */
export interface CgroupPlacement {
  hierarchy: CgroupHierarchy;
  /** `memory`, `cpu,cpuacct`, `name=systemd`, `unified` */
  name: string;
  /** the cgroup's path inside the hierarchy, as /proc/<pid>/cgroup shows it (`/hostscope/abc`) */
  path: string;
  /** the directory on the host (`/sys/fs/cgroup/memory/hostscope/abc`) */
  dir: string;
}

export interface CgroupManagerOptions {
  fs: CgroupFs;
  layout: CgroupLayout;
  /** OCI `linux.cgroupsPath`: absolute (`/hostscope/abc`), relative (to `own`), or `slice:prefix:name` with `systemd` */
  cgroupsPath: string;
  /** the caller's own cgroups (`/proc/self/cgroup`); relative paths are joined to them, as runc does */
  own?: CgroupMembership[];
  /** read cgroupsPath as systemd's `slice:prefix:name` (runc's `--systemd-cgroup`) */
  systemd?: boolean;
  /** signal a pid (default process.kill); ESRCH is ignored by the caller */
  kill?: (pid: number, signal: NodeJS.Signals | number) => void;
  sleep?: (ms: number) => Promise<void>;
  /** how long freeze, kill and destroy wait for the kernel to settle, in ms (default 10 s) */
  settleTimeoutMs?: number;
}

export type FreezerState = 'THAWED' | 'FREEZING' | 'FROZEN';

const INT64_MAX = (1n << 63n) - 1n;

/** An OCI number as a bigint, checked: an integer in int64, -1 or ≥ min. */
export function int64(v: Int64, field: string, min = 0n): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else throw new CgroupError(`invalid ${field}: ${String(v)} is not an integer (use a bigint past 2^53)`, undefined, String(v), undefined);
  if (b > INT64_MAX || (b !== -1n && b < min)) throw new CgroupError(`invalid ${field}: ${b} is out of range`, undefined, String(b), undefined);
  return b;
}

/** `0` or absent: not set (runc's convention) */
function given(v: Int64 | undefined): v is Int64 {
  return v !== undefined && v !== 0 && v !== 0n;
}

// ---------------------------------------------------------------------------------------------
// paths

const SLICE_SUFFIX = '.slice';
const SIMPLE_UNIT_PART = /^[A-Za-z0-9:_.-]+$/;

/** systemd's slice name → its cgroup path: `a-b.slice` → `/a.slice/a-b.slice` (runc's ExpandSlice) */
export function expandSlice(slice: string): string {
  if (slice.length <= SLICE_SUFFIX.length || !slice.endsWith(SLICE_SUFFIX) || slice.includes('/') || !SIMPLE_UNIT_PART.test(slice)) {
    throw new CgroupError(`invalid slice name: ${JSON.stringify(slice)}`, undefined, slice, undefined);
  }
  const name = slice.slice(0, -SLICE_SUFFIX.length);
  if (name === '-') return '/';
  let path = '';
  let prefix = '';
  for (const part of name.split('-')) {
    if (part === '') throw new CgroupError(`invalid slice name: ${JSON.stringify(slice)}`, undefined, slice, undefined);
    path += `/${prefix}${part}${SLICE_SUFFIX}`;
    prefix += `${part}-`;
  }
  return path;
}

/**
 * `slice:prefix:name` → the cgroup path systemd would give the scope: `system.slice:runc:abc` →
 * `/system.slice/runc-abc.scope`. Only the simple forms: no escapes, no nested slice as name (that
 * needs systemd itself to create the unit).
 */
export function systemdCgroupPath(spec: string): string {
  const parts = spec.split(':');
  if (parts.length !== 3) throw new CgroupError(`cgroupsPath ${JSON.stringify(spec)}: expected slice:prefix:name for the systemd driver`, undefined, spec, undefined);
  const [slice, prefix, name] = parts as [string, string, string];
  if (name.endsWith(SLICE_SUFFIX)) throw new CgroupError(`cgroupsPath ${JSON.stringify(spec)}: a slice as the unit name is not supported (it needs systemd to create it)`, undefined, spec, undefined);
  if (prefix === '' || name === '' || !SIMPLE_UNIT_PART.test(prefix) || !SIMPLE_UNIT_PART.test(name) || spec.includes('\\')) {
    throw new CgroupError(`cgroupsPath ${JSON.stringify(spec)}: only simple slice:prefix:name forms are supported (letters, digits, ':', '_', '.', '-')`, undefined, spec, undefined);
  }
  const base = expandSlice(slice === '' ? 'system.slice' : slice);
  return `${base === '/' ? '' : base}/${prefix}-${name}.scope`;
}

/** `/a//b/` → `/a/b`; refuses `..`, NUL and the root itself */
function cleanCgroupPath(p: string, what: string): string {
  if (p.includes('\0')) throw new CgroupError(`cgroupsPath: NUL byte in ${what}`, undefined, p, undefined);
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new CgroupError(`cgroupsPath ${JSON.stringify(p)}: '..' is not allowed`, undefined, p, undefined);
  return `/${parts.join('/')}`;
}

/** The hierarchies a container's cgroup is made in: every v1 controller hierarchy and name=systemd; the v2 one on v2 and hybrid. */
export function managedHierarchies(layout: CgroupLayout): CgroupHierarchy[] {
  return layout.hierarchies.filter((h) => h.version === 2 || h.controllers.some((c) => !c.startsWith('name=')) || h.controllers.includes('name=systemd'));
}

/** Where `cgroupsPath` lands in each hierarchy. */
export function placeCgroup(layout: CgroupLayout, cgroupsPath: string, opts: { own?: CgroupMembership[]; systemd?: boolean } = {}): CgroupPlacement[] {
  if (layout.mode === 'none') throw new CgroupError('no cgroup hierarchy is mounted', undefined, undefined, undefined);
  let path = opts.systemd ? systemdCgroupPath(cgroupsPath) : cgroupsPath;
  if (path.trim() === '') throw new CgroupError('cgroupsPath is empty', undefined, path, undefined);
  const absolute = path.startsWith('/');
  path = cleanCgroupPath(path, 'cgroupsPath');
  if (path === '/') throw new CgroupError(`cgroupsPath ${JSON.stringify(cgroupsPath)} is the root cgroup`, undefined, cgroupsPath, undefined);
  const out: CgroupPlacement[] = [];
  for (const h of managedHierarchies(layout)) {
    let inHierarchy = path;
    if (!absolute) {
      const line = (opts.own ?? []).find((l) => hierarchyFor(layout, l) === h);
      const base = line?.path ?? '/';
      if (base.startsWith('/..')) throw new CgroupError(`relative cgroupsPath ${JSON.stringify(cgroupsPath)}: our own ${hierarchyName(h)} cgroup ${base} is outside our cgroup namespace`, undefined, cgroupsPath, undefined);
      inHierarchy = cleanCgroupPath(`${base}/${path}`, 'cgroupsPath');
    }
    // a hierarchy mounted from a subdirectory (inside a container) reaches only what is below it
    let rel = inHierarchy;
    if (h.root !== '/') {
      if (inHierarchy !== h.root && !inHierarchy.startsWith(`${h.root}/`)) {
        throw new CgroupError(`cgroup ${inHierarchy} is outside the ${hierarchyName(h)} subtree mounted here (${h.root} at ${h.mountPoint})`, undefined, inHierarchy, undefined);
      }
      rel = inHierarchy.slice(h.root.length) || '/';
    }
    out.push({ hierarchy: h, name: hierarchyName(h), path: inHierarchy, dir: `${h.mountPoint.replace(/\/+$/, '')}${rel}` });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the manager

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class CgroupManager {
  readonly placements: CgroupPlacement[];
  readonly layout: CgroupLayout;
  private readonly fs: CgroupFs;
  private readonly kill: (pid: number, signal: NodeJS.Signals | number) => void;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly settleMs: number;

  constructor(opts: CgroupManagerOptions) {
    this.fs = opts.fs;
    this.layout = opts.layout;
    this.placements = placeCgroup(opts.layout, opts.cgroupsPath, { own: opts.own, systemd: opts.systemd });
    this.kill = opts.kill ?? ((pid, sig) => process.kill(pid, sig));
    this.sleep = opts.sleep ?? defaultSleep;
    this.settleMs = opts.settleTimeoutMs ?? 10_000;
  }

  /** the placement whose hierarchy carries a v1 controller, or the v2 one on a v2 host */
  dirOf(controller: string): CgroupPlacement | undefined {
    const v1 = this.placements.find((p) => p.hierarchy.version === 1 && p.hierarchy.controllers.includes(controller));
    if (v1) return v1;
    return this.layout.mode === 'v2' ? this.v2() : undefined;
  }

  /** the v2 placement (v2 hosts; the joined unified hierarchy of a hybrid host) */
  v2(): CgroupPlacement | undefined {
    return this.placements.find((p) => p.hierarchy.version === 2);
  }

  /** /proc/<pid>/cgroup-style lines for the cgroup, for hostscope's readers */
  memberships(): CgroupMembership[] {
    return this.placements.map((p, i) => (p.hierarchy.version === 2 ? { hierarchyId: 0, controllers: [], path: p.path } : { hierarchyId: i + 1, controllers: p.hierarchy.controllers, path: p.path }));
  }

  /** Limits and usage through hostscope's own readers (src/cgroup/stats.ts). */
  stats(src: ProcSource): CgroupStats {
    return readCgroupStats(src, this.layout, this.memberships());
  }

  /** true when the cgroup's directory exists in every hierarchy */
  exists(): boolean {
    return this.placements.every((p) => this.fs.exists(p.dir));
  }

  // ----- create

  /**
   * Make the cgroup in every hierarchy (parents too). v1 cpuset levels get their parent's cpus
   * and mems when empty (a task cannot join an empty cpuset). v2: every level above the leaf
   * enables the controllers of the root's cgroup.controllers in cgroup.subtree_control, top-down.
   * On failure the directories made by this call are removed again.
   */
  create(): void {
    const made: string[] = [];
    try {
      for (const p of this.placements) {
        if (p.hierarchy.version === 1) this.createV1(p, made);
        else if (this.layout.mode === 'v2') this.createV2(p, made);
        else this.mkdirP(p, made); // hybrid: the unified hierarchy is joined, never configured
      }
    } catch (e) {
      for (const dir of made.reverse()) {
        try {
          this.fs.rmdir(dir);
        } catch {
          // best effort: the error that matters is the one being thrown
        }
      }
      throw e;
    }
  }

  private levels(p: CgroupPlacement): string[] {
    const mount = p.hierarchy.mountPoint.replace(/\/+$/, '');
    const rest = p.dir.slice(mount.length).split('/').filter(Boolean);
    const out = [mount];
    for (const part of rest) out.push(`${out[out.length - 1]}/${part}`);
    return out;
  }

  private mkdirOne(dir: string, made: string[]): void {
    if (this.fs.exists(dir)) return;
    try {
      this.fs.mkdir(dir);
      made.push(dir);
    } catch (e) {
      const errno = errnoOf(e);
      if (errno === 'EEXIST') return;
      throw new CgroupError(`cannot create cgroup ${dir}: ${strerror(errno)}`, dir, undefined, errno);
    }
  }

  private mkdirP(p: CgroupPlacement, made: string[]): void {
    for (const dir of this.levels(p).slice(1)) this.mkdirOne(dir, made);
  }

  private createV1(p: CgroupPlacement, made: string[]): void {
    const levels = this.levels(p);
    const cpuset = p.hierarchy.controllers.includes('cpuset');
    for (let i = 1; i < levels.length; i++) {
      this.mkdirOne(levels[i]!, made);
      if (cpuset) {
        for (const file of ['cpuset.cpus', 'cpuset.mems']) {
          if (this.read(`${levels[i]}/${file}`).trim() === '') this.write(levels[i]!, file, this.read(`${levels[i - 1]}/${file}`).trim());
        }
      }
    }
  }

  private createV2(p: CgroupPlacement, made: string[]): void {
    const levels = this.levels(p);
    const available = this.readWords(`${levels[0]}/cgroup.controllers`);
    for (let i = 0; i < levels.length; i++) {
      const dir = levels[i]!;
      if (i > 0) this.mkdirOne(dir, made);
      if (i === levels.length - 1) break;
      const enabled = new Set(this.readWords(`${dir}/cgroup.subtree_control`));
      const want = available.filter((c) => !enabled.has(c));
      if (want.length === 0) continue;
      try {
        this.fs.writeFile(`${dir}/cgroup.subtree_control`, want.map((c) => `+${c}`).join(' '));
      } catch {
        // one at a time, as runc: a controller a parent lacks (rootless, delegated) must not stop the others
        for (const c of want) {
          try {
            this.fs.writeFile(`${dir}/cgroup.subtree_control`, `+${c}`);
          } catch {
            // surfaced later if a limit needs it: its file will be missing in the leaf
          }
        }
      }
    }
  }

  // ----- limits

  /** Write the OCI resources, in runc's order. */
  apply(r: CgroupResources): void {
    if (this.layout.mode === 'v2') this.applyV2(r);
    else this.applyV1(r);
  }

  private need(controller: string, what: string): CgroupPlacement {
    const p = this.dirOf(controller);
    if (!p) {
      const why = this.layout.mode === 'hybrid' ? 'not mounted as a v1 hierarchy (the unified hierarchy of a hybrid host is only joined)' : 'not mounted';
      throw new CgroupError(`cannot set ${what}: the ${controller} controller is ${why}`, undefined, undefined, 'ENOENT');
    }
    return p;
  }

  private applyV1(r: CgroupResources): void {
    if (r.cpu?.cpus || r.cpu?.mems) {
      const p = this.need('cpuset', 'cpuset');
      if (r.cpu.cpus) this.write(p.dir, 'cpuset.cpus', r.cpu.cpus);
      if (r.cpu.mems) this.write(p.dir, 'cpuset.mems', r.cpu.mems);
    }
    if (r.devices && r.devices.length > 0) {
      const p = this.need('devices', 'device rules');
      for (const rule of r.devices) this.write(p.dir, rule.allow ? 'devices.allow' : 'devices.deny', deviceRuleString(rule));
    }
    if (r.memory) this.applyMemoryV1(r.memory);
    if (r.cpu && (given(r.cpu.shares) || given(r.cpu.quota) || given(r.cpu.period))) this.applyCpuV1(r.cpu);
    if (r.pids && given(r.pids.limit)) {
      const p = this.need('pids', 'pids limit');
      this.write(p.dir, 'pids.max', maxOr(int64(r.pids.limit, 'pids limit', 1n)));
    }
    if (r.blockIO?.weight) {
      const p = this.need('blkio', 'block I/O weight');
      const file = this.fs.exists(`${p.dir}/blkio.weight`) ? 'blkio.weight' : 'blkio.bfq.weight';
      this.write(p.dir, file, String(checkRange(r.blockIO.weight, 'blockIO weight', 1, 1000)));
    }
    for (const h of r.hugepageLimits ?? []) {
      const p = this.need('hugetlb', `hugetlb ${h.pageSize} limit`);
      this.write(p.dir, `hugetlb.${checkPageSize(h.pageSize)}.limit_in_bytes`, String(int64(h.limit, 'hugepage limit')));
    }
  }

  private applyMemoryV1(m: NonNullable<CgroupResources['memory']>): void {
    const wantsAny = given(m.limit) || given(m.swap) || given(m.reservation) || m.swappiness !== undefined || m.disableOOMKiller || given(m.kernelTCP);
    if (!wantsAny) return;
    const p = this.need('memory', 'memory limits');
    const limit = given(m.limit) ? int64(m.limit, 'memory limit', 1n) : 0n;
    let swap = given(m.swap) ? int64(m.swap, 'memory+swap limit', 1n) : 0n;
    if (limit === -1n && swap === 0n) swap = -1n;
    const setMem = (): void => {
      if (limit !== 0n) this.write(p.dir, 'memory.limit_in_bytes', String(limit));
    };
    const setSwap = (): void => {
      if (swap !== 0n) this.write(p.dir, 'memory.memsw.limit_in_bytes', String(swap));
    };
    if (swap !== 0n && swap !== -1n && limit !== 0n && limit !== -1n && swap < limit) {
      throw new CgroupError(`invalid memory+swap limit ${swap}: below the memory limit ${limit}`, `${p.dir}/memory.memsw.limit_in_bytes`, String(swap), 'EINVAL');
    }
    // the kernel wants memory ≤ memsw at every moment: raise memsw first when it grows (runc's order)
    if (limit !== 0n && swap !== 0n && (swap === -1n || this.readBig(`${p.dir}/memory.limit_in_bytes`) < swap)) {
      setSwap();
      setMem();
    } else {
      setMem();
      setSwap();
    }
    // after the memory limits, before the reservation (runc 1.1's fs/memory.go order)
    if (given(m.kernelTCP)) this.write(p.dir, 'memory.kmem.tcp.limit_in_bytes', String(int64(m.kernelTCP, 'kernel TCP memory limit', 1n)));
    if (given(m.reservation)) this.write(p.dir, 'memory.soft_limit_in_bytes', String(int64(m.reservation, 'memory reservation', 1n)));
    if (m.swappiness !== undefined && m.swappiness !== -1 && m.swappiness !== -1n) {
      const s = int64(m.swappiness, 'memory swappiness');
      if (s > 100n) throw new CgroupError(`invalid memory swappiness ${s}: 0..100`, `${p.dir}/memory.swappiness`, String(s), 'EINVAL');
      this.write(p.dir, 'memory.swappiness', String(s));
    }
    if (m.disableOOMKiller) this.write(p.dir, 'memory.oom_control', '1');
  }

  private applyCpuV1(c: NonNullable<CgroupResources['cpu']>): void {
    const p = this.need('cpu', 'cpu limits');
    if (given(c.shares)) {
      const shares = int64(c.shares, 'cpu shares', 1n);
      this.write(p.dir, 'cpu.shares', String(shares));
      const got = this.readBig(`${p.dir}/cpu.shares`);
      if (shares > got) throw new CgroupError(`cpu shares ${shares}: the maximum allowed cpu-shares is ${got}`, `${p.dir}/cpu.shares`, String(shares), 'EINVAL');
      if (shares < got) throw new CgroupError(`cpu shares ${shares}: the minimum allowed cpu-shares is ${got}`, `${p.dir}/cpu.shares`, String(shares), 'EINVAL');
    }
    let periodLater: string | undefined;
    if (given(c.period)) {
      const period = String(int64(c.period, 'cpu period', 1n));
      try {
        this.fs.writeFile(`${p.dir}/cpu.cfs_period_us`, period);
      } catch (e) {
        // a shorter period can exceed the parent's quota until the new quota is in: retry after it (runc)
        if (errnoOf(e) !== 'EINVAL' || !given(c.quota)) throw this.writeError(p.dir, 'cpu.cfs_period_us', period, e);
        periodLater = period;
      }
    }
    if (given(c.quota)) {
      this.write(p.dir, 'cpu.cfs_quota_us', String(int64(c.quota, 'cpu quota', 1n)));
      if (periodLater) this.write(p.dir, 'cpu.cfs_period_us', periodLater);
    }
  }

  private applyV2(r: CgroupResources): void {
    const p = this.v2()!;
    if (r.pids && given(r.pids.limit)) this.write(p.dir, 'pids.max', maxOr(int64(r.pids.limit, 'pids limit', 1n)));
    if (r.memory) {
      const m = r.memory;
      const limit = given(m.limit) ? int64(m.limit, 'memory limit', 1n) : 0n;
      const swapTotal = given(m.swap) ? int64(m.swap, 'memory+swap limit', 1n) : 0n;
      const swap = v2SwapValue(swapTotal, limit);
      let swapStr = swap === 0n ? '' : maxOr(swap);
      // memory and memory+swap equal: no swap at all
      if (swap === 0n && swapTotal > 0n) swapStr = '0';
      if (swapStr !== '') {
        if (!this.fs.exists(`${p.dir}/memory.swap.max`)) {
          if (swapStr !== 'max') throw new CgroupError(`cannot set a swap limit: ${p.dir}/memory.swap.max is missing (swap accounting off, or the memory controller not enabled)`, `${p.dir}/memory.swap.max`, swapStr, 'ENOENT');
        } else this.write(p.dir, 'memory.swap.max', swapStr);
      }
      if (limit !== 0n) this.write(p.dir, 'memory.max', maxOr(limit));
      if (given(m.reservation)) this.write(p.dir, 'memory.low', maxOr(int64(m.reservation, 'memory reservation', 1n)));
      if (m.disableOOMKiller) throw new CgroupError('memory.disableOOMKiller is not supported on cgroup v2', undefined, undefined, 'ENOTSUP');
      if (given(m.kernelTCP)) throw new CgroupError('memory.kernelTCP is not supported on cgroup v2 (no such limit)', undefined, undefined, 'ENOTSUP');
    }
    if (r.blockIO?.weight) {
      const w = checkRange(r.blockIO.weight, 'blockIO weight', 10, 1000);
      if (this.fs.exists(`${p.dir}/io.bfq.weight`)) this.write(p.dir, 'io.bfq.weight', String(w));
      else this.write(p.dir, 'io.weight', String(blkioWeightToIoWeight(w)));
    }
    if (r.cpu) {
      const c = r.cpu;
      if (given(c.shares)) this.write(p.dir, 'cpu.weight', String(cpuSharesToWeight(int64(c.shares, 'cpu shares', 2n))));
      if (given(c.quota) || given(c.period)) {
        let s = given(c.quota) && int64(c.quota, 'cpu quota', 1n) > 0n ? String(int64(c.quota, 'cpu quota', 1n)) : 'max';
        if (given(c.period)) s += ` ${int64(c.period, 'cpu period', 1n)}`;
        this.write(p.dir, 'cpu.max', s);
      }
      if (c.cpus) this.write(p.dir, 'cpuset.cpus', c.cpus);
      if (c.mems) this.write(p.dir, 'cpuset.mems', c.mems);
    }
    for (const h of r.hugepageLimits ?? []) this.write(p.dir, `hugetlb.${checkPageSize(h.pageSize)}.max`, maxOr(int64(h.limit, 'hugepage limit')));
    if (r.devices && r.devices.length > 0 && !allowsEverything(r.devices)) {
      throw new CgroupError('device rules need an eBPF program on cgroup v2 (BPF_PROG_TYPE_CGROUP_DEVICE): not supported yet', undefined, undefined, 'ENOTSUP');
    }
  }

  // ----- processes

  /** Put a process into the cgroup in every hierarchy (cgroup.procs). */
  addProcess(pid: number): void {
    if (!Number.isInteger(pid) || pid <= 0) throw new CgroupError(`invalid pid ${pid}`, undefined, String(pid), 'EINVAL');
    for (const p of this.placements) this.write(p.dir, 'cgroup.procs', String(pid));
  }

  /** The pids in the cgroup and below it, sorted (read from the freezer's, pids', or v2 hierarchy). */
  pids(): number[] {
    const p = this.dirOf('freezer') ?? this.dirOf('pids') ?? this.v2() ?? this.placements[0]!;
    const found = new Set<number>();
    const walk = (dir: string): void => {
      let text: string;
      try {
        text = this.fs.readFile(`${dir}/cgroup.procs`);
      } catch (e) {
        if (errnoOf(e) === 'ENOENT') return;
        throw new CgroupError(`cannot read ${dir}/cgroup.procs: ${strerror(errnoOf(e))}`, `${dir}/cgroup.procs`, undefined, errnoOf(e));
      }
      for (const line of text.split('\n')) {
        const n = Number(line.trim());
        if (line.trim() !== '' && Number.isSafeInteger(n) && n > 0) found.add(n);
      }
      for (const e of this.fs.readdir(dir)) if (e.isDir) walk(`${dir}/${e.name}`);
    };
    walk(p.dir);
    return [...found].sort((a, b) => a - b);
  }

  // ----- freezer

  private freezerV1(): CgroupPlacement | undefined {
    return this.placements.find((p) => p.hierarchy.version === 1 && p.hierarchy.controllers.includes('freezer'));
  }

  /** THAWED, FREEZING or FROZEN (v1 freezer.state; v2 cgroup.freeze and cgroup.events). */
  freezerState(): FreezerState {
    const v1 = this.freezerV1();
    if (v1) return parseFreezerState(this.read(`${v1.dir}/freezer.state`), `${v1.dir}/freezer.state`);
    const p = this.needV2Freezer();
    const want = this.read(`${p.dir}/cgroup.freeze`).trim() === '1';
    const frozen = eventsOf(this.read(`${p.dir}/cgroup.events`)).frozen === '1';
    return frozen ? 'FROZEN' : want ? 'FREEZING' : 'THAWED';
  }

  private needV2Freezer(): CgroupPlacement {
    const p = this.v2();
    if (!p || !this.fs.exists(`${p.dir}/cgroup.freeze`)) throw new CgroupError('cannot freeze: no v1 freezer hierarchy and no cgroup.freeze', undefined, undefined, 'ENOENT');
    return p;
  }

  /**
   * Freeze every process in the cgroup and wait until the kernel says FROZEN. v1 writes FROZEN
   * again while the state is FREEZING and thaws briefly now and then so a task stuck in a
   * vfork or a signal can make progress (runc's loop); if it never settles, the cgroup is left
   * THAWED and an error says so.
   */
  async freeze(): Promise<void> {
    const v1 = this.freezerV1();
    const deadline = Date.now() + this.settleMs;
    if (v1) {
      for (let i = 0; ; i++) {
        if (i % 50 === 49) {
          this.write(v1.dir, 'freezer.state', 'THAWED');
          await this.sleep(10);
        }
        this.write(v1.dir, 'freezer.state', 'FROZEN');
        if (this.freezerState() === 'FROZEN') return;
        if (Date.now() > deadline) break;
        await this.sleep(i < 10 ? 1 : 10);
      }
      this.write(v1.dir, 'freezer.state', 'THAWED');
      throw new CgroupError(`cannot freeze ${v1.dir}: it stayed FREEZING; left THAWED`, `${v1.dir}/freezer.state`, 'FROZEN', 'EBUSY');
    }
    const p = this.needV2Freezer();
    this.write(p.dir, 'cgroup.freeze', '1');
    await this.waitEvents(p, 'frozen', '1', deadline, 'FROZEN');
  }

  /** Thaw and wait until the kernel says THAWED. */
  async thaw(): Promise<void> {
    const v1 = this.freezerV1();
    const deadline = Date.now() + this.settleMs;
    if (v1) {
      for (let i = 0; ; i++) {
        this.write(v1.dir, 'freezer.state', 'THAWED');
        if (this.freezerState() === 'THAWED') return;
        if (Date.now() > deadline) throw new CgroupError(`cannot thaw ${v1.dir}: still ${this.freezerState()}`, `${v1.dir}/freezer.state`, 'THAWED', 'EBUSY');
        await this.sleep(i < 10 ? 1 : 10);
      }
    }
    const p = this.needV2Freezer();
    this.write(p.dir, 'cgroup.freeze', '0');
    await this.waitEvents(p, 'frozen', '0', deadline, 'THAWED');
  }

  private async waitEvents(p: CgroupPlacement, key: string, want: string, deadline: number, what: string): Promise<void> {
    for (let i = 0; ; i++) {
      if (eventsOf(this.read(`${p.dir}/cgroup.events`))[key] === want) return;
      if (Date.now() > deadline) throw new CgroupError(`${p.dir} did not become ${what}: cgroup.events ${key} is not ${want}`, `${p.dir}/cgroup.events`, undefined, 'ETIMEDOUT');
      await this.sleep(i < 10 ? 1 : 10);
    }
  }

  // ----- kill

  /**
   * Signal every process in the cgroup. SIGKILL uses v2's cgroup.kill when the cgroup has one (v2,
   * or the joined unified hierarchy of a hybrid host); otherwise the cgroup is frozen, each pid
   * signalled, then thawed, so nothing forks past the list. With SIGKILL it waits until the
   * cgroup is empty.
   */
  async killAll(signal: NodeJS.Signals | number = 'SIGKILL'): Promise<void> {
    // nothing to kill in a cgroup that is not there (a half-made or already destroyed container)
    if (!this.placements.some((p) => this.fs.exists(p.dir))) return;
    // nor in an empty one (every `run` ends so): no freeze/thaw round trip, no cgroup.kill write
    if (this.pids().length === 0) return;
    const isKill = signal === 'SIGKILL' || signal === 9;
    const v2 = this.v2();
    if (isKill && v2 && this.fs.exists(`${v2.dir}/cgroup.kill`)) {
      this.write(v2.dir, 'cgroup.kill', '1');
    } else {
      const canFreeze = this.freezerV1() !== undefined || (v2 !== undefined && this.fs.exists(`${v2.dir}/cgroup.freeze`));
      if (canFreeze) await this.freeze();
      try {
        for (const pid of this.pids()) {
          try {
            this.kill(pid, signal);
          } catch (e) {
            if (errnoOf(e) !== 'ESRCH') throw new CgroupError(`cannot signal pid ${pid}: ${strerror(errnoOf(e))}`, undefined, String(pid), errnoOf(e));
          }
        }
      } finally {
        if (canFreeze) await this.thaw();
      }
    }
    if (isKill) await this.waitEmpty();
  }

  /** Wait until no process is left in the cgroup (SIGKILLed tasks leave once the kernel reaps them from the cgroup). */
  async waitEmpty(): Promise<void> {
    const deadline = Date.now() + this.settleMs;
    for (let i = 0; ; i++) {
      const left = this.pids();
      if (left.length === 0) return;
      if (Date.now() > deadline) throw new CgroupError(`processes still in the cgroup: ${left.join(', ')}`, undefined, undefined, 'EBUSY');
      await this.sleep(i < 10 ? 1 : 10);
    }
  }

  // ----- destroy

  /**
   * Remove the cgroup (and any cgroups made below it), leaf first, in every hierarchy. rmdir fails
   * with EBUSY while exiting processes drain: retried until the settle timeout. A directory already
   * gone is fine. Parents are left, as runc leaves them. A hierarchy that fails does not stop the
   * others; the error names every directory left, on one line.
   */
  async destroy(): Promise<void> {
    const errors: CgroupError[] = [];
    // one deadline for every hierarchy: a process held in each would otherwise make the wait
    // settleMs times the number of hierarchies (10 on a v1 host: ~90 s for runc-ts delete)
    const deadline = Date.now() + this.settleMs;
    for (const p of this.placements) {
      try {
        await this.removeTree(p.dir, deadline);
      } catch (e) {
        if (e instanceof CgroupError) errors.push(e);
        else throw e;
      }
    }
    if (errors.length === 1) throw errors[0]!;
    if (errors.length > 1) throw new CgroupError(errors.map((e) => e.message).join('; '), errors[0]!.file, undefined, errors[0]!.errno);
  }

  /**
   * rmdir the cgroup's parent directory in every hierarchy where it is empty now — for a parent the
   * caller put its cgroups under by default (runc-ts's `/runc-ts`), never one a user named. Only
   * rmdir, once: a parent that still holds a cgroup (EBUSY, ENOTEMPTY: another container's) or is
   * gone (ENOENT) is left without a word; a hierarchy's root is never touched. Returns what failed
   * otherwise, one line each, for a warning.
   */
  removeEmptyParents(): string[] {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const p of this.placements) {
      const mount = p.hierarchy.mountPoint.replace(/\/+$/, '');
      const parent = p.dir.slice(0, p.dir.lastIndexOf('/'));
      if (!parent.startsWith(`${mount}/`) || seen.has(parent)) continue;
      seen.add(parent);
      try {
        this.fs.rmdir(parent);
      } catch (e) {
        const errno = errnoOf(e);
        if (errno !== 'ENOENT' && errno !== 'EBUSY' && errno !== 'ENOTEMPTY') problems.push(`cannot remove cgroup ${parent}: ${strerror(errno)}`);
      }
    }
    return problems;
  }

  private async removeTree(dir: string, deadline: number): Promise<void> {
    let entries: { name: string; isDir: boolean }[];
    try {
      entries = this.fs.readdir(dir);
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return;
      throw new CgroupError(`cannot read cgroup ${dir}: ${strerror(errnoOf(e))}`, dir, undefined, errnoOf(e));
    }
    for (const e of entries) if (e.isDir) await this.removeTree(`${dir}/${e.name}`, deadline);
    for (let i = 0; ; i++) {
      try {
        this.fs.rmdir(dir);
        return;
      } catch (e) {
        const errno = errnoOf(e);
        if (errno === 'ENOENT') return;
        if ((errno !== 'EBUSY' && errno !== 'ENOTEMPTY') || Date.now() > deadline) {
          let left = '';
          try {
            const procs = this.fs.readFile(`${dir}/cgroup.procs`).trim().split('\n').filter(Boolean);
            if (procs.length > 0) left = ` (processes still in it: ${procs.slice(0, 10).join(', ')}${procs.length > 10 ? ', …' : ''})`;
          } catch {
            // no list to show
          }
          throw new CgroupError(`cannot remove cgroup ${dir}: ${strerror(errno)}${left}`, dir, undefined, errno);
        }
        await this.sleep(Math.min(100, 10 * 2 ** Math.min(i, 4)));
      }
    }
  }

  // ----- file helpers

  private read(path: string): string {
    try {
      return this.fs.readFile(path);
    } catch (e) {
      throw new CgroupError(`cannot read ${path}: ${strerror(errnoOf(e))}`, path, undefined, errnoOf(e));
    }
  }

  private readWords(path: string): string[] {
    return this.read(path).split(/\s+/).filter(Boolean);
  }

  private readBig(path: string): bigint {
    const t = this.read(path).trim();
    if (!/^-?\d+$/.test(t)) throw new CgroupError(`cannot parse ${path}: ${JSON.stringify(t.slice(0, 40))}`, path, undefined, undefined);
    return BigInt(t);
  }

  private write(dir: string, file: string, value: string): void {
    try {
      this.fs.writeFile(`${dir}/${file}`, value);
    } catch (e) {
      throw this.writeError(dir, file, value, e);
    }
  }

  private writeError(dir: string, file: string, value: string, e: unknown): CgroupError {
    const errno = errnoOf(e);
    const path = `${dir}/${file}`;
    let hint = '';
    if (errno === 'ENOENT') hint = ' (the file is missing: controller not mounted or not enabled here)';
    else if (errno === 'EBUSY' && file === 'memory.limit_in_bytes') {
      try {
        hint = ` (memory usage ${formatBytes(Number(this.fs.readFile(`${dir}/memory.usage_in_bytes`).trim()))} cannot be brought below it)`;
      } catch {
        hint = ' (memory usage cannot be brought below it)';
      }
    } else if (errno === 'EINVAL' && (file === 'memory.limit_in_bytes' || file === 'memory.memsw.limit_in_bytes')) hint = ' (memory+swap must stay ≥ memory)';
    else if (errno === 'ENOSPC' && file === 'cgroup.procs') hint = ' (empty cpuset.cpus or cpuset.mems)';
    else if (errno === 'EBUSY' && file === 'cgroup.subtree_control') hint = ' (the cgroup has processes of its own: v2 allows controllers only in cgroups without them)';
    else if (errno === 'ESRCH' && file === 'cgroup.procs') hint = ' (no such process)';
    return new CgroupError(`cannot write ${JSON.stringify(value)} to ${path}: ${strerror(errno)}${hint}`, path, value, errno);
  }
}

// ---------------------------------------------------------------------------------------------
// pure conversions (exported for tests and for `runc-ts update`)

/** -1 → `max`, else the number */
function maxOr(v: bigint): string {
  return v === -1n ? 'max' : String(v);
}

function checkRange(n: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max) throw new CgroupError(`invalid ${field} ${n}: ${min}..${max}`, undefined, String(n), 'EINVAL');
  return n;
}

function checkPageSize(s: string): string {
  if (!/^\d+(KB|MB|GB)$/.test(s)) throw new CgroupError(`invalid hugepage size ${JSON.stringify(s)}: expected like 2MB or 1GB`, undefined, s, 'EINVAL');
  return s;
}

/**
 * v2 `memory.swap.max` from OCI's memory+swap total (runc's ConvertMemorySwapToCgroupV2Value):
 * 0 unset, -1 max, else total − memory; memory unlimited and swap unset → unlimited.
 */
export function v2SwapValue(memorySwap: bigint, memory: bigint): bigint {
  if (memory === -1n && memorySwap === 0n) return -1n;
  if (memorySwap === -1n || memorySwap === 0n) return memorySwap;
  if (memory === 0n || memory === -1n) throw new CgroupError('cannot set a memory+swap limit without a memory limit', undefined, String(memorySwap), 'EINVAL');
  if (memorySwap < memory) throw new CgroupError(`invalid memory+swap limit ${memorySwap}: below the memory limit ${memory}`, undefined, String(memorySwap), 'EINVAL');
  return memorySwap - memory;
}

/** v1 cpu.shares → v2 cpu.weight with runc's linear formula: 2..262144 → 1..10000 */
export function cpuSharesToWeight(shares: bigint): bigint {
  if (shares === 0n) return 0n;
  if (shares < 2n) shares = 2n;
  if (shares > 262144n) shares = 262144n;
  return 1n + ((shares - 2n) * 9999n) / 262142n;
}

/** v1 blkio.weight (10..1000) → v2 io.weight (1..10000), runc's conversion */
export function blkioWeightToIoWeight(w: number): number {
  return 1 + Math.floor(((w - 10) * 9999) / 990);
}

/** `c 1:3 rwm`, `a *:* rwm` (the devices.allow/deny syntax) */
export function deviceRuleString(r: DeviceRule): string {
  const type = r.type ?? 'a';
  if (!['a', 'b', 'c'].includes(type)) throw new CgroupError(`invalid device type ${JSON.stringify(type)}: a, b or c`, undefined, type, 'EINVAL');
  const access = r.access ?? 'rwm';
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) throw new CgroupError(`invalid device access ${JSON.stringify(access)}: some of rwm`, undefined, access, 'EINVAL');
  const num = (n: number | null | undefined, what: string): string => {
    if (n === undefined || n === null || n === -1) return '*';
    if (!Number.isInteger(n) || n < 0 || n > 0xfffff) throw new CgroupError(`invalid device ${what} ${n}`, undefined, String(n), 'EINVAL');
    return String(n);
  };
  return `${type} ${num(r.major, 'major')}:${num(r.minor, 'minor')} ${access}`;
}

/** a rule list that leaves every device allowed needs no device program */
function allowsEverything(rules: DeviceRule[]): boolean {
  const last = rules[rules.length - 1]!;
  return rules.every((r) => r.allow) && (last.type ?? 'a') === 'a' && (last.access ?? 'rwm').length === 3;
}

export function parseFreezerState(text: string, path: string): FreezerState {
  const t = text.trim();
  if (t === 'THAWED' || t === 'FREEZING' || t === 'FROZEN') return t;
  throw new CgroupError(`cannot parse ${path}: ${JSON.stringify(t.slice(0, 40))}`, path, undefined, undefined);
}

function eventsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = v;
  }
  return out;
}
