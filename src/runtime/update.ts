/**
 * Pure pieces of `runc update`, `runc events --stats` and `runc features`: the command line (or a
 * JSON resources object) → the cgroup manager's input; hostscope's cgroup stats → runc's stats
 * shape; the features document.
 */
import type { CgroupResources, Int64 } from '../cgroup/manager.js';
import type { CgroupStats } from '../cgroup/stats.js';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from './json.js';
import { RUNC_SPEC_VERSION } from './spec-default.js';
import { RuntimeError } from './container.js';

const UNITS: Record<string, bigint> = { '': 1n, b: 1n, k: 1024n, kb: 1024n, kib: 1024n, m: 1n << 20n, mb: 1n << 20n, mib: 1n << 20n, g: 1n << 30n, gb: 1n << 30n, gib: 1n << 30n, t: 1n << 40n, tb: 1n << 40n, tib: 1n << 40n };

/** docker's units.RAMInBytes as runc update reads --memory: an integer with an optional binary suffix; -1 unlimited */
export function parseBytes(v: string, flag: string): bigint {
  if (v === '-1') return -1n;
  const m = /^(\d{1,19})\s*([a-zA-Z]*)$/.exec(v);
  const mult = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || mult === undefined) throw new RuntimeError(`invalid value for ${flag}: ${JSON.stringify(v)}`);
  const n = BigInt(m[1]!) * mult;
  if (n > (1n << 63n) - 1n) throw new RuntimeError(`invalid value for ${flag}: ${JSON.stringify(v)} is too large`);
  return n;
}

function parseInt64(v: string, flag: string, min: bigint): bigint {
  if (!/^-?\d{1,19}$/.test(v)) throw new RuntimeError(`invalid value for ${flag}: ${JSON.stringify(v)}`);
  const n = BigInt(v);
  if (n < min || n > (1n << 63n) - 1n) throw new RuntimeError(`invalid value for ${flag}: ${JSON.stringify(v)}`);
  return n;
}

function cpuList(v: string, flag: string): string {
  if (!/^[0-9,-]{1,256}$/.test(v)) throw new RuntimeError(`invalid value for ${flag}: ${JSON.stringify(v)}`);
  return v;
}

function num(o: JsonObject, key: string, where: string, min: bigint): bigint | undefined {
  const v: JsonValue | undefined = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' && typeof v !== 'bigint') throw new RuntimeError(`${where}.${key}: must be an integer`);
  if (typeof v === 'number' && !Number.isInteger(v)) throw new RuntimeError(`${where}.${key}: must be an integer`);
  const b = BigInt(v);
  if (b < min) throw new RuntimeError(`${where}.${key}: must be at least ${min}`);
  return b;
}

function onlyKeys(o: JsonObject, keys: string[], where: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new RuntimeError(`${where}.${k}: not supported by runc-ts update`);
}

/** a JSON resources object (runc update -r): memory, cpu, pids; anything else refused by name */
function resourcesFromJson(text: string): CgroupResources {
  let v: JsonValue;
  try {
    v = parseJson(text, { maxSize: 1 << 20, maxDepth: 16 });
  } catch (e) {
    throw new RuntimeError(`resources: ${(e as Error).message}`);
  }
  if (!isJsonObject(v)) throw new RuntimeError('resources: must be a JSON object');
  onlyKeys(v, ['memory', 'cpu', 'pids', 'blockIO'], 'resources');
  const r: CgroupResources = {};
  const mem = v.memory;
  if (mem !== undefined && mem !== null) {
    if (!isJsonObject(mem)) throw new RuntimeError('resources.memory: must be an object');
    onlyKeys(mem, ['limit', 'reservation', 'swap'], 'resources.memory');
    r.memory = {};
    for (const k of ['limit', 'reservation', 'swap'] as const) {
      const n = num(mem, k, 'resources.memory', -1n);
      if (n !== undefined) r.memory[k] = n;
    }
  }
  const cpu = v.cpu;
  if (cpu !== undefined && cpu !== null) {
    if (!isJsonObject(cpu)) throw new RuntimeError('resources.cpu: must be an object');
    onlyKeys(cpu, ['shares', 'quota', 'period', 'cpus', 'mems'], 'resources.cpu');
    r.cpu = {};
    for (const k of ['shares', 'quota', 'period'] as const) {
      const n = num(cpu, k, 'resources.cpu', k === 'quota' ? -1n : 0n);
      if (n !== undefined) r.cpu[k] = n;
    }
    for (const k of ['cpus', 'mems'] as const) {
      const s = cpu[k];
      if (s === undefined || s === null || s === '') continue;
      if (typeof s !== 'string') throw new RuntimeError(`resources.cpu.${k}: must be a string`);
      r.cpu[k] = cpuList(s, `resources.cpu.${k}`);
    }
  }
  const pids = v.pids;
  if (pids !== undefined && pids !== null) {
    if (!isJsonObject(pids)) throw new RuntimeError('resources.pids: must be an object');
    onlyKeys(pids, ['limit'], 'resources.pids');
    const n = num(pids, 'limit', 'resources.pids', -1n);
    if (n !== undefined) r.pids = { limit: n };
  }
  if (v.blockIO !== undefined && v.blockIO !== null) throw new RuntimeError('resources.blockIO: not supported by runc-ts update');
  return r;
}

