/**
 * The orchestration behind `hostscope run/ps/stop/kill/rm/logs/wait`: the store, the generated
 * bundle, the per-container monitor (build/Release/hostscope-monitor) running the runtime.
 *
 * The monitor drives the runtime as conmon drives runc: `create` (the init parked, its pid known,
 * reparented to the monitor, its subreaper), an optional hook with that pid (the network), `start`,
 * and `delete --force` once the init has exited.
 */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildRunConfig, parseCpus, parseVolume, parseSize, type ConfigContext, type RunFlags, RunConfigError } from './config.js';
import { CgroupManager, isCgroupError, type CgroupResources } from '../cgroup/manager.js';
import { NodeCgroupFs } from '../cgroup/fs.js';
import { readCgroupLayout } from '../inspect/host.js';
import { openSource, type ProcSource } from '../source/source.js';
import { Store, StoreError, newId, type ContainerRecord, type ExitRecord, humanDuration } from './store.js';
import { packageRoot } from '../util/package-root.js';
import { CAPABILITIES } from '../parse/capabilities.js';
import { escapeControl } from '../render/escape.js';
import { DEFAULT_ROOT as RUNTIME_DEFAULT_ROOT } from '../runtime/state.js';
import { fsPathView, secureJoin } from '../runtime/securejoin.js';
import { parseOciImageRef, readImageConfig, unpackImage, isImageError, type ImageConfig } from '../image/index.js';
import type { ImageDefaults } from './config.js';
import { allocateAddress, checkBridgeName, DEFAULT_BRIDGE, DEFAULT_SUBNET, disconnectContainer, hostVethName, ipToString, NetworkError, parseSubnet, readNetRecord, releaseAddress, type NetRecord } from './network.js';

