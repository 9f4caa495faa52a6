import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fsPathView, isWithin, secureJoin, SecureJoinError, type NodeKind, type PathView } from '../../src/runtime/securejoin.js';

/** an in-memory tree: path → 'dir' | 'file' | symlink target */
function memView(tree: Record<string, string>): PathView {
  return {
    lstat(p): NodeKind {
      const v = tree[p];
      if (v === undefined) return 'missing';
      if (v === 'dir' || v === 'file') return v;
      return 'symlink';
    },
    readlink(p) {
      const v = tree[p];
      if (v === undefined || v === 'dir' || v === 'file') throw new Error(`not a link: ${p}`);
      return v.slice(2);
    },
  };
}
const L = (t: string) => `->${t}`;

describe('secureJoin (filepath-securejoin semantics)', () => {
  const R = '/bundle/rootfs';
  it('plain paths and missing tails are joined lexically', () => {
    const v = memView({ [`${R}/etc`]: 'dir' });
    expect(secureJoin(R, '/etc/x/y', v)).toBe(`${R}/etc/x/y`);
    expect(secureJoin(R, 'etc', v)).toBe(`${R}/etc`);
    expect(secureJoin(R, '/', v)).toBe(R);
    expect(secureJoin(R, '', v)).toBe(R);
    expect(secureJoin(R, '//etc/./', v)).toBe(`${R}/etc`);
  });
  it('.. never climbs above the root (lexical escape)', () => {
    const v = memView({});
    expect(secureJoin(R, '/../../../etc/shadow', v)).toBe(`${R}/etc/shadow`);
    expect(secureJoin(R, 'a/../../b', v)).toBe(`${R}/b`);
  });
  it('an absolute symlink is re-rooted (CVE-2021-30465 class: /dst -> /etc on the host)', () => {
    const v = memView({ [`${R}/dst`]: L('/etc'), [`${R}/etc`]: 'dir' });
    expect(secureJoin(R, '/dst/passwd', v)).toBe(`${R}/etc/passwd`);
  });
  it('a relative symlink full of .. stays inside', () => {
    const v = memView({ [`${R}/a`]: 'dir', [`${R}/a/l`]: L('../../../../../host') });
    expect(secureJoin(R, '/a/l/x', v)).toBe(`${R}/host/x`);
  });
  it('.. after a symlink applies to the link target, as the kernel does', () => {
    const v = memView({ [`${R}/l`]: L('/x/y'), [`${R}/x`]: 'dir', [`${R}/x/y`]: 'dir' });
    expect(secureJoin(R, '/l/../z', v)).toBe(`${R}/x/z`);
  });
  it('symlink chains resolve; loops are ELOOP, not a hang', () => {
    const chain = memView({ [`${R}/a`]: L('b'), [`${R}/b`]: L('/c'), [`${R}/c`]: 'dir' });
    expect(secureJoin(R, '/a/d', chain)).toBe(`${R}/c/d`);
    const loop = memView({ [`${R}/a`]: L('b'), [`${R}/b`]: L('a') });
    expect(() => secureJoin(R, '/a', loop)).toThrow(SecureJoinError);
    try {
      secureJoin(R, '/a/x', loop);
    } catch (e) {
      expect((e as SecureJoinError).code).toBe('ELOOP');
    }
  });
  it('a final symlink is followed (the mount lands on its target, inside)', () => {
    const v = memView({ [`${R}/proc`]: L('/evil'), [`${R}/evil`]: 'dir' });
    expect(secureJoin(R, '/proc', v)).toBe(`${R}/evil`);
  });
  it('a file in the middle is ENOTDIR', () => {
    const v = memView({ [`${R}/f`]: 'file' });
    expect(() => secureJoin(R, '/f/x', v)).toThrow(/not a directory/);
    expect(secureJoin(R, '/f', v)).toBe(`${R}/f`);
  });
  it('NUL bytes are refused', () => {
    expect(() => secureJoin(R, '/a\0/../x', memView({}))).toThrow(/NUL/);
  });
  it('root "/" works', () => {
    expect(secureJoin('/', '/../x', memView({}))).toBe('/x');
  });
  it('isWithin is lexical and does not confuse /rootfs2 with /rootfs', () => {
    expect(isWithin(R, `${R}/x`)).toBe(true);
    expect(isWithin(R, R)).toBe(true);
    expect(isWithin(R, `${R}2/x`)).toBe(false);
  });
});

describe('secureJoin on a real directory tree', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `hs-securejoin-${process.pid}-`));
    fs.mkdirSync(`${dir}/rootfs/etc`, { recursive: true });
    fs.writeFileSync(`${dir}/rootfs/etc/passwd`, '');
    fs.symlinkSync('/etc', `${dir}/rootfs/hostetc`);
    fs.symlinkSync('../../..', `${dir}/rootfs/up`);
    fs.symlinkSync(dir, `${dir}/rootfs/abs-outside`);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  it('every answer stays inside the rootfs, whatever the links say', () => {
    const root = `${dir}/rootfs`;
    const v = fsPathView(fs);
    for (const p of ['/hostetc/shadow', '/up/up/x', '/abs-outside/rootfs/etc', '../../x', '/etc/passwd']) {
      const r = secureJoin(root, p, v);
      expect(isWithin(root, r), `${p} → ${r}`).toBe(true);
    }
    expect(secureJoin(root, '/hostetc/shadow', v)).toBe(`${root}/etc/shadow`);
    expect(secureJoin(root, '/up/x', v)).toBe(`${root}/x`);
    expect(() => secureJoin(root, '/etc/passwd/x', v)).toThrow(/not a directory/);
  });
});