/** runc update's flags (they override the -r object, as in runc) → the manager's input */
export function updateResourcesOf(flags: Map<string, string>, jsonText: string | undefined): CgroupResources {
  const r: CgroupResources = jsonText !== undefined ? resourcesFromJson(jsonText) : {};
  const f = (k: string) => flags.get(k);
  const set = <T extends object>(o: T | undefined): T => o ?? ({} as T);
  if (f('--memory') !== undefined) (r.memory = set(r.memory)).limit = parseBytes(f('--memory')!, 'memory');
  if (f('--memory-swap') !== undefined) (r.memory = set(r.memory)).swap = parseBytes(f('--memory-swap')!, 'memory-swap');
  if (f('--memory-reservation') !== undefined) (r.memory = set(r.memory)).reservation = parseBytes(f('--memory-reservation')!, 'memory-reservation');
  if (f('--pids-limit') !== undefined) r.pids = { limit: parseInt64(f('--pids-limit')!, 'pids-limit', -1n) };
  if (f('--cpu-quota') !== undefined) (r.cpu = set(r.cpu)).quota = parseInt64(f('--cpu-quota')!, 'cpu-quota', -1n);
  if (f('--cpu-period') !== undefined) (r.cpu = set(r.cpu)).period = parseInt64(f('--cpu-period')!, 'cpu-period', 0n);
  if (f('--cpu-share') !== undefined) (r.cpu = set(r.cpu)).shares = parseInt64(f('--cpu-share')!, 'cpu-share', 0n);
  if (f('--cpuset-cpus') !== undefined) (r.cpu = set(r.cpu)).cpus = cpuList(f('--cpuset-cpus')!, 'cpuset-cpus');
  if (f('--cpuset-mems') !== undefined) (r.cpu = set(r.cpu)).mems = cpuList(f('--cpuset-mems')!, 'cpuset-mems');
  // runc: a memory limit above the current swap limit must raise swap first; the manager orders
  // v1 writes (limit vs memsw) itself
  const toNum = (x: Int64 | undefined) => (x === undefined ? undefined : BigInt(x));
  const m = r.memory;
  if (m && toNum(m.swap) !== undefined && toNum(m.limit) !== undefined && toNum(m.swap)! >= 0n && toNum(m.limit)! > toNum(m.swap)!) throw new RuntimeError('memory-swap must be greater than or equal to memory');
  return r;
}

/** runc's types.Stats (libcontainer/cgroups stats, as `runc events --stats` prints it), from our readers */
export function runcStatsData(st: CgroupStats): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (st.cpu)
    out.cpu = {
      usage: { total: st.cpu.usageUsec * 1000, ...(st.cpu.userUsec !== undefined ? { user: st.cpu.userUsec * 1000 } : {}), ...(st.cpu.systemUsec !== undefined ? { kernel: st.cpu.systemUsec * 1000 } : {}) },
      throttling: { ...(st.cpu.nrPeriods !== undefined ? { periods: st.cpu.nrPeriods } : {}), ...(st.cpu.nrThrottled !== undefined ? { throttledPeriods: st.cpu.nrThrottled } : {}), ...(st.cpu.throttledUsec !== undefined ? { throttledTime: st.cpu.throttledUsec * 1000 } : {}) },
    };
  if (st.memory)
    out.memory = {
      usage: { usage: st.memory.usageBytes, ...(st.memory.limitBytes !== null ? { limit: st.memory.limitBytes } : {}), ...(st.memory.limitHits !== undefined ? { failcnt: st.memory.limitHits } : {}) },
      ...(st.memory.swapBytes !== undefined ? { swap: { usage: st.memory.swapBytes } } : {}),
      raw: {
        ...(st.memory.anonBytes !== undefined ? { anon: st.memory.anonBytes } : {}),
        ...(st.memory.fileBytes !== undefined ? { file: st.memory.fileBytes } : {}),
        ...(st.memory.inactiveFileBytes !== undefined ? { inactive_file: st.memory.inactiveFileBytes } : {}),
        ...(st.memory.oomKills !== undefined ? { oom_kill: st.memory.oomKills } : {}),
      },
    };
  if (st.pids) out.pids = { current: st.pids.current, ...(st.pids.max !== null ? { limit: st.pids.max } : {}) };
  if (st.io) out.blkio = { ioServiceBytesRecursive: [{ op: 'Read', value: st.io.readBytes }, { op: 'Write', value: st.io.writeBytes }], ioServicedRecursive: [{ op: 'Read', value: st.io.readOps }, { op: 'Write', value: st.io.writeOps }] };
  return out;
}

/** runc features (runtime-spec features.md shape), listing what runc-ts applies */
export function featuresDocument(): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: RUNC_SPEC_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: ['async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'mand', 'noatime', 'nodev', 'nodiratime', 'noexec', 'nomand', 'norelatime', 'nostrictatime', 'nosuid', 'private', 'rbind', 'relatime', 'remount', 'ro', 'rprivate', 'rshared', 'rslave', 'runbindable', 'rw', 'shared', 'slave', 'strictatime', 'suid', 'sync', 'unbindable'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: [],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: true, actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'], operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'], archs: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'] },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { 'org.opencontainers.runc.version': 'runc-ts', 'org.opencontainers.runc.checkpoint.enabled': 'false' },
  };
}
