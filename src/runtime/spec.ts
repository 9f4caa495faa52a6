/**
 * config.json of an OCI bundle (runtime-spec 1.x, config.md and config-linux.md): read and
 * validated by hand into typed data. Pure: the caller reads the file (bounded) and says what the
 * host offers (LSMs). Rules:
 * - every error is one line naming the JSON path: `config.json: process.cwd: must be an absolute path`;
 * - a field that is unknown or unsupported and would weaken isolation if ignored is an error
 *   naming it (`linux.intelRdt is not supported`); top-level unknowns (other platforms'
 *   sections, extensions) are ignored as runc ignores them; fields we know and do not apply but
 *   which cannot weaken isolation (process.ioPriority …) give a warning;
 * - text from the file reaches messages with control bytes escaped.
 */
import { encodeBytes, isWellFormed } from '../parse/text.js';
import { escapeControl } from '../render/escape.js';
import { CAPABILITIES } from '../parse/capabilities.js';
import { DEFAULT_JSON_LIMITS, isJsonObject, JsonError, jsonPathJoin, parseJson, type JsonObject, type JsonValue } from './json.js';

export class SpecError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly file = 'config.json',
  ) {
    super(`${file}: ${path === '' ? '' : `${path}: `}${reason}`);
    this.name = 'SpecError';
  }
}

/** config.json larger than this is refused before parsing (runc's own default config is 2.5 KiB; a docker seccomp profile ~30 KiB) */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// the validated shape

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';
export const NAMESPACE_TYPES: readonly NamespaceType[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}
export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options: string[];
}
export interface Rlimit {
  type: RlimitName;
  /** -1 is RLIM_INFINITY (18446744073709551615 in the file) */
  soft: number;
  hard: number;
}
export interface Capabilities {
  bounding: string[];
  effective: string[];
  inheritable: string[];
  permitted: string[];
  ambient: string[];
}
export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids: number[];
}
export interface Process {
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  user: User;
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits: Rlimit[];
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
}
export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}
export const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookKind = (typeof HOOK_KINDS)[number];
export type Hooks = Partial<Record<HookKind, Hook[]>>;

export interface Device {
  type: 'c' | 'b' | 'u' | 'p';
  path: string;
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}
export interface DeviceRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}
export interface Resources {
  devices?: DeviceRule[];
  memory?: {
    limit?: number;
    reservation?: number;
    swap?: number;
    kernel?: number;
    kernelTCP?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
    useHierarchy?: boolean;
    checkBeforeUpdate?: boolean;
  };
  cpu?: {
    shares?: number;
    quota?: number;
    burst?: number;
    period?: number;
    realtimeRuntime?: number;
    realtimePeriod?: number;
    cpus?: string;
    mems?: string;
    idle?: number;
  };
  pids?: { limit: number };
  blockIO?: {
    weight?: number;
    leafWeight?: number;
    weightDevice?: { major: number; minor: number; weight?: number; leafWeight?: number }[];
    throttleReadBpsDevice?: { major: number; minor: number; rate: number }[];
    throttleWriteBpsDevice?: { major: number; minor: number; rate: number }[];
    throttleReadIOPSDevice?: { major: number; minor: number; rate: number }[];
    throttleWriteIOPSDevice?: { major: number; minor: number; rate: number }[];
  };
}
export interface SeccompArg {
  index: number;
  value: bigint;
  valueTwo: bigint;
  op: string;
}
export interface SeccompSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args: SeccompArg[];
}
export interface Seccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  flags: string[];
  syscalls: SeccompSyscall[];
}
export interface Linux {
  namespaces: { type: NamespaceType; path?: string }[];
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
  devices: Device[];
  cgroupsPath?: string;
  resources?: Resources;
  rootfsPropagation?: string;
  sysctl: Record<string, string>;
  maskedPaths: string[];
  readonlyPaths: string[];
  seccomp?: Seccomp;
}
export interface Spec {
  ociVersion: string;
  root: { path: string; readonly: boolean };
  process?: Process;
  hostname?: string;
  domainname?: string;
  mounts: Mount[];
  hooks: Hooks;
  annotations: Record<string, string>;
  linux: Linux;
}

export interface HostFacts {
  apparmor: boolean;
  selinux: boolean;
}

export interface ParsedSpec {
  spec: Spec;
  /** fields read but not applied because ignoring them cannot weaken isolation */
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// tables

export const RLIMITS = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
} as const;
export type RlimitName = keyof typeof RLIMITS;

/** capability names as OCI spells them, CAP_CHOWN … CAP_CHECKPOINT_RESTORE → bit */
export const CAP_BITS: ReadonlyMap<string, number> = new Map(CAPABILITIES.map((c) => [c.name.toUpperCase(), c.bit]));

/** mount(2) flags, linux/mount.h */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

