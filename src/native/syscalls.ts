/**
 * The kernel as runSteps sees it, injected (youki's Syscall trait): the native runner's
 * primitives (fork a step list, read its reports, release it, reap it) and the parent's own
 * writes while the child waits (uid/gid maps, setgroups, cgroup joins). `LinuxSyscalls` is the
 * real thing; `RecordingSyscalls` (test double) plays the child from its step list and records
 * every parent and child operation in one log, so their order is unit-tested without root.
 */
import { writeFileSync } from 'node:fs';
import type { EncodedStep } from './steps.js';
import { OP } from './steps.js';

/** one message on the report pipe, or the end of it */
export type ReportMsg =
  | { kind: 'pid'; pid: number }
  | { kind: 'error'; step: number; errno: number }
  | { kind: 'waiting' }
  | { kind: 'ready' }
  /** the pipe closed: every writer exec'd or exited. `partial`: bytes of a message cut short (a protocol error) */
  | { kind: 'eof'; partial: number; errno?: number };

export interface ExitStatus {
  /** exit code, or null when killed by a signal */
  code: number | null;
  /** signal number, or null */
  signal: number | null;
}

export interface Spawned {
  pid: number;
  pidfd: number;
  reportFd: number;
  syncFd: number;
}

/** a libuv watch: unref() lets Node exit while it is still armed; close() stops it */
export interface Watch {
  unref(): void;
  ref(): void;
}

export interface Syscalls {
  /** fork the step runner (steps already encoded and validated) */
  spawn(steps: EncodedStep[], failAt: number): Spawned;
  /** read report messages as they come, asynchronously; onMsg gets the final 'eof' last, then the fd is closed */
  watchReports(reportFd: number, onMsg: (m: ReportMsg) => void): Watch;
  /** write the sync byte (a waitParent step goes on) and close the sync fd */
  release(syncFd: number): void;
  /** close an fd the runner gave us (report, sync, pidfd) */
  close(fd: number): void;
  /** reap by pidfd when it exits (asynchronously), then close the pidfd */
  watchExit(pidfd: number, onExit: (s: ExitStatus) => void): Watch;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, sig: number): void;
  /** the parent's writes: /proc/PID/uid_map, gid_map, setgroups, cgroup.procs */
  writeFile(path: string, data: string): void;
}

/** one line of /proc/PID/uid_map: inside (containerID), outside (hostID), count (size) */
export interface IdMapping {
  inside: number;
  outside: number;
  count: number;
}

/** what the parent does while the child waits in `waitParent`, in this order */
export interface ParentWork {
  /** cgroup.procs files to write the waiting pid to (join before anything runs inside) */
  cgroupProcs?: string[];
  /** /proc/PID/setgroups: 'deny' before a gid_map written without CAP_SETGID in the parent ns */
  setgroups?: 'allow' | 'deny';
  uidMap?: IdMapping[];
  gidMap?: IdMapping[];
}

export function idMapText(m: IdMapping[]): string {
  return m.map((x) => `${x.inside} ${x.outside} ${x.count}\n`).join('');
}

/** Do the parent's part for the process `pid` that waits: cgroups, setgroups, uid_map, gid_map. */
export function doParentWork(sys: Syscalls, pid: number, w: ParentWork): void {
  for (const procs of w.cgroupProcs ?? []) sys.writeFile(procs, String(pid));
  if (w.setgroups) sys.writeFile(`/proc/${pid}/setgroups`, w.setgroups);
  if (w.uidMap) sys.writeFile(`/proc/${pid}/uid_map`, idMapText(w.uidMap));
  if (w.gidMap) sys.writeFile(`/proc/${pid}/gid_map`, idMapText(w.gidMap));
}

/** the addon's part of the interface (src/native/c/addon.c) */
export interface NativeBinding {
  spawn(steps: EncodedStep[], failAt: number): Spawned;
  watchReports(fd: number, cb: (kind: number, step: number, errno: number, pid: number, partial: number) => void): void;
  release(syncFd: number): void;
  closeFd(fd: number): void;
  watch(pidfd: number, cb: (s: ExitStatus) => void): void;
  /** uv_ref / uv_unref the watch of fd */
  setRef(fd: number, ref: boolean): boolean;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, sig: number): void;
}

/** message kinds of enum hs_msg_kind (hs.h) */
const MSG = { PID: 1, ERROR: 2, WAITING: 3, READY: 4, EOF: 0 } as const;

