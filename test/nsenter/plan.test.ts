import { describe, expect, it } from 'vitest';
import { buildNsenterSteps, type NsenterInput } from '../../src/nsenter/plan.js';
import { encodeStep, stepName, type Step } from '../../src/native/steps.js';
import { getoptLong } from '../../cli/getopt.js';

const base: NsenterInput = { nsFds: {}, cgroupProcsFds: [], fork: false, dropGroupsEarly: false, keepCaps: false, file: 'ps', argv: ['ps', 'aux'], envp: ['PATH=/bin'], search: true };
const names = (steps: Step[]): string[] =>
  steps.map((s) => `${stepName(s)}${s.ignoreError ? '?' : ''}${s.when ? `[${s.when.ok ? 'ok' : 'failed'}:${s.when.step}]` : ''}`);

describe('nsenter plan (the order of nsenter.c)', () => {
  it('two passes: all but user with errors ignored, then user and the failed ones', () => {
    const steps = buildNsenterSteps({ ...base, nsFds: { mnt: 10, user: 11, net: 12, pid: 13 }, fork: true, uid: 0, gid: 0, dropGroupsEarly: true });
    expect(names(steps)).toEqual([
      'setgroups?',
      'setns(net)?',
      'setns(pid)?',
      'setns(mnt)?',
      'setns(user)',
      'setns(net)[failed:1]',
      'setns(pid)[failed:2]',
      'setns(mnt)[failed:3]',
      'fork',
      'setgroups[failed:0]',
      'setgroups?[ok:0]',
      'setgid',
      'setuid',
      'execve',
    ]);
  });

  it('table order is user, cgroup, ipc, uts, net, pid, mnt, time whatever the option order', () => {
    const steps = buildNsenterSteps({ ...base, nsFds: { time: 1, mnt: 2, pid: 3, net: 4, uts: 5, ipc: 6, cgroup: 7 } });
    expect(names(steps).slice(0, 7)).toEqual(['setns(cgroup)?', 'setns(ipc)?', 'setns(uts)?', 'setns(net)?', 'setns(pid)?', 'setns(mnt)?', 'setns(time)?']);
  });

  it('root without a working directory keeps the cwd through a saved fd; -W and -w', () => {
    expect(names(buildNsenterSteps({ ...base, rootFd: 7 }))).toEqual(['open(.)', 'fchdir(root)', 'chroot', 'chdir', 'fchdir(cwd)', 'execve']);
    expect(names(buildNsenterSteps({ ...base, rootFd: 7, wdns: '/srv' }))).toEqual(['fchdir(root)', 'chroot', 'chdir', 'chdir(/srv)', 'execve']);
    expect(names(buildNsenterSteps({ ...base, wdFd: 8 }))).toEqual(['fchdir(wd)', 'execve']);
  });

  it('cgroups are joined before the fork (the program inherits them); keep-caps only with a user namespace', () => {
    expect(names(buildNsenterSteps({ ...base, nsFds: { pid: 3 }, cgroupProcsFds: [20, 21], fork: true }))).toEqual([
      'setns(pid)?',
      'setns(pid)[failed:0]',
      'write(cgroup.procs)',
      'write(cgroup.procs)',
      'fork',
      'execve',
    ]);
    expect(names(buildNsenterSteps({ ...base, keepCaps: true }))).toEqual(['execve']);
    expect(names(buildNsenterSteps({ ...base, nsFds: { user: 1 }, keepCaps: true }))).toEqual(['setns(user)', 'prctl(PR_CAP_AMBIENT_RAISE)', 'execve']);
  });

  it('encodes to the addon format', () => {
    expect(encodeStep({ op: 'setns', fd: 5, nstype: 0x40000000, ignoreError: true })).toEqual({ op: 1, flags: 1, a: [5, 0x40000000, 0] });
    expect(encodeStep({ op: 'fchdir', fd: { reg: 2 }, when: { step: 3, ok: false } })).toEqual({ op: 13, flags: 0, cond: [3, 0], a: [-1002] });
    expect(encodeStep({ op: 'capset', effective: 1n, permitted: 3n, inheritable: 0n })).toEqual({ op: 18, flags: 0, a: [1n, 3n, 0n] });
  });
});

describe('getoptLong (util-linux option parsing)', () => {
  const longs = [
    { name: 'mount', arg: 'optional' as const, key: 'm' },
    { name: 'target', arg: 'required' as const, key: 't' },
    { name: 'all', arg: 'none' as const, key: 'a' },
    { name: 'preserve-credentials', arg: 'none' as const, key: 'pc' },
  ];
  const spec = '+at:m::';
  it('optional arguments only when attached; stops at the first non-option', () => {
    expect(getoptLong(['-t', '42', '-m', 'ip', '-a'], spec, longs)).toEqual({ ok: true, options: [{ key: 't', value: '42', spelled: '-t' }, { key: 'm', value: undefined, spelled: '-m' }], rest: ['ip', '-a'] });
    expect(getoptLong(['-m/proc/1/ns/mnt', '--mount=/x', '-t42'], spec, longs)).toMatchObject({ ok: true, options: [{ value: '/proc/1/ns/mnt' }, { value: '/x' }, { key: 't', value: '42' }] });
  });
  it('bundles, --, abbreviations', () => {
    expect(getoptLong(['-am', '--', '-x'], spec, longs)).toMatchObject({ ok: true, options: [{ key: 'a' }, { key: 'm' }], rest: ['-x'] });
    expect(getoptLong(['--tar', '7', '--pres'], spec, longs)).toMatchObject({ ok: true, options: [{ key: 't', value: '7' }, { key: 'pc' }] });
  });
  it('errors as getopt words them', () => {
    expect(getoptLong(['-x'], spec, longs)).toEqual({ ok: false, message: "invalid option -- 'x'" });
    expect(getoptLong(['-t'], spec, longs)).toEqual({ ok: false, message: "option requires an argument -- 't'" });
    expect(getoptLong(['--bogus'], spec, longs)).toEqual({ ok: false, message: "unrecognized option '--bogus'" });
    expect(getoptLong(['--all=1'], spec, longs)).toEqual({ ok: false, message: "option '--all' doesn't allow an argument" });
  });
});