/** runc's mountFlags table (libcontainer/specconv): option → [clear, flag] */
export const MOUNT_FLAG_OPTIONS: Readonly<Record<string, { clear: boolean; flag: number }>> = {
  async: { clear: true, flag: MS.SYNCHRONOUS },
  atime: { clear: true, flag: MS.NOATIME },
  bind: { clear: false, flag: MS.BIND },
  defaults: { clear: false, flag: 0 },
  dev: { clear: true, flag: MS.NODEV },
  diratime: { clear: true, flag: MS.NODIRATIME },
  dirsync: { clear: false, flag: MS.DIRSYNC },
  exec: { clear: true, flag: MS.NOEXEC },
  iversion: { clear: false, flag: 0x800000 },
  lazytime: { clear: false, flag: MS.LAZYTIME },
  loud: { clear: true, flag: MS.SILENT },
  mand: { clear: false, flag: MS.MANDLOCK },
  noatime: { clear: false, flag: MS.NOATIME },
  nodev: { clear: false, flag: MS.NODEV },
  nodiratime: { clear: false, flag: MS.NODIRATIME },
  noexec: { clear: false, flag: MS.NOEXEC },
  noiversion: { clear: true, flag: 0x800000 },
  nolazytime: { clear: true, flag: MS.LAZYTIME },
  nomand: { clear: true, flag: MS.MANDLOCK },
  norelatime: { clear: true, flag: MS.RELATIME },
  nostrictatime: { clear: true, flag: MS.STRICTATIME },
  nosuid: { clear: false, flag: MS.NOSUID },
  nosymfollow: { clear: false, flag: MS.NOSYMFOLLOW },
  rbind: { clear: false, flag: MS.BIND | MS.REC },
  relatime: { clear: false, flag: MS.RELATIME },
  remount: { clear: false, flag: MS.REMOUNT },
  ro: { clear: false, flag: MS.RDONLY },
  rw: { clear: true, flag: MS.RDONLY },
  silent: { clear: false, flag: MS.SILENT },
  strictatime: { clear: false, flag: MS.STRICTATIME },
  suid: { clear: true, flag: MS.NOSUID },
  symfollow: { clear: true, flag: MS.NOSYMFOLLOW },
  sync: { clear: false, flag: MS.SYNCHRONOUS },
};

/** propagation options (runc's mountPropagationMapping) */
export const PROPAGATION_OPTIONS: Readonly<Record<string, number>> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/**
 * Recursive attributes (mount_setattr(2) with AT_RECURSIVE, runtime-spec 1.1). The native layer
 * has no mount_setattr step: ignoring `rro` would leave submounts writable, so each is refused
 * by name.
 */
export const RECURSIVE_OPTIONS = [
  'rro', 'rrw', 'rnosuid', 'rsuid', 'rnodev', 'rdev', 'rnoexec', 'rexec', 'rnodiratime', 'rdiratime',
  'rrelatime', 'rnorelatime', 'rnoatime', 'ratime', 'rstrictatime', 'rnostrictatime', 'rnosymfollow', 'rsymfollow',
] as const;

/** mount options that need kernel features we do not drive yet */
const UNSUPPORTED_MOUNT_OPTIONS = new Set(['idmap', 'ridmap', ...RECURSIVE_OPTIONS]);

/** sysctls in the IPC namespace (runc's validSysctlMap) */
export const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** files under /proc a bind may cover (lxcfs's, runc's checkProcMount allowlist); anything else under /proc is refused */
export const PROC_BIND_ALLOWED = new Set([
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
]);

export const SECCOMP_ACTIONS = new Set([
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
]);
export const SECCOMP_OPS = new Set(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);
export const SECCOMP_ARCHES = new Set([
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
]);
export const SECCOMP_FLAGS = new Set(['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']);

export const PROPAGATIONS = new Set(['', 'private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable']);

/** the kernel takes at most 340 lines in uid_map/gid_map (since 4.15) */
export const MAX_ID_MAP_LINES = 340;
const U32 = 0xffffffff;
const U64_MAX = 18446744073709551615n;

// ---------------------------------------------------------------------------------------------
// readers: each takes the value and its path and returns typed data or throws SpecError

type Path = string;
const q = (s: string): string => escapeControl(JSON.stringify(s));

function fail(path: Path, reason: string): never {
  throw new SpecError(path, reason);
}
function kind(v: JsonValue | undefined): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'bigint') return 'a number';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}
function obj(v: JsonValue | undefined, path: Path): JsonObject {
  if (!isJsonObject(v)) fail(path, `must be an object, not ${kind(v)}`);
  return v;
}
function arr(v: JsonValue | undefined, path: Path): JsonValue[] {
  if (!Array.isArray(v)) fail(path, `must be an array, not ${kind(v)}`);
  return v;
}
function str(v: JsonValue | undefined, path: Path): string {
  if (typeof v !== 'string') fail(path, `must be a string, not ${kind(v)}`);
  // a NUL would cut the string where the kernel reads it: "/a\0/../../x" is "/a" to mount(2)
  if (v.includes('\0')) fail(path, 'contains a NUL byte');
  // "\udcff" (JSON's way to say the byte 0xff: hostscope run writes such arguments) is passed on
  // as that byte; any other lone surrogate stands for no byte and would reach the kernel as nothing
  if (!isWellFormed(v)) {
    try {
      encodeBytes(v);
    } catch {
      fail(path, 'holds a lone surrogate that stands for no byte (only \\udc80-\\udcff, the bytes 0x80-0xff, can be passed)');
    }
  }
  return v;
}
function bool(v: JsonValue | undefined, path: Path): boolean {
  if (typeof v !== 'boolean') fail(path, `must be true or false, not ${kind(v)}`);
  return v;
}
function int(v: JsonValue | undefined, path: Path, min: number, max: number, what = 'an integer'): number {
  if (typeof v === 'bigint') fail(path, `${v} is beyond 2^53`);
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, `must be ${what}, not ${typeof v === 'number' ? v : kind(v)}`);
  if (v < min || v > max) fail(path, `${v} is out of range ${min}..${max}`);
  return v;
}
const u32 = (v: JsonValue | undefined, path: Path) => int(v, path, 0, U32, 'an unsigned 32-bit integer');
/** a uid or gid given to setresuid/setgroups/chown: 4294967295 is (uid_t)-1, "leave unchanged", never an id */
const id32 = (v: JsonValue | undefined, path: Path) => int(v, path, 0, U32 - 1, 'an id from 0 to 4294967294 (4294967295 is the kernel\'s "no id")');
/**
 * more mounts (and as many masked paths, read-only paths, devices) than this cannot fit the
 * native runner's step list (MAX_STEPS: a few steps each): refused while validating, before
 * anything is made
 */
export const MAX_MOUNTS = 512;

