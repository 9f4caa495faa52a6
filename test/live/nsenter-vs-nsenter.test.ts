import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLEAN_ENV, Spawned, parentMap, waitFor } from '../../scripts/lib/spawned.js';
import { BIN, IS_ROOT, childrenOf, has } from '../helpers/live.js';
import { NATIVE } from '../helpers/native.js';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function run(cmd: string[], opts: { input?: string; asUser?: number; env?: NodeJS.ProcessEnv } = {}): Run {
  const argv = opts.asUser === undefined ? cmd : ['setpriv', `--reuid=${opts.asUser}`, `--regid=${opts.asUser}`, '--clear-groups', ...cmd];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: opts.input ?? '', env: opts.env ?? { ...process.env, SHELL: '/bin/sh' } });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}
const ours = (args: string[], opts = {}): Run => run([process.execPath, BIN('nsenter-ts'), ...args], opts);
const theirs = (args: string[], opts = {}): Run => run(['nsenter', ...args], opts);

/** `ps` output without the line of ps itself (its pid differs from run to run) */
function psWithoutSelf(out: string): string {
  return out
    .split('\n')
    .filter((l) => !/\bps\b/.test(l.split(/\s+/).slice(-3).join(' ')) || l.startsWith('USER') || l.trim().startsWith('PID'))
    .map((l) => l.replace(/\s+\d+:\d+\s+\d+:\d+\s+/, ' ').replace(/\s+/g, ' '))
    // %CPU (cpu time / elapsed) of a young process moves between the two runs (0.3 then 0.4): not compared
    .map((l) => l.split(' ').filter((_, i) => i !== 2).join(' '))
    .join('\n');
}

