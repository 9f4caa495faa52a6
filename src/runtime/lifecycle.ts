/**
 * The verbs that act on an existing container (runc 1.1's start, kill, delete, pause, resume, ps,
 * update, events --stats): load its state under the lock, derive its status from the live init,
 * and act through the cgroup manager or a signal. Error texts are runc's.
 */
import * as fs from 'node:fs';
import { constants } from 'node:os';
import { NodeCgroupFs } from '../cgroup/fs.js';
import { CgroupManager, managedHierarchies, type CgroupResources } from '../cgroup/manager.js';
import { readCgroupLayout } from '../inspect/host.js';
import { openSource, type ProcSource } from '../source/source.js';
import { deriveStatus, StateStore, type SavedState, type Status } from './state.js';
import { probeInit, readPidStat } from './probe.js';
import { RuntimeError, forwardSignals } from './container.js';
import type { NamespaceType } from './spec.js';

export interface Ctx {
  src: ProcSource;
  store: StateStore;
}

export function ctxOf(root: string): Ctx {
  return { src: openSource(), store: new StateStore(root) };
}

export function statusOf(c: Ctx, s: SavedState): Status {
  return deriveStatus(s, probeInit(c.src, s, c.store.fifoExists(s.id)));
}

/** run fn holding the container's lock */
export async function withLock<T>(c: Ctx, id: string, fn: (s: SavedState) => Promise<T> | T): Promise<T> {
  const saved = c.store.load(id); // "container does not exist" before any lock file is made
  const self = readPidStat(c.src, process.pid)!;
  const unlock = c.store.lock(id, (pid, st) => readPidStat(c.src, pid)?.startTime === st, { pid: process.pid, startTime: self.startTime });
  try {
    return await fn(saved);
  } finally {
    unlock();
  }
}

/** the cgroup manager of a saved container: its absolute cgroup path recovered from the saved directories */
export function managerOf(c: Ctx, s: SavedState): CgroupManager {
  const layout = readCgroupLayout(c.src);
  let rel: string | undefined;
  for (const h of managedHierarchies(layout)) {
    const key = h.version === 2 ? '' : h.controllers.join(',');
    const dir = s.cgroupPaths[key];
    if (dir && dir.startsWith(`${h.mountPoint}/`)) {
      rel = dir.slice(h.mountPoint.length);
      break;
    }
  }
  if (rel === undefined) throw new RuntimeError(`container ${s.id}: its cgroup is not on this host's hierarchies`);
  const m = new CgroupManager({ fs: new NodeCgroupFs(), layout, cgroupsPath: rel });
  for (const p of m.placements) {
    const key = p.hierarchy.version === 2 ? '' : p.hierarchy.controllers.join(',');
    if (s.cgroupPaths[key] !== undefined && s.cgroupPaths[key] !== p.dir) throw new RuntimeError(`container ${s.id}: saved cgroup ${s.cgroupPaths[key]} does not match ${p.dir}`);
  }
  return m;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * runc start: the startContainer hooks (in the container's namespaces, the init parked after
 * pivot_root), then read the exec fifo (the parked init's blocking open returns and it writes "0"),
 * remove it, and run the poststart hooks. A failing startContainer or poststart hook kills the
 * init (runc's postStart does the same) and start fails.
 */
export async function startContainer(c: Ctx, id: string): Promise<void> {
  const { readExecFifo, runContainerHooks } = await import('./container.js');
  const { loadHooks, runHooks } = await import('./hooks.js');
  await withLock(c, id, async (s) => {
    const status = statusOf(c, s);
    if (status === 'stopped') throw new RuntimeError('cannot start a container that has stopped');
    if (status === 'running') throw new RuntimeError('cannot start an already running container');
    if (status !== 'created') throw new RuntimeError(`cannot start a container in the ${status} state`);
    const hooks = await loadHooks(c.store.dir(id));
    const state = (st: 'created' | 'running') => ({ id, status: st, pid: s.pid, bundle: s.bundle, annotations: s.annotations });
    const kill = () => {
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    try {
      await runContainerHooks('startContainer', hooks, state('created'), s.pid, s.pidStartTime, s.namespaces as NamespaceType[]);
    } catch (e) {
      kill();
      throw e;
    }
    const fifo = c.store.fifoPath(id);
    await readExecFifo(fifo, () => statusOf(c, s) === 'stopped');
    fs.rmSync(fifo, { force: true });
    try {
      await runHooks('poststart', hooks.poststart, state('running'));
    } catch (e) {
      kill();
      throw e;
    }
  });
}

/** runc's parseSignal: a number, or a name with or without SIG, any case */
export function parseSignal(raw: string): number {
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n > 64) throw new RuntimeError(`unknown signal "${raw}"`);
    return n;
  }
  let name = raw.toUpperCase();
  if (!name.startsWith('SIG')) name = `SIG${name}`;
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined || name === 'SIGUNUSED' || name === 'SIGPOLL' || name === 'SIGLOST' || name === 'SIGINFO') throw new RuntimeError(`unknown signal "${raw}"`);
  return n;
}

/** runc kill [--all] ID SIGNAL */
export async function killContainer(c: Ctx, id: string, sig: number, all: boolean): Promise<void> {
  const s = c.store.load(id);
  const status = statusOf(c, s);
  // pid 0 (a create that died before its init existed): never process.kill(0), which is our own process group
  if (status === 'stopped' || s.pid <= 0) throw new RuntimeError('container not running');
  if (all) {
    await managerOf(c, s).killAll(sig);
    return;
  }
  try {
    process.kill(s.pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') throw new RuntimeError('container not running');
    throw e;
  }
}

/** wait (bounded) until the init is stopped: a zombie counts, its parent (the subreaper) reaps it */
async function waitStopped(c: Ctx, s: SavedState): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (statusOf(c, s) === 'stopped') return;
    await sleep(i < 20 ? 1 : 10);
  }
  throw new RuntimeError(`container ${s.id}: init did not stop after SIGKILL`);
}