/** a list of mounts, paths or devices, refused past MAX_MOUNTS */
function capped<T>(list: T[], path: Path, what: string): T[] {
  if (list.length > MAX_MOUNTS) fail(path, `${list.length} ${what}: runc-ts sets up at most ${MAX_MOUNTS}`);
  return list;
}
/** hooks of one kind at most (each is a fork and exec, in order, before the container can go on) */
export const MAX_HOOKS = 64;
const i64 = (v: JsonValue | undefined, path: Path) => int(v, path, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
const u64 = (v: JsonValue | undefined, path: Path) => int(v, path, 0, Number.MAX_SAFE_INTEGER, 'an unsigned integer');
function u64Big(v: JsonValue | undefined, path: Path): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n || v > U64_MAX) fail(path, `${v} is out of range 0..${U64_MAX}`);
    return v;
  }
  return BigInt(int(v, path, 0, Number.MAX_SAFE_INTEGER, 'an unsigned integer'));
}
function strings(v: JsonValue | undefined, path: Path): string[] {
  return arr(v, path).map((x, i) => str(x, jsonPathJoin(path, i)));
}
function absPath(v: JsonValue | undefined, path: Path): string {
  const s = str(v, path);
  if (!s.startsWith('/')) fail(path, `${q(s)} must be an absolute path`);
  return s;
}
function oneOf<T extends string>(v: JsonValue | undefined, path: Path, allowed: ReadonlySet<string> | readonly string[]): T {
  const s = str(v, path);
  const ok = Array.isArray(allowed) ? allowed.includes(s) : (allowed as ReadonlySet<string>).has(s);
  if (!ok) fail(path, `unknown value ${q(s)}`);
  return s as T;
}

/**
 * Keys of an object section: `known` are read by the caller; `unsupported` are refused by name
 * (ignoring them would weaken isolation); `ignored` give a warning; anything else is refused in a
 * strict section (where a future field could be a security setting) and ignored otherwise.
 */
function keys(
  o: JsonObject,
  path: Path,
  known: readonly string[],
  opts: { strict: boolean; unsupported?: readonly string[]; ignored?: readonly string[]; warnings?: string[] },
): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue;
    const p = jsonPathJoin(path, k);
    if (o[k] === null) continue; // an explicit null is the field left out (Go's json does the same)
    if (opts.unsupported?.includes(k)) throw new SpecError('', `${p} is not supported`);
    if (opts.ignored?.includes(k)) {
      opts.warnings?.push(`${p} is ignored`);
      continue;
    }
    if (opts.strict) throw new SpecError('', `${escapeControl(p)} is not supported (unknown field)`);
  }
}

const get = (o: JsonObject, k: string): JsonValue | undefined => (o[k] === null ? undefined : o[k]);

// ---------------------------------------------------------------------------------------------

export function parseSpecText(text: string, host: HostFacts, file = 'config.json'): ParsedSpec {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) throw new SpecError('', `larger than ${MAX_CONFIG_BYTES} bytes`, file);
  let v: JsonValue;
  try {
    v = parseJson(text, { ...DEFAULT_JSON_LIMITS, maxSize: MAX_CONFIG_BYTES });
  } catch (e) {
    if (e instanceof JsonError) throw new SpecError('', `invalid JSON: ${e.message}`, file);
    throw e;
  }
  try {
    return validateSpec(v, host);
  } catch (e) {
    if (e instanceof SpecError && file !== 'config.json') throw new SpecError(e.path, e.reason, file);
    throw e;
  }
}

