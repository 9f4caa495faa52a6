/**
 * The typed façade of the native addon: the only module that loads the .node file. Everything
 * native fails as NativeError { syscall, code, errno, path?, step? }.
 */
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { packageRoot } from '../util/package-root.js';
import { strerror } from '../util/strerror.js';
import { join } from 'node:path';
import { encodeStep, stepName, validateSteps, type Step } from './steps.js';
import { LinuxSyscalls, doParentWork, type ExitStatus, type NativeBinding, type ParentWork, type ReportMsg, type Syscalls, type Watch } from './syscalls.js';

export type { ExitStatus, ParentWork, Syscalls } from './syscalls.js';

interface Binding extends NativeBinding {
  waitSync(pidfd: number, nohang: boolean): ExitStatus | null;
  pidfdOpen(pid: number, track?: boolean): number;
  nsIoctl(fd: number, op: number): number;
  opName(op: number): string;
  listenUnix(path: string): number;
  recvFd(listenFd: number, timeoutMs: number, cb: (err: Error | null, fd: number, name: string) => void, connected?: boolean): void;
  socketPair(): [number, number];
  ttyOp(fd: number, op: number, rows: number, cols: number): void;
  maxSteps: number;
  nregs: number;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `E${errno}`;
}

/** strerror(3) text for an errno number */
export function errnoText(errno: number): string {
  return strerror(errnoName(errno));
}

export class NativeError extends Error {
  readonly syscall: string;
  readonly errno: number;
  readonly code: string;
  readonly path: string | undefined;
  /** index of the failing step, for step lists */
  readonly step: number | undefined;

  constructor(syscall: string, errno: number, opts: { path?: string; step?: number } = {}) {
    super(`${syscall}: ${errnoText(errno)}`);
    this.name = 'NativeError';
    this.syscall = syscall;
    this.errno = errno;
    this.code = errnoName(errno);
    this.path = opts.path;
    this.step = opts.step;
  }
}

let binding: Binding | undefined;
let loadError: string | undefined;

/** The addon, or undefined with nativeUnavailableReason() saying why. */
export function loadNative(): Binding | undefined {
  if (binding || loadError) return binding;
  const require = createRequire(import.meta.url);
  const root = packageRoot(import.meta.dirname);
  try {
    if (!root) throw new Error('cannot find the hostscope package root');
    binding = require(join(root, 'build/Release/hostscope_native.node')) as Binding;
  } catch (e) {
    loadError = (e as Error).message.split('\n')[0];
  }
  return binding;
}

export function nativeUnavailableReason(): string | undefined {
  loadNative();
  return binding ? undefined : `the native addon is not built (${loadError ?? 'unknown'}); run 'npm rebuild' with a C compiler and the Node headers installed`;
}

function native(): Binding {
  const b = loadNative();
  if (!b) throw new NativeError('load', constants.errno.ENOENT, { path: 'build/Release/hostscope_native.node' });
  return b;
}

function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const x = e as { syscall?: string; errno?: number };
    if (typeof x.errno === 'number' && typeof x.syscall === 'string') throw new NativeError(x.syscall, x.errno);
    throw e;
  }
}

/** A process started by runSteps: exec'd (or exited), or parked after a `ready` step. */
export interface StepProcess {
  /** the process that runs the steps after the last `fork` (as the parent's pid namespace sees it) */
  pid: number;
  /**
   * true: runSteps returned at the child's READY report, and the child goes on with the rest of
   * its list (parked in a blocking open of an exec fifo, or a waitParent for release())
   */
  ready: boolean;
  /** resolves when it exits; reaps it */
  exited: Promise<ExitStatus>;
  /**
   * settles when the report pipe closes: null once the child exec'd (or its list ended), or the
   * NativeError of a step that failed after `ready`. Never rejects.
   */
  finished: Promise<NativeError | null>;
  /** pidfd_send_signal; false when it had already exited */
  signal(sig: number): boolean;
  /** write the byte a `waitParent` step after `ready` waits for (once; later calls do nothing) */
  release(): void;
  /** let Node exit although this process still runs or is parked (runc create): its exit and report watches no longer keep the loop alive */
  unref(): void;
}

export interface RunOptions {
  /** called with the waiting process's pid while it blocks in a `waitParent` step, after `parent` work is done */
  beforeRelease?: (pid: number) => void | Promise<void>;
  /** done by the parent while the child waits in its first `waitParent` step: cgroup joins, setgroups, uid and gid maps, in that order */
  parent?: ParentWork;
  /** inject a failure (EIO) at this step index: for tests of the error path */
  failAt?: number;
  /** called with the pid of each process a `fork` step makes (as the parent's pid namespace sees it), as soon as it is reported */
  onPid?: (pid: number) => void;
  /** the kernel as seen by the runner (default LinuxSyscalls over the addon; RecordingSyscalls in unit tests) */
  sys?: Syscalls;
}

