/**
 * `hostscope run` options → an OCI config.json (runtime-spec 1.x), the way docker/moby fills one:
 * runc's starter spec (src/runtime/spec-default.ts) with docker's capabilities, masked paths,
 * the container's env/cwd/user, cgroup limits, mounts, namespaces and annotations.
 *
 * Pure: everything from the host (the other containers' init pids, env-file and seccomp-file
 * contents, the host's env, the host's bounding set) comes in as data. Every bad value throws a
 * `RunConfigError` whose message is one line naming the option and the value.
 */
import { exampleSpec, DEFAULT_READONLY_PATHS } from '../runtime/spec-default.js';
import { dockerDefaultProfile } from '../runtime/seccomp/index.js';
import { REMOVE_EMPTY_PARENT_ANNOTATION } from '../runtime/state.js';
import { CAPABILITIES } from '../parse/capabilities.js';

export class RunConfigError extends Error {}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** moby's oci.DefaultCapabilities() (docker 20.10+ and 24): the same list in bounding/effective/permitted */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** moby's default masked paths (oci/defaults.go) */
export const DOCKER_MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The part of an OCI image config `run` uses as defaults (image-spec config.config) */
export interface ImageDefaults {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
}

/** What the command line said (strings as typed: parsing and checking happen here) */
export interface RunFlags {
  name: string;
  /** shown in `ps` and the annotation: `busybox`, `oci:DIR:TAG`, or the rootfs dir */
  image: string;
  args: string[];
  hostname?: string;
  env?: string[];
  /** contents of each `--env-file`, in order (read by the caller) */
  envFiles?: { path: string; text: string }[];
  workdir?: string;
  user?: string;
  memory?: string;
  memorySwap?: string;
  pidsLimit?: string;
  cpus?: string;
  cpuShares?: string;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  readOnly?: boolean;
  volumes?: string[];
  tmpfs?: string[];
  /** `--userns` (`host`, `auto` = 100000:65536, or `HOSTID:SIZE`) */
  userns?: string;
  net?: string;
  pid?: string;
  ipc?: string;
  uts?: string;
  /** `default`, `unconfined`, or a file name (its contents in `seccompFile`) */
  seccomp?: string;
  seccompFile?: { path: string; text: string };
  labels?: string[];
  /** -t */
  tty?: boolean;
  /** `--subnet` (checked by network.ts; here only that it goes with --net bridge) */
  subnet?: string;
}

export interface ConfigContext {
  /** the init pid of a running container by name or id (for `container:NAME`); undefined: none */
  initPidOf: (nameOrId: string) => number | undefined;
  /** the caller's environment (`-e K` and env-file lines without `=` take the value from here) */
  hostEnv: Record<string, string | undefined>;
  /** capability names (CAP_*) in the host's bounding set: `--privileged` and `--cap-add ALL` get these */
  hostCaps: readonly string[];
  image?: ImageDefaults;
  /** the container's id (cgroupsPath `/hostscope/<id>`; the runtime removes `/hostscope` where the container's end leaves it empty) */
  id: string;
  /** for the docker seccomp profile: fixed in tests */
  arch?: 'amd64' | 'arm64';
  kernelRelease?: string;
}

