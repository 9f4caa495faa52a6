/**
 * The orchestration of `runc-ts run` (foreground): read and validate the bundle, take the state
 * dir and its lock, make the cgroup and apply the limits, build the init plan from the host's
 * facts, run it on the native step runner (the parent joins the cgroup and writes the id maps
 * while the child waits), wait for the container's exit, and remove everything — on every path,
 * success or failure. Node is the parent of the init (CLONE_PARENT) and reaps it.
 *
 * create returns with the init parked on its exec fifo (start releases it). Hooks run at their
 * points (src/runtime/hooks.ts); a terminal goes to --console-socket, or in the foreground to the
 * caller's terminal (src/runtime/console.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { constants as osConstants } from 'node:os';
import { runSteps, NativeError, errnoText, pidfdOpen, closeFd, type StepProcess } from '../native/index.js';
import { NodeCgroupFs } from '../cgroup/fs.js';
import { CgroupManager, isCgroupError } from '../cgroup/manager.js';
import { readCgroupLayout } from '../inspect/host.js';
import { openSource, type ProcSource } from '../source/source.js';
import { parseCapMask } from '../parse/capabilities.js';
import { parseSpecText, SpecError, MAX_CONFIG_BYTES, type Spec, type NamespaceType } from './spec.js';
import { buildInitPlan, lookPathMessage, PlanError, rootfsParentMount, type CgroupMountPlan, type HostFacts, type PauseFds } from './plan.js';
import { HookError, runHooks, runPoststop, saveHooks, type HookState } from './hooks.js';
import { ForegroundConsole } from './console.js';
import { cgroupResourcesOf } from './resources.js';
import { fsPathView } from './securejoin.js';
import { StateStore, readBoundedFd, rfc3339Nano, removesEmptyParent, type SavedState } from './state.js';
import { readPidStat } from './probe.js';
import { S_IFIFO } from './plan-steps.js';
import { compileSeccomp, SeccompError, type LinuxSeccomp } from './seccomp/index.js';

export class RuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeError';
  }
}

/** a command its process could not run (the lookpath step) as runc says it, else undefined */
export function lookPathFailure(e: NativeError): string | undefined {
  if (e.syscall !== 'lookpath' || e.path === undefined) return undefined;
  return `unable to start container process: ${lookPathMessage(e.path, e.code, errnoText(e.errno))}`;
}

function readBoundedFile(p: string, max: number): string {
  const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    // a config.json is a few KiB: the buffer is sized by fstat (a 4 MiB one each run cost a GC)
    return readBoundedFd(fs, fd, max, { notFile: () => new RuntimeError(`${p} is not a regular file`), tooBig: () => new SpecError('', `larger than ${max} bytes`) }, 4096);
  } finally {
    fs.closeSync(fd);
  }
}

export function loadBundle(bundleArg: string): { bundle: string; spec: Spec; warnings: string[]; rootfs: string } {
  const bundle = path.resolve(bundleArg);
  let text: string;
  try {
    text = readBoundedFile(`${bundle}/config.json`, MAX_CONFIG_BYTES);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RuntimeError(`cannot read ${bundle}/config.json: no such file or directory`);
    throw e;
  }
  const src = openSource();
  const host = {
    apparmor: (() => {
      try {
        return src.readSysText('module/apparmor/parameters/enabled').trim() === 'Y';
      } catch {
        return false;
      }
    })(),
    selinux: src.sysExists('fs/selinux/enforce'),
  };
  const { spec, warnings } = parseSpecText(text, host);
  const rootfs = path.resolve(bundle, spec.root.path);
  return { bundle, spec, warnings, rootfs };
}

