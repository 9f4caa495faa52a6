import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildRunConfig, type RunFlags } from '../../src/container/config.js';
import { imageDefaults, resolveUserName, ContainerError } from '../../src/container/engine.js';
import type { ImageConfig } from '../../src/image/index.js';

/** docker's precedence between an image's config and the command line (moby's container/create + runconfig merge) */
const ID = 'a'.repeat(64);
const img: ImageConfig = { env: ['PATH=/opt/bin:/bin', 'GREETING=hi'], cmd: ['serve', '--port', '80'], entrypoint: ['/bin/app'], workingDir: '/srv', user: '1000:1000', labels: {} };

function proc(flags: Partial<RunFlags>, c: ImageConfig | undefined, entrypoint?: string) {
  const d = imageDefaults(c, entrypoint);
  const cfg = buildRunConfig({ name: 'x', image: 'oci:l', args: [], ...flags }, { id: ID, hostCaps: [], hostEnv: {}, initPidOf: () => undefined, image: d.image, arch: 'amd64', kernelRelease: '6.18.0' });
  return cfg.process as { args: string[]; env: string[]; cwd: string; user: { uid: number; gid: number } };
}

describe('image config as run’s defaults, docker’s precedence', () => {
  it('no args: Entrypoint + Cmd; Env (the image’s PATH wins over the default), WorkingDir, User', () => {
    const p = proc({}, img);
    expect(p.args).toEqual(['/bin/app', 'serve', '--port', '80']);
    expect(p.env).toEqual(['PATH=/opt/bin:/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'GREETING=hi']);
    expect(p.cwd).toBe('/srv');
    expect(p.user).toEqual({ uid: 1000, gid: 1000 });
  });
  it('args replace Cmd, not the Entrypoint', () => expect(proc({ args: ['version'] }, img).args).toEqual(['/bin/app', 'version']));
  it('--entrypoint replaces the Entrypoint and drops Cmd (docker: "clears any default command")', () => {
    expect(proc({}, img, '/bin/sh').args).toEqual(['/bin/sh']);
    expect(proc({ args: ['-c', 'true'] }, img, '/bin/sh').args).toEqual(['/bin/sh', '-c', 'true']);
  });
  it("--entrypoint '' clears it: the args alone, or an error when there are none", () => {
    expect(proc({ args: ['/bin/true'] }, img, '').args).toEqual(['/bin/true']);
    expect(() => proc({}, img, '')).toThrow('no command given and the image has no default command');
  });
  it('-e overrides the image’s variable in place; -w and -u override WorkingDir and User', () => {
    const p = proc({ env: ['GREETING=yo'], workdir: '/tmp', user: '0' }, img);
    expect(p.env).toEqual(['PATH=/opt/bin:/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'GREETING=yo']);
    expect([p.cwd, p.user]).toEqual(['/tmp', { uid: 0, gid: 0 }]);
  });
  it('an image without Cmd or Entrypoint and no args is refused', () => expect(() => proc({}, { ...img, cmd: undefined, entrypoint: undefined })).toThrow('no command given'));
  it('a relative WorkingDir in the image is refused by name', () => expect(() => proc({}, { ...img, workingDir: 'srv' })).toThrow("invalid value for image WorkingDir: 'srv'"));
  it('a user name is left for the rootfs (not parsed as numbers)', () => {
    const d = imageDefaults({ ...img, user: 'app:staff' }, undefined);
    expect(d.userName).toBe('app:staff');
    expect(d.image.User).toBeUndefined();
  });
});

describe('resolveUserName: the image’s /etc/passwd and /etc/group', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `hs-user-${process.pid}-`));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(`${root}/ok/etc`, { recursive: true });
  fs.writeFileSync(`${root}/ok/etc/passwd`, 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n');
  fs.writeFileSync(`${root}/ok/etc/group`, 'root:x:0:\nstaff:x:50:\n');
  it('name → uid and its primary gid; name:group; numbers pass; uid alone takes its passwd gid', () => {
    expect(resolveUserName(`${root}/ok`, 'app')).toEqual({ uid: 1000, gid: 1001 });
    expect(resolveUserName(`${root}/ok`, 'app:staff')).toEqual({ uid: 1000, gid: 50 });
    expect(resolveUserName(`${root}/ok`, '1000')).toEqual({ uid: 1000, gid: 1001 });
    expect(resolveUserName(`${root}/ok`, 'app:7')).toEqual({ uid: 1000, gid: 7 });
  });
  it('an unknown user or group is one clear error', () => {
    expect(() => resolveUserName(`${root}/ok`, 'nobody')).toThrow(new ContainerError("image User 'nobody': no such user in the image's /etc/passwd"));
    expect(() => resolveUserName(`${root}/ok`, 'app:wheel')).toThrow(/no such group/);
  });
  it('a rootfs whose /etc/passwd is a symlink (to the host’s) is not followed', () => {
    fs.mkdirSync(`${root}/evil/etc`, { recursive: true });
    fs.symlinkSync('/etc/passwd', `${root}/evil/etc/passwd`);
    expect(() => resolveUserName(`${root}/evil`, 'root')).toThrow(/no such user/);
  });
});
