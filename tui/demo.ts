/**
 * `ctop --demo` and `npm run demo`: three throw-away containers, removed again on exit.
 *
 * With `hostscope run` (busybox, our own runtime; only its CLI, as a user would type it):
 *   demo-web-TAG      --net none (a network namespace with only lo), 64 MiB, 32 pids, a little CPU work
 *   demo-db-TAG       a new network namespace of its own, 128 MiB, 64 pids
 *   demo-sidecar-TAG  --net container:demo-web-TAG (web's network namespace), 32 MiB, 16 pids
 * each `hostscope run -d --name … --memory … --pids-limit … busybox …`, and `hostscope rm -f` on
 * stop. The runs are started in a process group of their own (a Ctrl-C typed while they start
 * must not kill one half-made) and are waited for before the removal. TAG is ctop's pid.
 *
 * Where hostscope run cannot work (no busybox-static at /bin/busybox, the native monitor not
 * built, the run failing), the stand-ins of plain namespaces below are used instead, with one line
 * saying why — so the README's first command works on a fresh machine:
 *   demo-web      user+pid+mnt+uts+ipc+net namespaces, 64 MiB, 32 pids, a little CPU work
 *   demo-db       pid+mnt+uts+ipc+net, 128 MiB, 64 pids
 *   demo-sidecar  its own pid+uts+mnt, but demo-web's network namespace
 * Their cgroups: v1 controllers at /sys/fs/cgroup/<ctrl>/hostscope-demo-<pid>-<name>, or a v2 directory.
 *
 * The caller registers `stop` (through `onStop`) before the first container starts, so every way
 * out — q, Ctrl-C, SIGTERM, a crash, even one during the start — removes what was made.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from '../src/util/package-root.js';
import { DEFAULT_STORE_ROOT } from '../src/container/store.js';
import { DEFAULT_ROOT as RUNTIME_DEFAULT_ROOT } from '../src/runtime/state.js';
import { CLEAN_ENV, Spawned, parentMap, waitFor } from '../scripts/lib/spawned.js';

export interface Demo {
  names: string[];
  /** init pid of each demo container */
  inits: Map<string, number>;
  /** what made them */
  via: 'hostscope run' | 'namespaces';
  stop(): Promise<void>;
}

export interface DemoOptions {
  /** called with the removal before anything is made (register it with every exit path) */
  onStop?: (stop: () => Promise<void>) => void;
  /** suffix of every name (default: this process's pid) */
  tag?: string;
  /** skip hostscope run (tests of the stand-ins) */
  standIns?: boolean;
  /** what ends them, for the line that says so (default `ctop exits`; `npm run demo`: `the demo ends`) */
  removedWhen?: string;
}

/** Why hostscope run cannot make the demo here, or undefined when it should. */
export function hostscopeRunProblem(): string | undefined {
  const root = packageRoot(import.meta.dirname);
  if (!root || !existsSync(join(root, 'dist/bin/hostscope.js'))) return 'hostscope is not built (npm run build)';
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox for the busybox image (apt-get install busybox-static)';
  if (!existsSync(join(root, 'build/Release/hostscope-monitor'))) return 'the native monitor is not built (npm ci builds it)';
  return undefined;
}

interface Hs {
  code: number;
  out: string;
  err: string;
}

function hostscope(args: string[]): Promise<Hs> {
  const bin = join(packageRoot(import.meta.dirname)!, 'dist/bin/hostscope.js');
  return new Promise((resolve) => {
    // a process group of its own: a Ctrl-C at the terminal reaches ctop, which then waits for this
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out = out.length < 16 << 20 ? out + d : out));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = err.length < 1 << 20 ? err + d : err));
    child.on('error', (e) => resolve({ code: 127, out, err: e.message }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out, err }));
  });
}

/** Start the demo containers: with hostscope run when it can, else the namespace stand-ins. */
export async function startDemo(say: (line: string) => void, opts: DemoOptions = {}): Promise<Demo> {
  if (process.geteuid?.() !== 0) throw new Error('--demo needs root (it makes namespaces and cgroups)');
  const tag = opts.tag ?? String(process.pid);
  if (!opts.standIns) {
    const problem = hostscopeRunProblem();
    if (!problem) {
      const made = await startRunDemo(say, tag, opts);
      if (!('problem' in made)) return made;
      // stopped (q, a signal) while the containers were being made: nothing more to make — the
      // stand-ins made now would outlive the stop that was already called (seen: a SIGTERM during
      // the start left hostscope-demo-<pid>-web behind)
      if (made.stopped) return { names: [], inits: new Map(), via: 'hostscope run', stop: made.stop };
      say(`ctop: demo: hostscope run failed (${made.problem}); using plain namespaces instead`);
    } else say(`ctop: demo: ${problem}; using plain namespaces instead of hostscope run`);
  }
  return startNamespaceDemo(say, `hostscope-demo-${tag}`, opts);
}

