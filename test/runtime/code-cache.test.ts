import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT_DIR } from '../helpers/live.js';

// Each run in a new Node process, as the bin runs: V8 keeps compiled scripts per isolate, so a
// second compile of one source in this process would come from that, not from the cache file.
// (The built module: `npm run build` makes dist/src/runtime/code-cache.js.)
const MODULE = path.join(ROOT_DIR, 'dist/src/runtime/code-cache.js');
interface Result {
  cache: string;
  saved?: boolean;
  runs: [string, string, number][];
  v8Rejected?: boolean;
}
function runCached(bundle: string, opts: { dir: string; name: string; euid?: number }, extra: { save?: boolean; v8Only?: string } = {}): Result {
  const code = `
    import { runCached } from ${JSON.stringify(MODULE)};
    import * as fs from 'node:fs';
    import * as vm from 'node:vm';
    const [bundle, opts, extra] = JSON.parse(process.argv[1]);
    if (extra.v8Only) {
      // V8 alone: the bundle's text with the cache file's data, no header check
      const raw = fs.readFileSync(extra.v8Only);
      const data = raw.subarray(raw.indexOf(10) + 1);
      const src = '(function (exports, require, module, __filename, __dirname) {' + fs.readFileSync(bundle, 'latin1') + '\\n})';
      console.log(JSON.stringify({ cache: '', runs: [], v8Rejected: new vm.Script(src, { filename: bundle, cachedData: data }).cachedDataRejected }));
    } else {
      const r = runCached(bundle, opts);
      const saved = extra.save ? r.save() : undefined;
      console.log(JSON.stringify({ cache: r.cache, saved, runs: globalThis.__hsCcRuns ?? [] }));
    }`;
  const p = spawnSync(process.execPath, ['--input-type=module', '-e', code, JSON.stringify([bundle, opts, extra])], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`child failed: ${p.stderr}`);
  return JSON.parse(p.stdout) as Result;
}

// A "bundle": CommonJS, counts its runs in a global and proves its require() and __filename work.
const bundleText = (tag: string) => `"use strict";const p=require("node:path");globalThis.__hsCcRuns=(globalThis.__hsCcRuns??[]);globalThis.__hsCcRuns.push(["${tag}",p.basename(__filename),function f(x){return x*2}(21)]);module.exports.tag="${tag}";\n`;

let tmp: string;
let bundle: string;
let dir: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-cc-${process.pid}-`));
  bundle = path.join(tmp, 'main.cjs');
  dir = path.join(tmp, 'cache');
  fs.writeFileSync(bundle, bundleText('A'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('runCached: a CommonJS bundle through a V8 code cache, each run a new process', () => {
  it('first run: no cache, the bundle runs (its require and __filename work), save() writes one (dir 0700, file 0600); the next run uses it', () => {
    const r1 = runCached(bundle, { dir, name: 'run' }, { save: true });
    expect(r1).toEqual({ cache: 'missing', saved: true, runs: [['A', 'main.cjs', 42]] });
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, 'run.v8')).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['run.v8']); // no temp file left
    const r2 = runCached(bundle, { dir, name: 'run' });
    expect(r2.cache).toBe('used');
    expect(r2.runs).toEqual([['A', 'main.cjs', 42]]);
  });

  it('a rebuilt bundle of the same length: V8 alone would take the old cache; the header makes it stale and the new code runs', () => {
    runCached(bundle, { dir, name: 'run' }, { save: true });
    fs.writeFileSync(bundle, bundleText('B')); // same length, same inode
    fs.utimesSync(bundle, new Date(Date.now() + 5000), new Date(Date.now() + 5000));
    // the case the header is for: V8 checks the source's length, not its text
    expect(runCached(bundle, { dir, name: 'run' }, { v8Only: path.join(dir, 'run.v8') }).v8Rejected).toBe(false);
    const r2 = runCached(bundle, { dir, name: 'run' }, { save: true });
    expect(r2.cache).toBe('stale');
    expect(r2.runs[0]![0]).toBe('B');
    // rewritten: the next run uses the new one
    const r3 = runCached(bundle, { dir, name: 'run' });
    expect(r3.cache).toBe('used');
    expect(r3.runs[0]![0]).toBe('B');
  });

  it('a corrupt cache (right header, bad bytes) is rejected by V8: the bundle compiles from source and runs', () => {
    runCached(bundle, { dir, name: 'run' }, { save: true });
    const f = path.join(dir, 'run.v8');
    const raw = fs.readFileSync(f);
    raw.fill(0x5a, raw.indexOf(10) + 1);
    fs.writeFileSync(f, raw);
    const r = runCached(bundle, { dir, name: 'run' });
    expect(r.cache).toBe('rejected');
    expect(r.runs).toEqual([['A', 'main.cjs', 42]]);
  });

  it('a cache others can write, or owned by another user, is not trusted; a group-writable dir is neither read nor written', () => {
    runCached(bundle, { dir, name: 'run' }, { save: true });
    const f = path.join(dir, 'run.v8');
    fs.chmodSync(f, 0o666);
    expect(runCached(bundle, { dir, name: 'run' }).cache).toBe('untrusted');
    fs.chmodSync(f, 0o600);
    // another euid running against a root-owned cache: trusted (root owns the bundle too)
    const owner = fs.statSync(f).uid;
    if (owner === 0) expect(runCached(bundle, { dir, name: 'run', euid: 4242 }).cache).toBe('used');
    if (process.geteuid!() === 0) {
      fs.chownSync(f, 4243, 4243);
      expect(runCached(bundle, { dir, name: 'run' }).cache).toBe('untrusted');
      fs.chownSync(f, 0, 0);
    }
    fs.chmodSync(dir, 0o770);
    const r = runCached(bundle, { dir, name: 'run' }, { save: true });
    expect(r.cache).toBe('missing');
    expect(r.saved).toBe(false);
    expect(r.runs).toEqual([['A', 'main.cjs', 42]]);
  });

  it('symlinks: a cache file that is a symlink is not followed; a cache dir that is a symlink is not used', () => {
    runCached(bundle, { dir, name: 'run' }, { save: true });
    fs.renameSync(path.join(dir, 'run.v8'), path.join(tmp, 'elsewhere.v8'));
    fs.symlinkSync(path.join(tmp, 'elsewhere.v8'), path.join(dir, 'run.v8'));
    expect(runCached(bundle, { dir, name: 'run' }).cache).toBe('unreadable');
    const linked = path.join(tmp, 'linked-cache');
    fs.symlinkSync(dir, linked);
    const r = runCached(bundle, { dir: linked, name: 'run' }, { save: true });
    expect(r.cache).toBe('missing');
    expect(r.saved).toBe(false);
  });

  it('a name outside [a-z0-9-] never becomes a path: no cache is read or written', () => {
    const r = runCached(bundle, { dir, name: '../x' }, { save: true });
    expect(r).toEqual({ cache: 'off', saved: false, runs: [['A', 'main.cjs', 42]] });
    expect(fs.existsSync(dir)).toBe(false);
  });
});