export class LinuxSyscalls implements Syscalls {
  constructor(private readonly b: NativeBinding) {}
  spawn(steps: EncodedStep[], failAt: number): Spawned {
    return this.b.spawn(steps, failAt);
  }
  /** a Watch that stops touching the fd once its last callback ran (the fd number may be reused) */
  private watchOf(fd: number): { w: Watch; end(): void } {
    let live = true;
    return {
      w: { unref: () => live && this.b.setRef(fd, false), ref: () => live && this.b.setRef(fd, true) } as Watch,
      end: () => {
        live = false;
      },
    };
  }
  watchReports(reportFd: number, onMsg: (m: ReportMsg) => void): Watch {
    const x = this.watchOf(reportFd);
    this.b.watchReports(reportFd, (kind, step, errno, pid, partial) => {
      if (kind === MSG.PID) onMsg({ kind: 'pid', pid });
      else if (kind === MSG.ERROR) onMsg({ kind: 'error', step, errno });
      else if (kind === MSG.WAITING) onMsg({ kind: 'waiting' });
      else if (kind === MSG.READY) onMsg({ kind: 'ready' });
      else {
        x.end();
        onMsg({ kind: 'eof', partial, ...(errno ? { errno } : {}) });
      }
    });
    return x.w;
  }
  release(syncFd: number): void {
    this.b.release(syncFd);
  }
  close(fd: number): void {
    this.b.closeFd(fd);
  }
  watchExit(pidfd: number, onExit: (s: ExitStatus) => void): Watch {
    const x = this.watchOf(pidfd);
    this.b.watch(pidfd, (s) => {
      x.end();
      onExit(s);
    });
    return x.w;
  }
  pidfdOpen(pid: number): number {
    return this.b.pidfdOpen(pid);
  }
  pidfdSendSignal(pidfd: number, sig: number): void {
    this.b.pidfdSendSignal(pidfd, sig);
  }
  writeFile(path: string, data: string): void {
    writeFileSync(path, data);
  }
}

/**
 * Test double: a scripted child. spawn() "runs" the encoded steps in order, logging
 * `child <op>`; a waitParent step reports WAITING and stops until release(); ready reports READY
 * and goes on; fork reports the next pid; failAt (or `failures`) reports ERROR and the child exits
 * 125; exec ends the report stream and the child "runs" until kill(). Messages are delivered
 * asynchronously (microtasks), as the real pipe delivers them. Parent writes log `parent write
 * PATH DATA`.
 */
export class RecordingSyscalls implements Syscalls {
  readonly log: string[] = [];
  /** step index → errno the scripted child fails with there */
  readonly failures = new Map<number, number>();
  /** writeFile paths that fail with this errno (e.g. EACCES on a cgroup.procs) */
  readonly writeErrors = new Map<string, string>();
  private nextPid = 1000;
  private nextFd = 100;
  private readonly children = new Map<number, Scripted>();
  /** fds handed out and not closed yet */
  readonly openFds = new Set<number>();
  private static readonly OP_NAME = new Map<number, string>(Object.entries(OP).map(([k, v]) => [v, k]));

  spawn(steps: EncodedStep[], failAt: number): Spawned {
    const pid = this.nextPid++;
    const fds = { pidfd: this.fd(), reportFd: this.fd(), syncFd: this.fd() };
    this.log.push(`spawn ${pid}`);
    const c: Scripted = { pid, steps, failAt, at: 0, queue: [], onMsg: undefined, exit: undefined, onExit: undefined, parked: false, running: false, finished: false };
    this.children.set(fds.reportFd, c);
    this.children.set(fds.syncFd, c);
    this.children.set(fds.pidfd, c);
    this.run(c);
    return { pid, ...fds };
  }

  private fd(): number {
    const fd = this.nextFd++;
    this.openFds.add(fd);
    return fd;
  }

  private emit(c: Scripted, m: ReportMsg): void {
    c.queue.push(m);
    this.flush(c);
  }

  private flush(c: Scripted): void {
    if (!c.onMsg) return;
    const cb = c.onMsg;
    while (c.queue.length) {
      const m = c.queue.shift()!;
      queueMicrotask(() => cb(m));
    }
  }

  private die(c: Scripted, s: ExitStatus): void {
    if (c.exit) return;
    c.exit = s;
    this.log.push(`child exit ${s.code ?? `signal ${s.signal}`}`);
    if (c.onExit) {
      const cb = c.onExit;
      queueMicrotask(() => cb(s));
    }
  }