export function validateSpec(v: JsonValue, host: HostFacts): ParsedSpec {
  const warnings: string[] = [];
  const top = obj(v, '');
  keys(top, '', ['ociVersion', 'root', 'process', 'hostname', 'domainname', 'mounts', 'hooks', 'annotations', 'linux'], { strict: false });

  const ociVersion = str(top.ociVersion, 'ociVersion');
  if (!/^1\.[0-9]+\.[0-9]+(-[0-9A-Za-z.+-]+)?$/.test(ociVersion)) fail('ociVersion', `${q(ociVersion)} is not a 1.x version`);

  const rootO = obj(top.root, 'root');
  keys(rootO, 'root', ['path', 'readonly'], { strict: true });
  const rootPath = str(rootO.path, 'root.path');
  if (rootPath === '') fail('root.path', 'must not be empty');
  const root = { path: rootPath, readonly: get(rootO, 'readonly') === undefined ? false : bool(rootO.readonly, 'root.readonly') };

  const process = get(top, 'process') === undefined ? undefined : readProcess(obj(top.process, 'process'), host, warnings);
  const linuxV = get(top, 'linux');
  const linux = readLinux(linuxV === undefined ? (Object.create(null) as JsonObject) : obj(linuxV, 'linux'), host, warnings);
  const mounts = get(top, 'mounts') === undefined ? [] : capped(arr(top.mounts, 'mounts'), 'mounts', 'mounts').map((m, i) => readMount(m, jsonPathJoin('mounts', i)));
  const hooks = get(top, 'hooks') === undefined ? {} : readHooks(obj(top.hooks, 'hooks'), warnings);
  const annotations: Record<string, string> = Object.create(null) as Record<string, string>;
  if (get(top, 'annotations') !== undefined) {
    const a = obj(top.annotations, 'annotations');
    for (const k of Object.keys(a)) annotations[k] = str(a[k], jsonPathJoin('annotations', k));
  }

  const has = (t: NamespaceType) => linux.namespaces.some((n) => n.type === t);
  const newNs = (t: NamespaceType) => linux.namespaces.some((n) => n.type === t && n.path === undefined);
  let hostname: string | undefined;
  let domainname: string | undefined;
  if (get(top, 'hostname') !== undefined) {
    hostname = str(top.hostname, 'hostname');
    if (hostname !== '' && !has('uts')) fail('hostname', 'cannot be set without a private UTS namespace');
    if (Buffer.byteLength(hostname) > 64) fail('hostname', 'longer than 64 bytes');
  }
  if (get(top, 'domainname') !== undefined) {
    domainname = str(top.domainname, 'domainname');
    if (domainname !== '' && !has('uts')) fail('domainname', 'cannot be set without a private UTS namespace');
    if (Buffer.byteLength(domainname) > 64) fail('domainname', 'longer than 64 bytes');
  }

  // sysctls: only namespaced ones, each in a namespace of the container's own (runc's validator)
  for (const [k] of Object.entries(linux.sysctl)) {
    const p = jsonPathJoin('linux.sysctl', k);
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_:@+-]+)+$/.test(k)) fail(p, 'not a sysctl name (dot-separated words, no "/" or "..")');
    if (IPC_SYSCTLS.has(k) || k.startsWith('fs.mqueue.')) {
      if (!has('ipc')) fail(p, "not allowed in the host's IPC namespace");
      continue;
    }
    if (k.startsWith('net.')) {
      if (!has('network')) fail(p, "not allowed in the host's network namespace");
      continue;
    }
    if (has('uts') && k === 'kernel.domainname') continue;
    if (has('uts') && k === 'kernel.hostname') fail(p, 'conflicts with the hostname field');
    fail(p, 'not in a separate kernel namespace');
  }

  // user namespace and id mappings
  const userNew = newNs('user');
  if (userNew && (linux.uidMappings.length === 0 || linux.gidMappings.length === 0))
    fail(linux.uidMappings.length === 0 ? 'linux.uidMappings' : 'linux.gidMappings', 'required with a new user namespace');
  if (!has('user') && (linux.uidMappings.length > 0 || linux.gidMappings.length > 0))
    fail(linux.uidMappings.length > 0 ? 'linux.uidMappings' : 'linux.gidMappings', 'set without a user namespace');
  if (has('user') && !userNew && (linux.uidMappings.length > 0 || linux.gidMappings.length > 0))
    fail(linux.uidMappings.length > 0 ? 'linux.uidMappings' : 'linux.gidMappings', 'cannot be set when joining a user namespace by path');
  if (userNew && process) {
    const inMap = (maps: IdMapping[], id: number) => maps.some((m) => id >= m.containerID && id - m.containerID < m.size);
    if (!inMap(linux.uidMappings, process.user.uid)) fail('process.user.uid', `${process.user.uid} is not mapped by linux.uidMappings`);
    if (!inMap(linux.gidMappings, process.user.gid)) fail('process.user.gid', `${process.user.gid} is not mapped by linux.gidMappings`);
    process.user.additionalGids.forEach((g, i) => {
      if (!inMap(linux.gidMappings, g)) fail(`process.user.additionalGids[${i}]`, `${g} is not mapped by linux.gidMappings`);
    });
  }
  if (linux.rootfsPropagation !== undefined && linux.rootfsPropagation !== '' && !has('mount'))
    fail('linux.rootfsPropagation', 'needs a mount namespace');
  if (!has('mount') && (mounts.length > 0 || linux.maskedPaths.length > 0 || linux.readonlyPaths.length > 0))
    fail('linux.namespaces', 'mounts, maskedPaths and readonlyPaths need a mount namespace (none requested)');
  // runc: cgroup namespaces need cgroup v2 or a host that has them; the kernel checks that

  return {
    spec: { ociVersion, root, ...(process ? { process } : {}), ...(hostname !== undefined ? { hostname } : {}), ...(domainname !== undefined ? { domainname } : {}), mounts, hooks, annotations, linux },
    warnings,
  };
}