let linux: LinuxSyscalls | undefined;
function linuxSyscalls(): Syscalls {
  const b = native();
  // the addon's properties are not enumerable: name each one
  linux ??= new LinuxSyscalls({
    spawn: (steps, failAt) => b.spawn(steps, failAt),
    watchReports: (fd, cb) => b.watchReports(fd, cb),
    release: (fd) => b.release(fd),
    closeFd: (fd) => b.closeFd(fd),
    watch: (fd, cb) => b.watch(fd, cb),
    setRef: (fd, ref) => b.setRef(fd, ref),
    pidfdOpen: (pid) => b.pidfdOpen(pid, true),
    pidfdSendSignal: (fd, sig) => b.pidfdSendSignal(fd, sig),
  });
  return linux;
}

interface Proc {
  pid: number;
  pidfd: number;
  exited: Promise<ExitStatus>;
  done: boolean;
  watch: Watch;
}

function stepError(steps: Step[], step: number, errno: number): NativeError {
  const st = steps[step];
  const path = st && 'path' in st && typeof st.path === 'string' ? st.path : st?.op === 'exec' || st?.op === 'lookPath' ? st.file : undefined;
  return new NativeError(st ? stepName(st) : 'step', errno, { step, ...(path ? { path } : {}) });
}

/**
 * Fork, run the steps in the child, and return once it has exec'd, or reached a `ready` step (the
 * child then goes on by itself: StepProcess.ready), or throw the NativeError of the step that
 * failed, after reaping everything. Reports are read asynchronously (a libuv poll on the report
 * pipe): the event loop is never blocked. A `fork` step's child takes over: its pid is the one
 * returned, and each intermediate process is reaped here.
 */