export class ContainerError extends Error {
  /** the CLI's exit status (docker run: 127 for a command not found, 126 for one that cannot be run) */
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface EngineOptions {
  store: Store;
  /** [node, runc-ts.cjs] or a runc-compatible binary */
  runtime: string[];
  /** runc-ts --root (default: its own) */
  runtimeRoot?: string;
  monitor: string;
  /** [node, hostscope.js]: the monitor's exit command (`rm` for `run -d --rm`) and hooks */
  hostscope?: string[];
}

export function defaultEngine(storeRoot?: string): EngineOptions {
  const root = packageRoot(import.meta.dirname);
  if (!root) throw new ContainerError('cannot find the hostscope package (for the monitor and runc-ts)');
  const monitor = join(root, 'build/Release/hostscope-monitor');
  // the CommonJS bin with its code cache (docs/runtime.md "Speed"): no ES module loader per start
  const runcTs = join(root, 'dist/bin/runc-ts.cjs');
  if (!fs.existsSync(monitor)) throw new ContainerError(`the monitor is not built (${monitor}): run 'npm run build:native'`);
  if (!fs.existsSync(runcTs)) throw new ContainerError(`runc-ts is not built (${runcTs}): run 'npm run build'`);
  // a store moved elsewhere (HOSTSCOPE_RUN_ROOT: tests, a second instance) keeps the runtime's
  // state beside it, so nothing of it lands in the host's /run/runc-ts
  return { store: new Store(storeRoot), runtime: [process.execPath, runcTs], monitor, hostscope: [process.execPath, join(root, 'dist/bin/hostscope.js')], ...(storeRoot ? { runtimeRoot: join(storeRoot, 'runc-ts') } : {}) };
}

// ---------------------------------------------------------------- processes

/** /proc/<pid>/stat's state letter, or undefined when gone */
let procSrc: ProcSource | undefined;
const proc = (): ProcSource => (procSrc ??= openSource());

function procState(pid: number): string | undefined {
  try {
    const t = proc().readProcText(`${pid}/stat`);
    return t.slice(t.lastIndexOf(')') + 2, t.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** the pid is alive and in the container's cgroup (pid reuse: a recycled pid is elsewhere) */
export function isContainerPid(pid: number, id: string): boolean {
  const st = procState(pid);
  if (st === undefined || st === 'Z' || st === 'X') return false;
  try {
    return proc().readProcText(`${pid}/cgroup`).includes(`/hostscope/${id}`);
  } catch {
    return false;
  }
}

function monitorAlive(store: Store, id: string): boolean {
  const p = store.pidFile(id, 'monitor.pid');
  if (p === undefined) return false;
  const st = procState(p);
  if (st === undefined || st === 'Z') return false;
  try {
    return proc().readProcText(`${p}/cmdline`).includes(id);
  } catch {
    return false;
  }
}

export type Status = { state: 'running'; pid: number } | { state: 'exited'; exit: ExitRecord } | { state: 'created' } | { state: 'dead' };

export function status(store: Store, id: string): Status {
  const exit = store.exit(id);
  if (exit) return { state: 'exited', exit };
  const pid = store.pidFile(id, 'init.pid');
  if (pid !== undefined && isContainerPid(pid, id)) return { state: 'running', pid };
  if (monitorAlive(store, id)) return { state: 'created' };
  // the monitor writes `exit` before it ends: read once more, or a monitor that ended between the
  // first read and now looks dead
  const late = store.exit(id);
  if (late) return { state: 'exited', exit: late };
  return { state: 'dead' };
}

// ---------------------------------------------------------------- rootfs

/**
 * --userns: the container's root is a host uid (100000) that must search every directory down to
 * the rootfs, or the runtime's init fails with a bare `mount(rootfs…): Permission denied`. Said
 * here with the directory that stops it.
 */
export function checkReachable(rootfs: string, linux: { uidMappings?: IdMappingJson[]; gidMappings?: IdMappingJson[] } | undefined): void {
  const uid = linux?.uidMappings?.find((m) => m.containerID === 0)?.hostID;
  const gid = linux?.gidMappings?.find((m) => m.containerID === 0)?.hostID;
  if (uid === undefined) return;
  const parts = rootfs.split('/').filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const d = `/${parts.slice(0, i).join('/')}`;
    const st = fs.statSync(d, { throwIfNoEntry: false });
    if (!st) return;
    const ok = st.uid === uid ? (st.mode & 0o100) !== 0 : st.gid === gid ? (st.mode & 0o010) !== 0 : (st.mode & 0o001) !== 0;
    if (!ok) throw new ContainerError(`--userns: the container's root (host uid ${uid}) cannot reach its rootfs: ${escapeControl(d)} is mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')} (chmod o+x ${escapeControl(d)})`);
  }
}

/**
 * `-v HOST:CTR`: a HOST path that is not there is made a directory (0755, with its parents), as
 * docker does for -v; one that cannot be made is a line naming the -v argument.
 */
export function makeVolumeSource(v: string): void {
  const src = String(parseVolume(v).source);
  try {
    if (fs.lstatSync(src, { throwIfNoEntry: false })) return;
    // component by component (node's recursive mkdir loops on a parent that reports ENOENT, as
    // under /proc)
    const parts = src.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      try {
        fs.mkdirSync(`/${parts.slice(0, i).join('/')}`, { mode: 0o755 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ContainerError(`-v ${escapeControl(v)}: cannot create the host directory ${escapeControl(src)}: ${e.code ?? e.message}`);
  }
}

/** the image config of the built-in `busybox`: docker hub's busybox has Cmd ["sh"] and no more */
export const BUSYBOX_IMAGE_CONFIG: ImageConfig = Object.freeze({ env: [], cmd: ['sh'], entrypoint: undefined, workingDir: undefined, user: undefined, labels: {} }) as ImageConfig;

/** a minimal busybox rootfs (the host's static busybox, applet links, passwd/group) */
export function makeBusyboxRootfs(dir: string): void {
  const bb = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
  if (!bb) throw new ContainerError('busybox is not installed on this host (apt-get install busybox-static)');
  const r = spawnSync(bb, ['--list'], { encoding: 'utf8' });
  const applets = (r.stdout ?? '').split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
  for (const d of ['bin', 'dev', 'proc', 'sys', 'etc', 'tmp', 'root', 'var/log', 'run']) fs.mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
  fs.chmodSync(join(dir, 'tmp'), 0o1777);
  fs.copyFileSync(bb, join(dir, 'bin/busybox'));
  fs.chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const a of applets) fs.symlinkSync('busybox', join(dir, 'bin', a));
  fs.writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  fs.writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
}

// ---------------------------------------------------------------- run

export interface RunRequest {
  flags: Omit<RunFlags, 'name'> & { name?: string };
  /** `--rootfs DIR`: used in place, not copied */
  rootfs?: string;
  /** `oci:DIR[:TAG]`: unpacked into the container's own rootfs; its config gives the defaults */
  ociImage?: string;
  /** `--entrypoint` (docker: replaces the image's, and drops the image's Cmd; '' clears it) */
  entrypoint?: string;
  detach: boolean;
  rm: boolean;
  /** -i: the container's stdin is fed from the FIFO DIR/stdin (the front end writes it) */
  interactive?: boolean;
  /** -t: a pty of this size held by the monitor is the container's stdio */
  tty?: { rows: number; cols: number };
}

function hostCaps(): string[] {
  try {
    const st = proc().readProcText('self/status');
    const m = /^CapBnd:\s*([0-9a-f]+)/m.exec(st);
    const mask = BigInt(`0x${m![1]}`);
    return CAPABILITIES.filter((c) => (mask >> BigInt(c.bit)) & 1n).map((c) => c.name.toUpperCase());
  } catch {
    return [];
  }
}

function initPidOf(store: Store) {
  return (ref: string): number | undefined => {
    try {
      const s = status(store, store.resolve(ref));
      return s.state === 'running' ? s.pid : undefined;
    } catch {
      return undefined;
    }
  };
}

/** start a container; resolves once its init runs (or it failed): its id */
export async function startContainer(e: EngineOptions, req: RunRequest): Promise<string> {
  const { store } = e;
  const id = newId();
  const name = req.flags.name ?? `hs_${id.slice(0, 12)}`;
  const flags: RunFlags = { ...req.flags, name };
  // the image's config is read (and its manifest and blobs' presence checked) before anything is made
  let image: { layout: string; ref: string | undefined; config: ImageConfig } | undefined;
  if (req.ociImage !== undefined) {
    try {
      const { layout, ref } = parseOciImageRef(req.ociImage);
      if (!fs.statSync(layout, { throwIfNoEntry: false })?.isDirectory()) throw new ContainerError(`${req.ociImage}: no such image layout directory`);
      image = { layout, ref, config: readImageConfig(layout, ref).config };
    } catch (err) {
      if (isImageError(err)) throw new ContainerError((err as Error).message);
      throw err;
    }
  }
  // --net bridge: the subnet and bridge checked now; the address is taken once the store entry exists
  let net: Omit<NetRecord, 'ip'> & { sub: ReturnType<typeof parseSubnet> } | undefined;
  if (req.flags.net === 'bridge') {
    try {
      const subnet = req.flags.subnet ?? (process.env.HOSTSCOPE_SUBNET || DEFAULT_SUBNET);
      const sub = parseSubnet(subnet);
      const bridge = process.env.HOSTSCOPE_BRIDGE || DEFAULT_BRIDGE;
      checkBridgeName(bridge);
      net = { mode: 'bridge', bridge, subnet, prefix: sub.prefix, gateway: ipToString(sub.gateway), hostVeth: hostVethName(id), sub };
    } catch (err) {
      if (err instanceof NetworkError) throw new ContainerError(err.message);
      throw err;
    }
  }
  // the built-in busybox image has docker's busybox config (Cmd ["sh"]); a --rootfs has none
  const defaults = imageDefaults(image?.config ?? (req.rootfs === undefined ? BUSYBOX_IMAGE_CONFIG : undefined), req.entrypoint);
  const ctx: ConfigContext = { id, hostCaps: hostCaps(), hostEnv: process.env, initPidOf: initPidOf(store), image: defaults.image };
  // the config first: a bad option leaves nothing behind
  const config = buildRunConfig(flags, ctx);
  for (const v of flags.volumes ?? []) makeVolumeSource(v);
  store.reserveName(name, id);
  let dir: string | undefined;
  try {
    const rec: ContainerRecord = { id, name, image: flags.image, command: (config.process as { args: string[] }).args, created: new Date().toISOString(), ownRootfs: !req.rootfs, rm: req.rm };
    dir = store.create(rec);
    if (req.rootfs) {
      if (!fs.statSync(req.rootfs, { throwIfNoEntry: false })?.isDirectory()) throw new ContainerError(`--rootfs ${req.rootfs}: not a directory`);
      config.root = { path: fs.realpathSync(req.rootfs), readonly: Boolean(flags.readOnly) };
    } else if (image) {
      const l = (config.linux ?? {}) as { uidMappings?: IdMappingJson[]; gidMappings?: IdMappingJson[] };
      try {
        // into a temp dir beside rootfs/, renamed at the end: a failed unpack leaves no half rootfs
        await unpackImage(image.layout, image.ref, join(dir, 'rootfs'), { ...(l.uidMappings ? { uidMappings: l.uidMappings } : {}), ...(l.gidMappings ? { gidMappings: l.gidMappings } : {}) });
      } catch (err) {
        if (isImageError(err)) throw new ContainerError((err as Error).message);
        throw err;
      }
      // a user name (image User `nobody`, `www:www`) resolved in the image's own /etc/passwd and /etc/group
      if (flags.user === undefined && defaults.userName !== undefined) (config.process as { user: unknown }).user = resolveUserName(join(dir, 'rootfs'), defaults.userName);
    } else makeBusyboxRootfs(join(dir, 'rootfs'));
    // -t: the pty is the init's, opened in the container's own devpts (so `tty` inside names
    // /dev/pts/0), sized as this terminal
    if (req.tty) (config.process as { consoleSize?: unknown }).consoleSize = { height: req.tty.rows, width: req.tty.cols };
    fs.writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, '\t'), { mode: 0o600 });
    if (flags.userns !== undefined) checkReachable(String((config.root as { path: string }).path).startsWith('/') ? (config.root as { path: string }).path : join(dir, 'rootfs'), config.linux as { uidMappings?: IdMappingJson[]; gidMappings?: IdMappingJson[] });
    // as runc's init does before it parks: a command that is not there is an error now, not a
    // silent 125 from an init whose runtime has gone (mounts may add it: then it is not checked)
    if (!flags.volumes?.length && !flags.tmpfs?.length) checkExecutable(String((config.root as { path: string }).path).startsWith('/') ? (config.root as { path: string }).path : join(dir, 'rootfs'), config.process as ProcessLike);
    let hook: string[] = [];
    if (net) {
      if (!e.hostscope) throw new ContainerError('--net bridge needs the hostscope bin for its hook');
      const { sub, ...rest } = net;
      let ip: string;
      try {
        ip = allocateAddress(store.root, id, sub);
      } catch (err) {
        if (err instanceof NetworkError) throw new ContainerError(err.message);
        throw err;
      }
      fs.writeFileSync(join(dir, 'net.json'), `${JSON.stringify({ ...rest, ip })}\n`, { mode: 0o600 });
      // between create and start, with the init's pid: the veth, the address, the route
      hook = [...e.hostscope, 'net-hook', id];
    }
    const rt = [...e.runtime, ...(e.runtimeRoot ? ['--root', e.runtimeRoot] : [])];
    const mflags: string[] = [];
    if (req.interactive) mflags.push('-i');
    if (req.tty) mflags.push('-t', `${req.tty.rows}x${req.tty.cols}`);
    // run -d --rm: the monitor runs `hostscope rm ID` once the container has exited
    if (req.rm && req.detach && e.hostscope) for (const a of [...e.hostscope, 'rm', id]) mflags.push('-x', a);
    for (const a of hook) mflags.push('-k', a);
    const m = spawnSync(e.monitor, [...mflags, dir, id, '--', ...rt], { stdio: 'ignore' });
    if (m.status !== 0) throw new ContainerError(`the monitor did not start (status ${m.status ?? m.signal})`);
    // until the init runs or the runtime gave up
    for (;;) {
      const s = status(store, id);
      if (s.state === 'running') return id;
      if (s.state === 'exited') {
        if (store.pidFile(id, 'init.pid') !== undefined) return id; // ran and already ended
        const why = runtimeError(dir);
        throw (why !== undefined && execFailure(why)) || new ContainerError(why ?? `the container did not start (exit ${s.exit.exitCode})`);
      }
      if (s.state === 'dead' && store.pidFile(id, 'monitor.pid') !== undefined) throw new ContainerError('the monitor died before the container started');
      await sleep(10);
    }
  } catch (err) {
    if (dir) {
      await waitExit(store, id, 10000).catch(() => undefined);
      releaseNetwork(store, id);
      store.remove(id);
    } else store.releaseName(name, id);
    throw err;
  }
}

/**
 * The runtime's failure to run the command (runc's and runc-ts's `… unable to start container
 * process: exec: "CMD": why`, from create or exec) as the one line docker prints, with docker's
 * status: 127 when it is not there, 126 when it cannot be run (permission denied, a directory),
 * 1 (hostscope's runtime failure) for another reason; undefined for any other line.
 */
export function execFailure(line: string): ContainerError | undefined {
  const m = /unable to start container process: (exec: "(?:[^"\\]|\\.)*": (.*))$/.exec(line);
  if (!m) return undefined;
  const [, text, why] = m as unknown as [string, string, string];
  if (/executable file not found|no such file or directory/.test(why)) return new ContainerError(text, 127);
  if (/permission denied|is a directory/.test(why)) return new ContainerError(text, 126);
  return new ContainerError(text);
}

type ProcessLike = { args: string[]; env: string[]; cwd: string };

/** the command resolved in the rootfs (PATH of its env, symlinks kept inside); docker's messages and codes */
export function checkExecutable(rootfs: string, p: ProcessLike): void {
  const cmd = p.args[0] ?? '';
  const view = fsPathView(fs);
  const shown = escapeControl(cmd);
  const isExe = (path: string): 'ok' | 'missing' | 'noexec' | 'dir' => {
    let real: string;
    try {
      real = secureJoin(rootfs, path, view);
    } catch {
      return 'missing';
    }
    const st = fs.statSync(real, { throwIfNoEntry: false });
    if (!st) return 'missing';
    if (st.isDirectory()) return 'dir';
    return st.isFile() && (st.mode & 0o111) !== 0 ? 'ok' : 'noexec';
  };
  if (cmd.includes('/')) {
    // the runtime's texts (runc's exec.LookPath) for the same command with or without this check
    const r = isExe(cmd.startsWith('/') ? cmd : join(p.cwd, cmd));
    if (r === 'missing') throw new ContainerError(`exec: "${shown}": stat ${shown}: no such file or directory`, 127);
    if (r === 'noexec') throw new ContainerError(`exec: "${shown}": permission denied`, 126);
    if (r === 'dir') throw new ContainerError(`exec: "${shown}": is a directory`, 126);
    return;
  }
  const path = p.env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  for (const d of path.split(':')) if (d.startsWith('/') && isExe(join(d, cmd)) === 'ok') return;
  throw new ContainerError(`exec: "${shown}": executable file not found in $PATH`, 127);
}

type IdMappingJson = { containerID: number; hostID: number; size: number };

/**
 * The image config as `run`'s defaults, with docker's rules: `--entrypoint` replaces the image's
 * Entrypoint and drops its Cmd (`--entrypoint ''` leaves none); the command line's args replace
 * Cmd (config.ts). A User that is not numeric is resolved in the rootfs once unpacked.
 */
export function imageDefaults(c: ImageConfig | undefined, entrypoint: string | undefined): { image: ImageDefaults; userName?: string } {
  const image: ImageDefaults = {};
  let userName: string | undefined;
  if (c) {
    image.Env = c.env;
    if (c.cmd) image.Cmd = c.cmd;
    if (c.entrypoint) image.Entrypoint = c.entrypoint;
    if (c.workingDir) image.WorkingDir = c.workingDir;
    if (c.user) {
      if (/^\d+(:\d+)?$/.test(c.user)) image.User = c.user;
      else userName = c.user;
    }
  }
  if (entrypoint !== undefined) {
    image.Entrypoint = entrypoint === '' ? [] : [entrypoint];
    delete image.Cmd;
  }
  return { image, ...(userName !== undefined ? { userName } : {}) };
}

function readEtc(rootfs: string, file: string): string {
  // no symlink followed (a rootfs' /etc/passwd could point at the host's), bounded
  for (const p of [join(rootfs, 'etc'), join(rootfs, 'etc', file)]) {
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink()) return '';
  }
  const fd = fs.openSync(join(rootfs, 'etc', file), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    if (!fs.fstatSync(fd).isFile()) return '';
    const buf = Buffer.alloc(1024 * 1024);
    return buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** `USER[:GROUP]` (names or numbers) → ids from the image's /etc/passwd and /etc/group, as docker does */
export function resolveUserName(rootfs: string, spec: string): { uid: number; gid: number } {
  const [u, g] = spec.split(':', 2) as [string, string | undefined];
  const passwd = readEtc(rootfs, 'passwd').split('\n').map((l) => l.split(':'));
  let uid: number;
  let gid = 0;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    const e = passwd.find((f) => f[2] === u);
    if (e && /^\d+$/.test(e[3] ?? '')) gid = Number(e[3]);
  } else {
    const e = passwd.find((f) => f[0] === u && /^\d+$/.test(f[2] ?? '') && /^\d+$/.test(f[3] ?? ''));
    if (!e) throw new ContainerError(`image User '${escapeControl(u)}': no such user in the image's /etc/passwd`);
    uid = Number(e[2]);
    gid = Number(e[3]);
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const e = readEtc(rootfs, 'group').split('\n').map((l) => l.split(':')).find((f) => f[0] === g && /^\d+$/.test(f[2] ?? ''));
      if (!e) throw new ContainerError(`image User group '${escapeControl(g)}': no such group in the image's /etc/group`);
      gid = Number(e[2]);
    }
  }
  if (uid > 4294967294 || gid > 4294967294) throw new ContainerError(`image User '${spec}': id out of range`);
  return { uid, gid };
}

/** the runtime's own last stderr line from the log (its one-line error; with a pty it is on "stdout") */
function runtimeError(dir: string): string | undefined {
  const all = readLog(dir);
  const err = all.filter((l) => l.stream === 'stderr');
  const lines = err.length ? err : all;
  const last = lines.at(-1)?.log.trimEnd();
  // the network hook's own prefix: the front end says `hostscope run:` already
  return last ? escapeControl(last.replace(/^hostscope net-hook: /, '')) : undefined;
}

// ---------------------------------------------------------------- logs

export interface LogLine {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

export function parseLog(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const l of text.split('\n')) {
    if (!l) continue;
    try {
      const j = JSON.parse(l) as LogLine;
      if (typeof j.log === 'string' && (j.stream === 'stdout' || j.stream === 'stderr')) out.push(j);
    } catch {
      /* a torn last line while the monitor writes */
    }
  }
  return out;
}

const MAX_LOG = 64 * 1024 * 1024;
export function readLog(dir: string, from = 0): LogLine[] {
  try {
    const fd = fs.openSync(join(dir, 'ctr.log'), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const size = Math.min(fs.fstatSync(fd).size - from, MAX_LOG);
      if (size <= 0) return [];
      const buf = Buffer.alloc(size);
      const n = fs.readSync(fd, buf, 0, size, from);
      const text = buf.subarray(0, n).toString('utf8');
      return parseLog(text.slice(0, text.lastIndexOf('\n') + 1));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------- wait, stop, kill, rm

export async function waitExit(store: Store, id: string, timeoutMs = Infinity): Promise<ExitRecord> {
  const t0 = Date.now();
  let deadSince: number | undefined;
  for (;;) {
    const s = status(store, id);
    if (s.state === 'exited') return s.exit;
    // "dead" is read from several files that the monitor changes as it ends (its pid, its exit
    // file): only a state that stays dead for a second is final
    if (s.state !== 'dead') deadSince = undefined;
    else if (deadSince === undefined) deadSince = Date.now();
    else if (Date.now() - deadSince > 1000) throw new ContainerError(`container ${id.slice(0, 12)}: its monitor is gone and left no exit status`);
    if (Date.now() - t0 > timeoutMs) throw new ContainerError(`container ${id.slice(0, 12)} did not exit in time`);
    await sleep(25);
  }
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, USR1: 10, USR2: 12, TERM: 15, CONT: 18, STOP: 19 };

export function parseSignal(s: string): number {
  const u = s.toUpperCase().replace(/^SIG/, '');
  if (/^\d+$/.test(u) && Number(u) >= 1 && Number(u) <= 64) return Number(u);
  if (SIGNALS[u] !== undefined) return SIGNALS[u]!;
  throw new ContainerError(`invalid signal: ${escapeControl(s)}`);
}

export function killContainer(store: Store, id: string, sig: number): void {
  const s = status(store, id);
  if (s.state !== 'running') throw new ContainerError(`container ${id.slice(0, 12)} is not running`);
  process.kill(s.pid, sig);
}

/** SIGTERM, then SIGKILL after `seconds` */
export async function stopContainer(store: Store, id: string, seconds: number): Promise<ExitRecord | undefined> {
  const s = status(store, id);
  if (s.state !== 'running') return store.exit(id);
  try {
    process.kill(s.pid, 15);
  } catch {
    /* gone meanwhile */
  }
  try {
    return await waitExit(store, id, seconds * 1000);
  } catch {
    const s2 = status(store, id);
    if (s2.state === 'running') process.kill(s2.pid, 9);
    return await waitExit(store, id, 30000);
  }
}

/**
 * `rm`: the container (killed first with `force`), its runtime state and cgroup if the monitor left
 * them, its network, its store entry. `warn` hears of a `/hostscope` parent that could not be
 * removed for another reason than a container still in it.
 */
export async function removeContainer(store: Store, id: string, force: boolean, e?: EngineOptions, warn: (m: string) => void = () => {}): Promise<void> {
  const s = status(store, id);
  if (s.state === 'running' || s.state === 'created') {
    if (!force) throw new ContainerError(`cannot remove container ${store.record(id)?.name ?? id.slice(0, 12)}: it is running: stop it first or use rm -f`);
    if (s.state === 'running') process.kill(s.pid, 9);
    await waitExit(store, id, 30000);
  }
  // the monitor deletes the runtime's state and cgroup when the init exits; a leftover (a killed
  // monitor, a delete that failed) goes here
  const runtimeState = e ? join(e.runtimeRoot ?? RUNTIME_DEFAULT_ROOT, id) : undefined;
  const runtimeDelete = () => spawnSync(e!.runtime[0]!, [...e!.runtime.slice(1), ...(e!.runtimeRoot ? ['--root', e!.runtimeRoot] : []), 'delete', '--force', id], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (runtimeState && fs.existsSync(runtimeState)) runtimeDelete();
  const shown = store.record(id)?.name ?? id.slice(0, 12);
  // every hierarchy's directory that is left, not only when all are: a removal that failed or
  // raced in some (the runtime's delete, an earlier rm) leaves the others to this one. What cannot
  // be removed keeps the container, so that rm can be run again
  // (EBUSY retried briefly, as runc's rmdir does: the runtime's delete has waited for the processes already)
  const manager = new CgroupManager({ fs: new NodeCgroupFs(), layout: readCgroupLayout(proc()), cgroupsPath: `/hostscope/${id}`, settleTimeoutMs: 2000 });
  try {
    await manager.destroy();
  } catch (err) {
    if (isCgroupError(err)) throw new ContainerError(`cannot remove container ${shown}: ${err.message}`);
    throw err;
  }
  // a runtime delete that failed on the cgroup just removed goes through now
  if (runtimeState && fs.existsSync(runtimeState)) {
    const r = runtimeDelete();
    if (fs.existsSync(runtimeState)) throw new ContainerError(`cannot remove container ${shown}: the runtime's delete failed: ${escapeControl((r.stderr ?? '').trim().split('\n').at(-1) || `status ${r.status ?? r.signal}`)}`);
  }
  // the runtime's delete at the container's end removes an empty /hostscope; this one is for a
  // container whose monitor was killed, or one made by an older hostscope (no annotation)
  for (const w of manager.removeEmptyParents()) warn(w);
  releaseNetwork(store, id);
  unmountPts(store.dir(id));
  store.remove(id);
}

/** a -t container's devpts at DIR/pts, left mounted by a killed monitor of a hostscope before stop 20 (today's mounts none) */
function unmountPts(dir: string): void {
  const pts = join(dir, 'pts');
  if (!fs.existsSync(pts)) return;
  try {
    if (proc().readProcText('self/mountinfo').split('\n').some((l) => l.split(' ')[4] === pts)) spawnSync('umount', ['-l', pts], { stdio: 'ignore' });
  } catch {
    /* no mountinfo: nothing we can check */
  }
}

/** the veth (if its namespace still holds it) and the address */
function releaseNetwork(store: Store, id: string): void {
  const rec = readNetRecord(store.dir(id));
  if (!rec) return;
  disconnectContainer(rec);
  releaseAddress(store.root, id, rec.ip);
}


// ---------------------------------------------------------------- ps

export interface PsRow {
  id: string;
  name: string;
  image: string;
  command: string;
  created: string;
  status: string;
  state: Status['state'];
  pid?: number;
  exitCode?: number;
}

export function psRows(store: Store, all: boolean, now = Date.now()): PsRow[] {
  const rows: (PsRow & { createdMs: number })[] = [];
  for (const id of store.ids()) {
    const rec = store.record(id);
    if (!rec) continue;
    const s = status(store, id);
    if (!all && s.state !== 'running') continue;
    const created = Date.parse(rec.created);
    let st: string;
    if (s.state === 'running') {
      let started = created;
      try {
        started = fs.statSync(join(store.dir(id), 'init.pid')).mtimeMs;
      } catch {
        /* created time then */
      }
      st = `Up ${humanDuration(now - started)}`;
    } else if (s.state === 'exited') st = `Exited (${s.exit.exitCode}) ${humanDuration(now - Date.parse(s.exit.finishedAt))} ago`;
    else if (s.state === 'created') st = 'Created';
    else st = 'Dead';
    rows.push({
      id,
      name: rec.name,
      image: rec.image,
      command: rec.command.join(' '),
      created: `${humanDuration(now - created)} ago`,
      status: st,
      state: s.state,
      createdMs: created,
      ...(s.state === 'running' ? { pid: s.pid } : {}),
      ...(s.state === 'exited' ? { exitCode: s.exit.exitCode } : {}),
    });
  }
  // newest first, as docker ps
  return rows.sort((a, b) => b.createdMs - a.createdMs).map(({ createdMs: _c, ...r }) => r);
}

export { RunConfigError, StoreError };

// ---------------------------------------------------------------- update

export interface UpdateFlags {
  memory?: string;
  memorySwap?: string;
  pidsLimit?: string;
  cpus?: string;
  cpuShares?: string;
}

/** docker update: the limits parsed as run parses them, written through the cgroup manager, kept in config.json */
export function updateContainer(store: Store, id: string, f: UpdateFlags, src: ProcSource = proc()): CgroupResources {
  const s = status(store, id);
  if (s.state !== 'running') throw new ContainerError(`container ${id.slice(0, 12)} is not running`);
  const r: CgroupResources = {};
  if (f.memory !== undefined || f.memorySwap !== undefined) {
    r.memory = {};
    if (f.memory !== undefined) {
      const v = parseSize(f.memory, '--memory');
      if (v < 6 * 1024 * 1024) throw new RunConfigError(`invalid value for --memory: '${f.memory}' (the minimum is 6m, as docker)`);
      r.memory.limit = v;
    }
    if (f.memorySwap !== undefined) r.memory.swap = f.memorySwap === '-1' ? -1 : parseSize(f.memorySwap, '--memory-swap');
  }
  if (f.pidsLimit !== undefined) {
    if (!/^-?\d{1,8}$/.test(f.pidsLimit) || Number(f.pidsLimit) === 0 || Number(f.pidsLimit) < -1) throw new RunConfigError(`invalid value for --pids-limit: '${f.pidsLimit}' (-1 for unlimited, or at least 1)`);
    r.pids = { limit: Number(f.pidsLimit) };
  }
  if (f.cpus !== undefined || f.cpuShares !== undefined) {
    r.cpu = {};
    if (f.cpus !== undefined) Object.assign(r.cpu, parseCpus(f.cpus));
    if (f.cpuShares !== undefined) {
      if (!/^\d{1,6}$/.test(f.cpuShares) || Number(f.cpuShares) < 2 || Number(f.cpuShares) > 262144) throw new RunConfigError(`invalid value for --cpu-shares: '${f.cpuShares}' (from 2 to 262144)`);
      r.cpu.shares = Number(f.cpuShares);
    }
  }
  if (!Object.keys(r).length) throw new ContainerError('nothing to update: give --memory, --memory-swap, --pids-limit, --cpus or --cpu-shares');
  const manager = new CgroupManager({ fs: new NodeCgroupFs(), layout: readCgroupLayout(src), cgroupsPath: `/hostscope/${id}` });
  try {
    manager.apply(r);
  } catch (e) {
    if (isCgroupError(e)) throw new ContainerError((e as Error).message);
    throw e;
  }
  // what inspect shows follows
  const cfgPath = join(store.dir(id), 'config.json');
  try {
    const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8')) as { linux: { resources: Record<string, Record<string, unknown>> } };
    const res = cfg.linux.resources;
    for (const [k, v] of Object.entries(r)) res[k] = { ...(res[k] ?? {}), ...(v as Record<string, unknown>) };
    fs.writeFileSync(`${cfgPath}.tmp`, JSON.stringify(cfg, null, '\t'), { mode: 0o600 });
    fs.renameSync(`${cfgPath}.tmp`, cfgPath);
  } catch {
    /* the limits are applied; the record is best effort */
  }
  return r;
}

// ---------------------------------------------------------------- stats

export interface StatsRow {
  id: string;
  name: string;
  /** ns of CPU used, for two samples' difference */
  cpuNs?: number;
  memUsage?: number;
  memLimit?: number;
  pids?: number;
}

export function readStats(store: Store, id: string, src: ProcSource = proc()): StatsRow {
  const rec = store.record(id);
  const manager = new CgroupManager({ fs: new NodeCgroupFs(), layout: readCgroupLayout(src), cgroupsPath: `/hostscope/${id}` });
  const st = manager.stats(src);
  const row: StatsRow = { id, name: rec?.name ?? id.slice(0, 12) };
  // docker stats' MEM USAGE is the working set (usage minus inactive file), its LIMIT the cgroup's or the host's memory
  if (st.memory) {
    row.memUsage = st.memory.workingSetBytes;
    if (st.memory.limitBytes !== null) row.memLimit = st.memory.limitBytes;
  }
  if (st.cpu) row.cpuNs = st.cpu.usageUsec * 1000;
  if (st.pids) row.pids = st.pids.current;
  return row;
}