function readProcess(p: JsonObject, host: HostFacts, warnings: string[]): Process {
  keys(p, 'process', ['terminal', 'consoleSize', 'user', 'args', 'env', 'cwd', 'capabilities', 'rlimits', 'noNewPrivileges', 'oomScoreAdj', 'apparmorProfile', 'selinuxLabel', 'commandLine'], {
    strict: true,
    ignored: ['ioPriority', 'scheduler', 'execCPUAffinity'],
    warnings,
  });
  for (const [k, lsm, on] of [
    ['apparmorProfile', 'AppArmor', host.apparmor],
    ['selinuxLabel', 'SELinux', host.selinux],
  ] as const) {
    const v = get(p, k);
    if (v === undefined) continue;
    const s = str(v, `process.${k}`);
    if (s === '') continue;
    if (!on) fail(`process.${k}`, `${lsm} is not enabled on this host`);
    fail(`process.${k}`, `${lsm} labels are not supported by runc-ts (the label would not be applied)`);
  }
  if (get(p, 'commandLine') !== undefined) fail('process.commandLine', 'is for Windows');
  const terminal = get(p, 'terminal') === undefined ? false : bool(p.terminal, 'process.terminal');
  let consoleSize: Process['consoleSize'];
  if (get(p, 'consoleSize') !== undefined) {
    const c = obj(p.consoleSize, 'process.consoleSize');
    keys(c, 'process.consoleSize', ['height', 'width'], { strict: false });
    consoleSize = { height: int(c.height, 'process.consoleSize.height', 0, 0xffff), width: int(c.width, 'process.consoleSize.width', 0, 0xffff) };
  }
  const uo = obj(p.user, 'process.user');
  keys(uo, 'process.user', ['uid', 'gid', 'umask', 'additionalGids', 'username'], { strict: true });
  const user: User = {
    uid: id32(uo.uid, 'process.user.uid'),
    gid: id32(uo.gid, 'process.user.gid'),
    additionalGids: get(uo, 'additionalGids') === undefined ? [] : arr(uo.additionalGids, 'process.user.additionalGids').map((g, i) => id32(g, `process.user.additionalGids[${i}]`)),
  };
  if (get(uo, 'umask') !== undefined) user.umask = int(uo.umask, 'process.user.umask', 0, 0o777);
  const args = strings(p.args, 'process.args');
  if (args.length === 0) fail('process.args', 'must not be empty');
  if (args[0] === '') fail('process.args[0]', 'must not be empty');
  const env = get(p, 'env') === undefined ? [] : strings(p.env, 'process.env');
  env.forEach((e, i) => {
    if (!e.includes('=') || e.startsWith('=')) fail(`process.env[${i}]`, `${q(e)} is not NAME=VALUE`);
  });
  const cwd = absPath(p.cwd, 'process.cwd');
  let capabilities: Capabilities | undefined;
  if (get(p, 'capabilities') !== undefined) {
    const c = obj(p.capabilities, 'process.capabilities');
    const sets = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;
    keys(c, 'process.capabilities', sets, { strict: true });
    capabilities = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
    for (const s of sets) {
      if (get(c, s) === undefined) continue;
      const list = strings(c[s], `process.capabilities.${s}`);
      list.forEach((name, i) => {
        if (!CAP_BITS.has(name)) fail(`process.capabilities.${s}[${i}]`, `unknown capability ${q(name)}`);
      });
      capabilities[s] = [...new Set(list)];
    }
  }
  const rlimits: Rlimit[] = [];
  if (get(p, 'rlimits') !== undefined) {
    arr(p.rlimits, 'process.rlimits').forEach((r, i) => {
      const path = `process.rlimits[${i}]`;
      const o = obj(r, path);
      keys(o, path, ['type', 'soft', 'hard'], { strict: true });
      const type = oneOf<RlimitName>(o.type, `${path}.type`, Object.keys(RLIMITS));
      if (rlimits.some((x) => x.type === type)) fail(`${path}.type`, `duplicate rlimit ${type}`);
      const lim = (v: JsonValue | undefined, pp: string): number => {
        const b = u64Big(v, pp);
        if (b === U64_MAX) return -1;
        if (b > BigInt(Number.MAX_SAFE_INTEGER)) fail(pp, `${b} is beyond 2^53 (only 18446744073709551615, RLIM_INFINITY, is taken above)`);
        return Number(b);
      };
      const soft = lim(o.soft, `${path}.soft`);
      const hard = lim(o.hard, `${path}.hard`);
      if (hard !== -1 && (soft === -1 || soft > hard)) fail(path, `soft limit exceeds hard limit for ${type}`);
      rlimits.push({ type, soft, hard });
    });
  }
  const noNewPrivileges = get(p, 'noNewPrivileges') === undefined ? false : bool(p.noNewPrivileges, 'process.noNewPrivileges');
  const out: Process = { terminal, user, args, env, cwd, rlimits, noNewPrivileges };
  if (consoleSize) out.consoleSize = consoleSize;
  if (capabilities) out.capabilities = capabilities;
  if (get(p, 'oomScoreAdj') !== undefined) out.oomScoreAdj = int(p.oomScoreAdj, 'process.oomScoreAdj', -1000, 1000);
  return out;
}

function readMount(v: JsonValue, path: Path): Mount {
  const o = obj(v, path);
  keys(o, path, ['destination', 'type', 'source', 'options'], { strict: true, unsupported: ['uidMappings', 'gidMappings'] });
  const destination = absPath(o.destination, `${path}.destination`);
  const m: Mount = { destination, options: [] };
  if (get(o, 'type') !== undefined) m.type = str(o.type, `${path}.type`);
  if (get(o, 'source') !== undefined) m.source = str(o.source, `${path}.source`);
  if (get(o, 'options') !== undefined) m.options = strings(o.options, `${path}.options`);
  m.options.forEach((opt, i) => {
    if (UNSUPPORTED_MOUNT_OPTIONS.has(opt)) throw new SpecError('', `${path}.options[${i}]: ${q(opt)} is not supported`);
  });
  const clean = cleanPath(destination);
  if (clean === '/') fail(`${path}.destination`, 'cannot mount over the container root');
  if (m.type === 'proc' && clean !== '/proc') fail(`${path}.destination`, `proc may only be mounted on /proc, not ${q(destination)}`);
  if (m.type !== 'proc' && clean.startsWith('/proc/') && !PROC_BIND_ALLOWED.has(clean))
    fail(`${path}.destination`, `${q(destination)} is under /proc and not a file that may be covered (CVE-2019-19921)`);
  const bind = m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind');
  if (bind && (m.source === undefined || m.source === '')) fail(`${path}.source`, 'required for a bind mount');
  return m;
}

/** lexical clean of an absolute path, like Go's filepath.Clean: `//a/./b/../c/` → `/a/c` (never above /) */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

function readHooks(h: JsonObject, warnings: string[]): Hooks {
  keys(h, 'hooks', HOOK_KINDS, { strict: true });
  const out: Hooks = {};
  for (const k of HOOK_KINDS) {
    if (get(h, k) === undefined) continue;
    if (k === 'prestart') warnings.push('hooks.prestart is deprecated (runtime-spec 1.0.2): use createRuntime');
    const list = arr(h[k], `hooks.${k}`);
    if (list.length > MAX_HOOKS) fail(`hooks.${k}`, `${list.length} hooks: runc-ts runs at most ${MAX_HOOKS} of one kind`);
    out[k] = list.map((x, i) => {
      const path = `hooks.${k}[${i}]`;
      const o = obj(x, path);
      keys(o, path, ['path', 'args', 'env', 'timeout'], { strict: true });
      const hook: Hook = { path: absPath(o.path, `${path}.path`) };
      if (get(o, 'args') !== undefined) hook.args = strings(o.args, `${path}.args`);
      if (get(o, 'env') !== undefined) hook.env = strings(o.env, `${path}.env`);
      if (get(o, 'timeout') !== undefined) hook.timeout = int(o.timeout, `${path}.timeout`, 1, 0x7fffffff, 'a positive integer');
      return hook;
    });
  }
  return out;
}

