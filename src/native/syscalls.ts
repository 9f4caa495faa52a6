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
 * Test double: a scripted child. spawn() "runs" the encoded steps in order, logging `child <op>`:
 * waitParent reports WAITING and stops until release() (closing the sync fd instead makes it
 * fail, as EOF does); ready reports READY and goes on; fork reports a new pid and the process
 * that forked exits 0; a failure (failAt, or `failures`) reports ERROR and exits 125; exec ends
 * the report stream and "runs" until a signal. Messages and exits are delivered asynchronously,
 * as the pipe and the pidfd deliver them. Parent writes log `parent write PATH DATA`.
 */
export class RecordingSyscalls implements Syscalls {
  readonly log: string[] = [];
  /** step index → errno the scripted child fails with there */
  readonly failures = new Map<number, number>();
  /** writeFile paths that fail with this code (e.g. EACCES on a cgroup.procs) */
  readonly writeErrors = new Map<string, string>();
  /** fds handed out and not closed yet */
  readonly openFds = new Set<number>();
  /** watches unref'd (by fd) */
  readonly unrefd = new Set<number>();
  private nextPid = 1000;
  private nextFd = 100;
  private readonly byFd = new Map<number, { child: ScriptedChild; role: 'report' | 'sync' | 'pidfd'; proc?: ScriptedProc }>();
  private readonly procs = new Map<number, ScriptedProc>();
  private static readonly OP_NAME = new Map<number, string>(Object.entries(OP).map(([k, v]) => [v, k]));

  private fd(): number {
    const fd = this.nextFd++;
    this.openFds.add(fd);
    return fd;
  }

  private proc(pid: number): ScriptedProc {
    const p: ScriptedProc = { pid, exit: undefined, onExit: undefined };
    this.procs.set(pid, p);
    return p;
  }

  spawn(steps: EncodedStep[], failAt: number): Spawned {
    const p = this.proc(this.nextPid++);
    const c: ScriptedChild = { steps, failAt, at: 0, queue: [], onMsg: undefined, parked: false, ended: false, current: p };
    const pidfd = this.fd();
    const reportFd = this.fd();
    const syncFd = this.fd();
    this.byFd.set(pidfd, { child: c, role: 'pidfd', proc: p });
    this.byFd.set(reportFd, { child: c, role: 'report' });
    this.byFd.set(syncFd, { child: c, role: 'sync' });
    this.log.push(`spawn ${p.pid}`);
    this.run(c);
    return { pid: p.pid, pidfd, reportFd, syncFd };
  }

  private emit(c: ScriptedChild, m: ReportMsg): void {
    c.queue.push(m);
    this.flush(c);
  }

  private flush(c: ScriptedChild): void {
    const cb = c.onMsg;
    if (!cb) return;
    for (const m of c.queue.splice(0)) queueMicrotask(() => cb(m));
  }

  private exit(p: ScriptedProc, s: ExitStatus): void {
    if (p.exit) return;
    p.exit = s;
    this.log.push(`exit ${p.pid} ${s.code ?? `signal ${s.signal}`}`);
    const cb = p.onExit;
    if (cb) queueMicrotask(() => cb(s));
  }

  private end(c: ScriptedChild, code: number | undefined): void {
    c.ended = true;
    this.emit(c, { kind: 'eof', partial: 0 });
    if (code !== undefined) this.exit(c.current, { code, signal: null });
  }

  /** the scripted child runs until it waits, fails or execs */
  private run(c: ScriptedChild): void {
    for (; c.at < c.steps.length; c.at++) {
      const i = c.at;
      const st = c.steps[i]!;
      const name = RecordingSyscalls.OP_NAME.get(st.op) ?? String(st.op);
      const errno = i === c.failAt ? 5 : this.failures.get(i);
      if (errno !== undefined) {
        this.log.push(`child ${name} failed`);
        if (st.flags & 1) continue;
        this.emit(c, { kind: 'error', step: i, errno });
        return this.end(c, 125);
      }
      if (st.op === OP.waitParent) {
        this.log.push(`child ${name}`);
        c.parked = true;
        this.emit(c, { kind: 'waiting' });
        return; // release() goes on from the next step
      }
      this.log.push(`child ${name}`);
      if (st.op === OP.ready) this.emit(c, { kind: 'ready' });
      if (st.op === OP.fork) {
        const next = this.proc(this.nextPid++);
        this.emit(c, { kind: 'pid', pid: next.pid });
        this.exit(c.current, { code: 0, signal: null });
        c.current = next;
      }
      if (st.op === OP.exec) return this.end(c, undefined);
    }
    this.end(c, 0);
  }

