import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { deriveStatus, EMPTY_LOCK_STALE_MS, ociState, parseSavedState, REMOVE_EMPTY_PARENT_ANNOTATION, removesEmptyParent, renderOciState, rfc3339Nano, StateError, StateStore, validateId, type InitProbe, type SavedState } from '../../src/runtime/state.js';

const saved = (over: Partial<SavedState> = {}): SavedState => ({
  id: 'c1',
  pid: 4242,
  pidStartTime: 777,
  bundle: '/srv/b',
  rootfs: '/srv/b/rootfs',
  created: '2026-11-23T14:51:32.134468614Z',
  owner: '',
  annotations: {},
  creating: false,
  cgroupPaths: { memory: '/sys/fs/cgroup/memory/c1' },
  namespaces: ['pid', 'mount'],
  configPath: '/run/runc-ts/c1/config.json',
  rootless: false,
  ...over,
});
const probe = (over: Partial<InitProbe> = {}): InitProbe => ({ exists: true, startTime: 777, stateLetter: 'S', frozen: false, fifoExists: false, ...over });

describe('status derived at query time (runc refreshState order)', () => {
  it('running, created (fifo still there), paused (frozen wins over created)', () => {
    expect(deriveStatus(saved(), probe())).toBe('running');
    expect(deriveStatus(saved(), probe({ fifoExists: true }))).toBe('created');
    expect(deriveStatus(saved(), probe({ fifoExists: true, frozen: true }))).toBe('paused');
  });
  it('pid reuse: same pid, other start time → stopped', () => {
    expect(deriveStatus(saved(), probe({ startTime: 778 }))).toBe('stopped');
  });
  it('zombie or dead init → stopped; gone → stopped', () => {
    expect(deriveStatus(saved(), probe({ stateLetter: 'Z' }))).toBe('stopped');
    expect(deriveStatus(saved(), probe({ stateLetter: 'X' }))).toBe('stopped');
    expect(deriveStatus(saved(), probe({ exists: false }))).toBe('stopped');
  });
  it('creating until the init reported READY', () => {
    expect(deriveStatus(saved({ creating: true }), probe({ fifoExists: true }))).toBe('creating');
    expect(deriveStatus(saved({ pid: 0, creating: true }), probe({ exists: false }))).toBe('creating');
  });
});

