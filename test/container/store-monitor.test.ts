import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Store, StoreError, humanDuration, newId } from '../../src/container/store.js';
import { parseLog, waitExit, psRows } from '../../src/container/engine.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-store-${process.pid}-`));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const MONITOR = path.join(import.meta.dirname, '../../build/Release/hostscope-monitor');

describe('the name store', () => {
  const s = new Store(`${tmp}/a`);
  const id1 = newId();
  const id2 = newId();
  it('ids are 64 hex, random', () => {
    expect(id1).toMatch(/^[0-9a-f]{64}$/);
    expect(id1).not.toBe(id2);
  });
  it('a name is taken once (O_EXCL); the second taker gets docker’s message naming the holder', () => {
    s.reserveName('db', id1);
    expect(() => s.reserveName('db', id2)).toThrow(new StoreError(`the container name "db" is already in use by ${id1}`));
  });
  it('release only drops the name for its own id', () => {
    s.releaseName('db', id2);
    expect(fs.existsSync(`${tmp}/a/names/db`)).toBe(true);
    s.releaseName('db', id1);
    expect(fs.existsSync(`${tmp}/a/names/db`)).toBe(false);
  });
  it('names that could be paths are refused', () => {
    for (const bad of ['../x', 'a/b', '.hidden', '', 'x'.repeat(129), 'a\nb']) expect(() => s.reserveName(bad, id1), JSON.stringify(bad)).toThrow(StoreError);
  });
  it('resolve: name, full id, unique prefix; ambiguous and unknown refs are errors', () => {
    const a = 'ab' + 'c'.repeat(62);
    const b = 'ab' + 'd'.repeat(62);
    for (const [id, name] of [[a, 'one'], [b, 'two']] as const) {
      s.reserveName(name, id);
      s.create({ id, name, image: 'busybox', command: ['true'], created: new Date().toISOString(), ownRootfs: true, rm: false });
    }
    expect(s.resolve('one')).toBe(a);
    expect(s.resolve(b)).toBe(b);
    expect(s.resolve('abd')).toBe(b);
    expect(() => s.resolve('ab')).toThrow(/multiple containers match 'ab'/);
    expect(() => s.resolve('nope')).toThrow('no such container: nope');
    expect(() => s.resolve('x\x1b[2J')).toThrow('no such container: x?[2J');
    s.remove(a);
    expect(() => s.resolve('one')).toThrow('no such container: one');
    expect(fs.existsSync(`${tmp}/a/names/one`)).toBe(false);
  });
  it('a planted symlink for a pid file is not followed', () => {
    const id = 'e'.repeat(64);
    s.create({ id, name: 'e', image: 'busybox', command: ['true'], created: new Date().toISOString(), ownRootfs: true, rm: false });
    fs.writeFileSync(`${tmp}/target`, '1\n');
    fs.symlinkSync(`${tmp}/target`, `${s.dir(id)}/init.pid`);
    expect(s.pidFile(id, 'init.pid')).toBeUndefined();
  });
});

describe('humanDuration: go-units as docker ps prints it', () => {
  const cases: [number, string][] = [
    [500, 'Less than a second'],
    [1000, '1 second'],
    [5000, '5 seconds'],
    [59_999, '59 seconds'],
    [60_000, 'About a minute'],
    [5 * 60_000, '5 minutes'],
    [3_600_000, 'About an hour'],
    [3 * 3_600_000, '3 hours'],
    [3 * 86_400_000, '3 days'],
    [20 * 86_400_000, '2 weeks'],
    [90 * 86_400_000, '3 months'],
    [800 * 86_400_000, '2 years'],
  ];
  for (const [ms, text] of cases) it(`${ms} ms → ${text}`, () => expect(humanDuration(ms)).toBe(text));
});

describe.skipIf(!fs.existsSync(MONITOR))('the monitor (build/Release/hostscope-monitor), with sh as the runtime', () => {
  function monitor(script: string): { dir: string; store: Store; id: string } {
    const store = new Store(`${tmp}/m`);
    const id = newId();
    const dir = store.create({ id, name: `m${id.slice(0, 6)}`, image: 'x', command: ['sh'], created: new Date().toISOString(), ownRootfs: false, rm: false });
    const r = spawnSync(MONITOR, [dir, '--', 'sh', '-c', script], { stdio: 'ignore' });
    expect(r.status).toBe(0);
    return { dir, store, id };
  }
  it('writes docker json-file lines per stream, escaped, RFC3339Nano times; the exit file has the code', async () => {
    const { dir, store, id } = monitor(`printf 'a "q" \\\\ \\t\\033[2J\\n'; printf 'e1\\n' >&2; printf 'no newline'; exit 3`);
    const exit = await waitExit(store, id, 20000);
    expect(exit.exitCode).toBe(3);
    expect(exit.signal).toBeNull();
    expect(exit.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const raw = fs.readFileSync(`${dir}/ctr.log`, 'utf8');
    expect(raw).toContain('{"log":"a \\"q\\" \\\\ \\t\\u001b[2J\\n","stream":"stdout","time":"');
    const lines = parseLog(raw);
    expect(lines.map((l) => [l.stream, l.log])).toEqual(
      expect.arrayContaining([
        ['stdout', 'a "q" \\ \t\x1b[2J\n'],
        ['stderr', 'e1\n'],
        ['stdout', 'no newline'],
      ]),
    );
    for (const l of lines) expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(psRows(store, true).find((r) => r.id === id)?.status).toMatch(/^Exited \(3\) .* ago$/);
  });
  it('a line longer than 16 KiB is cut into records, as docker does; nothing is lost', async () => {
    const { dir, store, id } = monitor(`head -c 40000 /dev/zero | tr '\\0' x; echo`);
    await waitExit(store, id, 20000);
    const lines = parseLog(fs.readFileSync(`${dir}/ctr.log`, 'utf8'));
    expect(lines.length).toBe(3);
    expect(lines.map((l) => l.log).join('')).toBe('x'.repeat(40000) + '\n');
  });
  it('a runtime killed by a signal: 128+N and the signal', async () => {
    const { store, id } = monitor('kill -TERM $$');
    const exit = await waitExit(store, id, 20000);
    expect([exit.exitCode, exit.signal]).toEqual([143, 15]);
  });
  it('a runtime that cannot be run: 127 and the reason in the log', async () => {
    const store = new Store(`${tmp}/m`);
    const id = newId();
    const dir = store.create({ id, name: `m${id.slice(0, 6)}`, image: 'x', command: ['x'], created: new Date().toISOString(), ownRootfs: false, rm: false });
    spawnSync(MONITOR, [dir, '--', `${tmp}/no-such-runtime`], { stdio: 'ignore' });
    expect((await waitExit(store, id, 20000)).exitCode).toBe(127);
    expect(fs.readFileSync(`${dir}/ctr.log`, 'utf8')).toContain('cannot run');
  });
  it('bad usage: exit 1, nothing started', () => {
    expect(spawnSync(MONITOR, ['only-a-dir'], { stdio: 'ignore' }).status).toBe(1);
  });
});
