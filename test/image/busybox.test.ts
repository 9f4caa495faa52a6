import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { buildBusyboxRootfs, defaultBusyboxRootfs } from '../../src/image/busybox.js';
import { ImageError } from '../../src/image/errors.js';
import { runBin, IS_ROOT } from '../helpers/live.js';

const HAVE_BUSYBOX = fs.existsSync('/bin/busybox');
let base: string;
beforeAll(() => {
  base = fs.mkdtempSync(join(os.tmpdir(), `hostscope-busybox-${process.pid}-`));
});
afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

describe.skipIf(!HAVE_BUSYBOX)('busybox rootfs (needs busybox-static, installed by .ci/run)', () => {
  it('has every applet of `busybox --list-full` as a link to /bin/busybox, passwd/group, hostname, hosts, and the mount points', () => {
    const dir = join(base, 'r1');
    const r = buildBusyboxRootfs(dir, { hostname: 'box' });
    // every applet under a bin dir; not bin/busybox itself (the binary) nor linuxrc (an initrd's /linuxrc)
    const applets = execFileSync('/bin/busybox', ['--list-full'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter((a) => a !== 'bin/busybox' && a !== 'linuxrc');
    expect(r.applets).toBe(applets.length);
    for (const a of applets) expect(fs.readlinkSync(join(dir, a))).toBe('/bin/busybox');
    expect(fs.readFileSync(join(dir, 'bin/busybox')).equals(fs.readFileSync('/bin/busybox'))).toBe(true);
    expect((fs.statSync(join(dir, 'bin/busybox')).mode & 0o7777).toString(8)).toBe('755');
    expect(fs.readFileSync(join(dir, 'etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:root:\/root:\/bin\/sh\nnobody:x:65534:65534:/);
    expect(fs.readFileSync(join(dir, 'etc/group'), 'utf8')).toBe('root:x:0:\nnobody:x:65534:\n');
    expect(fs.readFileSync(join(dir, 'etc/hostname'), 'utf8')).toBe('box\n');
    expect(fs.readFileSync(join(dir, 'etc/hosts'), 'utf8')).toMatch(/^127\.0\.0\.1\tlocalhost\n/);
    expect(fs.statSync(join(dir, 'etc/resolv.conf')).size).toBe(0);
    expect(fs.statSync(join(dir, 'tmp')).mode & 0o7777).toBe(0o1777);
    for (const d of ['proc', 'sys', 'dev', 'root', 'home']) expect(fs.statSync(join(dir, d)).isDirectory()).toBe(true);
    // built beside and renamed: nothing else left in the parent
    expect(fs.readdirSync(base).filter((n) => n.includes('r1'))).toEqual(['r1']);
  });

  it.skipIf(!IS_ROOT)('runs: chroot into it and use the shell and applets', () => {
    const dir = join(base, 'r-live');
    buildBusyboxRootfs(dir);
    const out = execFileSync('chroot', [dir, '/bin/sh', '-c', 'id -un; cat /etc/hostname; ls /usr/bin/env >/dev/null && echo env-ok'], { encoding: 'utf8' });
    expect(out).toBe('root\nhostscope\nenv-ok\n');
  });

  it('the cache is made once, keyed by the busybox sha256, with no temp dir left', () => {
    const cacheDir = join(base, 'cache');
    const a = defaultBusyboxRootfs({ cacheDir });
    expect(a.applets).toBeGreaterThan(100);
    expect(a.dir).toMatch(new RegExp(`^${cacheDir}/busybox-${a.busyboxSha256.slice(0, 16)}-r1$`));
    const ino = fs.statSync(join(a.dir, 'bin/busybox')).ino;
    const b = defaultBusyboxRootfs({ cacheDir });
    expect(b.dir).toBe(a.dir);
    expect(b.applets).toBeUndefined();
    expect(fs.statSync(join(b.dir, 'bin/busybox')).ino).toBe(ino);
    expect(fs.readdirSync(cacheDir)).toEqual([a.dir.split('/').pop()]);
  });

  it('a non-empty target is refused and left alone', () => {
    const dir = join(base, 'full');
    fs.mkdirSync(dir);
    fs.writeFileSync(join(dir, 'mine'), 'x');
    expect(() => buildBusyboxRootfs(dir)).toThrow(/exists and is not an empty directory/);
    expect(fs.readdirSync(dir)).toEqual(['mine']);
  });
});

describe('busybox missing or unusable: one clear error naming the package', () => {
  it('missing binary', () => {
    expect(() => buildBusyboxRootfs(join(base, 'x'), { busybox: join(base, 'no-busybox') })).toThrow(ImageError);
    expect(() => buildBusyboxRootfs(join(base, 'x'), { busybox: join(base, 'no-busybox') })).toThrow(/no busybox at .*install the busybox-static package \(apt-get install -y busybox-static\)/);
    expect(fs.existsSync(join(base, 'x'))).toBe(false);
  });
  it('a dynamically linked binary (the busybox package, not busybox-static)', () => {
    expect(() => defaultBusyboxRootfs({ busybox: '/bin/ls', cacheDir: join(base, 'cache2') })).toThrow(/\/bin\/ls is dynamically linked .*busybox-static/);
  });
  it('not an ELF file', () => {
    const f = join(base, 'script');
    fs.writeFileSync(f, '#!/bin/sh\n', { mode: 0o755 });
    expect(() => buildBusyboxRootfs(join(base, 'y'), { busybox: f })).toThrow(/is not an ELF executable/);
  });
});

describe('hostscope rootfs (real subprocess)', () => {
  it.skipIf(!HAVE_BUSYBOX)('busybox DIR builds; a second run refuses the existing dir with exit 1', () => {
    const dir = join(base, 'cli');
    const r = runBin('hostscope', ['rootfs', 'busybox', dir]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/: busybox rootfs, \d+ applets \(busybox sha256 [0-9a-f]{16}\)\n$/);
    const again = runBin('hostscope', ['rootfs', 'busybox', dir]);
    expect(again.code).toBe(1);
    expect(again.err).toBe(`hostscope rootfs: ${dir}: exists and is not an empty directory\n`);
  });
  it('bad usage and a missing busybox: one line, exit 1', () => {
    expect(runBin('hostscope', ['rootfs'])).toMatchObject({ code: 1, err: "hostscope rootfs: no subcommand given (busybox, unpack or cache)\nTry 'hostscope rootfs --help' for more information.\n" });
    expect(runBin('hostscope', ['rootfs', 'bogus'])).toMatchObject({ code: 1, err: "hostscope rootfs: unknown subcommand 'bogus'\nTry 'hostscope rootfs --help' for more information.\n" });
    const r = runBin('hostscope', ['rootfs', 'busybox', '--busybox', '/nonexistent/busybox', join(base, 'z')]);
    expect(r).toMatchObject({ code: 1, err: 'hostscope rootfs: no busybox at /nonexistent/busybox: install the busybox-static package (apt-get install -y busybox-static)\n' });
    expect(runBin('hostscope', ['rootfs', '--help']).out).toMatch(/hostscope rootfs busybox/);
    expect(spawnSync('true').status).toBe(0);
  });
  it('unpack LAYOUT:TAG DIR, and a malicious layer gives one line and exit 1', async () => {
    const { LayoutBuilder } = await import('../../src/image/layout-builder.js');
    const b = new LayoutBuilder(join(base, 'cli-layout'));
    b.add({ tag: 'good', layers: [{ entries: [{ name: 'etc/', type: 'dir' }, { name: 'etc/os-release', data: 'ID=test\n' }] }] });
    b.add({ tag: 'evil', layers: [{ entries: [{ name: '../escape', data: 'x' }] }] });
    const ok = runBin('hostscope', ['rootfs', 'unpack', `${b.dir}:good`, join(base, 'cli-root')]);
    expect(ok.err).toBe('');
    expect(ok.out).toMatch(/: sha256:[0-9a-f]{64}, 1 layers: 1 files, 1 dirs, 0 symlinks/);
    expect(fs.readFileSync(join(base, 'cli-root/etc/os-release'), 'utf8')).toBe('ID=test\n');
    const bad = runBin('hostscope', ['rootfs', 'unpack', `${b.dir}:evil`, join(base, 'cli-evil')]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^hostscope rootfs: .*layer 1\/1 \(sha256:[0-9a-f]{12}\): entry \.\.\/escape climbs out with '\.\.'\n$/);
    expect(fs.existsSync(join(base, 'cli-evil'))).toBe(false);
    expect(fs.existsSync(join(base, 'escape'))).toBe(false);
  });
});
