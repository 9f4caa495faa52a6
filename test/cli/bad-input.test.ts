import { describe, expect, it } from 'vitest';
import { BIN, IS_ROOT, has, runBin } from '../helpers/live.js';
import { spawnSync } from 'node:child_process';
import { HOSTS_DIR, rootArgs } from '../helpers/fixtures.js';
import { join } from 'node:path';

/** One clear line on stderr and util-linux exit codes: 1 failure, 2 usage. Never a stack trace. */
describe('bad input', () => {
  it.each([
    ['cinf', ['--pid', '999999'], 1, 'cinf: no process with pid 999999'],
    ['cinf', ['--pid', 'abc'], 2, "cinf: invalid pid argument: 'abc'"],
    ['cinf', ['--namespace', '99'], 1, 'cinf: not found namespace: 99'],
    ['cinf', ['--namespace', 'x1'], 2, "cinf: invalid namespace argument: 'x1'"],
    ['cinf', ['-t', 'bogus'], 2, 'cinf: unknown namespace type: bogus'],
    ['cinf', ['-o', 'NS,NOPE'], 2, 'cinf: unknown column: NOPE'],
    ['cinf', ['--tree=sideways'], 2, "cinf: invalid tree argument: 'sideways' (process, owner or parent)"],
    ['cinf', ['--proc-root', join(HOSTS_DIR, 'v2-docker-systemd/proc'), '--tree=owner'], 1, 'cinf: --tree=owner needs the live kernel and the native addon (the NS_GET_USERNS and NS_GET_PARENT ioctls)'],
    ['cinf', ['--proc-root', '/nonexistent'], 1, 'cinf: cannot open proc root /nonexistent: No such file or directory'],
    ['cinf', ['--proc-root', '/etc'], 1, 'cinf: /etc holds no process directories: not a proc dump'],
    ['cinf', ['--cgroup', '1:bogus'], 1, undefined],
    ['cinf', ['--cgroup', 'nonsense'], 2, "cinf: invalid cgroup argument: 'nonsense' (want PID:HIERARCHY, a cgroup path or a /sys/fs/cgroup directory)"],
    ['cinf', ['--pid', '1', '--namespace', '2'], 2, 'cinf: --namespace, --pid and --cgroup are mutually exclusive'],
    ['capdecode', ['zz'], 1, "capdecode: invalid capability mask 'zz'"],
    ['capdecode', [], 2, 'capdecode: no mask given (try capdecode 00000000a80425fb, --pid, --encode or --list)'],
    ['capdecode', ['--encode', 'cap_chown,cap_foo'], 1, "capdecode: unknown capability 'cap_foo'"],
    ['capdecode', ['--pid', '999999'], 1, 'capdecode: no process with pid 999999'],
    ['hostscope', ['bogus'], 2, "hostscope: unknown command 'bogus'"],
  ])('%s %j → exit %i', (bin, args, code, message) => {
    const r = runBin(bin, args);
    expect(r.code).toBe(code);
    expect(r.out).toBe('');
    const first = r.err.split('\n')[0]!;
    if (message !== undefined) expect(first).toBe(message);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('an unknown option is a usage error with a hint', () => {
    const r = runBin('cinf', ['--bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^cinf: unrecognized option: bogus\nTry 'cinf --help' for more information.\n$/);
  });
});

describe('one real subprocess per binary', () => {
  it('cinf without a TTY and without stdin (C1), also cinf-style single-dash flags', () => {
    const r = runBin('cinf', []);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toMatch(/^\s+NS TYPE\s+NPROCS USERS\s+PID CMD$/);
    const seed = runBin('cinf', [...rootArgs('v1-docker-seed'), '-namespace', '4026532226']);
    expect(seed.out).toContain('redis-server');
  });
  it('capdecode', () => {
    expect(runBin('capdecode', ['3']).out).toBe('0x0000000000000003=cap_chown,cap_dac_override\n');
  });
  it('hostscope runs its commands', () => {
    expect(runBin('hostscope', ['capdecode', '--encode', 'cap_kill']).out).toBe('0x0000000000000020\n');
    expect(runBin('hostscope', ['cinf', ...rootArgs('v2-docker-systemd'), '-t', 'net', '-o', 'NS', '-n']).out).toBe('4026531992\n4026532410\n4026532605\n4026532704\n4026532900\n');
    expect(runBin('hostscope', ['--help']).out).toContain('cinf');
  });
});

describe.skipIf(!IS_ROOT || !has('setpriv'))('not root', () => {
  it('partial results, denied fields as -, one hint', () => {
    const r = runBin('cinf', [], { asUser: 65534 });
    expect(r.code).toBe(0);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^cinf: \d+ processes could not be read in full \(permission denied\)/);
    const story = runBin('cinf', ['--pid', '2'], { asUser: 65534 });
    expect(story.code).toBe(0);
    expect(story.out).toMatch(/mnt\s+- permission denied/);
  });
});

describe('nsenter-ts: every failure is one line', () => {
  it.each([
    [['-t', '999999', '-n', '-S', 'follow', 'true'], 'nsenter-ts: cannot open /proc/999999/ns/net: No such file or directory'],
    [['-t', '999999', '-a', 'true'], 'nsenter-ts: stat of /proc/999999/ns/user failed: No such file or directory'],
    [['-n/etc/hostname', 'true'], 'nsenter-ts: setns(net): Invalid argument'],
    [['-U/etc/hostname', '--user-parent', 'true'], 'nsenter-ts: ioctl(NS_GET_USERNS): Inappropriate ioctl for device'],
    [['--container', 'no-such-container', '-a'], "nsenter-ts: no container 'no-such-container' (cinf -o +CONTAINER lists them)"],
  ])('%j', (args, message) => {
    const r = runBin('nsenter-ts', args);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`${message}\n`);
  });
});

describe('messages never carry raw control characters', () => {
  it.each([
    ['cinf', ['--pid', 'x\x1b[31mRED']],
    ['capdecode', ['zz\x1b[2J']],
    ['nsenter-ts', ['-t', `${process.pid}`, '-n', 'no\x1bsuch']],
  ])('%s', (bin, args) => {
    const r = runBin(bin, args);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/\\x1b/);
    expect(r.err).not.toMatch(/\x1b/);
  });
});

describe.skipIf(!IS_ROOT || !has('setpriv') || !has('unshare'))('a /proc mounted with hidepid=invisible (E7)', () => {
  it('other users\' processes are simply absent: no error, only what this user may see', () => {
    const script = `mount -t proc -o hidepid=invisible proc /proc && setpriv --reuid=65534 --regid=65534 --clear-groups ${process.execPath} ${BIN('cinf')} --all --json -o NS,TYPE,NPROCS,PID`;
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const ns = (JSON.parse(r.stdout) as { namespaces: { nprocs: number; pid: number }[] }).namespaces;
    expect(ns.length).toBeGreaterThanOrEqual(8);
    // only cinf itself is visible to nobody: one process in each namespace
    expect(new Set(ns.map((n) => n.nprocs))).toEqual(new Set([1]));
  });
});
