import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { captureDeps } from '../helpers/fixtures.js';
import { runcMain } from '../../cli/runc.js';
import { exampleSpec, renderSpecJson } from '../../src/runtime/spec-default.js';
import { StateStore, type SavedState } from '../../src/runtime/state.js';
import { readPidStat } from '../../src/runtime/probe.js';
import { openSource } from '../../src/source/source.js';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-runcts-${process.pid}-`));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));
async function run(argv: string[]) {
  const deps = captureDeps();
  const code = await runcMain(argv, deps);
  return { code, out: deps.out(), err: deps.err() };
}

describe('runc-ts spec', () => {
  it('writes runc 1.1 starter config into --bundle; refuses to overwrite', async () => {
    expect(await run(['spec', '--bundle', tmp])).toEqual({ code: 0, out: '', err: '' });
    expect(fs.readFileSync(`${tmp}/config.json`, 'utf8')).toBe(renderSpecJson(exampleSpec()));
    expect(await run(['spec', '-b', tmp])).toEqual({ code: 1, out: '', err: 'runc-ts: File config.json exists. Remove it first\n' });
  });
  it('a planted symlink named config.json is not followed', async () => {
    fs.symlinkSync(`${tmp}/elsewhere`, `${tmp}/config.json`);
    expect((await run(['spec', '--bundle', tmp])).code).toBe(1);
    expect(fs.existsSync(`${tmp}/elsewhere`)).toBe(false);
  });
  it('errors in runc words: missing bundle, extra argument, unknown flag', async () => {
    expect(await run(['spec', '--bundle', `${tmp}/nope`])).toMatchObject({ code: 1, err: `runc-ts: chdir ${tmp}/nope: no such file or directory\n` });
    expect(await run(['spec', 'x'])).toMatchObject({ code: 1, err: 'runc-ts: "spec" requires exactly 0 argument(s)\n' });
    expect(await run(['spec', '--bogus'])).toMatchObject({ code: 1, err: 'runc-ts: flag provided but not defined: --bogus\n' });
  });
});

describe('runc-ts state and list', () => {
  const self = readPidStat(openSource(), process.pid)!;
  const saved = (id: string, over: Partial<SavedState> = {}): SavedState => ({
    id,
    pid: process.pid,
    pidStartTime: self.startTime,
    bundle: '/srv/b',
    rootfs: '/srv/b/rootfs',
    created: '2026-12-01T20:00:00.5Z',
    owner: '',
    annotations: {},
    creating: false,
    cgroupPaths: {},
    namespaces: [],
    configPath: '',
    rootless: false,
    ...over,
  });
  it('a create that died before its init existed (pid 0): kill refuses, never signalling pid 0 (our own process group)', async () => {
    const store = new StateStore(tmp);
    store.create('p0');
    store.save(saved('p0', { pid: 0, pidStartTime: 0, creating: true }));
    expect(await run(['--root', tmp, 'kill', 'p0', 'KILL'])).toMatchObject({ code: 1, err: 'runc-ts: container not running\n' });
    expect(await run(['--root', tmp, 'kill', '--all', 'p0', 'KILL'])).toMatchObject({ code: 1, err: 'runc-ts: container not running\n' });
    expect(await run(['--root', tmp, 'delete', 'p0'])).toMatchObject({ code: 1, err: 'runc-ts: cannot delete container p0 that is not stopped: creating\n' });
  });
  it('status from the live process: running; created while the fifo exists; stopped when the pid was reused', async () => {
    const store = new StateStore(tmp);
    store.create('a');
    store.save(saved('a'));
    const r = await run(['--root', tmp, 'state', 'a']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ id: 'a', pid: process.pid, status: 'running' });
    execFileSync('mkfifo', [store.fifoPath('a')]);
    expect(JSON.parse((await run(['--root', tmp, 'state', 'a'])).out).status).toBe('created');
    store.save(saved('a', { pidStartTime: self.startTime + 1 }));
    expect(JSON.parse((await run(['--root', tmp, 'state', 'a'])).out)).toMatchObject({ pid: 0, status: 'stopped' });
  });
  it('list: table, -q, json; unknown id; bad format', async () => {
    const store = new StateStore(tmp);
    for (const id of ['b', 'a']) {
      store.create(id);
      store.save(saved(id));
    }
    const t = await run(['--root', tmp, 'list']);
    expect(t.out.split('\n')[0]).toBe(`ID          PID         STATUS      BUNDLE      ${'CREATED'.padEnd(25)}OWNER`);
    expect(t.out.split('\n')[1]).toBe(`a           ${String(process.pid).padEnd(12)}running     /srv/b      2026-12-01T20:00:00.5Z   root`);
    expect((await run(['--root', tmp, 'list', '-q'])).out).toBe('a\nb\n');
    expect(JSON.parse((await run(['--root', tmp, 'list', '--format', 'json'])).out)).toHaveLength(2);
    expect(await run(['--root', tmp, 'state', 'zz'])).toMatchObject({ code: 1, err: 'runc-ts: container does not exist: zz\n' });
    expect(await run(['--root', tmp, 'state', '../x'])).toMatchObject({ code: 1, err: 'runc-ts: invalid container id format: "../x"\n' });
    expect(await run(['--root', tmp, 'list', '-f', 'yaml'])).toMatchObject({ code: 1, err: 'runc-ts: invalid format option\n' });
  });
  it('the lifecycle verbs: argument counts, unknown ids and signals as runc words them (exit 1)', async () => {
    expect(await run(['kill'])).toMatchObject({ code: 1, err: 'runc-ts: "kill" requires a minimum of 1 argument(s)\n' });
    expect(await run(['delete'])).toMatchObject({ code: 1, err: 'runc-ts: "delete" requires a minimum of 1 argument(s)\n' });
    expect(await run(['start', 'a', 'b'])).toMatchObject({ code: 1, err: 'runc-ts: "start" requires exactly 1 argument(s)\n' });
    expect(await run(['exec', 'a'])).toMatchObject({ code: 1, err: 'runc-ts: "exec" requires a minimum of 2 argument(s)\n' });
    expect(await run(['--root', tmp, 'start', 'zz'])).toMatchObject({ code: 1, err: 'runc-ts: container does not exist: zz\n' });
    expect(await run(['--root', tmp, 'delete', '--force', 'zz'])).toMatchObject({ code: 0, err: '' });
    expect(await run(['--root', tmp, 'kill', 'zz', 'KILL'])).toMatchObject({ code: 1, err: 'runc-ts: container does not exist: zz\n' });
    expect(await run(['--root', tmp, 'events', 'zz'])).toMatchObject({ code: 1, err: 'runc-ts: events: only --stats is implemented (the event stream is not)\n' });
    expect(JSON.parse((await run(['features'])).out).ociVersionMin).toBe('1.0.0');
  });
  it('verbs not built yet say so (exit 1), unknown verbs too', async () => {
    expect(await run(['checkpoint', 'x'])).toMatchObject({ code: 1, err: 'runc-ts: checkpoint: not implemented yet\n' });
    // --console-socket is taken now: without a bundle, create fails on the bundle, not on the flag
    expect((await run(['--root', tmp, 'create', '--console-socket', '/s', '--bundle', `${tmp}/none`, 'x'])).err).toMatch(/^runc-ts: cannot read .*\/none\/config\.json: no such file or directory\n$/);
    expect(await run(['run', '-t', 'x'])).toMatchObject({ code: 1, err: 'runc-ts: flag provided but not defined: -t\n' });
    expect(await run(['exec', '--tty=maybe', 'x', 'sh'])).toMatchObject({ code: 1, err: 'runc-ts: invalid boolean value "maybe" for -tty\n' });
    expect(await run(['frobnicate'])).toMatchObject({ code: 1, err: 'runc-ts: no such command: frobnicate\n' });
    expect((await run(['--version'])).out).toMatch(/^runc-ts version \S+\nspec: 1\.0\.2-dev\n$/);
  });
});