/** the value shown in errors: control bytes escaped, cut short */
function show(s: string): string {
  const e = s.replace(/[\u0000-\u001f\u007f-\u009f\\]/g, (c) => (c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return e.length > 80 ? `${e.slice(0, 80)}…` : e;
}

function fail(msg: string): never {
  throw new RunConfigError(msg);
}

function noNul(s: string, what: string): void {
  if (s.includes('\0')) fail(`${what}: contains a NUL byte: '${show(s)}'`);
}

// ---------------------------------------------------------------- values

/**
 * docker's RAMInBytes (go-units): a decimal number, an optional space-less unit b, k, m, g, t, p
 * (with an optional `b`/`ib` suffix, any case), binary multiples. `64m` → 67108864.
 */
export function parseSize(s: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmgtp]?)(i?b)?$/i.exec(s);
  if (!m) fail(`invalid size for ${option}: '${show(s)}' (a number with an optional unit b, k, m, g, e.g. 64m)`);
  const unit = (m[2] ?? '').toLowerCase();
  if (unit === '' && m[3] && m[3].toLowerCase() === 'ib') fail(`invalid size for ${option}: '${show(s)}' (a number with an optional unit b, k, m, g, e.g. 64m)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[unit]!;
  const v = Math.floor(Number(m[1]) * mult);
  if (!Number.isSafeInteger(v)) fail(`invalid size for ${option}: '${show(s)}' is too large`);
  return v;
}

function parseIntStrict(s: string, option: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(s)) fail(`invalid value for ${option}: '${show(s)}' (an integer)`);
  const v = Number(s);
  if (!Number.isSafeInteger(v) || v < min || v > max) fail(`invalid value for ${option}: '${show(s)}' (from ${min} to ${max})`);
  return v;
}

/** docker's --cpus: a decimal with at most 9 places → quota for a 100000 µs period */
export function parseCpus(s: string): { quota: number; period: number } {
  if (!/^\d+(\.\d{1,9})?$|^\.\d{1,9}$/.test(s)) fail(`invalid value for --cpus: '${show(s)}' (a decimal number of CPUs, e.g. 0.5)`);
  const nano = Math.round(Number(s) * 1e9);
  if (nano <= 0) fail(`invalid value for --cpus: '${show(s)}' (more than 0)`);
  const quota = Math.round((nano * 100000) / 1e9);
  if (quota < 1000) fail(`invalid value for --cpus: '${show(s)}' (at least 0.01)`);
  if (!Number.isSafeInteger(quota)) fail(`invalid value for --cpus: '${show(s)}' is too large`);
  return { quota, period: 100000 };
}

const CAP_BY_NAME = new Map(CAPABILITIES.map((c) => [c.name.toUpperCase(), c.bit]));

function capName(raw: string, option: string): string {
  noNul(raw, option);
  const u = raw.trim().toUpperCase();
  if (u === 'ALL') return 'ALL';
  const n = u.startsWith('CAP_') ? u : `CAP_${u}`;
  if (!CAP_BY_NAME.has(n)) fail(`unknown capability for ${option}: '${show(raw)}'`);
  return n;
}

const byBit = (a: string, b: string) => (CAP_BY_NAME.get(a) ?? 0) - (CAP_BY_NAME.get(b) ?? 0);

/** moby's TweakCapabilities: start from the defaults (or ALL), add, then drop; `--cap-drop ALL` keeps only the adds */
export function resolveCaps(add: string[], drop: string[], privileged: boolean, hostCaps: readonly string[]): string[] {
  const adds = add.map((c) => capName(c, '--cap-add'));
  const drops = drop.map((c) => capName(c, '--cap-drop'));
  const host = new Set(hostCaps);
  if (privileged) return [...hostCaps].sort(byBit);
  for (const c of adds) if (c !== 'ALL' && !host.has(c)) fail(`--cap-add ${c}: not in this host's bounding set (the container cannot have it)`);
  const set = new Set<string>(drops.includes('ALL') ? [] : DOCKER_DEFAULT_CAPS.filter((c) => host.has(c)));
  for (const c of adds.includes('ALL') ? hostCaps : adds) set.add(c);
  if (!drops.includes('ALL')) for (const c of drops) if (!adds.includes(c)) set.delete(c);
  return [...set].sort(byBit);
}

/** `-u UID[:GID]` (numeric only: the rootfs' /etc/passwd is not read here) */
export function parseUser(s: string, option = '--user'): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(s);
  if (!m) fail(`invalid value for ${option}: '${show(s)}' (UID[:GID], numbers)`);
  const uid = parseIntStrict(m[1]!, option, 0, 4294967294);
  const gid = m[2] === undefined ? 0 : parseIntStrict(m[2], option, 0, 4294967294);
  return { uid, gid };
}

function checkEnvName(k: string, where: string, raw: string): void {
  if (k === '' || /[\s=]/.test(k)) fail(`${where}: invalid variable name in '${show(raw)}'`);
}