async function startRunDemo(say: (line: string) => void, tag: string, opts: DemoOptions): Promise<Demo | { problem: string; stopped: boolean; stop: () => Promise<void> }> {
  const started: string[] = [];
  const inflight = new Set<Promise<Hs>>();
  let stopping: Promise<void> | undefined;
  // the store's and the runtime's state roots this demo brings into being (a host that never ran a
  // container has neither): removed again on exit when left empty, so quitting leaves nothing
  // (as cli/container.ts picks them: HOSTSCOPE_RUN_ROOT moves the store, with the runtime's beside it)
  const storeRoot = process.env.HOSTSCOPE_RUN_ROOT || DEFAULT_STORE_ROOT;
  const runtimeRoot = process.env.HOSTSCOPE_RUN_ROOT ? join(storeRoot, 'runc-ts') : RUNTIME_DEFAULT_ROOT;
  const madeRoots = [runtimeRoot, storeRoot].filter((d) => !existsSync(d));
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // a run still making its container: let it finish, then remove it with the rest
      await Promise.all([...inflight]);
      await Promise.all(started.map((n) => hostscope(['rm', '-f', n])));
      started.length = 0;
      for (const d of madeRoots) removeIfEmpty(d);
    })());
  opts.onStop?.(stop);
  const run = async (name: string, args: string[]): Promise<void> => {
    if (stopping) throw new Error('stopping');
    started.push(name);
    const p = hostscope(['run', '-d', '--name', name, ...args]);
    inflight.add(p);
    const r = await p.finally(() => inflight.delete(p));
    if (r.code !== 0) throw new Error(r.err.trim().split('\n')[0] || `exit ${r.code}`);
  };
  const names = { web: `demo-web-${tag}`, db: `demo-db-${tag}`, sidecar: `demo-sidecar-${tag}` };
  const busy = 'sleep 100000 & while sleep 0.5; do i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; done';
  try {
    await Promise.all([
      run(names.web, ['--memory', '64m', '--pids-limit', '32', '--net', 'none', 'busybox', 'sh', '-c', busy]),
      run(names.db, ['--memory', '128m', '--pids-limit', '64', 'busybox', 'sleep', '100000']),
    ]);
    await run(names.sidecar, ['--memory', '32m', '--pids-limit', '16', '--net', `container:${names.web}`, 'busybox', 'sleep', '100000']);
    const inits = new Map<string, number>();
    const ins = await hostscope(['inspect', ...Object.values(names)]);
    if (ins.code === 0) {
      try {
        for (const c of JSON.parse(ins.out) as { Name?: string; State?: { Pid?: number }; Config?: { annotations?: Record<string, string> } }[]) {
          const n = c.Config?.annotations?.['org.hostscope.name'] ?? c.Name?.replace(/^\//, '');
          if (n && c.State?.Pid) inits.set(n, c.State.Pid);
        }
      } catch {
        /* the pids are only for the message */
      }
    }
    say(`ctop: demo containers started with hostscope run (${Object.values(names).join(', ')}); they are removed when ${opts.removedWhen ?? 'ctop exits'}`);
    return { names: Object.values(names), inits, via: 'hostscope run', stop };
  } catch (e) {
    const stopped = stopping !== undefined;
    await stop();
    return { problem: (e as Error).message, stopped, stop };
  }
}

const ROOT = '/sys/fs/cgroup';
const V1 = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer', 'blkio'];

interface Limits {
  memory: number;
  pids: number;
}

/** rmdir `dir`'s empty subdirectories, then `dir`: anything in them (another run's container) keeps it */
function removeIfEmpty(dir: string): void {
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmdirQuiet(join(dir, e.name));
  } catch {
    return; // gone, or unreadable: left as it is
  }
  rmdirQuiet(dir);
}

function rmdirQuiet(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (someone else's), or gone
  }
}

