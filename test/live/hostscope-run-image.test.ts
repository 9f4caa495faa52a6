import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, IS_ROOT } from '../helpers/live.js';
import { LayoutBuilder, type BuildEntry } from '../../src/image/layout-builder.js';
import { HostscopeParents } from '../helpers/run-parents.js';

/**
 * `hostscope run oci:DIR[:TAG]` on layouts this test builds: a busybox layer with passwd (user
 * `app` = 1000:1000) and a config with Env, Entrypoint, Cmd, WorkingDir and User; then docker's
 * precedence live; then a malicious layer and an unknown tag leave nothing behind.
 */
const ready = IS_ROOT && fs.existsSync('/bin/busybox') && fs.existsSync(path.join(BIN('hostscope'), '../../../build/Release/hostscope-monitor'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-run-img-${process.pid}-`));
const store = `${tmp}/store`;
const env = { ...process.env, HOSTSCOPE_RUN_ROOT: store, FORCE_COLOR: '0' };
const parents = new HostscopeParents();

function hs(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN('hostscope'), ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
  return { code: r.status ?? 128, out: r.stdout, err: r.stderr };
}
const ids = () => (fs.existsSync(`${store}/containers`) ? fs.readdirSync(`${store}/containers`) : []);

afterAll(() => {
  for (const id of ids()) hs('rm', '-f', id);
  fs.rmSync(tmp, { recursive: true, force: true });
  parents.removeMade();
}, 120_000);

function busyboxLayer(): BuildEntry[] {
  const e: BuildEntry[] = [
    { name: 'bin', type: 'dir', mode: 0o755 },
    { name: 'bin/busybox', type: 'file', mode: 0o755, data: ready ? fs.readFileSync('/bin/busybox') : '' },
    { name: 'etc', type: 'dir', mode: 0o755 },
    { name: 'etc/passwd', type: 'file', mode: 0o644, data: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/work:/bin/sh\n' },
    { name: 'etc/group', type: 'file', mode: 0o644, data: 'root:x:0:\napp:x:1000:\n' },
    { name: 'work', type: 'dir', mode: 0o755, uid: 1000, gid: 1000 },
    { name: 'tmp', type: 'dir', mode: 0o1777 },
  ];
  for (const a of ['sh', 'echo', 'id', 'pwd', 'cat', 'env', 'true']) e.push({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' });
  for (const d of ['proc', 'sys', 'dev']) e.push({ name: d, type: 'dir', mode: 0o755 });
  return e;
}

describe.skipIf(!ready && !process.env.CI)('hostscope run oci:DIR[:TAG]', { timeout: 240_000 }, () => {
  const layout = `${tmp}/layout`;
  const b = new LayoutBuilder(layout);
  b.add({
    tag: 'v1',
    layers: [{ entries: busyboxLayer() }, { entries: [{ name: 'work/hello.txt', type: 'file', mode: 0o644, data: 'from layer two\n' }], compression: 'none' }],
    config: { Env: ['PATH=/bin', 'GREETING=hi'], Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo "$GREETING from $(pwd) as $(id -u):$(id -g)"; cat hello.txt'], WorkingDir: '/work', User: 'app' },
  });
  b.add({ tag: 'evil', layers: [{ entries: [...busyboxLayer(), { name: '../escaped', type: 'file', data: 'x' }] }], config: { Cmd: ['/bin/true'] } });

  it('the image’s Entrypoint + Cmd, Env, WorkingDir and User (a name, from its /etc/passwd) are the defaults; both layers are there', () => {
    const r = hs('run', '--rm', `oci:${layout}:v1`);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toBe('hi from /work as 1000:1000\nfrom layer two\n');
    expect(ids()).toEqual([]);
  });

  it('args replace Cmd; -e, -w and -u override Env, WorkingDir and User', () => {
    const r = hs('run', '--rm', '-e', 'GREETING=yo', '-w', '/tmp', '-u', '0:0', `oci:${layout}:v1`, 'echo "$GREETING $(pwd) $(id -u)"');
    expect([r.code, r.out, r.err]).toEqual([0, 'yo /tmp 0\n', '']);
  });

  it('--entrypoint replaces the Entrypoint and drops Cmd; with args they follow it', () => {
    const a = hs('run', '--rm', '--entrypoint', '/bin/echo', `oci:${layout}:v1`, 'a', 'b');
    expect([a.code, a.out]).toEqual([0, 'a b\n']);
    const none = hs('run', '--rm', '--entrypoint', '/bin/echo', `oci:${layout}:v1`);
    expect([none.code, none.out]).toEqual([0, '\n']);
  });

  it('a detached image container: ps shows the image ref; the rootfs is the container’s own copy; rm removes it', () => {
    const r = hs('run', '-d', '--name', `img-${process.pid}`, '--entrypoint', '/bin/sh', `oci:${layout}:v1`, '-c', 'exec sleep 60');
    expect(r.code, r.err).toBe(0);
    const id = r.out.trim();
    expect(hs('ps').out).toContain(`oci:${layout}:v1`);
    expect(fs.readFileSync(`${store}/containers/${id}/rootfs/work/hello.txt`, 'utf8')).toBe('from layer two\n');
    expect(hs('exec', id, 'cat', '/etc/passwd').out).toContain('app:x:1000');
    expect(hs('rm', '-f', id).code).toBe(0);
    expect(ids()).toEqual([]);
  });

  it('a layer with ../ in a path: one clear error, no container, no half rootfs, no name', () => {
    const r = hs('run', '--name', `evil-${process.pid}`, `oci:${layout}:evil`);
    expect(r.code).toBe(1);
    expect(r.err.split('\n').length).toBe(2);
    expect(r.err).toMatch(/^hostscope run: .*\.\.\/escaped/);
    expect(ids()).toEqual([]);
    expect(fs.existsSync(`${store}/names/evil-${process.pid}`)).toBe(false);
    expect(fs.existsSync(`${tmp}/escaped`)).toBe(false);
    expect(fs.existsSync(`${store}/escaped`)).toBe(false);
  });

  it('an unknown tag, a missing layout: one line naming it, nothing made', () => {
    const r = hs('run', `oci:${layout}:nope`, 'true');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^hostscope run: .*nope.*\n$/);
    const m = hs('run', `oci:${tmp}/no-such-layout`, 'true');
    expect([m.code, m.err]).toEqual([1, `hostscope run: oci:${tmp}/no-such-layout: no such image layout directory\n`]);
    expect(ids()).toEqual([]);
  });
});