export function hostFacts(src: ProcSource, manager: CgroupManager, rootfs?: string): HostFacts {
  const lastCap = Number(src.readProcText('sys/kernel/cap_last_cap').trim());
  const status = src.readProcText('self/status');
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  const bounding = (bnd ? parseCapMask(bnd) : undefined) ?? 0n;
  let cgroup: CgroupMountPlan;
  if (manager.layout.mode === 'v2') cgroup = { mode: 'v2' };
  else
    cgroup = {
      mode: 'v1',
      hierarchies: manager.placements.map((p) => ({ dir: path.basename(p.hierarchy.mountPoint), source: p.dir })),
    };
  let rootfsParent: HostFacts['rootfsParent'];
  if (rootfs !== undefined) {
    let real = rootfs;
    try {
      real = fs.realpathSync(rootfs);
    } catch {
      /* missing: the plan says so */
    }
    rootfsParent = rootfsParentMount(src.readProcText('self/mountinfo'), real);
  }
  return {
    lastCap,
    bounding,
    hasKcore: fs.existsSync(`${src.procRoot}/kcore`) /* not listProc(): that reads every pid's entry */,
    cgroup,
    ...(rootfsParent ? { rootfsParent } : {}),
  };
}

export interface RunOptions {
  root: string;
  id: string;
  bundle: string;
  noPivot?: boolean;
  /** keep the state dir after exit (runc run --keep) */
  keep?: boolean;
  pidFile?: string;
  /** --console-socket: the pty master of a `process.terminal` container is sent there */
  consoleSocket?: string;
  /** run -d (create + start): for runc's terminal checks */
  detach?: boolean;
  warn?: (msg: string) => void;
}

export interface CreateOptions extends Omit<RunOptions, 'keep'> {}

/** run a container in the foreground; resolves with its exit code (128+signal when killed) */
export async function runContainer(o: RunOptions): Promise<number> {
  return (await launch(o, 'run')) as number;
}

/**
 * runc create: resolves once the init is parked on its exec fifo (status `created`). The init
 * keeps the caller's stdio; it is our child (CLONE_PARENT) and is orphaned when this process
 * exits — a subreaper (the caller) should reap it.
 */
export async function createContainer(o: CreateOptions): Promise<number> {
  return (await launch(o, 'create')) as number;
}

/** runc's checkTerminal (utils_linux.go), word for word */
export function checkTerminal(terminal: boolean, detach: boolean, consoleSocket: string | undefined): void {
  if (detach && terminal && consoleSocket === undefined) throw new RuntimeError('cannot allocate tty if runc will detach without setting console socket');
  if ((!detach || !terminal) && consoleSocket !== undefined) throw new RuntimeError('cannot use console socket if runc will not detach or allocate tty');
}

type PausePoint = 'createRuntime' | 'createContainer';

/**
 * Read the exec fifo (runc start): opened O_NONBLOCK and polled, so an init that died never leaves
 * us blocked; its "0" releases it to exec. stopped(): is the init gone. Until the init has opened
 * its end the FIFO reads as EOF: that is waited out while the init lives.
 */