/** kill what is left, remove the cgroup and the state dir, then the poststop hooks (runc's destroy; a failing one only warns) */
async function destroy(c: Ctx, s: SavedState, warn: (m: string) => void): Promise<void> {
  const { loadHooks, runPoststop } = await import('./hooks.js');
  let hooks: Awaited<ReturnType<typeof loadHooks>> = {};
  try {
    hooks = await loadHooks(c.store.dir(s.id));
  } catch (e) {
    warn(`poststop hooks not run: ${(e as Error).message}`);
  }
  const m = managerOf(c, s);
  await m.killAll('SIGKILL');
  await m.destroy();
  // the default parent (/runc-ts without a cgroupsPath, or one the config declared: /hostscope), where this was its last container
  if (s.defaultCgroup === true) for (const w of m.removeEmptyParents()) warn(w);
  c.store.remove(s.id);
  await runPoststop(hooks.poststop, { id: s.id, status: 'stopped', bundle: s.bundle, annotations: s.annotations }, warn);
}

/** runc delete [--force] ID */
export async function deleteContainer(c: Ctx, id: string, force: boolean, warn: (m: string) => void = () => {}): Promise<void> {
  let exists = true;
  try {
    c.store.load(id);
  } catch (e) {
    if ((e as { code?: string }).code !== 'NOT_FOUND') throw e;
    exists = false;
  }
  if (!exists) {
    // an aborted create may have left the directory without state.json: runc removes it too
    if (fs.existsSync(c.store.dir(id))) c.store.remove(id);
    if (force) return;
    c.store.load(id); // throws runc's "container does not exist"
  }
  await withLock(c, id, async (s) => {
    const status = statusOf(c, s);
    if (status === 'stopped') return destroy(c, s, warn);
    if (status !== 'created' && !force) throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`);
    const m = managerOf(c, s);
    if (s.pid <= 0) return destroy(c, s, warn); // a create that died before its init existed: the cgroup is killed and removed
    // a paused container cannot die until thawed: SIGKILL first, then thaw (runc does the same)
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    if (status === 'paused') await m.thaw();
    await waitStopped(c, s);
    await destroy(c, s, warn);
  });
}

export async function pauseContainer(c: Ctx, id: string): Promise<void> {
  await withLock(c, id, async (s) => {
    const status = statusOf(c, s);
    if (status !== 'running' && status !== 'created') throw new RuntimeError('container not running');
    await managerOf(c, s).freeze();
  });
}

export async function resumeContainer(c: Ctx, id: string): Promise<void> {
  await withLock(c, id, async (s) => {
    if (statusOf(c, s) !== 'paused') throw new RuntimeError('container not paused');
    await managerOf(c, s).thaw();
  });
}

/** the pids of a live container's cgroup (runc ps) */
export function containerPids(c: Ctx, id: string): number[] {
  const s = c.store.load(id);
  if (statusOf(c, s) === 'stopped') return [];
  return managerOf(c, s).pids();
}

export async function updateContainer(c: Ctx, id: string, r: CgroupResources): Promise<void> {
  await withLock(c, id, async (s) => {
    if (statusOf(c, s) === 'stopped') throw new RuntimeError('container not running');
    managerOf(c, s).apply(r);
  });
}

export function containerStats(c: Ctx, id: string) {
  const s = c.store.load(id);
  if (statusOf(c, s) === 'stopped') throw new RuntimeError('container not running');
  return managerOf(c, s).stats(c.src);
}

export interface ExecOptions {
  id: string;
  args: string[];
  detach?: boolean;
  user?: string;
  env?: string[];
  cwd?: string;
  caps?: string[];
  /** the text of a process JSON (runc exec --process) */
  processJson?: string;
  pidFile?: string;
  /** -t / --tty given: true or false overrides the process's terminal */
  tty?: boolean;
  consoleSocket?: string;
  warn?: (m: string) => void;
}

/** the exit code runc exec uses when it cannot start the process */
export const EXEC_START_FAILED = 255;

/**
 * runc exec: config.json's process with the command line's overrides, joined to every namespace
 * of the init (through a pidfd opened after checking its start time) and to its cgroup by the
 * parent before it enters. Resolves with the process's exit status, or 0 with detach.
 */
export async function execInContainer(c: Ctx, o: ExecOptions): Promise<number> {
  const { loadBundle, hostFacts, writePidFile, checkTerminal } = await import('./container.js');
  const { ForegroundConsole } = await import('./console.js');
  const { parseSpecText } = await import('./spec.js');
  const { buildExecPlan } = await import('./plan.js');
  const { runSteps, pidfdOpen, closeFd } = await import('../native/index.js');
  const { compileSeccomp } = await import('./seccomp/index.js');
  const s = c.store.load(o.id);
  const status = statusOf(c, s);
  if (status === 'stopped') throw new RuntimeError('cannot exec in a stopped container');
  if (status === 'paused') throw new RuntimeError('cannot exec in a paused container (use --ignore-paused to override)');
  if (s.pid <= 0) throw new RuntimeError(`cannot exec in a container in the ${status} state`);
  const { spec } = loadBundle(s.bundle);
  let proc = spec.process!;
  if (o.processJson !== undefined) {
    const wrapped = `{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":${o.processJson}}`;
    proc = parseSpecText(wrapped, { apparmor: false, selinux: false }).spec.process!;
  } else {
    if (o.args.length === 0) throw new RuntimeError('exec: no command given');
    proc = { ...proc, args: o.args };
  }
  // runc exec: the config's (or --process file's) terminal unless -t was given
  if (o.tty !== undefined) proc = { ...proc, terminal: o.tty };
  checkTerminal(proc.terminal, !!o.detach, o.consoleSocket);
  if (o.cwd !== undefined) {
    if (!o.cwd.startsWith('/')) throw new RuntimeError(`cwd ${JSON.stringify(o.cwd)} is not an absolute path`);
    proc = { ...proc, cwd: o.cwd };
  }
  if (o.env?.length) {
    const env = [...proc.env];
    for (const kv of o.env) {
      const k = kv.split('=')[0]!;
      const i = env.findIndex((e) => e.split('=')[0] === k);
      if (i >= 0) env[i] = kv;
      else env.push(kv);
    }
    proc = { ...proc, env };
  }
  if (o.user !== undefined) {
    const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(o.user);
    if (!m || Number(m[1]) > 0xfffffffe || (m[2] !== undefined && Number(m[2]) > 0xfffffffe)) throw new RuntimeError(`invalid --user ${JSON.stringify(o.user)}: runc-ts takes numeric UID[:GID]`);
    proc = { ...proc, user: { ...proc.user, uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : proc.user.gid } };
  }
  if (o.caps?.length) {
    const base = proc.capabilities ?? { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
    const add = (l: string[]) => [...new Set([...l, ...o.caps!.map((x) => x.toUpperCase())])];
    proc = { ...proc, capabilities: { ...base, bounding: add(base.bounding), effective: add(base.effective), permitted: add(base.permitted) } };
  }
  let seccomp: { program: Uint8Array; flags: number } | undefined;
  if (spec.linux.seccomp) {
    const cs = compileSeccomp(spec.linux.seccomp as Parameters<typeof compileSeccomp>[0]);
    seccomp = { program: cs.program, flags: cs.flags };
  }
  const m = managerOf(c, s);
  const fg = proc.terminal && o.consoleSocket === undefined ? await ForegroundConsole.open() : undefined;
  const consoleSocket = fg ? { fd: fg.childFd } : o.consoleSocket;
  let child;
  let stopForwarding: (() => void) | undefined;
  try {
    const pidfd = pidfdOpen(s.pid);
    try {
      // the pidfd names the process we checked: same start time after opening, or the pid was reused
      if (readPidStat(c.src, s.pid)?.startTime !== s.pidStartTime) throw new RuntimeError('cannot exec in a stopped container');
      const plan = buildExecPlan({
        process: proc,
        namespaces: spec.linux.namespaces.map((n) => n.type),
        initPidfd: pidfd,
        host: hostFacts(c.src, m),
        ...(consoleSocket !== undefined ? { consoleSocket } : {}),
        ...(seccomp ? { seccomp } : {}),
        setgroupsDenied: s.rootless,
      });
      for (const w of plan.warnings) o.warn?.(w);
      const running = runSteps(plan.steps, { parent: { cgroupProcs: m.placements.map((p) => `${p.dir}/cgroup.procs`) } });
      fg?.afterSpawn();
      child = await running;
    } finally {
      closeFd(pidfd);
    }
    if (o.pidFile) writePidFile(o.pidFile, child.pid);
    if (o.detach) {
      child.unref();
      return 0;
    }
    // runc's signal handler, as for a foreground run: what runc-ts receives goes to the process
    stopForwarding = forwardSignals(child);
    if (fg) await fg.attach();
    const exit = await child.exited;
    await fg?.drain();
    return exit.code ?? 128 + (exit.signal ?? 0);
  } finally {
    stopForwarding?.();
    await fg?.close();
  }
}