/** docker's env-file: `K=V` lines, `K` alone takes the host's value (dropped when unset), `#` comments, blank lines */
export function parseEnvFile(text: string, path: string, hostEnv: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line0, i) => {
    const line = line0.replace(/\r$/, '').replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    noNul(line, `--env-file ${show(path)}:${i + 1}`);
    const eq = line.indexOf('=');
    const k = eq < 0 ? line.trimEnd() : line.slice(0, eq);
    checkEnvName(k, `--env-file ${show(path)}:${i + 1}`, line);
    if (eq >= 0) out.push(line);
    else if (hostEnv[k] !== undefined) out.push(`${k}=${hostEnv[k]}`);
  });
  return out;
}

/** merge env lists: a later K replaces an earlier one in place */
function mergeEnv(lists: string[][]): string[] {
  const order: string[] = [];
  const val = new Map<string, string>();
  for (const l of lists)
    for (const e of l) {
      const k = e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('='));
      if (!val.has(k)) order.push(k);
      val.set(k, e);
    }
  return order.map((k) => val.get(k)!);
}

function absPath(p: string, option: string): string {
  noNul(p, option);
  if (!p.startsWith('/')) fail(`invalid value for ${option}: '${show(p)}' (an absolute path)`);
  const parts: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') fail(`invalid value for ${option}: '${show(p)}' ('..' is not allowed)`);
    parts.push(c);
  }
  return `/${parts.join('/')}`;
}

/** `-v HOST:CTR[:ro|rw]` (bind mounts only: named volumes need a volume store) */
export function parseVolume(v: string): Obj {
  noNul(v, '--volume');
  const parts = v.split(':');
  if (parts.length < 2 || parts.length > 3) fail(`invalid value for --volume: '${show(v)}' (HOST:CONTAINER[:ro])`);
  const [src, dst, mode] = parts as [string, string, string | undefined];
  if (!src.startsWith('/')) fail(`invalid value for --volume: '${show(v)}' (the host path must be absolute; named volumes are not supported)`);
  const d = absPath(dst, '--volume');
  if (d === '/') fail(`invalid value for --volume: '${show(v)}' (cannot mount over /)`);
  const opts = ['rbind'];
  if (mode === undefined || mode === 'rw') opts.push('rw');
  else if (mode === 'ro') opts.push('ro');
  else fail(`invalid mode for --volume: '${show(mode)}' (ro or rw)`);
  opts.push('rprivate');
  return { destination: d, type: 'bind', source: src, options: opts };
}

/** `--tmpfs /dst[:opts]` (docker's defaults: noexec, nosuid, nodev) */
export function parseTmpfs(v: string): Obj {
  noNul(v, '--tmpfs');
  const i = v.indexOf(':');
  const d = absPath(i < 0 ? v : v.slice(0, i), '--tmpfs');
  if (d === '/') fail(`invalid value for --tmpfs: '${show(v)}' (cannot mount over /)`);
  const extra = i < 0 ? [] : v.slice(i + 1).split(',').filter((o) => o !== '');
  const allowed = /^(size=\d+[kmg]?|mode=[0-7]{3,4}|uid=\d+|gid=\d+|nr_inodes=\d+[kmg]?|ro|rw|exec|noexec|suid|nosuid|dev|nodev)$/;
  for (const o of extra) if (!allowed.test(o)) fail(`invalid option for --tmpfs: '${show(o)}'`);
  const opts = ['noexec', 'nosuid', 'nodev'];
  for (const o of extra) {
    const neg = o === 'exec' ? 'noexec' : o === 'suid' ? 'nosuid' : o === 'dev' ? 'nodev' : undefined;
    if (neg) {
      const k = opts.indexOf(neg);
      if (k >= 0) opts.splice(k, 1);
    }
    opts.push(o);
  }
  return { destination: d, type: 'tmpfs', source: 'tmpfs', options: opts };
}

