import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLEAN_ENV, Spawned, waitFor } from '../../scripts/lib/spawned.js';
import { BIN, IS_ROOT, childrenOf, has, runBin } from '../helpers/live.js';
import { NATIVE } from '../helpers/native.js';

interface Run {
  code: number | null;
  out: string;
  err: string;
}
function run(cmd: string[], opts: { asUser?: number } = {}): Run {
  const argv = opts.asUser === undefined ? cmd : ['setpriv', `--reuid=${opts.asUser}`, `--regid=${opts.asUser}`, '--clear-groups', ...cmd];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: '', env: { ...CLEAN_ENV, SHELL: '/bin/sh' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const ours = (args: string[], opts = {}): Run => run([process.execPath, BIN('nsenter-ts'), ...args], opts);
const theirs = (args: string[], opts = {}): Run => run(['nsenter', ...args], opts);
/** what a program sees of its namespaces and its pid namespace's init, the same whoever entered it */
const LOOK = ['sh', '-c', 'for n in cgroup ipc mnt net pid uts user; do readlink /proc/self/ns/$n; done; hostname; tr "\\0" " " < /proc/1/cmdline; echo'];

/**
 * Issue 6, live, against util-linux nsenter: bug 2 (a container's init is inside its pid
 * namespace), bug 8 (ambiguous names), bug 16 (ids that wrapped), bug 18 (empty program name,
 * EACCES as nobody) and --version.
 */
// each test starts several node processes that scan the whole host: generous on a shared, loaded machine
describe.skipIf(!IS_ROOT || !NATIVE || !has('nsenter') || !has('unshare') || !has('setpriv'))('nsenter-ts, issue 6 (live)', { timeout: 180_000 }, () => {
  const spawned = new Spawned();
  const tag = `hs-door-${process.pid}`;
  let U = 0; // the `unshare --fork --pid` process: in the host pid namespace
  let C = 0; // its child: pid 1 of the container's pid namespace
  let G = 0; // a grandchild: another member
  const dir = mkdtempSync(join(tmpdir(), `${tag}-`));
  // a name no one else's process has: comm is the basename of what was exec'd (15 bytes at most)
  const uniq = `hsamb${process.pid}`.slice(0, 15);

  beforeAll(async () => {
    const u = spawned.start('unshare', ['--fork', '--pid', '--mount', '--uts', '--ipc', '--mount-proc', 'sh', '-c', `hostname ${tag}; sleep 600 & exec sleep 601`]);
    U = u.pid!;
    expect(await waitFor(() => childrenOf(U).length === 1 && childrenOf(childrenOf(U)[0]!).length === 1, 60_000)).toBe(true);
    C = childrenOf(U)[0]!;
    G = childrenOf(C)[0]!;
    expect(await waitFor(() => readlinkSync(`/proc/${C}/exe`).endsWith('sleep'), 60_000)).toBe(true);
    // seven net-only containers whose init has the same unique name
    symlinkSync('/bin/sleep', join(dir, uniq));
    for (let i = 0; i < 7; i++) spawned.start('unshare', ['--net', join(dir, uniq), '600']);
    expect(await waitFor(() => spawned.children.slice(1).every((c) => c.pid !== undefined && readlinkSync(`/proc/${c.pid}/exe`).endsWith('sleep')), 60_000)).toBe(true);
  }, 180_000);
  afterAll(async () => {
    await spawned.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('bug 2: --container <the unshare parent> enters the container as nsenter -t <its pid 1> does', () => {
    const b = theirs(['-t', String(C), '-a', ...LOOK]);
    expect(b.code).toBe(0);
    expect(b.out).toContain(`${tag}\nsleep 601`); // pid 1 inside is the container's init
    const a = ours(['--container', String(U), '-a', ...LOOK]);
    expect(a).toEqual(b);
    // before the fix it entered the unshare parent's namespaces: the host's pid namespace
    expect(a.out.split('\n')[4]).toBe(readlinkSync(`/proc/${C}/ns/pid`));
    expect(a.out.split('\n')[4]).not.toBe(readlinkSync(`/proc/${U}/ns/pid`));
  });

  it('bug 2: --container <any member pid> and --container <the init pid> target the same init', () => {
    const b = theirs(['-t', String(C), '-a', ...LOOK]);
    expect(ours(['--container', String(G), '-a', ...LOOK])).toEqual(b);
    expect(ours(['--container', String(C), '-a', ...LOOK])).toEqual(b);
  });

  it('bug 2: cinf --pid reports the same init for the parent, the init and a member', () => {
    for (const pid of [U, C, G]) {
      const r = runBin('cinf', ['--pid', String(pid), '--json']);
      expect(r.code).toBe(0);
      expect((JSON.parse(r.out) as { container: { initPid: number } | null }).container?.initPid, `cinf --pid ${pid}`).toBe(C);
    }
  });

  it('bug 8: an ambiguous name lists five candidates and the count, in one line', () => {
    const r = ours(['--container', uniq, '-n', 'true']);
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toHaveLength(2);
    expect(r.err).toMatch(new RegExp(`^nsenter-ts: '${uniq}' names 7 containers: (${uniq} \\(init pid \\d+\\)(, )?){5} and 2 more; name one by id, id prefix or a member pid\\n$`));
  });

  it.each([
    // util-linux 2.38: "setuid failed: Invalid argument" after entering; we refuse before anything runs
    ['-S', '4294967295', "nsenter-ts: failed to parse uid: '4294967295': Numerical result out of range\n"],
    ['-S', '18446744073709551616', "nsenter-ts: failed to parse uid: '18446744073709551616': Numerical result out of range\n"],
    // util-linux 2.38 wraps this one to uid 0 and runs the program as root
    ['-S', '4294967296', "nsenter-ts: failed to parse uid: '4294967296': Numerical result out of range\n"],
    ['-G', '4294967295', "nsenter-ts: failed to parse gid: '4294967295': Numerical result out of range\n"],
    ['-G', '-1', "nsenter-ts: failed to parse gid: '-1'\n"],
  ])('bug 16: %s %s is refused, exit 1, the program never runs', (opt, id, err) => {
    const a = ours(['-t', String(C), '-u', opt, id, 'id']);
    expect(a).toEqual({ code: 1, out: '', err }); // no output: `id` never ran
  });

  it('bug 16: where util-linux refuses at parse time, the same words', () => {
    const b = theirs(['-t', String(C), '-u', '-S', '18446744073709551616', 'id']);
    expect(b.code).toBe(1);
    expect(ours(['-t', String(C), '-u', '-S', '18446744073709551616', 'id']).err).toBe(b.err.replace(/^nsenter:/, 'nsenter-ts:'));
    expect(ours(['-t', String(C), '-u', '-S', 'abc', 'id']).err).toBe(theirs(['-t', String(C), '-u', '-S', 'abc', 'id']).err.replace(/^nsenter:/, 'nsenter-ts:'));
  });

  it('bug 16: the largest id is taken, as nsenter takes it', () => {
    const args = ['-t', String(C), '-u', '-S', '4294967294', '-G', '4294967294', 'sh', '-c', 'id -u; id -g'];
    expect(ours(args)).toEqual(theirs(args));
    expect(ours(args).out).toBe('4294967294\n4294967294\n');
  });

  it("bug 18: an empty program name is 127 and nsenter's message", () => {
    const a = ours(['-t', String(C), '-u', '']);
    const b = theirs(['-t', String(C), '-u', '']);
    expect([a.code, b.code]).toEqual([127, 127]);
    expect(a.err).toBe(b.err.replace(/^nsenter:/, 'nsenter-ts:'));
  });

  it('bug 18: as nobody, -a on a root process says Permission denied (EACCES), as nsenter does', () => {
    const a = ours(['-t', String(C), '-a', 'true'], { asUser: 65534 });
    const b = theirs(['-t', String(C), '-a', 'true'], { asUser: 65534 });
    expect(a.code).toBe(1);
    expect(a.err).toBe(`nsenter-ts: stat of /proc/${C}/ns/user failed: Permission denied\n`);
    expect(a.err).toBe(b.err.replace(/^nsenter:/, 'nsenter-ts:'));
  });

  it("--version and -V in util-linux's form", () => {
    const v = theirs(['--version']).out;
    expect(v).toMatch(/^nsenter from util-linux [\d.]+\n$/);
    expect(ours(['--version'])).toEqual({ code: 0, out: 'nsenter-ts from hostscope 0.1.0\n', err: '' });
    expect(ours(['-V'])).toEqual({ code: 0, out: 'nsenter-ts from hostscope 0.1.0\n', err: '' });
  });
});
