import { describe, expect, it } from 'vitest';
import { hookStateJson, hookSteps } from '../../src/runtime/hooks.js';
import { buildExecPlan, buildInitPlan, NS_FLAG, type HostFacts } from '../../src/runtime/plan.js';
import { validateSpec } from '../../src/runtime/spec.js';
import { exampleSpec, renderSpecJson } from '../../src/runtime/spec-default.js';
import { encodeStep, validateSteps } from '../../src/native/steps.js';
import { memView } from './helpers.js';

describe('hook state: runtime-spec state as Go marshals specs.State', () => {
  it('field order ociVersion, id, status, pid, bundle, annotations; pid and empty annotations omitted (poststop has no pid)', () => {
    expect(hookStateJson({ id: 'c1', status: 'creating', pid: 42, bundle: '/b', annotations: { k: 'v' } })).toBe('{"ociVersion":"1.0.2-dev","id":"c1","status":"creating","pid":42,"bundle":"/b","annotations":{"k":"v"}}');
    expect(hookStateJson({ id: 'c1', status: 'stopped', bundle: '/b', annotations: {} })).toBe('{"ociVersion":"1.0.2-dev","id":"c1","status":"stopped","bundle":"/b"}');
  });
});

describe('hook steps (pure)', () => {
  const files = { stdin: '/t/state.json', stdout: '/t/out', stderr: '/t/err' };
  it('runtime namespace: files opened, own session, stdio from them, fds closed, exec with argv = [path] and the given env when args/env are absent', () => {
    const s = hookSteps({ path: '/usr/bin/h' }, files, ['A=1']);
    expect(s.map((x) => x.op)).toEqual(['open', 'open', 'open', 'setsid', 'dup2', 'dup2', 'dup2', 'closeRange', 'exec']);
    expect(s.at(-1)).toEqual({ op: 'exec', file: '/usr/bin/h', argv: ['/usr/bin/h'], envp: ['A=1'], search: false });
    validateSteps(s);
    s.map(encodeStep);
  });
  it('container namespace: the files are opened on the host first, then setns through the pidfd (every type at once) and a fork into the pid namespace, then the session', () => {
    const s = hookSteps({ path: '/h', args: ['h', 'x'], env: [] }, files, ['A=1'], { pidfd: 9, types: ['mount', 'pid', 'network'] });
    expect(s.map((x) => x.op)).toEqual(['open', 'open', 'open', 'setnsPidfd', 'fork', 'setsid', 'dup2', 'dup2', 'dup2', 'closeRange', 'exec']);
    expect(s[3]).toMatchObject({ pidfd: 9, mask: NS_FLAG.mount | NS_FLAG.pid | NS_FLAG.network });
    expect(s.at(-1)).toMatchObject({ argv: ['h', 'x'], envp: [] });
  });
});

describe('console in the plans', () => {
  const host: HostFacts = { lastCap: 40, bounding: (1n << 41n) - 1n, hasKcore: false, cgroup: { mode: 'v2' } };
  const R = '/b/rootfs';
  const tree = { [R]: 'dir', [`${R}/proc`]: 'dir', [`${R}/dev`]: 'dir', [`${R}/sys`]: 'dir', '/sys': 'dir' };
  const spec = (mut: (c: any) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const c = JSON.parse(renderSpecJson(exampleSpec()));
    mut(c);
    return validateSpec(c, { apparmor: false, selinux: false }).spec;
  };
  it('an inherited socket fd (run\'s socket pair): no connect, the master sent on the fd; consoleSize sizes the pty; a non-root user owns the slave', () => {
    const sp = spec((c) => {
      c.process.consoleSize = { height: 33, width: 101 };
      c.process.user = { uid: 1000, gid: 1000 };
    });
    const p = buildInitPlan({ spec: sp, rootfs: R, bundle: '/b', view: memView(tree), host, consoleSocket: { fd: 17 }, execFifoFd: 5 });
    expect(p.steps.some((s) => s.op === 'connect')).toBe(false);
    expect(p.steps.find((s) => s.op === 'openPty')).toMatchObject({ rows: 33, cols: 101 });
    expect(p.steps.find((s) => s.op === 'sendFd')).toMatchObject({ socket: 17 });
    expect(p.steps.find((s) => s.label === 'chown(console)')).toMatchObject({ path: '/proc/self/fd/0', uid: 1000, gid: 1000 });
    // the pty comes after pivot_root (the container's /dev/ptmx), and before the user is changed
    const at = (pred: (s: (typeof p.steps)[number]) => boolean) => p.steps.findIndex(pred);
    expect(at((s) => s.op === 'pivotRoot')).toBeLessThan(at((s) => s.op === 'openPty'));
    expect(at((s) => s.op === 'openPty')).toBeLessThan(at((s) => s.op === 'setresuid' && s.ruid === 1000));
    validateSteps(p.steps);
    expect(encodeStep(p.steps.find((s) => s.op === 'openPty')!).a).toEqual([5, 6, 33, 101]);
  });
  it('exec: a path is connected before joining, root keeps the slave as it is, no consoleSize: no resize', () => {
    const sp = spec(() => {});
    const p = buildExecPlan({ process: sp.process!, namespaces: ['pid', 'mount'], initPidfd: 9, host, consoleSocket: '/run/c.sock' });
    const names = p.steps.map((s) => s.op);
    expect(names.indexOf('connect')).toBeLessThan(names.indexOf('setnsPidfd'));
    expect(p.steps.find((s) => s.op === 'openPty')).not.toHaveProperty('rows');
    expect(p.steps.some((s) => s.label === 'chown(console)')).toBe(false);
    expect(p.steps.find((s) => s.op === 'sendFd')).toMatchObject({ socket: { reg: 4 } });
  });
});