/** `--userns`: `host` (none), `auto` → 100000:65536, or `HOSTID:SIZE` — root inside maps to HOSTID */
export function parseUserns(s: string): { hostID: number; size: number } | undefined {
  if (s === 'host' || s === '') return undefined;
  if (s === 'auto') return { hostID: 100000, size: 65536 };
  const m = /^(\d+):(\d+)$/.exec(s);
  if (!m) fail(`invalid value for --userns: '${show(s)}' (host, auto, or HOSTID:SIZE e.g. 100000:65536)`);
  const hostID = parseIntStrict(m[1]!, '--userns', 1, 4294967294);
  const size = parseIntStrict(m[2]!, '--userns', 1, 4294967295);
  if (hostID + size - 1 > 4294967294) fail(`invalid value for --userns: '${show(s)}' (the range passes 4294967294)`);
  return { hostID, size };
}

type NsMode = { kind: 'private' } | { kind: 'host' } | { kind: 'none' } | { kind: 'container'; name: string };

function parseNsMode(s: string | undefined, option: string, allowed: readonly string[]): NsMode {
  // bridge: a new network namespace that the monitor's hook connects (src/container/network.ts)
  if (s === undefined || s === '' || s === 'private' || (option === '--net' && s === 'bridge')) return { kind: 'private' };
  if (s.startsWith('container:')) {
    if (!allowed.includes('container')) fail(`invalid value for ${option}: '${show(s)}' (${allowed.join(', ')})`);
    const name = s.slice('container:'.length);
    if (name === '') fail(`invalid value for ${option}: '${show(s)}' (container:NAME needs a name)`);
    return { kind: 'container', name };
  }
  if (s === 'host' && allowed.includes('host')) return { kind: 'host' };
  if (s === 'none' && allowed.includes('none')) return { kind: 'none' };
  return fail(`invalid value for ${option}: '${show(s)}' (${allowed.map((a) => (a === 'container' ? 'container:NAME' : a)).join(', ')})`);
}

/** container names as docker allows them: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 */
export function checkName(n: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(n)) fail(`invalid container name '${show(n)}' (only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at most 128)`);
}

function checkHostname(h: string): void {
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(h)) fail(`invalid value for --hostname: '${show(h)}' (letters, digits, '.' and '-', at most 63)`);
}

// ---------------------------------------------------------------- the config