function readIdMappings(v: JsonValue | undefined, path: Path): IdMapping[] {
  if (v === undefined) return [];
  const list = arr(v, path).map((x, i) => {
    const p = `${path}[${i}]`;
    const o = obj(x, p);
    keys(o, p, ['containerID', 'hostID', 'size'], { strict: true });
    const m = { containerID: u32(o.containerID, `${p}.containerID`), hostID: u32(o.hostID, `${p}.hostID`), size: u32(o.size, `${p}.size`) };
    if (m.size === 0) fail(`${p}.size`, 'must be at least 1');
    // no id wraps: the last id of each range must fit in 32 bits (and 4294967295 is the kernel's "no id")
    if (m.containerID + m.size - 1 >= U32) fail(p, `containerID ${m.containerID} + size ${m.size} goes beyond 4294967294`);
    if (m.hostID + m.size - 1 >= U32) fail(p, `hostID ${m.hostID} + size ${m.size} goes beyond 4294967294`);
    return m;
  });
  if (list.length > MAX_ID_MAP_LINES) fail(path, `more than ${MAX_ID_MAP_LINES} ranges`);
  for (let i = 0; i < list.length; i++)
    for (let j = 0; j < i; j++) {
      const a = list[i]!;
      const b = list[j]!;
      const over = (x: number, y: number) => x < y + b.size && y < x + a.size;
      if (over(a.containerID, b.containerID)) fail(`${path}[${i}]`, `container range overlaps ${path}[${j}]`);
      if (over(a.hostID, b.hostID)) fail(`${path}[${i}]`, `host range overlaps ${path}[${j}]`);
    }
  return list;
}

const LINUX_UNSUPPORTED = ['intelRdt', 'personality', 'timeOffsets', 'netDevices', 'memoryPolicy', 'mountLabel'] as const;

function readLinux(l: JsonObject, host: HostFacts, warnings: string[]): Linux {
  const mountLabel = get(l, 'mountLabel');
  if (mountLabel !== undefined && str(mountLabel, 'linux.mountLabel') !== '')
    fail('linux.mountLabel', host.selinux ? 'SELinux labels are not supported by runc-ts (the label would not be applied)' : 'SELinux is not enabled on this host');
  keys(
    l,
    'linux',
    ['namespaces', 'uidMappings', 'gidMappings', 'devices', 'cgroupsPath', 'resources', 'rootfsPropagation', 'sysctl', 'maskedPaths', 'readonlyPaths', 'seccomp', 'mountLabel'],
    { strict: true, unsupported: LINUX_UNSUPPORTED.filter((k) => k !== 'mountLabel') },
  );
  const namespaces: Linux['namespaces'] = [];
  if (get(l, 'namespaces') !== undefined)
    arr(l.namespaces, 'linux.namespaces').forEach((x, i) => {
      const p = `linux.namespaces[${i}]`;
      const o = obj(x, p);
      keys(o, p, ['type', 'path'], { strict: true });
      const type = oneOf<NamespaceType>(o.type, `${p}.type`, NAMESPACE_TYPES);
      if (namespaces.some((n) => n.type === type)) fail(`${p}.type`, `duplicate namespace ${type}`);
      const ns: Linux['namespaces'][number] = { type };
      if (get(o, 'path') !== undefined) {
        const path = absPath(o.path, `${p}.path`);
        if (path !== '') ns.path = path;
      }
      namespaces.push(ns);
    });
  const sysctl: Record<string, string> = Object.create(null) as Record<string, string>;
  if (get(l, 'sysctl') !== undefined) {
    const s = obj(l.sysctl, 'linux.sysctl');
    for (const k of Object.keys(s)) sysctl[k] = str(s[k], jsonPathJoin('linux.sysctl', k));
  }
  const devices = get(l, 'devices') === undefined ? [] : capped(arr(l.devices, 'linux.devices'), 'linux.devices', 'devices').map((d, i) => readDevice(d, `linux.devices[${i}]`));
  const out: Linux = {
    namespaces,
    uidMappings: readIdMappings(get(l, 'uidMappings'), 'linux.uidMappings'),
    gidMappings: readIdMappings(get(l, 'gidMappings'), 'linux.gidMappings'),
    devices,
    sysctl,
    maskedPaths: get(l, 'maskedPaths') === undefined ? [] : capped(arr(l.maskedPaths, 'linux.maskedPaths'), 'linux.maskedPaths', 'paths').map((x, i) => absPath(x, `linux.maskedPaths[${i}]`)),
    readonlyPaths: get(l, 'readonlyPaths') === undefined ? [] : capped(arr(l.readonlyPaths, 'linux.readonlyPaths'), 'linux.readonlyPaths', 'paths').map((x, i) => absPath(x, `linux.readonlyPaths[${i}]`)),
  };
  if (get(l, 'cgroupsPath') !== undefined) {
    const c = str(l.cgroupsPath, 'linux.cgroupsPath');
    if (c.split('/').includes('..')) fail('linux.cgroupsPath', `${q(c)} must not contain ".."`);
    if (c !== '') out.cgroupsPath = c;
  }
  if (get(l, 'rootfsPropagation') !== undefined) out.rootfsPropagation = oneOf(l.rootfsPropagation, 'linux.rootfsPropagation', PROPAGATIONS);
  if (get(l, 'resources') !== undefined) out.resources = readResources(obj(l.resources, 'linux.resources'), warnings);
  if (get(l, 'seccomp') !== undefined) out.seccomp = readSeccomp(obj(l.seccomp, 'linux.seccomp'));
  return out;
}