  /** the scripted child runs until it waits, fails or execs */
  private run(c: Scripted): void {
    for (; c.at < c.steps.length; c.at++) {
      const i = c.at;
      const st = c.steps[i]!;
      const name = RecordingSyscalls.OP_NAME.get(st.op) ?? String(st.op);
      const errno = i === c.failAt ? 5 : this.failures.get(i);
      if (errno !== undefined && !(st.flags & 1)) {
        this.log.push(`child ${name} failed`);
        this.emit(c, { kind: 'error', step: i, errno });
        this.emit(c, { kind: 'eof', partial: 0 });
        c.finished = true;
        this.die(c, { code: 125, signal: null });
        return;
      }
      this.log.push(`child ${name}`);
      if (st.op === OP.waitParent && !c.parked) {
        c.parked = true;
        this.emit(c, { kind: 'waiting' });
        return; // release() goes on from the next step
      }
      c.parked = false;
      if (st.op === OP.ready) this.emit(c, { kind: 'ready' });
      if (st.op === OP.fork) this.emit(c, { kind: 'pid', pid: this.nextPid++ });
      if (st.op === OP.exec) {
        c.running = true;
        c.finished = true;
        this.emit(c, { kind: 'eof', partial: 0 });
        return;
      }
    }
    c.finished = true;
    this.emit(c, { kind: 'eof', partial: 0 });
    this.die(c, { code: 0, signal: null });
  }

  watchReports(reportFd: number, onMsg: (m: ReportMsg) => void): Watch {
    const c = this.children.get(reportFd)!;
    c.onMsg = (m) => {
      if (m.kind === 'eof') this.close(reportFd);
      onMsg(m);
    };
    this.flush(c);
    return { unref: () => this.log.push('unref reports'), ref: () => undefined };
  }

  release(syncFd: number): void {
    const c = this.children.get(syncFd)!;
    this.log.push('parent release');
    this.close(syncFd);
    if (c.parked && !c.finished) {
      c.at++;
      c.parked = false;
      this.run(c);
    }
  }

  close(fd: number): void {
    if (!this.openFds.delete(fd)) throw new Error(`close of fd ${fd} that is not open`);
    const c = this.children.get(fd);
    // closing the sync pipe of a parked child: its waitParent step sees EOF and fails (ECANCELED)
    if (c && fd !== c.pidfdOf && c.parked && !c.finished && c.steps[c.at]?.op === OP.waitParent && this.isSync(c, fd)) {
      c.finished = true;
      this.log.push('child wait-parent cancelled');
      this.emit(c, { kind: 'error', step: c.at, errno: 125 });
      this.emit(c, { kind: 'eof', partial: 0 });
      this.die(c, { code: 125, signal: null });
    }
  }

  private isSync(c: Scripted, fd: number): boolean {
    for (const [f, x] of this.children) if (x === c && f === fd) return (fd - 100) % 3 === 2;
    return false;
  }

  watchExit(pidfd: number, onExit: (s: ExitStatus) => void): Watch {
    const c = this.children.get(pidfd)!;
    c.onExit = (s) => {
      this.close(pidfd);
      onExit(s);
    };
    if (c.exit) {
      const s = c.exit;
      const cb = c.onExit;
      queueMicrotask(() => cb(s));
    }
    return { unref: () => this.log.push('unref exit'), ref: () => undefined };
  }

  pidfdOpen(pid: number): number {
    const fd = this.fd();
    // a forked grandchild: the same scripted child goes on under the new pid
    for (const c of new Set(this.children.values())) {
      if (!c.forkedPid) {
        c.forkedPid = pid;
        this.children.set(fd, c);
        c.pidfdOf = fd;
        break;
      }
    }
    return fd;
  }

  pidfdSendSignal(pidfd: number, sig: number): void {
    const c = this.children.get(pidfd)!;
    this.log.push(`signal ${sig}`);
    if (c.exit) throw Object.assign(new Error('pidfd_send_signal: No such process'), { syscall: 'pidfd_send_signal', errno: 3 });
    this.die(c, { code: null, signal: sig });
  }

  writeFile(path: string, data: string): void {
    const err = this.writeErrors.get(path);
    this.log.push(`parent write ${path} ${JSON.stringify(data)}${err ? ` ${err}` : ''}`);
    if (err) throw Object.assign(new Error(`${err}: ${path}`), { code: err });
  }
}

interface Scripted {
  pid: number;
  steps: EncodedStep[];
  failAt: number;
  at: number;
  queue: ReportMsg[];
  onMsg: ((m: ReportMsg) => void) | undefined;
  exit: ExitStatus | undefined;
  onExit: ((s: ExitStatus) => void) | undefined;
  parked: boolean;
  running: boolean;
  finished: boolean;
  forkedPid?: number;
  pidfdOf?: number;
}
