/**
 * Processes started for captures, tests and benchmarks, and stopped so that nothing is left
 * behind: on this kind of VM pid 1 does not reap orphans, so every process must be reaped by its
 * own parent. Stopping therefore kills the innermost processes first (an `unshare --fork`'s child,
 * which takes its whole pid namespace with it), then waits for the direct children to exit by
 * themselves, and only then kills what is left.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

export const CLEAN_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' };

/** pid → ppid of every process, from the live /proc */
export function parentMap(): Map<number, number> {
  const m = new Map<number, number>();
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      m.set(Number(n), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  return m;
}

/** the given pids and every descendant, by ppid */
export function descendants(roots: number[]): Set<number> {
  const parentOf = parentMap();
  const set = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (!set.has(pid) && set.has(ppid)) {
        set.add(pid);
        grew = true;
      }
    }
  }
  return set;
}

export class Spawned {
  readonly children: ChildProcess[] = [];

  start(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const c = spawn(cmd, args, { stdio: 'ignore', env: CLEAN_ENV, ...opts });
    c.on('error', () => {
      /* reported by the caller through exitCode/pid */
    });
    this.children.push(c);
    return c;
  }

  /** pids of the direct children and all their descendants */
  tree(): Set<number> {
    return descendants(this.children.map((c) => c.pid).filter((p): p is number => p !== undefined));
  }

  /** Stop everything, reaping each process through its own parent. Never throws. */
  async stopAll(timeoutMs = 3000): Promise<void> {
    const alive = this.children.filter((c) => c.exitCode === null && c.signalCode === null && c.pid !== undefined);
    const parentOf = parentMap();
    // 1. the direct children's children (an unshare --fork's namespace init, a shell's job)
    for (const c of alive) {
      for (const [pid, ppid] of parentOf) {
        if (ppid === c.pid) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
    }
    // 2. a polite SIGTERM to the direct children (a zombie maker reaps its zombie and leaves)
    for (const c of alive) c.kill('SIGTERM');
    const exited = Promise.all(alive.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit').catch(() => undefined) : undefined)));
    const done = await Promise.race([exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    // 3. whatever ignored it (unshare --fork ignores SIGTERM while it waits) gets SIGKILL
    if (!done) {
      for (const c of alive) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await Promise.race([exited, sleep(timeoutMs)]);
    }
    this.children.length = 0;
  }
}

/** Wait until `pred` holds, polling; false on timeout. */
export async function waitFor(pred: () => boolean, timeoutMs = 5000, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(stepMs);
  }
  return pred();
}

/** A python one-liner that leaves one zombie child and, on SIGTERM, reaps it and exits. */
export const ZOMBIE_MAKER = [
  '-c',
  'import os,signal,sys,time\npid=os.fork()\nif pid==0: os._exit(0)\nsignal.signal(signal.SIGTERM, lambda *a: (os.waitpid(pid,0), sys.exit(0)))\nwhile True: time.sleep(60)',
];