describe('runc state output', () => {
  it('field order and indentation as runc 1.1 prints (observed: runc state s1)', () => {
    expect(renderOciState(ociState(saved(), 'created'))).toBe(
      '{\n  "ociVersion": "1.0.2-dev",\n  "id": "c1",\n  "pid": 4242,\n  "status": "created",\n  "bundle": "/srv/b",\n  "rootfs": "/srv/b/rootfs",\n  "created": "2026-11-23T14:51:32.134468614Z",\n  "owner": ""\n}',
    );
  });
  it('annotations before owner when there are any; stopped shows pid 0', () => {
    const st = ociState(saved({ annotations: { a: 'b' } }), 'stopped');
    expect(Object.keys(st)).toEqual(['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'annotations', 'owner']);
    expect(st.pid).toBe(0);
  });
  it('created time as Go marshals it (nanoseconds, trailing zeros trimmed)', () => {
    expect(rfc3339Nano(Date.UTC(2026, 10, 23, 14, 51, 32, 134), 468614)).toBe('2026-11-23T14:51:32.134468614Z');
    expect(rfc3339Nano(Date.UTC(2026, 10, 23, 14, 51, 32, 100))).toBe('2026-11-23T14:51:32.1Z');
    expect(rfc3339Nano(Date.UTC(2026, 10, 23, 14, 51, 32, 0))).toBe('2026-11-23T14:51:32Z');
  });
});

describe('which parent cgroup runc-ts removes where left empty', () => {
  const yes = { [REMOVE_EMPTY_PARENT_ANNOTATION]: 'true' };
  it('its default /runc-ts, and a front end\'s own parent right under the root (hostscope run\'s /hostscope/<id>)', () => {
    expect(removesEmptyParent(undefined, {})).toBe(true);
    expect(removesEmptyParent('/hostscope/abc', yes)).toBe(true);
    expect(removesEmptyParent('/hostscope/abc', {})).toBe(false);
    expect(removesEmptyParent('/hostscope/abc', { [REMOVE_EMPTY_PARENT_ANNOTATION]: 'yes' })).toBe(false);
  });
  it('(found by review) never a parent a manager owns, whatever the annotation says: deeper, relative, systemd, dot paths', () => {
    for (const p of ['/kubepods/pod1/abc', 'pod/abc', 'abc', 'system.slice:docker:abc', '/../abc', '/./abc', '/hostscope/', '//abc', '/abc']) expect(removesEmptyParent(p, yes), p).toBe(false);
  });
});

describe('container ids', () => {
  it('runc rule, no path tricks', () => {
    expect(validateId('ok-1_a.b+c')).toBeUndefined();
    for (const bad of ['', '.', '..', 'a/b', '../x', 'a b', 'x\u001b']) expect(validateId(bad), bad).toBeDefined();
  });
});

describe('state store on a temp dir', () => {
  let root: string;
  let store: StateStore;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), `hs-state-${process.pid}-`));
    store = new StateStore(root);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('create, save, load, list, remove; an id in use is refused', () => {
    store.create('c1');
    expect(() => store.create('c1')).toThrow('container with id exists: c1');
    store.save(saved());
    expect(store.load('c1')).toEqual(saved());
    store.create('b0');
    store.save(saved({ id: 'b0' }));
    fs.writeFileSync(`${root}/stray`, '');
    expect(store.list()).toEqual(['b0', 'c1']);
    store.remove('c1');
    expect(store.list()).toEqual(['b0']);
    expect(() => store.load('c1')).toThrow(new StateError('container does not exist: c1', 'NOT_FOUND'));
    expect(fs.readdirSync(`${root}/b0`)).toEqual(['state.json']);
  });
  it('defaultCgroup (runc-ts chose /runc-ts/<id>) is kept; absent in an older state, it reads as absent; not a boolean is corrupt', () => {
    store.create('c1');
    store.save(saved({ defaultCgroup: true }));
    expect(store.load('c1').defaultCgroup).toBe(true);
    store.save(saved());
    expect(store.load('c1').defaultCgroup).toBeUndefined();
    expect(() => parseSavedState(JSON.stringify({ ...saved(), defaultCgroup: 'yes' }), 'c1')).toThrow(/corrupt: defaultCgroup/);
  });
  it('hostile state.json: corrupt, wrong id, huge, a FIFO (never blocks), a symlink', () => {
    store.create('c1');
    fs.writeFileSync(`${root}/c1/state.json`, '{"id":');
    expect(() => store.load('c1')).toThrow(/state of c1 is corrupt/);
    fs.writeFileSync(`${root}/c1/state.json`, JSON.stringify(saved({ id: 'other' })));
    expect(() => store.load('c1')).toThrow(/id "other" in the state of c1/);
    fs.writeFileSync(`${root}/c1/state.json`, ' '.repeat(2 * 1024 * 1024));
    expect(() => store.load('c1')).toThrow(/larger than/);
    fs.rmSync(`${root}/c1/state.json`);
    fs.symlinkSync('/etc/passwd', `${root}/c1/state.json`);
    expect(() => store.load('c1')).toThrow(/ELOOP|symbolic/);
    fs.rmSync(`${root}/c1/state.json`);
    execFileSync('mkfifo', [`${root}/c1/state.json`]);
    expect(() => store.load('c1')).toThrow(/not a regular file/);
    expect(() => parseSavedState(JSON.stringify({ ...saved(), pid: -1 }), 'c1')).toThrow(/corrupt: pid/);
  });
  it('ids are checked before any path is built', () => {
    expect(() => store.create('../x')).toThrow(StateError);
    expect(() => store.lockPath('a/b')).toThrow(StateError);
  });

  describe('lock', () => {
    const me = { pid: 100, startTime: 1 };
    it('one holder at a time; released by its holder only', () => {
      const alive = () => true;
      const unlock = store.lock('c1', alive, me);
      expect(() => store.lock('c1', alive, { pid: 200, startTime: 2 })).toThrow('container c1 is locked by pid 100');
      unlock();
      const unlock2 = store.lock('c1', alive, { pid: 200, startTime: 2 });
      unlock(); // a second release by the old holder must not free the new holder's lock
      expect(() => store.lock('c1', alive, me)).toThrow('container c1 is locked by pid 200');
      unlock2();
      expect(fs.readdirSync(`${root}/.locks`)).toEqual([]);
    });
    it('a stale lock (holder dead, or its pid reused) is broken', () => {
      store.lock('c1', () => true, { pid: 300, startTime: 5 });
      const alive = (pid: number, st: number) => pid === 300 && st === 6; // pid 300 now belongs to another process
      const unlock = store.lock('c1', alive, me);
      expect(fs.readFileSync(`${root}/.locks/c1`, 'utf8')).toMatch(/^100 1 [0-9a-f]{16}\n$/);
      unlock();
      expect(fs.readdirSync(`${root}/.locks`)).toEqual([]);
    });
    it('an empty lock file (an earlier runc-ts killed between its O_EXCL open and its write): held while fresh, broken and deleted once old; no temp file left either way', () => {
      fs.mkdirSync(`${root}/.locks`, { recursive: true });
      fs.writeFileSync(`${root}/.locks/c1`, '');
      expect(() => store.lock('c1', () => false, me)).toThrow('container c1 is locked (its lock file is being written)');
      expect(fs.readdirSync(`${root}/.locks`)).toEqual(['c1']);
      const old = new Date(Date.now() - EMPTY_LOCK_STALE_MS - 5000);
      fs.utimesSync(`${root}/.locks/c1`, old, old);
      const unlock = store.lock('c1', () => false, me);
      expect(fs.readFileSync(`${root}/.locks/c1`, 'utf8')).toMatch(/^100 1 [0-9a-f]{16}\n$/);
      expect(fs.readdirSync(`${root}/.locks`)).toEqual(['c1']);
      unlock();
      expect(fs.readdirSync(`${root}/.locks`)).toEqual([]);
    });
    it('a lock is linked into place whole: a reader never sees it empty or half-written', () => {
      const seen: string[] = [];
      const spy = {
        ...fs,
        linkSync: ((a: fs.PathLike, b: fs.PathLike) => {
          seen.push(fs.readFileSync(a, 'utf8'));
          return fs.linkSync(a, b);
        }) as typeof fs.linkSync,
      };
      const unlock = new StateStore(root, spy as typeof fs).lock('c1', () => true, me);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatch(/^100 1 [0-9a-f]{16}\n$/);
      expect(fs.readdirSync(`${root}/.locks`)).toEqual(['c1']);
      unlock();
    });
    it('a lock file that is not ours is an error, not silently broken', () => {
      fs.mkdirSync(`${root}/.locks`, { recursive: true });
      fs.writeFileSync(`${root}/.locks/c1`, 'garbage');
      expect(() => store.lock('c1', () => false, me)).toThrow(/is not ours/);
    });
    it('a live lock caught while breaking a stale one is put back', () => {
      fs.mkdirSync(`${root}/.locks`, { recursive: true });
      const stale = '300 5 aaaaaaaaaaaaaaaa\n';
      const live = '400 9 bbbbbbbbbbbbbbbb\n';
      fs.writeFileSync(`${root}/.locks/c1`, stale);
      // an fs that swaps in a live lock right after our read (another breaker won and a new holder came)
      let reads = 0;
      const racy = {
        ...fs,
        readSync: ((...a: Parameters<typeof fs.readSync>) => {
          const r = fs.readSync(...a);
          if (++reads === 2) fs.writeFileSync(`${root}/.locks/c1`, live);
          return r;
        }) as typeof fs.readSync,
      };
      const s2 = new StateStore(root, racy as typeof fs);
      expect(() => s2.lock('c1', (pid) => pid === 400, me)).toThrow('container c1 is locked by pid 400');
      expect(fs.readFileSync(`${root}/.locks/c1`, 'utf8')).toBe(live);
    });
  });
});
