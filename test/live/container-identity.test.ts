import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmdirSync, chownSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CLEAN_ENV, Spawned, waitFor } from '../../scripts/lib/spawned.js';
import { IS_ROOT, childrenOf, has, runBin } from '../helpers/live.js';
import { NATIVE } from '../helpers/native.js';

/**
 * Stop 20, findings 1 and 2, live, with real processes run as nobody: which processes count as a
 * container and which container a name resolves to decide where root lands with
 * `nsenter-ts --container`. Before the fixes nobody's namespaces were entered in both.
 */
const PIDS = '/sys/fs/cgroup/pids';
const NOBODY = 65534;
const asNobody = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
const tag = `${process.pid}${randomBytes(3).toString('hex')}`.slice(0, 12);

describe.skipIf(!IS_ROOT || !NATIVE || !existsSync(`${PIDS}/cgroup.procs`) || !has('unshare') || !has('setpriv'))('live: container identity against users (stop 20)', { timeout: 180_000 }, () => {
  const spawned = new Spawned();
  const made: string[] = [];
  const mk = (dir: string): void => {
    if (existsSync(dir)) return;
    mkdirSync(dir);
    made.push(dir);
  };
  /** a shell that moves itself into cgroup `dir` of the pids hierarchy, then execs argv */
  const startIn = (dir: string, argv: string[]) =>
    spawned.start('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec "$@"`, 'sh', ...argv], { env: CLEAN_ENV });
  const ID = randomBytes(32).toString('hex');
  const SHORT = ID.slice(0, 12);
  const userDir = `${PIDS}/hs-rvh-${tag}`;
  const fakeDir = `${userDir}/docker-${ID}.scope`;
  const realDir = `${PIDS}/docker/${ID}`;
  const ID2 = randomBytes(32).toString('hex');
  const sharedDir = `${PIDS}/docker/${ID2}`;
  let attacker = 0; // nobody's pid 1, in the cgroup it made
  let intruder = 0; // nobody's pid 1, put in a real container's cgroup (by whoever can write it)
  let realInit2 = 0;
  let realInit = 0;
  let A = 0; // a root process in its own uts+ipc namespaces
  let B = 0; // nobody's, calling itself A's pid
  let C = 0; // nobody's, calling itself the real container's short id

  const ns = (pid: number, t: string): string => readlinkSync(`/proc/${pid}/ns/${t}`);
  const nsenter = (args: string[]) => runBin('nsenter-ts', args);

  beforeAll(async () => {
    // finding 1: a chowned directory stands in for a delegated subtree (user@UID.service)
    mk(userDir);
    mk(fakeDir);
    chownSync(userDir, NOBODY, -1);
    chownSync(fakeDir, NOBODY, -1);
    chownSync(`${fakeDir}/cgroup.procs`, NOBODY, -1);
    mk(`${PIDS}/docker`);
    mk(realDir);
    // nobody's container first: older, so it was the "earliest NSpid 1" of the merged container
    const a = startIn(fakeDir, [...asNobody, 'unshare', '-Urpf', '--mount-proc', '--uts', 'sh', '-c', `hostname attacker-${tag}; exec sleep 611`]).pid!;
    expect(await waitFor(() => childrenOf(a).length === 1, 60_000)).toBe(true);
    attacker = childrenOf(a)[0]!;
    const r = startIn(realDir, ['unshare', '--pid', '--fork', '--uts', '--mount-proc', 'sh', '-c', `hostname realctr-${tag}; exec sleep 612`]).pid!;
    expect(await waitFor(() => childrenOf(r).length === 1, 60_000)).toBe(true);
    realInit = childrenOf(r)[0]!;
    // an older pid 1 of nobody's in the very cgroup of another root container
    mk(sharedDir);
    const i = startIn(sharedDir, [...asNobody, 'unshare', '-Urpf', '--mount-proc', '--uts', 'sh', '-c', `hostname intruder-${tag}; exec sleep 616`]).pid!;
    expect(await waitFor(() => childrenOf(i).length === 1, 60_000)).toBe(true);
    intruder = childrenOf(i)[0]!;
    const r2 = startIn(sharedDir, ['unshare', '--pid', '--fork', '--uts', '--mount-proc', 'sh', '-c', `hostname realctr2-${tag}; exec sleep 617`]).pid!;
    expect(await waitFor(() => childrenOf(r2).length === 1, 60_000)).toBe(true);
    realInit2 = childrenOf(r2)[0]!;
    // finding 2: B and C set both names nsenter-ts and cinf read (HOSTNAME, the UTS hostname)
    A = spawned.start('unshare', ['--uts', '--ipc', 'sleep', '613']).pid!;
    const named = (name: string, secs: string) =>
      spawned.start(asNobody[0]!, [...asNobody.slice(1), 'env', `HOSTNAME=${name}`, 'unshare', '-Ur', '--uts', '--mount', 'sh', '-c', `hostname ${name}; exec sleep ${secs}`]).pid!;
    B = named(String(A), '614');
    C = named(SHORT, '615');
    const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    expect(await waitFor(() => [attacker, realInit, intruder, realInit2, A, B, C].every((p) => comm(p) === 'sleep'), 60_000)).toBe(true);
    expect(ns(B, 'mnt')).not.toBe(ns(A, 'mnt'));
  }, 180_000);

  afterAll(async () => {
    await spawned.stopAll();
    for (const dir of made.reverse()) {
      for (let i = 0; i < 100; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
          await new Promise((res) => setTimeout(res, 20));
        }
      }
    }
    for (const dir of made) expect(existsSync(dir), `${dir} left behind`).toBe(false);
  }, 60_000);

  it("finding 1: a cgroup nobody made named after a real container's id neither joins it nor gives it its init", () => {
    const c = runBin('cinf', ['--container', SHORT]);
    // C calls itself SHORT too: this one is refused as ambiguous, and nobody's cgroup is no candidate
    expect(c.code).toBe(1);
    expect(c.err).toMatch(new RegExp(`^cinf: '${SHORT}' names 2 containers: `));
    expect(c.err).toContain(`init pid ${realInit})`);
    expect(c.err).toContain(`init pid ${C})`);
    expect(c.err).not.toContain(`init pid ${attacker})`);
    // the full id names the real container alone; its init is the real one, not nobody's older pid 1
    const full = runBin('cinf', ['--container', ID]);
    expect(full.code).toBe(0);
    expect(full.out.split('\n')[0]).toBe(`container ${SHORT} (docker, ${ID}, init pid ${realInit})`);
    const e = nsenter(['--container', ID, '-m', '-p', '-u', 'sh', '-c', 'hostname; id -u; grep ^Uid /proc/1/status']);
    expect(e.err).toBe('');
    expect(e.out).toBe(`realctr-${tag}\n0\nUid:\t0\t0\t0\t0\n`);
    // nobody's processes are a container of their own (unknown runtime), by a member pid
    const own = runBin('cinf', ['--container', String(attacker)]);
    expect(own.out.split('\n')[0]).toMatch(new RegExp(`^container \\S+ \\(unknown, init pid ${attacker}\\)`));
  });

  it('finding 1: an older pid 1 put in a real container\'s own cgroup is another tree: the id is ambiguous, a member pid enters the real one', () => {
    const e = nsenter(['--container', ID2, '-m', '-p', '-u', 'sh', '-c', 'echo entered']);
    expect(e.code).toBe(1);
    expect(e.out).toBe('');
    expect(e.err).toMatch(new RegExp(`^nsenter-ts: '${ID2}' names 2 containers: `));
    expect(e.err).toContain(`init pid ${intruder})`);
    expect(e.err).toContain(`init pid ${realInit2})`);
    const m = nsenter(['--container', String(realInit2), '-m', '-p', '-u', 'sh', '-c', 'hostname; grep ^Uid /proc/1/status']);
    expect(m.out).toBe(`realctr2-${tag}\nUid:\t0\t0\t0\t0\n`);
  });

  it('finding 2: a container named after a pid of another does not shadow it', () => {
    const e = nsenter(['--container', String(A), '-u', '-m', 'sh', '-c', 'id -u; readlink /proc/self/ns/mnt; hostname']);
    expect(e.err).toBe('');
    expect(e.out).toBe(`0\n${ns(A, 'mnt')}\n${readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()}\n`);
    expect(e.out).not.toContain(ns(B, 'mnt'));
    const c = runBin('cinf', ['--container', String(A)]);
    expect(c.out.split('\n')[0]).toMatch(new RegExp(`\\(unknown, init pid ${A}\\)$`));
  });

  it("finding 2: a container named after a real container's short id makes the name ambiguous; the program never runs", () => {
    const e = nsenter(['--container', SHORT, '-u', '-m', 'sh', '-c', 'echo entered']);
    expect(e.code).toBe(1);
    expect(e.out).toBe('');
    expect(e.err.split('\n')).toHaveLength(2);
    expect(e.err).toMatch(new RegExp(`^nsenter-ts: '${SHORT}' names 2 containers: .*; name one by id, id prefix or a member pid\\n$`));
    expect(e.err).toContain(`init pid ${realInit})`);
    expect(e.err).toContain(`init pid ${C})`);
  });
});