/** Make the cgroup directories of one demo container; returns them (to remove) and the cgroup.procs files to join. */
function makeCgroups(name: string, lim: Limits): { dirs: string[]; procs: string[] } {
  const dirs: string[] = [];
  const procs: string[] = [];
  const v1 = V1.filter((c) => existsSync(`${ROOT}/${c}/cgroup.procs`));
  if (v1.length > 0) {
    for (const c of v1) {
      const d = `${ROOT}/${c}/${name}`;
      mkdirSync(d, { recursive: true });
      dirs.push(d);
      procs.push(`${d}/cgroup.procs`);
    }
    if (v1.includes('memory')) writeFileSync(`${ROOT}/memory/${name}/memory.limit_in_bytes`, String(lim.memory));
    if (v1.includes('pids')) writeFileSync(`${ROOT}/pids/${name}/pids.max`, String(lim.pids));
  } else if (existsSync(`${ROOT}/cgroup.controllers`)) {
    const d = `${ROOT}/${name}`;
    mkdirSync(d, { recursive: true });
    dirs.push(d);
    procs.push(`${d}/cgroup.procs`);
    const avail = readFileSync(`${ROOT}/cgroup.subtree_control`, 'utf8');
    if (avail.includes('memory')) writeFileSync(`${d}/memory.max`, String(lim.memory));
    if (avail.includes('pids')) writeFileSync(`${d}/pids.max`, String(lim.pids));
  }
  return { dirs, procs };
}

/** `sh -c` that joins the cgroups, then execs the rest */
function joinThenExec(procs: string[], argv: string[]): string[] {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const joins = procs.map((p) => `echo $$ > ${q(p)}`).join(' && ');
  return ['-c', `${joins ? `${joins} && ` : ''}exec ${argv.map(q).join(' ')}`];
}

async function startNamespaceDemo(say: (line: string) => void, tag: string, opts: DemoOptions): Promise<Demo> {
  const spawned = new Spawned();
  const allDirs: string[] = [];
  const inits = new Map<string, number>();
  const stop = async (): Promise<void> => {
    await spawned.stopAll();
    // a cgroup can be removed once its processes are gone. The busy loop's `sleep 0.5` outlives its
    // killed shell (orphaned to PID 1, which reaps late): kill what is still in our own cgroups, then
    // wait for it to be reaped (up to 10 s) rather than leave the directory behind
    for (const d of allDirs) {
      try {
        for (const pid of readFileSync(`${d}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      } catch {
        /* already removed */
      }
    }
    for (const d of allDirs.reverse()) {
      for (let i = 0; i < 500 && existsSync(d); i++) {
        try {
          rmdirSync(d);
        } catch {
          await sleep(20);
        }
      }
      if (existsSync(d)) say(`ctop: demo: could not remove ${d} (a process in it was not reaped in 10 s)`);
    }
  };
  opts.onStop?.(stop);
  try {
    const busy = 'while sleep 0.5; do i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; done';
    const start = async (name: string, lim: Limits, argv: string[]): Promise<number> => {
      const cg = makeCgroups(`${tag}-${name}`, lim);
      allDirs.push(...cg.dirs);
      // HOSTNAME in the environment names it, as docker sets it for its containers
      const c = spawned.start('sh', joinThenExec(cg.procs, argv), { env: { ...CLEAN_ENV, HOSTNAME: `demo-${name}` } });
      await waitFor(() => [...parentMap().values()].includes(c.pid!), 5000);
      const init = [...parentMap()].find(([, ppid]) => ppid === c.pid)?.[0];
      if (init === undefined) throw new Error(`demo container ${name} did not start`);
      inits.set(name, init);
      return init;
    };
    const web = await start('web', { memory: 64 << 20, pids: 32 }, ['unshare', '--user', '--map-root-user', '--mount', '--uts', '--ipc', '--net', '--pid', '--fork', '--mount-proc', 'sh', '-c', `hostname demo-web; sleep 100000 & ${busy}`]);
    await start('db', { memory: 128 << 20, pids: 64 }, ['unshare', '--mount', '--uts', '--ipc', '--net', '--pid', '--fork', '--mount-proc', 'sh', '-c', 'hostname demo-db; exec sleep 100000']);
    // the sidecar: demo-web's network namespace, everything else its own
    await start('sidecar', { memory: 32 << 20, pids: 16 }, ['nsenter', `--net=/proc/${web}/ns/net`, 'unshare', '--mount', '--uts', '--pid', '--fork', '--mount-proc', 'sh', '-c', 'hostname demo-sidecar; exec sleep 100000']);
    await sleep(100);
    say(`ctop: demo containers started (${[...inits].map(([n, p]) => `${n} pid ${p}`).join(', ')}); they are removed when ${opts.removedWhen ?? 'ctop exits'}`);
    return { names: [...inits.keys()], inits, via: 'namespaces', stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