function readDevice(v: JsonValue, path: Path): Device {
  const o = obj(v, path);
  keys(o, path, ['type', 'path', 'major', 'minor', 'fileMode', 'uid', 'gid'], { strict: true });
  const dpath = absPath(o.path, `${path}.path`);
  const clean = cleanPath(dpath);
  if (!clean.startsWith('/dev/') || clean !== dpath.replace(/\/+$/, '')) fail(`${path}.path`, `${q(dpath)} must be a clean path under /dev`);
  const type = oneOf<Device['type']>(o.type, `${path}.type`, ['c', 'b', 'u', 'p']);
  const d: Device = { type, path: dpath, major: 0, minor: 0 };
  if (type !== 'p') {
    d.major = int(o.major, `${path}.major`, 0, 0xfff);
    d.minor = int(o.minor, `${path}.minor`, 0, 0xfffff);
  } else {
    // runtime-spec: major/minor are REQUIRED unless the type is p — optional, not forbidden; runc
    // ignores them for a fifo (the validation suite's linux_devices gives 8:666). Checked, not used.
    if (get(o, 'major') !== undefined) int(o.major, `${path}.major`, 0, 0xfff);
    if (get(o, 'minor') !== undefined) int(o.minor, `${path}.minor`, 0, 0xfffff);
  }
  if (get(o, 'fileMode') !== undefined) d.fileMode = int(o.fileMode, `${path}.fileMode`, 0, 0o7777);
  if (get(o, 'uid') !== undefined) d.uid = id32(o.uid, `${path}.uid`);
  if (get(o, 'gid') !== undefined) d.gid = id32(o.gid, `${path}.gid`);
  return d;
}