export async function runSteps(steps: Step[], opts: RunOptions = {}): Promise<StepProcess> {
  validateSteps(steps);
  const sys = opts.sys ?? linuxSyscalls();
  const h = call(() => sys.spawn(steps.map(encodeStep), opts.failAt ?? -1));

  const procs: Proc[] = [];
  const track = (pid: number, pidfd: number): Proc => {
    let resolve!: (s: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((r) => (resolve = r));
    const p: Proc = { pid, pidfd, exited, done: false, watch: undefined as unknown as Watch };
    p.watch = sys.watchExit(pidfd, (s) => {
      p.done = true;
      resolve(s);
    });
    procs.push(p);
    return p;
  };
  track(h.pid, h.pidfd);
  const current = (): Proc => procs[procs.length - 1]!;

  let syncOpen = true;
  const closeSyncFd = () => {
    if (!syncOpen) return;
    syncOpen = false;
    sys.close(h.syncFd);
  };
  const release = () => {
    if (!syncOpen) return;
    syncOpen = false;
    call(() => sys.release(h.syncFd));
  };

  let failure: { step: number; errno: number } | undefined;
  let parentError: unknown;
  let returned = false;
  let reportWatch: Watch | undefined;
  let settleFinished!: (e: NativeError | null) => void;
  const finished = new Promise<NativeError | null>((r) => (settleFinished = r));

  return new Promise<StepProcess>((resolve, reject) => {
    const handle = (ready: boolean): StepProcess => {
      const p = current();
      return {
        pid: p.pid,
        ready,
        exited: p.exited,
        finished,
        signal: (sig: number) => {
          if (p.done) return false;
          try {
            sys.pidfdSendSignal(p.pidfd, sig);
            return true;
          } catch {
            return false;
          }
        },
        release,
        unref: () => {
          for (const q of procs) q.watch.unref();
          reportWatch?.unref();
        },
      };
    };
    // reap every process of this spawn, then fail
    const failWith = (e: unknown) => {
      closeSyncFd();
      void Promise.all(procs.map((q) => q.exited)).then(() => reject(e));
    };
    const onMsg = (m: ReportMsg) => {
      switch (m.kind) {
        case 'pid': {
          // a fork step's new process: a child of ours too (CLONE_PARENT), unreaped, so its pid is still its own
          try {
            track(m.pid, sys.pidfdOpen(m.pid));
          } catch (e) {
            parentError ??= e;
          }
          try {
            opts.onPid?.(m.pid);
          } catch (e) {
            parentError ??= e;
          }
          return;
        }
        case 'error':
          failure ??= { step: m.step, errno: m.errno };
          return;
        case 'waiting': {
          if (returned) return; // after `ready`: the caller releases it
          const pid = current().pid;
          void (async () => {
            if (opts.parent) doParentWork(sys, pid, opts.parent);
            if (opts.beforeRelease) await opts.beforeRelease(pid);
          })().then(
            () => {
              try {
                release();
              } catch (e) {
                parentError ??= e;
                closeSyncFd();
              }
            },
            (e) => {
              parentError ??= e;
              closeSyncFd(); // the child's waitParent step sees EOF and stops
            },
          );
          return;
        }
        case 'ready':
          if (returned || failure || parentError) return;
          returned = true;
          resolve(handle(true));
          return;
        case 'eof': {
          // a message cut short, or a read error: the protocol broke, never a silent success
          if ((m.partial > 0 || m.errno) && !failure) failure = { step: -1, errno: m.errno || constants.errno.EPROTO };
          const err = parentError ?? (failure ? (failure.step < 0 ? new NativeError('read(report)', failure.errno) : stepError(steps, failure.step, failure.errno)) : undefined);
          if (failure && failure.step < 0) for (const q of procs) if (!q.done) sys.pidfdSendSignal(q.pidfd, 9);
          closeSyncFd();
          if (returned) {
            settleFinished(err instanceof NativeError ? err : err ? new NativeError('step', constants.errno.EIO) : null);
            return;
          }
          returned = true;
          if (err) {
            settleFinished(err instanceof NativeError ? err : null);
            failWith(err);
            return;
          }
          settleFinished(null);
          // the intermediate processes of fork steps exit by themselves: reap them before returning
          void Promise.all(procs.slice(0, -1).map((q) => q.exited)).then(() => resolve(handle(false)));
          return;
        }
      }
    };
    try {
      reportWatch = sys.watchReports(h.reportFd, onMsg);
    } catch (e) {
      for (const q of procs) if (!q.done) sys.pidfdSendSignal(q.pidfd, 9);
      sys.close(h.reportFd);
      failWith(e);
    }
  });
}

/** A unix stream socket listening at path, as an fd (close it with closeFd): a console socket for tests. */
export function listenUnix(path: string): number {
  return call(() => native().listenUnix(path));
}

/**
 * Accept one connection on a listening unix socket and receive one fd sent with SCM_RIGHTS, and
 * the message bytes that came with it (runc's console socket protocol), without blocking the
 * event loop. Fails with ETIMEDOUT after timeoutMs.
 */
export function recvFd(listenFd: number, timeoutMs = 10_000, connected = false): Promise<{ fd: number; name: string }> {
  const b = native();
  return new Promise((resolve, reject) => {
    b.recvFd(
      listenFd,
      timeoutMs,
      (err, fd, name) => {
        if (err) {
          const x = err as Error & { syscall?: string; errno?: number };
          reject(typeof x.errno === 'number' ? new NativeError(x.syscall ?? 'recvmsg', x.errno) : err);
        } else resolve({ fd, name });
      },
      connected,
    );
  });
}

/**
 * A connected unix stream socket pair, both close-on-exec (runc's console socket pair for a
 * foreground `run` with a terminal): a runner's child keeps its end across fork; recvFd(a, t, true)
 * receives on the other end without accept. Close both with closeFd.
 */
export function socketPair(): [number, number] {
  return call(() => native().socketPair());
}

/** clear ONLCR on a pty (runc does so on the console master it receives) */
export function ttyClearOnlcr(fd: number): void {
  call(() => native().ttyOp(fd, 1, 0, 0));
}

/** TIOCSWINSZ: set a pty's window size */
export function ttySetWinsize(fd: number, rows: number, cols: number): void {
  call(() => native().ttyOp(fd, 2, rows, cols));
}

/** close an fd the addon gave out */
export function closeFd(fd: number): void {
  call(() => native().closeFd(fd));
}

/** ioctl ops of hs_ns_ioctl */
export const NS_IOCTL = { GET_USERNS: 1, GET_PARENT: 2, GET_NSTYPE: 3, GET_OWNER_UID: 4 } as const;

/** A namespace ioctl on an open nsfs fd; GET_USERNS / GET_PARENT return a new fd (close it). */
export function nsIoctl(fd: number, op: (typeof NS_IOCTL)[keyof typeof NS_IOCTL]): number {
  return call(() => native().nsIoctl(fd, op));
}

export function pidfdOpen(pid: number): number {
  return call(() => native().pidfdOpen(pid));
}
