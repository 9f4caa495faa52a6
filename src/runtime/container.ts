/**
 * The orchestration of `runc-ts run` (foreground): read and validate the bundle, take the state
 * dir and its lock, make the cgroup and apply the limits, build the init plan from the host's
 * facts, run it on the native step runner (the parent joins the cgroup and writes the id maps
 * while the child waits), wait for the container's exit, and remove everything — on every path,
 * success or failure. Node is the parent of the init (CLONE_PARENT) and reaps it.
 *
 * create/start (the init parked on its exec fifo across two commands) is not built yet.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runSteps, NativeError, type StepProcess } from '../native/index.js';
import { NodeCgroupFs } from '../cgroup/fs.js';
import { CgroupManager } from '../cgroup/manager.js';
import { readCgroupLayout } from '../inspect/host.js';
import { openSource, type ProcSource } from '../source/source.js';
import { parseCapMask } from '../parse/capabilities.js';
import { parseSpecText, SpecError, MAX_CONFIG_BYTES, type Spec } from './spec.js';
import { buildInitPlan, PlanError, rootfsParentMount, type CgroupMountPlan, type HostFacts } from './plan.js';
import { cgroupResourcesOf } from './resources.js';
import { fsPathView } from './securejoin.js';
import { StateStore, rfc3339Nano, type SavedState } from './state.js';
import { readPidStat } from './probe.js';
import { S_IFIFO } from './plan-steps.js';
import { compileSeccomp, SeccompError, type LinuxSeccomp } from './seccomp/index.js';

export class RuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeError';
  }
}

function readBoundedFile(p: string, max: number): string {
  const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    if (!fs.fstatSync(fd).isFile()) throw new RuntimeError(`${p} is not a regular file`);
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const r = fs.readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > max) throw new SpecError('', `larger than ${max} bytes`);
    }
    return buf.subarray(0, n).toString('utf8');
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

async function launch(o: RunOptions, mode: 'run' | 'create'): Promise<number> {
  const { bundle, spec, warnings, rootfs } = loadBundle(o.bundle);
  for (const w of warnings) o.warn?.(w);
  const hookKinds = Object.entries(spec.hooks).filter(([, v]) => v && v.length > 0);
  if (hookKinds.length) throw new PlanError(`hooks.${hookKinds[0]![0]}`, 'hooks are not supported by runc-ts yet');
  if (spec.process?.terminal) throw new PlanError('process.terminal', 'true needs --console-socket, which runc-ts run does not take yet');
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

  const src = openSource();
  const store = new StateStore(o.root);
  store.create(o.id);
  const self = readPidStat(src, process.pid)!;
  let unlock: (() => void) | undefined;
  let manager: CgroupManager | undefined;
  let proc: StepProcess | undefined;
  let fifoFd: number | undefined;
  let created = false;
  let shared = false;
  try {
    unlock = store.lock(o.id, (pid, st) => readPidStat(src, pid)?.startTime === st, { pid: process.pid, startTime: self.startTime });
    const layout = readCgroupLayout(src);
    manager = new CgroupManager({ fs: new NodeCgroupFs(), layout, cgroupsPath: spec.linux.cgroupsPath ?? `/runc-ts/${o.id}` });
    // a cgroupsPath that already holds processes is shared with something runc-ts did not start
    // (two containers given one relative cgroupsPath): those are never killed and the cgroup is
    // left to them (runc's cleanup only tries rmdir, which fails while they are there)
    shared = manager.pids().length > 0;
    manager.create();
    manager.apply(resources);
    const host = hostFacts(src, manager, rootfs);
    if (mode === 'create') {
      await makeFifo(store.fifoPath(o.id));
      // O_PATH: never blocks; the init reopens it for writing through /proc/self/fd/N (a forked child keeps our fds)
      fifoFd = fs.openSync(store.fifoPath(o.id), O_PATH);
    }
    const rootless = process.geteuid!() !== 0;
    const plan = buildInitPlan({ spec, rootfs, bundle, view: fsPathView(fs), host, noPivot: o.noPivot, rootless, ...(seccomp ? { seccomp } : {}), ...(fifoFd !== undefined ? { execFifoFd: fifoFd } : {}) });
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
      namespaces: spec.linux.namespaces.map((n) => n.type),
      configPath: `${bundle}/config.json`,
      rootless,
    };
    store.save(saved);
    proc = await runSteps(plan.steps, {
      parent: {
        cgroupProcs: manager.placements.map((p) => `${p.dir}/cgroup.procs`),
        ...(plan.parent.setgroups ? { setgroups: plan.parent.setgroups } : {}),
        ...(plan.parent.uidMap ? { uidMap: plan.parent.uidMap } : {}),
        ...(plan.parent.gidMap ? { gidMap: plan.parent.gidMap } : {}),
      },
    });
    const st = readPidStat(src, proc.pid);
    store.save({ ...saved, pid: proc.pid, pidStartTime: st?.startTime ?? 0, creating: false });
    if (o.pidFile) writePidFile(o.pidFile, proc.pid);
    unlock();
    unlock = undefined;
    if (mode === 'create') {
      if (!proc.ready) throw new RuntimeError('container init exited before it was ready');
      proc.unref();
      created = true;
      return 0;
    }
    const exit = await proc.exited;
    return exit.code ?? 128 + (exit.signal ?? 0);
  } catch (e) {
    if (proc) proc.signal(9);
    if (e instanceof NativeError) throw new RuntimeError(`container init: ${e.message}${e.path ? ` (${e.path})` : ''}`);
    throw e;
  } finally {
    if (fifoFd !== undefined) fs.closeSync(fifoFd);
    if (created) return 0; // eslint-disable-line no-unsafe-finally
    if (proc) await proc.exited.catch(() => undefined);
    if (manager && shared) o.warn?.(`cgroup ${spec.linux.cgroupsPath} holds processes runc-ts did not start: not killed, not removed`);
    else if (manager) {
      try {
        await manager.killAll('SIGKILL');
      } catch {
        /* empty already */
      }
      try {
        await manager.destroy();
      } catch (e) {
        o.warn?.(`cgroup not removed: ${(e as Error).message}`);
      }
    }
    unlock?.();
    if (!o.keep) store.remove(o.id);
  }
}

const O_PATH = 0o10000000;

/** write a pid file as runc does: the pid, no newline, through a temp file and a rename */
export function writePidFile(p: string, pid: number): void {
  const abs = path.resolve(p);
  const tmp = `${path.dirname(abs)}/.${path.basename(abs)}`;
  fs.writeFileSync(tmp, String(pid), { mode: 0o644 });
  fs.renameSync(tmp, abs);
}

/** mkfifo(path, 0622) as runc makes exec.fifo: Node has no mkfifo, a one-step native child does it */
async function makeFifo(p: string): Promise<void> {
  const old = process.umask(0);
  try {
    const child = await runSteps([{ op: 'mknod', path: p, mode: S_IFIFO | 0o622, major: 0, minor: 0 }]);
    await child.exited;
    const err = await child.finished;
    if (err) throw err;
  } finally {
    process.umask(old);
  }
}