export async function readExecFifo(fifo: string, stopped: () => boolean): Promise<void> {
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(1);
    for (let i = 0; ; i++) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, 1, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        // nothing yet: the init is between its open and its write, or gone
        if (stopped()) throw new RuntimeError('cannot start a container that has stopped');
        await sleep(i < 20 ? 1 : 10);
        continue;
      }
      if (n === 1 && buf[0] === 0x30) return;
      // EOF with no byte: no writer. Either the init has not opened its end yet (our O_NONBLOCK
      // open does not wait for it, and a FIFO without a writer reads as EOF: a loaded machine
      // hit this in CI) or it died
      if (n === 0 && !stopped()) {
        await sleep(i < 20 ? 1 : 10);
        continue;
      }
      throw new RuntimeError('cannot start container: the init exited before it was released');
    }
  } finally {
    fs.closeSync(fd);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** the hook state of this container now */
function hookState(id: string, bundle: string, spec: Spec, status: HookState['status'], pid?: number): HookState {
  return { id, status, ...(pid ? { pid } : {}), bundle, annotations: spec.annotations };
}

/** run the container's hooks in its namespaces (createContainer, startContainer) through a pidfd of the init */
export async function runContainerHooks(kind: 'createContainer' | 'startContainer', hooks: Spec['hooks'], state: HookState, pid: number, startTime: number, types: NamespaceType[]): Promise<void> {
  const list = hooks[kind];
  if (!list?.length) return;
  const pidfd = pidfdOpen(pid);
  try {
    // the pidfd names the process we checked: same start time after opening, or the pid was reused
    if (readPidStat(openSource(), pid)?.startTime !== startTime) throw new RuntimeError('container init exited');
    await runHooks(kind, list, state, { ns: { pidfd, types } });
  } finally {
    closeFd(pidfd);
  }
}

/** nsfs's f_type (linux/magic.h) */
const NSFS_MAGIC = 0x6e736673;

/**
 * A namespace to join must be a namespace file (/proc/PID/ns/TYPE, or a bind mount of one such as
 * /run/netns/NAME): checked by stat and statfs, which never open it, so a FIFO or a device named
 * there is refused with the field named before anything is made — opening a FIFO would block the
 * init for good. (The init's own open is O_NONBLOCK too, for a path swapped after this check.)
 */
function checkNamespacePath(p: string, field: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    throw new PlanError(field, `${JSON.stringify(p)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const what = st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a directory' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : undefined;
  if (what || !st.isFile() || fs.statfsSync(p).type !== NSFS_MAGIC) throw new PlanError(field, `${JSON.stringify(p)} is ${what ?? 'not on nsfs'}, not a namespace file`);
}

async function launch(o: RunOptions, mode: 'run' | 'create'): Promise<number> {
  const { bundle, spec, warnings, rootfs } = loadBundle(o.bundle);
  for (const w of warnings) o.warn?.(w);
  checkTerminal(!!spec.process?.terminal, mode === 'create' || !!o.detach, o.consoleSocket);
  const hooks = spec.hooks;
  const has = (k: keyof Spec['hooks']) => (hooks[k]?.length ?? 0) > 0;
  const resources = cgroupResourcesOf(spec.linux.resources, spec.linux.devices);
  let seccomp: { program: Uint8Array; flags: number } | undefined;
  if (spec.linux.seccomp) {
    try {
      const c = compileSeccomp(spec.linux.seccomp as LinuxSeccomp);
      for (const w of c.warnings) o.warn?.(`linux.seccomp: ${w}`);
      seccomp = { program: c.program, flags: c.flags };
    } catch (e) {
      if (e instanceof SeccompError) throw new PlanError('linux.seccomp', e.message);
      throw e;
    }
  }
  const nsTypes = spec.linux.namespaces.map((n) => n.type);
  spec.linux.namespaces.forEach((n, i) => {
    if (n.path !== undefined) checkNamespacePath(n.path, `linux.namespaces[${i}].path`);
  });

  const src = openSource();
  const store = new StateStore(o.root);
  store.create(o.id);
  const self = readPidStat(src, process.pid)!;
  let unlock: (() => void) | undefined;
  let manager: CgroupManager | undefined;
  let proc: StepProcess | undefined;
  let fifoFd: number | undefined;
  let created = false;
  let initPid = 0;
  let initStart = 0;
  let hookError: unknown;
  let settled = false;
  let fg: ForegroundConsole | undefined;
  let started = false;
  let stopForwarding: (() => void) | undefined;
  const pauseFds: number[] = [];
  const pauses: { name: PausePoint; reachedRd: number; goPath: string }[] = [];
  let shared = false;
  // the parent is a default one (runc-ts's /runc-ts, or one the config's writer declares its own): removed at the end where empty
  const defaultCgroup = removesEmptyParent(spec.linux.cgroupsPath, spec.annotations);
  try {
    unlock = store.lock(o.id, (pid, st) => readPidStat(src, pid)?.startTime === st, { pid: process.pid, startTime: self.startTime });
    saveHooks(store.dir(o.id), hooks);
    const layout = readCgroupLayout(src);
    manager = new CgroupManager({ fs: new NodeCgroupFs(), layout, cgroupsPath: spec.linux.cgroupsPath ?? `${DEFAULT_CGROUP_PARENT}/${o.id}` });
    // a cgroupsPath that already holds processes is shared with something runc-ts did not start
    // (two containers given one relative cgroupsPath): those are never killed and the cgroup is
    // left to them (runc's cleanup only tries rmdir, which fails while they are there)
    shared = manager.pids().length > 0;
    createCgroup(manager, defaultCgroup);
    manager.apply(resources);
    const host = hostFacts(src, manager, rootfs);
    // run with startContainer hooks parks the init on the fifo too: the hooks run before it is released
    const useFifo = mode === 'create' || has('startContainer');
    if (useFifo) {
      await makeFifo(store.fifoPath(o.id));
      // O_PATH: never blocks; the init reopens it for writing through /proc/self/fd/N (a forked child keeps our fds)
      fifoFd = fs.openSync(store.fifoPath(o.id), O_PATH);
    }
    // hook pauses before pivot_root: two FIFOs each, the init writes a byte on `reached`, then blocks opening `go`
    const hookPauses: Partial<Record<PausePoint, PauseFds>> = {};
    for (const name of ['createRuntime', 'createContainer'] as const) {
      if (!(name === 'createRuntime' ? has('prestart') || has('createRuntime') : has('createContainer'))) continue;
      const reached = `${store.dir(o.id)}/${name}.reached`;
      const go = `${store.dir(o.id)}/${name}.go`;
      await makeFifo(reached, 0o600);
      await makeFifo(go, 0o600);
      // our reader first: the init's open for writing then never blocks, and its byte tells us it is there
      const reachedRd = fs.openSync(reached, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
      pauseFds.push(reachedRd);
      const r = fs.openSync(reached, O_PATH);
      pauseFds.push(r);
      const g = fs.openSync(go, O_PATH);
      pauseFds.push(g);
      hookPauses[name] = { reached: r, go: g };
      pauses.push({ name, reachedRd, goPath: go });
    }
    if (mode === 'run' && spec.process?.terminal && o.consoleSocket === undefined) fg = await ForegroundConsole.open();
    const rootless = process.geteuid!() !== 0;
    const consoleSocket = fg ? { fd: fg.childFd } : o.consoleSocket;
    const plan = buildInitPlan({ spec, rootfs, bundle, view: fsPathView(fs), host, noPivot: o.noPivot, rootless, hookPauses, ...(consoleSocket !== undefined ? { consoleSocket } : {}), ...(seccomp ? { seccomp } : {}), ...(fifoFd !== undefined ? { execFifoFd: fifoFd } : {}) });
    for (const w of plan.warnings) o.warn?.(w);
    const saved: SavedState = {
      id: o.id,
      pid: 0,
      pidStartTime: 0,
      bundle,
      rootfs,
      created: rfc3339Nano(Date.now()),
      owner: '',
      annotations: spec.annotations,
      creating: true,
      cgroupPaths: Object.fromEntries(manager.placements.map((p) => [p.hierarchy.version === 2 ? '' : p.hierarchy.controllers.join(','), p.dir])),
      ...(defaultCgroup ? { defaultCgroup } : {}),
      namespaces: nsTypes,
      configPath: `${bundle}/config.json`,
      rootless,
    };
    store.save(saved);
    const killInit = () => {
      if (initPid > 0) {
        try {
          process.kill(initPid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    };
    // the hook points: each waits for the init's byte, runs its hooks, opens `go` (or kills the init)
    const driver = (async () => {
      for (const p of pauses) {
        const buf = Buffer.alloc(1);
        for (let i = 0; ; i++) {
          if (settled) return;
          let n = 0;
          try {
            n = fs.readSync(p.reachedRd, buf, 0, 1, null);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
          }
          if (n === 1) break;
          await sleep(i < 20 ? 1 : 10);
        }
        try {
          initStart = readPidStat(src, initPid)?.startTime ?? 0;
          const state = hookState(o.id, bundle, spec, 'creating', initPid);
          if (p.name === 'createRuntime') {
            await runHooks('prestart', hooks.prestart, state);
            await runHooks('createRuntime', hooks.createRuntime, state);
          } else await runContainerHooks('createContainer', hooks, state, initPid, initStart, nsTypes);
        } catch (e) {
          hookError = e;
          killInit();
          return;
        }
        // kept open until create is done: the init's blocking open for writing returns whenever it gets
        // there (a reader that opened and closed before it blocked would leave it waiting for the next one)
        if (settled) return;
        pauseFds.push(fs.openSync(p.goPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW));
      }
    })().catch((e) => {
      hookError ??= e;
      killInit();
    });
    const running = runSteps(plan.steps, {
      parent: {
        cgroupProcs: manager.placements.map((p) => `${p.dir}/cgroup.procs`),
        ...(plan.parent.setgroups ? { setgroups: plan.parent.setgroups } : {}),
        ...(plan.parent.uidMap ? { uidMap: plan.parent.uidMap } : {}),
        ...(plan.parent.gidMap ? { gidMap: plan.parent.gidMap } : {}),
      },
      beforeRelease: (pid) => {
        initPid ||= pid;
      },
      onPid: (pid) => {
        initPid = pid;
      },
    });
    fg?.afterSpawn();
    try {
      proc = await running;
    } finally {
      settled = true;
      await driver;
    }
    if (hookError) throw hookError;
    // runc's signal handler: from here a foreground run passes what it receives to the init
    if (mode === 'run') stopForwarding = forwardSignals(proc);
    const st = readPidStat(src, proc.pid);
    initStart = st?.startTime ?? 0;
    store.save({ ...saved, pid: proc.pid, pidStartTime: initStart, creating: false });
    if (o.pidFile) writePidFile(o.pidFile, proc.pid);
    unlock();
    unlock = undefined;
    if (mode === 'create') {
      if (!proc.ready) throw new RuntimeError('container init exited before it was ready');
      proc.unref();
      created = true;
      return 0;
    }
    if (useFifo) {
      if (!proc.ready) throw new RuntimeError('container init exited before it was ready');
      const p = proc;
      await runContainerHooks('startContainer', hooks, hookState(o.id, bundle, spec, 'created', p.pid), p.pid, initStart, nsTypes);
      await readExecFifo(store.fifoPath(o.id), () => readPidStat(src, p.pid)?.startTime !== initStart);
      fs.rmSync(store.fifoPath(o.id), { force: true });
      const err = await p.finished;
      if (err) throw err;
    }
    started = true;
    if (fg) await fg.attach();
    if (has('poststart')) await runHooks('poststart', hooks.poststart, hookState(o.id, bundle, spec, 'running', proc.pid));
    const exit = await proc.exited;
    await fg?.drain();
    return exit.code ?? 128 + (exit.signal ?? 0);
  } catch (e) {
    if (proc) proc.signal(9);
    else if (initPid > 0) {
      try {
        process.kill(initPid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (e instanceof NativeError) throw new RuntimeError(lookPathFailure(e) ?? `container init: ${e.message}${e.path ? ` (${e.path})` : ''}`);
    if (e instanceof HookError) throw new RuntimeError(started ? e.message : `error during container init: ${e.message}`);
    throw e;
  } finally {
    // a hook driver still polling (an error before runSteps settled) stops at its next look
    settled = true;
    for (const fd of pauseFds.splice(0)) fs.closeSync(fd);
    if (fifoFd !== undefined) fs.closeSync(fifoFd);
    if (created) return 0; // eslint-disable-line no-unsafe-finally
    if (proc) await proc.exited.catch(() => undefined);
    stopForwarding?.();
    await fg?.close();
    if (manager && shared) o.warn?.(`cgroup ${spec.linux.cgroupsPath} holds processes runc-ts did not start: not killed, not removed`);
    else if (manager) {
      try {
        await manager.killAll('SIGKILL');
      } catch {
        /* empty already */
      }
      try {
        await manager.destroy();
        // the default parent (/runc-ts, or the config's declared one), where no other container is left in it
        if (defaultCgroup) for (const w of manager.removeEmptyParents()) o.warn?.(w);
      } catch (e) {
        o.warn?.(`cgroup not removed: ${(e as Error).message}`);
      }
    }
    unlock?.();
    if (!o.keep) store.remove(o.id);
    // runc's destroy runs poststop after the container is removed, after a run and after a failed create alike
    if (has('poststop')) await runPoststop(hooks.poststop, hookState(o.id, bundle, spec, 'stopped'), (m) => o.warn?.(m));
  }
}

const O_PATH = 0o10000000;

/** the parent cgroup of a container whose config.json gives no cgroupsPath (runc's default is relative; see docs/runtime.md) */
export const DEFAULT_CGROUP_PARENT = '/runc-ts';

/**
 * Make the container's cgroup. Under a default parent (`/runc-ts`, or hostscope's `/hostscope`),
 * another container's delete may rmdir the parent between our mkdir of it and of our own directory
 * (it was empty for that instant): our mkdir, or the read of the parent's cpuset.cpus we copy
 * (v1), fails with ENOENT, or the write of it into the parent's file we opened just before the
 * rmdir with ENODEV. create() has undone what it made, and it is tried again.
 */
function createCgroup(manager: CgroupManager, underDefaultParent: boolean): void {
  for (let i = 0; ; i++) {
    try {
      manager.create();
      return;
    } catch (e) {
      if (!underDefaultParent || i >= CREATE_TRIES || !isCgroupError(e) || (e.errno !== 'ENOENT' && e.errno !== 'ENODEV')) throw e;
      // the parent's ends keep coming (many containers ending at once, on a loaded host): after a
      // few quick tries, a growing pause (1, 2, 4 … 16 ms) lets them pass
      if (i >= 8) Atomics.wait(PAUSE, 0, 0, Math.min(16, 2 ** (i - 8)));
    }
  }
}
const CREATE_TRIES = 60;
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * The signals a foreground `run` forwards to the container's init (and a foreground `exec` to its
 * process), as runc's signal handler does
 * (signals.go: every signal but SIGCHLD, SIGWINCH — the terminal's resize — and SIGURG; SIGKILL
 * and SIGSTOP cannot be caught). Left out too: SIGPIPE (Node ignores it; it is runc-ts's own
 * broken pipe), SIGPROF (V8's profiler), and the synchronous SIGSYS, SIGTRAP, SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL (a fault of runc-ts itself, not a signal for the container). Sent through the init's pidfd (never a reused pid). While they
 * are forwarded runc-ts itself is not stopped or ended by them: the init's exit ends the run, with
 * the init's status (128+signal when killed), as with runc. An init that is pid 1 of its pid
 * namespace ignores a signal it has no handler for (the kernel's rule), with runc too.
 */
export const FORWARDED_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGVTALRM', 'SIGXCPU', 'SIGXFSZ', 'SIGPWR', 'SIGIO'] as const;

export function forwardSignals(proc: Pick<StepProcess, 'signal'>): () => void {
  const handlers = FORWARDED_SIGNALS.map((name) => {
    const h = () => {
      proc.signal(osConstants.signals[name]);
    };
    process.on(name, h);
    return [name, h] as const;
  });
  return () => {
    for (const [name, h] of handlers) process.off(name, h);
  };
}

/** write a pid file as runc does: the pid, no newline, through a temp file and a rename */
export function writePidFile(p: string, pid: number): void {
  const abs = path.resolve(p);
  const tmp = `${path.dirname(abs)}/.${path.basename(abs)}`;
  fs.writeFileSync(tmp, String(pid), { mode: 0o644 });
  fs.renameSync(tmp, abs);
}

/** mkfifo(path, 0622) as runc makes exec.fifo: Node has no mkfifo, a one-step native child does it */
async function makeFifo(p: string, mode = 0o622): Promise<void> {
  const old = process.umask(0);
  try {
    const child = await runSteps([{ op: 'mknod', path: p, mode: S_IFIFO | mode, major: 0, minor: 0 }]);
    await child.exited;
    const err = await child.finished;
    if (err) throw err;
  } finally {
    process.umask(old);
  }
}