  watchReports(reportFd: number, onMsg: (m: ReportMsg) => void): Watch {
    const c = this.byFd.get(reportFd)!.child;
    c.onMsg = (m) => {
      if (m.kind === 'eof') this.close(reportFd);
      onMsg(m);
    };
    this.flush(c);
    return { unref: () => void this.unrefd.add(reportFd), ref: () => void this.unrefd.delete(reportFd) };
  }

  release(syncFd: number): void {
    const c = this.byFd.get(syncFd)!.child;
    this.log.push('parent release');
    this.openFds.delete(syncFd);
    if (c.parked && !c.ended) {
      c.parked = false;
      c.at++;
      this.run(c);
    }
  }

  close(fd: number): void {
    if (!this.openFds.delete(fd)) throw new Error(`close of fd ${fd} that is not open`);
    const x = this.byFd.get(fd);
    // the sync pipe closed under a parked child: its waitParent read sees EOF (ECANCELED)
    if (x?.role === 'sync' && x.child.parked && !x.child.ended) {
      const c = x.child;
      c.parked = false;
      this.log.push('child wait-parent cancelled');
      this.emit(c, { kind: 'error', step: c.at, errno: 125 });
      this.end(c, 125);
    }
  }

  watchExit(pidfd: number, onExit: (s: ExitStatus) => void): Watch {
    const p = this.byFd.get(pidfd)!.proc!;
    p.onExit = (s) => {
      this.close(pidfd);
      onExit(s);
    };
    if (p.exit) {
      const s = p.exit;
      const cb = p.onExit;
      queueMicrotask(() => cb(s));
    }
    return { unref: () => void this.unrefd.add(pidfd), ref: () => void this.unrefd.delete(pidfd) };
  }

  pidfdOpen(pid: number): number {
    const p = this.procs.get(pid);
    if (!p) throw Object.assign(new Error('pidfd_open: No such process'), { syscall: 'pidfd_open', errno: 3 });
    const fd = this.fd();
    const owner = [...this.byFd.values()].find((x) => x.child.current === p)!;
    this.byFd.set(fd, { child: owner.child, role: 'pidfd', proc: p });
    return fd;
  }

  pidfdSendSignal(pidfd: number, sig: number): void {
    const x = this.byFd.get(pidfd)!;
    this.log.push(`signal ${x.proc!.pid} ${sig}`);
    if (x.proc!.exit) throw Object.assign(new Error('pidfd_send_signal: No such process'), { syscall: 'pidfd_send_signal', errno: 3 });
    if (!x.child.ended) {
      x.child.ended = true;
      this.emit(x.child, { kind: 'eof', partial: 0 });
    }
    this.exit(x.proc!, { code: null, signal: sig });
  }

  writeFile(path: string, data: string): void {
    const err = this.writeErrors.get(path);
    this.log.push(`parent write ${path} ${JSON.stringify(data)}${err ? ` ${err}` : ''}`);
    if (err) throw Object.assign(new Error(`${err}: ${path}`), { code: err });
  }
}

interface ScriptedProc {
  pid: number;
  exit: ExitStatus | undefined;
  onExit: ((s: ExitStatus) => void) | undefined;
}

interface ScriptedChild {
  steps: EncodedStep[];
  failAt: number;
  at: number;
  queue: ReportMsg[];
  onMsg: ((m: ReportMsg) => void) | undefined;
  parked: boolean;
  ended: boolean;
  current: ScriptedProc;
}
