/**
 * `ctop --demo`: three throw-away "containers" made of plain namespaces (until `hostscope run`
 * exists), each in cgroups of its own with memory and pid limits, removed again on exit:
 *   demo-web      user+pid+mnt+uts+ipc+net namespaces, 64 MiB, 32 pids, a little CPU work
 *   demo-db       pid+mnt+uts+ipc+net, 128 MiB, 64 pids
 *   demo-sidecar  its own pid+uts+mnt, but demo-web's network namespace
 * Cgroups: v1 controllers at /sys/fs/cgroup/<ctrl>/hostscope-demo-<pid>-<name>, or a v2 directory.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLEAN_ENV, Spawned, parentMap, waitFor } from '../scripts/lib/spawned.js';

const ROOT = '/sys/fs/cgroup';
const V1 = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer', 'blkio'];

export interface Demo {
  names: string[];
  /** init pid of each demo container */
  inits: Map<string, number>;
  stop(): Promise<void>;
}

interface Limits {
  memory: number;
  pids: number;
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

export async function startDemo(say: (line: string) => void, tag = `hostscope-demo-${process.pid}`): Promise<Demo> {
  if (process.geteuid?.() !== 0) throw new Error('--demo needs root (it makes namespaces and cgroups)');
  const spawned = new Spawned();
  const allDirs: string[] = [];
  const inits = new Map<string, number>();
  const stop = async (): Promise<void> => {
    await spawned.stopAll();
    // a cgroup can be removed once its processes are gone (they may take a moment to be reaped)
    for (const d of allDirs.reverse()) {
      for (let i = 0; i < 50 && existsSync(d); i++) {
        try {
          rmdirSync(d);
        } catch {
          await sleep(20);
        }
      }
    }
  };
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
    say(`ctop: demo containers started (${[...inits].map(([n, p]) => `${n} pid ${p}`).join(', ')}); they are removed when ctop exits`);
    return { names: [...inits.keys()], inits, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
