/**
 * The typed façade of the native addon: the only module that loads the .node file. Everything
 * native fails as NativeError { syscall, code, errno, path?, step? }.
 */
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { closeSync } from 'node:fs';
import { packageRoot } from '../util/package-root.js';
import { strerror } from '../util/strerror.js';
import { join } from 'node:path';
import { encodeStep, stepName, type Step } from './steps.js';

interface Binding {
  spawn(steps: unknown[], failAt: number): { pid: number; pidfd: number; reportFd: number; syncFd: number };
  release(syncFd: number): void;
  readReport(fd: number, untilWaiting: boolean): Report;
  waitSync(pidfd: number, nohang: boolean): ExitStatus | null;
  watch(pidfd: number, cb: (s: ExitStatus) => void): void;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, sig: number): void;
  nsIoctl(fd: number, op: number): number;
  opName(op: number): string;
}

interface Report {
  forked: number[];
  failedStep: number;
  errno: number;
  waiting: boolean;
  eof: boolean;
}

export interface ExitStatus {
  /** exit code, or null when killed by a signal */
  code: number | null;
  /** signal number, or null */
  signal: number | null;
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

/** A process started by runSteps: its program is running (or exited) by the time you get it. */
export interface StepProcess {
  pid: number;
  /** resolves when it exits; reaps it */
  exited: Promise<ExitStatus>;
  /** pidfd_send_signal; false when it had already exited */
  signal(sig: number): boolean;
}

export interface RunOptions {
  /** called with the waiting process's pid while it blocks in a `waitParent` step (write maps, join cgroups) */
  beforeRelease?: (pid: number) => void | Promise<void>;
  /** inject a failure (EIO) at this step index: for tests of the error path */
  failAt?: number;
}

/**
 * Fork, run the steps in the child, and return once it has exec'd (or throw the NativeError of
 * the step that failed, after reaping everything). A `fork` step's child takes over: its pid is
 * the one returned, and the intermediate process is reaped here.
 */
export async function runSteps(steps: Step[], opts: RunOptions = {}): Promise<StepProcess> {
  const b = native();
  const h = call(() => b.spawn(steps.map(encodeStep), opts.failAt ?? -1));
  const reports: Report[] = [];
  try {
    if (steps.some((s) => s.op === 'waitParent')) {
      // wait until the child is parked in its waitParent step (or failed before it)
      const first = call(() => b.readReport(h.reportFd, true));
      reports.push(first);
      // the waiting process is the last one a fork step made (its pid message comes first), else the child
      if (first.waiting && opts.beforeRelease) await opts.beforeRelease(first.forked.at(-1) ?? h.pid);
    }
    if (!reports.some((r) => r.eof)) call(() => b.release(h.syncFd));
    else closeSync(h.syncFd);
  } catch (e) {
    closeSync(h.syncFd); // the child's waitParent step sees EOF and stops
    if (!reports.some((r) => r.eof)) b.readReport(h.reportFd, false);
    b.waitSync(h.pidfd, false);
    closeSync(h.pidfd);
    throw e;
  }
  if (!reports.some((r) => r.eof)) reports.push(call(() => b.readReport(h.reportFd, false)));
  const rep: Report = {
    forked: reports.flatMap((r) => r.forked),
    failedStep: reports.find((r) => r.failedStep >= 0)?.failedStep ?? -1,
    errno: reports.find((r) => r.failedStep >= 0)?.errno ?? 0,
    waiting: false,
    eof: true,
  };
  let pid = h.pid;
  let pidfd = h.pidfd;
  if (rep.forked.length > 0) {
    // the first process only forked the real one (CLONE_PARENT: we are its parent too)
    const last = rep.forked[rep.forked.length - 1]!;
    const nextFd = call(() => b.pidfdOpen(last));
    b.waitSync(h.pidfd, false);
    closeSync(h.pidfd);
    pid = last;
    pidfd = nextFd;
  }
  if (rep.failedStep >= 0) {
    b.waitSync(pidfd, false);
    closeSync(pidfd);
    const st = steps[rep.failedStep];
    const path = st && 'path' in st ? st.path : st?.op === 'exec' ? st.file : undefined;
    throw new NativeError(st ? stepName(st) : 'step', rep.errno, { step: rep.failedStep, ...(path ? { path } : {}) });
  }
  let done = false;
  const exited = new Promise<ExitStatus>((resolve) => {
    b.watch(pidfd, (s) => {
      done = true;
      resolve(s);
    });
  });
  return {
    pid,
    exited,
    signal: (sig: number) => {
      if (done) return false;
      try {
        b.pidfdSendSignal(pidfd, sig);
        return true;
      } catch {
        return false;
      }
    },
  };
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