describe.skipIf(!IS_ROOT || !NATIVE || !has('nsenter') || !has('unshare'))('nsenter-ts matches util-linux nsenter', () => {
  const spawned = new Spawned();
  let T = 0; // pid 1 of the target's pid namespace (its pid here)
  const cg = `/sys/fs/cgroup/pids/hostscope-nsenter-${process.pid}`;

  beforeAll(async () => {
    const outer = spawned.start(
      'unshare',
      ['--user', '--map-root-user', '--uts', '--net', '--ipc', '--pid', '--cgroup', '--fork', '--mount-proc', 'sh', '-c', 'hostname hs-nsenter; sleep 600 & exec sleep 600'],
      { env: { ...CLEAN_ENV, FOO: 'from-target' } },
    );
    expect(await waitFor(() => childrenOf(outer.pid!).length === 1 && childrenOf(childrenOf(outer.pid!)[0]!).length === 1)).toBe(true);
    T = childrenOf(outer.pid!)[0]!;
    expect(await waitFor(() => readlinkSync(`/proc/${T}/exe`).endsWith('sleep'))).toBe(true);
  });
  afterAll(async () => {
    await spawned.stopAll();
    for (let i = 0; i < 50 && existsSync(cg); i++) {
      try {
        rmdirSync(cg);
      } catch {
        await sleep(100);
      }
    }
  });

  it.each([
    ['hostname (-u)', ['-u', 'hostname']],
    ['hostname (-a)', ['-a', 'hostname']],
    ['ip link (-n)', ['-n', 'ip', '-o', 'link']],
    ['id (-a)', ['-a', 'id']],
    ['-S/-G with ids the user namespace maps', ['-U', '-S', '0', '-G', '0', 'id']],
    ['readlink /proc/self/ns/* (-a)', ['-a', 'sh', '-c', 'for n in cgroup ipc mnt net pid pid_for_children time user uts; do readlink /proc/self/ns/$n; done']],
    ['--preserve-credentials', ['-U', '--preserve-credentials', 'sh', '-c', 'id -u; cat /proc/self/uid_map']],
    ['-r -w (root and cwd of the target)', ['-a', '-r', '-w', 'pwd']],
    ['-F: no fork, so not in the pid namespace', ['-p', '-F', 'sh', '-c', 'echo $$ > /dev/null; readlink /proc/self/ns/pid_for_children']],
  ])('%s', (_name, args) => {
    const a = ours(['-t', String(T), ...args]);
    const b = theirs(['-t', String(T), ...args]);
    expect(a).toEqual(b);
    expect(a.code).toBe(0);
  });

  it('ps aux in all namespaces: the same processes, pid 1 the target', () => {
    const a = ours(['-t', String(T), '-a', 'ps', 'aux']);
    const b = theirs(['-t', String(T), '-a', 'ps', 'aux']);
    expect(a.code).toBe(0);
    expect(psWithoutSelf(a.out)).toBe(psWithoutSelf(b.out));
    expect(a.out).toMatch(/^root\s+1\s.*sleep 600$/m);
  });

  it.each([
    ['a program exit status', ['-n', 'sh', '-c', 'exit 3'], 3],
    ['program not found: 127', ['-n', 'nosuch-program'], 127],
    ['not executable: 126', ['-n', '/etc/passwd'], 126],
    ['a file that is not a namespace', ['-n/etc/passwd', 'true'], 1],
  ])('exit codes: %s', (_name, args, code) => {
    const a = ours(['-t', String(T), ...args]);
    const b = theirs(['-t', String(T), ...args]);
    expect([a.code, b.code]).toEqual([code, code]);
    if (code !== 3) expect(a.err.split('\n')).toHaveLength(2); // one line
  });

  it('-S with an id the user namespace does not map fails like nsenter', () => {
    const a = ours(['-t', String(T), '-U', '-S', '65534', '-G', '65534', 'id']);
    const b = theirs(['-t', String(T), '-U', '-S', '65534', '-G', '65534', 'id']);
    expect([a.code, b.code]).toEqual([1, 1]);
    expect(a.err).toBe('nsenter-ts: setgid: Invalid argument\n');
  });

  it('messages name what failed', () => {
    expect(ours(['-t', String(T), '-n', 'nosuch-program']).err).toBe('nsenter-ts: failed to execute nosuch-program: No such file or directory\n');
    expect(ours(['-t', String(T), '-n/etc/passwd', 'true']).err).toBe('nsenter-ts: /etc/passwd: not a namespace file (a regular file)\n');
    expect(ours(['-n/dev/null', 'true'])).toMatchObject({ code: 1, err: 'nsenter-ts: /dev/null: not a namespace file (a character device)\n' });
    // a namespace file by path (nsfs, as a bind mount under /run/netns is) is still taken
    expect(ours([`-n/proc/${T}/ns/net`, 'cat', '/proc/net/dev']).code).toBe(0);
    expect(ours(['-t', '999999', '-n', 'true'])).toMatchObject({ code: 1, err: 'nsenter-ts: cannot open /proc/999999/ns/net: No such file or directory\n' });
    expect(theirs(['-t', '999999', '-n', 'true']).err).toBe('nsenter: cannot open /proc/999999/ns/net: No such file or directory\n');
    expect(ours(['-x'])).toMatchObject({ code: 1, err: "nsenter-ts: invalid option -- 'x'\nTry 'nsenter-ts --help' for more information.\n" });
  });

  // stop 20, finding 4: with no namespace option nsenter-ts said "no namespace specified" (exit 1);
  // util-linux 2.38.1 enters nothing and runs the program, $SHELL or /bin/sh without one
  it('no namespace option (nothing at all, or -t alone): nothing entered, the program or $SHELL runs, as nsenter', () => {
    for (const args of [[], ['-t', String(T)]]) {
      const shell = { input: 'echo "shell=$0"; readlink /proc/self/ns/net /proc/self/ns/uts; exit 4' };
      const a = ours(args, shell);
      expect(a, JSON.stringify(args)).toEqual(theirs(args, shell));
      expect(a.code).toBe(4);
      expect(a.out).toBe(`shell=-sh\n${readlinkSync('/proc/self/ns/net')}\n${readlinkSync('/proc/self/ns/uts')}\n`);
      const prog = [...args, 'sh', '-c', 'hostname; exit 3'];
      expect(ours(prog)).toEqual(theirs(prog));
      expect(ours(prog).code).toBe(3);
    }
  });

  // stop 20, finding 7 (issue 6: no read may block on a FIFO): `-n/path/to/fifo` blocked in open(2)
  // forever, as util-linux nsenter still does; now opened O_NONBLOCK and refused as no namespace file
  it('a FIFO as a namespace file, root or working directory: refused at once, never a blocked open', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-nsenter-fifo-'));
    try {
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const go = (args: string[]) => {
        const r = spawnSync(process.execPath, [BIN('nsenter-ts'), ...args], { encoding: 'utf8', input: '', timeout: 20_000 });
        return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
      };
      expect(go([`-n${fifo}`, 'true'])).toEqual({ code: 1, signal: null, out: '', err: `nsenter-ts: ${fifo}: not a namespace file (a FIFO)\n` });
      expect(go(['-t', String(T), `-u${fifo}`, '-n', 'true'])).toMatchObject({ code: 1, signal: null, err: `nsenter-ts: ${fifo}: not a namespace file (a FIFO)\n` });
      expect(go([`-r${fifo}`, 'true'])).toEqual({ code: 1, signal: null, out: '', err: 'nsenter-ts: fchdir(root): Not a directory\n' });
      expect(go([`-w${fifo}`, 'true'])).toEqual({ code: 1, signal: null, out: '', err: 'nsenter-ts: fchdir(wd): Not a directory\n' });
      // util-linux 2.38.1 blocks in open(2) on it (killed by the timeout here)
      expect(spawnSync('nsenter', [`-n${fifo}`, 'true'], { timeout: 1000 }).signal).toBe('SIGTERM');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('killed by a signal: 128 + signal, where nsenter re-raises it', () => {
    const a = ours(['-t', String(T), '-n', 'sh', '-c', 'kill -TERM $$']);
    const b = theirs(['-t', String(T), '-n', 'sh', '-c', 'kill -TERM $$']);
    expect(a.code).toBe(143);
    expect(b.signal).toBe('SIGTERM');
  });

  it('not root: the same permission error as nsenter', () => {
    const a = ours(['-t', String(T), '-n', 'true'], { asUser: 65534 });
    const b = theirs(['-t', String(T), '-n', 'true'], { asUser: 65534 });
    expect(a.code).toBe(1);
    expect(a.err.replace('nsenter-ts', 'nsenter')).toBe(b.err);
  });

  it('-e takes the target environment; the default is ours', () => {
    expect(ours(['-t', String(T), '-e', '-u', 'env']).out).toContain('FOO=from-target');
    expect(ours(['-t', String(T), '-u', 'env']).out).not.toContain('FOO=from-target');
  });

  it('the default program is $SHELL as a login shell, interactive on a terminal', () => {
    const onTty = (cmd: string): Run => run(['script', '-qec', cmd, '/dev/null'], { input: 'hostname\necho "[$0]"\nexit 7\n', env: { ...process.env, SHELL: '/bin/sh' } });
    const r = onTty(`${process.execPath} ${BIN('nsenter-ts')} -t ${T} -u -n -i`);
    expect(r.code).toBe(7);
    expect(r.out).toContain('hs-nsenter');
    expect(r.out).toContain('[-sh]');
    // in a pid namespace dash cannot take the terminal's process group: nsenter behaves the same
    const a = onTty(`${process.execPath} ${BIN('nsenter-ts')} -t ${T} -a`);
    const b = onTty(`nsenter -t ${T} -a`);
    expect([a.code, a.out]).toEqual([b.code, b.out]);
  });

  it('signals sent to nsenter-ts reach the program; its status comes back; nothing is left', async () => {
    const child = spawn(process.execPath, [BIN('nsenter-ts'), '-t', String(T), '-a', 'sleep', '30'], { stdio: 'ignore' });
    // the program is the one running `sleep 30` whose parent is nsenter-ts (CLONE_PARENT)
    // (the intermediate process that forked it exits meanwhile: a cmdline that is gone is no match)
    const cmdline = (pid: number): string | undefined => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return undefined;
      }
    };
    expect(await waitFor(() => [...parentMap()].some(([pid, ppid]) => ppid === child.pid && cmdline(pid) === 'sleep\x0030\x00'))).toBe(true);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(143);
    expect([...parentMap()].filter(([, ppid]) => ppid === child.pid)).toEqual([]);
  });

  it('--keep-caps: the capabilities of the user namespace survive as ambient ones', () => {
    const amb = (args: string[]): bigint => BigInt(`0x${/CapAmb:\s+([0-9a-f]+)/.exec(ours(['-t', String(T), '-U', ...args, 'cat', '/proc/self/status']).out)![1]}`);
    expect(amb([])).toBe(0n);
    expect(amb(['--keep-caps'])).toBeGreaterThan(0n);
  });

  it('--user-parent enters the parent of the target user namespace; -W looks the directory up inside; -S follow', async () => {
    // the target's parent user namespace is ours here: setns into one's own user namespace is EINVAL
    expect(ours(['-t', String(T), '-U', '--user-parent', 'true'])).toMatchObject({ code: 1, err: 'nsenter-ts: setns(user): Invalid argument\n' });
    // a user namespace inside the target's: its parent is the target's
    const inner = spawned.start('nsenter', ['-t', String(T), '-U', '--preserve-credentials', 'unshare', '--user', 'sleep', '600']);
    const innerPid = inner.pid!; // nsenter and unshare exec in place: it ends up as the sleep
    expect(await waitFor(() => readlinkSync(`/proc/${innerPid}/exe`).endsWith('sleep') && readlinkSync(`/proc/${innerPid}/ns/user`) !== readlinkSync(`/proc/${T}/ns/user`))).toBe(true);
    const nested = ours(['-t', String(innerPid), '-U', '--user-parent', 'readlink', '/proc/self/ns/user']);
    expect(nested.out.trim()).toBe(readlinkSync(`/proc/${T}/ns/user`));
    expect(ours(['-t', String(T), '-a', '-W', '/usr/bin', 'pwd']).out).toBe('/usr/bin\n');
    expect(ours(['-t', String(T), '-n', '-S', 'follow', '-G', 'follow', 'id', '-u']).out).toBe('0\n');
    expect(ours(['-t', String(T), '-n', '-w', '-W', '/', 'true'])).toMatchObject({ code: 1, err: 'nsenter-ts: mutually exclusive arguments: --wd --wdns\n' });
  });

  it('-c joins the target cgroup on this cgroup v1 host (nsenter: v2 only); --container finds the target', () => {
    mkdirSync(cg);
    writeFileSync(`${cg}/cgroup.procs`, String(T));
    const r = ours(['-t', String(T), '-c', '-n', 'cat', '/proc/self/cgroup']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`:pids:/hostscope-nsenter-${process.pid}$`, 'm'));
    const a = ours(['--container', String(T), '-u', 'hostname']);
    expect(a).toMatchObject({ code: 0, out: 'hs-nsenter\n' });
    // -a joins the cgroups too, like docker exec
    expect(ours(['-t', String(T), '-a', 'grep', 'pids', '/proc/self/cgroup']).out).toMatch(new RegExp(`:pids:/hostscope-nsenter-${process.pid}$`, 'm'));
  });
});