function readResources(r: JsonObject, warnings: string[]): Resources {
  keys(r, 'linux.resources', ['devices', 'memory', 'cpu', 'pids', 'blockIO'], { strict: true, unsupported: ['hugepageLimits', 'network', 'rdma', 'unified'] });
  const out: Resources = {};
  if (get(r, 'devices') !== undefined)
    out.devices = arr(r.devices, 'linux.resources.devices').map((x, i) => {
      const p = `linux.resources.devices[${i}]`;
      const o = obj(x, p);
      keys(o, p, ['allow', 'type', 'major', 'minor', 'access'], { strict: true });
      const d: DeviceRule = { allow: bool(o.allow, `${p}.allow`) };
      if (get(o, 'type') !== undefined) d.type = oneOf<'a' | 'c' | 'b'>(o.type, `${p}.type`, ['a', 'c', 'b']);
      if (get(o, 'major') !== undefined) d.major = int(o.major, `${p}.major`, -1, 0xfff);
      if (get(o, 'minor') !== undefined) d.minor = int(o.minor, `${p}.minor`, -1, 0xfffff);
      if (get(o, 'access') !== undefined) {
        d.access = str(o.access, `${p}.access`);
        if (!/^[rwm]*$/.test(d.access)) fail(`${p}.access`, `${q(d.access)} is not a subset of "rwm"`);
      }
      return d;
    });
  if (get(r, 'memory') !== undefined) {
    const m = obj(r.memory, 'linux.resources.memory');
    keys(m, 'linux.resources.memory', ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate'], { strict: true });
    const mem: NonNullable<Resources['memory']> = {};
    for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP'] as const) {
      if (get(m, k) === undefined) continue;
      mem[k] = int(m[k], `linux.resources.memory.${k}`, -1, Number.MAX_SAFE_INTEGER);
    }
    if (mem.kernel !== undefined) warnings.push('linux.resources.memory.kernel is deprecated and ignored (as runc 1.1 does)');
    if (get(m, 'swappiness') !== undefined) mem.swappiness = int(m.swappiness, 'linux.resources.memory.swappiness', 0, 100);
    for (const k of ['disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate'] as const) if (get(m, k) !== undefined) mem[k] = bool(m[k], `linux.resources.memory.${k}`);
    if (mem.limit !== undefined && mem.limit > 0 && mem.swap !== undefined && mem.swap > 0 && mem.swap < mem.limit)
      fail('linux.resources.memory.swap', `${mem.swap} is below limit ${mem.limit} (swap is memory+swap)`);
    out.memory = mem;
  }
  if (get(r, 'cpu') !== undefined) {
    const c = obj(r.cpu, 'linux.resources.cpu');
    keys(c, 'linux.resources.cpu', ['shares', 'quota', 'burst', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems', 'idle'], { strict: true });
    const cpu: NonNullable<Resources['cpu']> = {};
    if (get(c, 'shares') !== undefined) cpu.shares = u64(c.shares, 'linux.resources.cpu.shares');
    if (get(c, 'quota') !== undefined) cpu.quota = int(c.quota, 'linux.resources.cpu.quota', -1, Number.MAX_SAFE_INTEGER);
    if (get(c, 'burst') !== undefined) cpu.burst = u64(c.burst, 'linux.resources.cpu.burst');
    if (get(c, 'period') !== undefined) cpu.period = u64(c.period, 'linux.resources.cpu.period');
    if (get(c, 'realtimeRuntime') !== undefined) cpu.realtimeRuntime = i64(c.realtimeRuntime, 'linux.resources.cpu.realtimeRuntime');
    if (get(c, 'realtimePeriod') !== undefined) cpu.realtimePeriod = u64(c.realtimePeriod, 'linux.resources.cpu.realtimePeriod');
    for (const k of ['cpus', 'mems'] as const)
      if (get(c, k) !== undefined) {
        const s = str(c[k], `linux.resources.cpu.${k}`);
        if (!/^$|^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/.test(s)) fail(`linux.resources.cpu.${k}`, `${q(s)} is not a list like 0-3,5`);
        cpu[k] = s;
      }
    if (get(c, 'idle') !== undefined) cpu.idle = int(c.idle, 'linux.resources.cpu.idle', 0, 1);
    out.cpu = cpu;
  }
  if (get(r, 'pids') !== undefined) {
    const p = obj(r.pids, 'linux.resources.pids');
    keys(p, 'linux.resources.pids', ['limit'], { strict: true });
    out.pids = { limit: int(p.limit, 'linux.resources.pids.limit', -1, Number.MAX_SAFE_INTEGER) };
  }
  if (get(r, 'blockIO') !== undefined) {
    const b = obj(r.blockIO, 'linux.resources.blockIO');
    const throttles = ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const;
    keys(b, 'linux.resources.blockIO', ['weight', 'leafWeight', 'weightDevice', ...throttles], { strict: true });
    const bio: NonNullable<Resources['blockIO']> = {};
    if (get(b, 'weight') !== undefined) bio.weight = int(b.weight, 'linux.resources.blockIO.weight', 0, 1000);
    if (get(b, 'leafWeight') !== undefined) bio.leafWeight = int(b.leafWeight, 'linux.resources.blockIO.leafWeight', 0, 1000);
    if (get(b, 'weightDevice') !== undefined)
      bio.weightDevice = arr(b.weightDevice, 'linux.resources.blockIO.weightDevice').map((x, i) => {
        const p = `linux.resources.blockIO.weightDevice[${i}]`;
        const o = obj(x, p);
        keys(o, p, ['major', 'minor', 'weight', 'leafWeight'], { strict: true });
        const w: { major: number; minor: number; weight?: number; leafWeight?: number } = { major: int(o.major, `${p}.major`, 0, 0xfff), minor: int(o.minor, `${p}.minor`, 0, 0xfffff) };
        if (get(o, 'weight') !== undefined) w.weight = int(o.weight, `${p}.weight`, 0, 1000);
        if (get(o, 'leafWeight') !== undefined) w.leafWeight = int(o.leafWeight, `${p}.leafWeight`, 0, 1000);
        return w;
      });
    for (const k of throttles)
      if (get(b, k) !== undefined)
        bio[k] = arr(b[k], `linux.resources.blockIO.${k}`).map((x, i) => {
          const p = `linux.resources.blockIO.${k}[${i}]`;
          const o = obj(x, p);
          keys(o, p, ['major', 'minor', 'rate'], { strict: true });
          return { major: int(o.major, `${p}.major`, 0, 0xfff), minor: int(o.minor, `${p}.minor`, 0, 0xfffff), rate: u64(o.rate, `${p}.rate`) };
        });
    out.blockIO = bio;
  }
  return out;
}

function readSeccomp(s: JsonObject): Seccomp {
  keys(s, 'linux.seccomp', ['defaultAction', 'defaultErrnoRet', 'architectures', 'flags', 'syscalls'], { strict: true, unsupported: ['listenerPath', 'listenerMetadata'] });
  const defaultAction = oneOf<string>(s.defaultAction, 'linux.seccomp.defaultAction', SECCOMP_ACTIONS);
  const noNotify = (a: string, p: string) => {
    if (a === 'SCMP_ACT_NOTIFY') throw new SpecError('', `${p}: SCMP_ACT_NOTIFY is not supported`);
  };
  noNotify(defaultAction, 'linux.seccomp.defaultAction');
  const out: Seccomp = {
    defaultAction,
    architectures: get(s, 'architectures') === undefined ? [] : arr(s.architectures, 'linux.seccomp.architectures').map((x, i) => oneOf(x, `linux.seccomp.architectures[${i}]`, SECCOMP_ARCHES)),
    flags: get(s, 'flags') === undefined ? [] : arr(s.flags, 'linux.seccomp.flags').map((x, i) => oneOf(x, `linux.seccomp.flags[${i}]`, SECCOMP_FLAGS)),
    syscalls: [],
  };
  if (get(s, 'defaultErrnoRet') !== undefined) out.defaultErrnoRet = u32(s.defaultErrnoRet, 'linux.seccomp.defaultErrnoRet');
  if (get(s, 'syscalls') !== undefined)
    out.syscalls = arr(s.syscalls, 'linux.seccomp.syscalls').map((x, i) => {
      const p = `linux.seccomp.syscalls[${i}]`;
      const o = obj(x, p);
      keys(o, p, ['names', 'action', 'errnoRet', 'args'], { strict: true });
      const names = strings(o.names, `${p}.names`);
      if (names.length === 0) fail(`${p}.names`, 'must not be empty');
      names.forEach((n, j) => {
        if (!/^[a-z0-9_]+$/.test(n)) fail(`${p}.names[${j}]`, `${q(n)} is not a system call name`);
      });
      const action = oneOf<string>(o.action, `${p}.action`, SECCOMP_ACTIONS);
      noNotify(action, `${p}.action`);
      const sc: SeccompSyscall = { names, action, args: [] };
      if (get(o, 'errnoRet') !== undefined) sc.errnoRet = u32(o.errnoRet, `${p}.errnoRet`);
      if (get(o, 'args') !== undefined)
        sc.args = arr(o.args, `${p}.args`).map((a, j) => {
          const ap = `${p}.args[${j}]`;
          const ao = obj(a, ap);
          keys(ao, ap, ['index', 'value', 'valueTwo', 'op'], { strict: true });
          return {
            index: int(ao.index, `${ap}.index`, 0, 5),
            value: get(ao, 'value') === undefined ? 0n : u64Big(ao.value, `${ap}.value`),
            valueTwo: get(ao, 'valueTwo') === undefined ? 0n : u64Big(ao.valueTwo, `${ap}.valueTwo`),
            op: oneOf(ao.op, `${ap}.op`, SECCOMP_OPS),
          };
        });
      return sc;
    });
  return out;
}