/** The generated config.json (as a JSON-ready object) for these flags */
export function buildRunConfig(f: RunFlags, ctx: ConfigContext): Obj {
  checkName(f.name);
  const spec = exampleSpec() as Obj;
  const proc = spec.process as Obj;
  const linux = spec.linux as Obj;

  // process: args (entrypoint + cmd as docker), env, cwd, user
  const img = ctx.image ?? {};
  for (const a of f.args) noNul(a, 'command');
  const args = [...(img.Entrypoint ?? []), ...(f.args.length ? f.args : (img.Cmd ?? []))];
  if (args.length === 0) fail(`no command given and the image has no default command`);
  proc.args = args;
  // -t: the container's own pty (process.terminal), its controlling terminal: the init sends the
  // master over --console-socket to the monitor, which holds and proxies it (as docker's shim)
  proc.terminal = Boolean(f.tty);
  const cliEnv: string[] = [];
  for (const ef of f.envFiles ?? []) cliEnv.push(...parseEnvFile(ef.text, ef.path, ctx.hostEnv));
  for (const e of f.env ?? []) {
    noNul(e, '--env');
    const eq = e.indexOf('=');
    const k = eq < 0 ? e : e.slice(0, eq);
    checkEnvName(k, '--env', e);
    if (eq >= 0) cliEnv.push(e);
    else if (ctx.hostEnv[k] !== undefined) cliEnv.push(`${k}=${ctx.hostEnv[k]}`);
  }
  const hostname = f.hostname ?? ctx.id.slice(0, 12);
  if (f.hostname !== undefined) checkHostname(f.hostname);
  const base = [DEFAULT_PATH, `HOSTNAME=${hostname}`];
  if (f.tty) base.push('TERM=xterm');
  proc.env = mergeEnv([base, img.Env ?? [], cliEnv]);
  proc.cwd = f.workdir !== undefined ? absPath(f.workdir, '--workdir') : img.WorkingDir ? absPath(img.WorkingDir, 'image WorkingDir') : '/';
  const userStr = f.user ?? (img.User || undefined);
  proc.user = userStr !== undefined ? parseUser(userStr, f.user !== undefined ? '--user' : 'image User') : { uid: 0, gid: 0 };

  // capabilities (docker: bounding = effective = permitted; no inheritable, no ambient)
  const caps = resolveCaps(f.capAdd ?? [], f.capDrop ?? [], Boolean(f.privileged), ctx.hostCaps);
  proc.capabilities = { bounding: [...caps], effective: [...caps], permitted: [...caps] };
  proc.noNewPrivileges = !f.privileged;

  spec.root = { path: 'rootfs', readonly: Boolean(f.readOnly) };
  const annotations: Obj = { 'org.hostscope.name': f.name, 'org.hostscope.image': f.image };
  for (const l of f.labels ?? []) {
    noNul(l, '--label');
    const eq = l.indexOf('=');
    const k = eq < 0 ? l : l.slice(0, eq);
    if (k === '' || /[\s]/.test(k)) fail(`invalid value for --label: '${show(l)}' (KEY=VALUE)`);
    annotations[`org.hostscope.labels.${k}`] = eq < 0 ? '' : l.slice(eq + 1);
  }

  // namespaces
  const net = parseNsMode(f.net, '--net', ['none', 'host', 'bridge', 'container']);
  const pid = parseNsMode(f.pid, '--pid', ['host', 'container']);
  const ipc = parseNsMode(f.ipc, '--ipc', ['host', 'container']);
  const uts = parseNsMode(f.uts, '--uts', ['host']);
  const userns = f.userns !== undefined ? parseUserns(f.userns) : undefined;
  if (uts.kind === 'host' && f.hostname !== undefined) fail(`--hostname cannot be used with --uts host`);
  if (f.privileged && userns) fail(`--privileged cannot be used with --userns`);
  if (f.subnet !== undefined && f.net !== 'bridge') fail(`--subnet needs --net bridge`);
  const nsPath = (m: NsMode & { kind: 'container' }, type: string, option: string): string => {
    const p = ctx.initPidOf(m.name);
    if (p === undefined) fail(`${option} container:${show(m.name)}: no such running container`);
    return `/proc/${p}/ns/${type}`;
  };
  const namespaces: Obj[] = [];
  const add = (type: string, m: NsMode, option: string, procType = type) => {
    if (m.kind === 'host') return;
    if (m.kind === 'container') namespaces.push({ type, path: nsPath(m, procType, option) });
    else namespaces.push({ type });
  };
  add('pid', pid, '--pid');
  add('network', net, '--net', 'net');
  add('ipc', ipc, '--ipc');
  add('uts', uts, '--uts');
  namespaces.push({ type: 'mount' });
  namespaces.push({ type: 'cgroup' });
  if (userns) namespaces.push({ type: 'user' });
  if (uts.kind !== 'host') spec.hostname = hostname;
  else delete spec.hostname;

  // mounts: runc's set, /dev/shm per container, /etc/hostname etc. are left to the rootfs
  const mounts = (spec.mounts as Obj[]).map((m) => ({ ...m }));
  if (userns) {
    // with a user namespace, sysfs cannot be mounted unless the netns is ours; bind the host's read-only as runc --rootless does
    for (let i = 0; i < mounts.length; i++)
      if (mounts[i]!.destination === '/sys') mounts[i] = { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
    for (const m of mounts) if (Array.isArray(m.options)) m.options = (m.options as string[]).filter((o) => !o.startsWith('gid='));
  }
  if (f.privileged) for (const m of mounts) if (m.destination === '/sys' || m.destination === '/sys/fs/cgroup') m.options = (m.options as string[]).filter((o) => o !== 'ro');
  const dsts = new Set<string>(mounts.map((m) => m.destination as string));
  for (const v of f.volumes ?? []) {
    const m = parseVolume(v);
    if (dsts.has(m.destination as string)) fail(`duplicate mount point: ${show(m.destination as string)}`);
    dsts.add(m.destination as string);
    mounts.push(m);
  }
  for (const t of f.tmpfs ?? []) {
    const m = parseTmpfs(t);
    if (dsts.has(m.destination as string)) fail(`duplicate mount point: ${show(m.destination as string)}`);
    dsts.add(m.destination as string);
    mounts.push(m);
  }
  spec.mounts = mounts;

  // resources
  const resources: Obj = { devices: [{ allow: false, access: 'rwm' }] };
  if (f.privileged) resources.devices = [{ allow: true, access: 'rwm' }];
  const memory: Obj = {};
  if (f.memory !== undefined) {
    const v = parseSize(f.memory, '--memory');
    if (v < 6 * 1024 * 1024) fail(`invalid value for --memory: '${show(f.memory)}' (the minimum is 6m, as docker)`);
    memory.limit = v;
  }
  if (f.memorySwap !== undefined) {
    if (f.memory === undefined) fail(`--memory-swap needs --memory`);
    const v = f.memorySwap === '-1' ? -1 : parseSize(f.memorySwap, '--memory-swap');
    if (v !== -1 && v < (memory.limit as number)) fail(`--memory-swap ${show(f.memorySwap)} is smaller than --memory ${show(f.memory)} (it counts memory plus swap)`);
    memory.swap = v;
  }
  if (Object.keys(memory).length) resources.memory = memory;
  if (f.pidsLimit !== undefined) {
    const v = parseIntStrict(f.pidsLimit, '--pids-limit', -1, 4194304);
    if (v === 0) fail(`invalid value for --pids-limit: '0' (-1 for unlimited, or at least 1)`);
    resources.pids = { limit: v };
  }
  const cpu: Obj = {};
  if (f.cpus !== undefined) Object.assign(cpu, parseCpus(f.cpus));
  if (f.cpuShares !== undefined) cpu.shares = parseIntStrict(f.cpuShares, '--cpu-shares', 2, 262144);
  if (Object.keys(cpu).length) resources.cpu = cpu;

  const newLinux: Obj = {};
  if (userns) {
    newLinux.uidMappings = [{ containerID: 0, hostID: userns.hostID, size: userns.size }];
    newLinux.gidMappings = [{ containerID: 0, hostID: userns.hostID, size: userns.size }];
  }
  newLinux.resources = resources;
  newLinux.cgroupsPath = `/hostscope/${ctx.id}`;
  // `/hostscope` is ours, made by the first container: the runtime removes it at the end of the last one
  annotations[REMOVE_EMPTY_PARENT_ANNOTATION] = 'true';
  newLinux.namespaces = namespaces;

  // seccomp
  const sc = f.seccomp ?? (f.privileged ? 'unconfined' : 'default');
  if (sc === 'default') newLinux.seccomp = dockerDefaultProfile(caps, { arch: ctx.arch, kernelRelease: ctx.kernelRelease }) as unknown as Json;
  else if (sc !== 'unconfined') {
    if (!f.seccompFile) fail(`--seccomp ${show(sc)}: the profile file was not read`);
    let prof: Json;
    try {
      prof = JSON.parse(f.seccompFile.text) as Json;
    } catch (e) {
      return fail(`--seccomp ${show(f.seccompFile.path)}: not JSON: ${show((e as Error).message)}`);
    }
    if (prof === null || typeof prof !== 'object' || Array.isArray(prof) || typeof (prof as Obj).defaultAction !== 'string')
      fail(`--seccomp ${show(f.seccompFile.path)}: not a seccomp profile (an object with defaultAction)`);
    newLinux.seccomp = prof;
  }
  if (!f.privileged) {
    newLinux.maskedPaths = [...DOCKER_MASKED_PATHS];
    newLinux.readonlyPaths = [...DEFAULT_READONLY_PATHS];
  }
  spec.linux = newLinux;
  void linux;
  spec.annotations = annotations;
  return spec;
}
