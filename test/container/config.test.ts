import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRunConfig, parseCpus, parseSize, resolveCaps, DOCKER_DEFAULT_CAPS, RunConfigError, type ConfigContext, type RunFlags } from '../../src/container/config.js';
import { CAPABILITIES } from '../../src/parse/capabilities.js';
import { dockerDefaultProfile } from '../../src/runtime/seccomp/index.js';
import { validateSpec } from '../../src/runtime/spec.js';
import { parseJson } from '../../src/runtime/json.js';

const GOLDEN = join(import.meta.dirname, 'golden');
/** this VM's bounding set: every capability but CAP_SYS_RESOURCE */
const HOST_CAPS = CAPABILITIES.map((c) => c.name.toUpperCase()).filter((c) => c !== 'CAP_SYS_RESOURCE');
const ID = 'a'.repeat(64);
const ctx: ConfigContext = {
  id: ID,
  hostCaps: HOST_CAPS,
  hostEnv: { FROM_HOST: 'h1', HOME: '/root' },
  initPidOf: (n) => (n === 'db' ? 4242 : undefined),
  arch: 'amd64',
  kernelRelease: '6.18.0',
};
const base: RunFlags = { name: 'db', image: 'busybox', args: ['sleep', '300'] };

/** the config with the (30 KiB) seccomp profile summarised; the full profile is checked against dockerDefaultProfile separately */
function summarise(c: Record<string, unknown>): string {
  const l = c.linux as Record<string, unknown>;
  const s = l.seccomp as { defaultAction: string; syscalls?: unknown[] } | undefined;
  if (s) l.seccomp = { defaultAction: s.defaultAction, syscalls: `<${s.syscalls?.length ?? 0} rules>` };
  return `${JSON.stringify(c, null, 2)}\n`;
}

function golden(name: string, text: string): void {
  const file = join(GOLDEN, `${name}.json`);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, text);
  }
  if (!existsSync(file)) throw new Error(`no golden file ${name}: run UPDATE_GOLDEN=1 npx vitest run test/container and review the diff`);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

/** every generated config must pass the runtime's own config.json validator */
function validates(c: unknown): void {
  validateSpec(parseJson(JSON.stringify(c)), { apparmor: false, selinux: false });
}

const SETS: Record<string, Partial<RunFlags>> = {
  plain: {},
  'seed-000': { memory: '64m', pidsLimit: '50', cpus: '0.5', cpuShares: '512', hostname: 'dbhost', labels: ['tier=db', 'empty'] },
  'env-user-workdir': { env: ['A=1', 'FROM_HOST', 'NOT_SET', 'A=2'], envFiles: [{ path: 'f.env', text: '# comment\n\nB=x y\nFROM_HOST\r\nHOME\n' }], user: '1000:1000', workdir: '/tmp//work/' },
  'caps-seccomp': { capAdd: ['sys_admin', 'CAP_NET_ADMIN'], capDrop: ['net_raw', 'CAP_MKNOD'], seccomp: 'unconfined' },
  'cap-drop-all': { capDrop: ['ALL'], capAdd: ['kill'] },
  privileged: { privileged: true },
  'mounts-readonly': { readOnly: true, volumes: ['/srv/data:/data:ro', '/srv/logs:/var/log'], tmpfs: ['/run:size=64m,mode=755', '/scratch:exec'] },
  userns: { userns: '100000:65536' },
  'share-ns': { net: 'container:db', pid: 'host', ipc: 'container:db' },
  'net-none-uts-host': { net: 'none', uts: 'host', memory: '1g', memorySwap: '2g', tty: true },
  'net-host': { net: 'host' },
};

describe('buildRunConfig: golden config per option set', () => {
  for (const [name, flags] of Object.entries(SETS))
    it(`${name}`, () => {
      const c = buildRunConfig({ ...base, ...flags }, ctx);
      validates(c);
      golden(name, summarise(c));
    });

  it('the default seccomp profile is docker default for the resolved capabilities', () => {
    const c = buildRunConfig({ ...base, capAdd: ['SYS_ADMIN'] }, ctx) as { linux: { seccomp: unknown }; process: { capabilities: { bounding: string[] } } };
    expect(c.process.capabilities.bounding).toContain('CAP_SYS_ADMIN');
    expect(c.linux.seccomp).toEqual(dockerDefaultProfile(c.process.capabilities.bounding, { arch: 'amd64', kernelRelease: '6.18.0' }));
  });

  it('--seccomp FILE: the profile read by the caller is used as is', () => {
    const prof = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
    const c = buildRunConfig({ ...base, seccomp: 'p.json', seccompFile: { path: 'p.json', text: JSON.stringify(prof) } }, ctx) as { linux: { seccomp: unknown } };
    expect(c.linux.seccomp).toEqual(prof);
    validates(c);
  });

  it('the image config gives defaults: Entrypoint + Cmd, Env, WorkingDir, User; the command line overrides Cmd, env and user', () => {
    const image = { Entrypoint: ['/ep'], Cmd: ['serve'], Env: ['PATH=/x', 'A=img'], WorkingDir: '/app', User: '7:8' };
    const c1 = buildRunConfig({ ...base, args: [] }, { ...ctx, image }) as { process: { args: string[]; env: string[]; cwd: string; user: unknown } };
    expect(c1.process.args).toEqual(['/ep', 'serve']);
    expect(c1.process.env).toEqual(['PATH=/x', `HOSTNAME=${ID.slice(0, 12)}`, 'A=img']);
    expect(c1.process.cwd).toBe('/app');
    expect(c1.process.user).toEqual({ uid: 7, gid: 8 });
    const c2 = buildRunConfig({ ...base, args: ['x'], env: ['A=cli'], user: '0' }, { ...ctx, image }) as { process: { args: string[]; env: string[]; user: unknown } };
    expect(c2.process.args).toEqual(['/ep', 'x']);
    expect(c2.process.env).toContain('A=cli');
    expect(c2.process.user).toEqual({ uid: 0, gid: 0 });
  });
});

describe('values as docker parses them', () => {
  it('sizes: b, k, m, g (binary), any case, decimals', () => {
    expect(parseSize('64m', '--memory')).toBe(67108864);
    expect(parseSize('64M', '--memory')).toBe(67108864);
    expect(parseSize('1g', '--memory')).toBe(1073741824);
    expect(parseSize('512k', '--memory')).toBe(524288);
    expect(parseSize('100', '--memory')).toBe(100);
    expect(parseSize('100b', '--memory')).toBe(100);
    expect(parseSize('1.5g', '--memory')).toBe(1610612736);
    expect(parseSize('2mb', '--memory')).toBe(2097152);
  });
  it('cpus → quota over a 100000 µs period', () => {
    expect(parseCpus('0.5')).toEqual({ quota: 50000, period: 100000 });
    expect(parseCpus('2')).toEqual({ quota: 200000, period: 100000 });
    expect(parseCpus('1.25')).toEqual({ quota: 125000, period: 100000 });
  });
  it('capabilities: with and without CAP_, any case, ALL both ways', () => {
    expect(resolveCaps([], [], false, HOST_CAPS)).toEqual([...DOCKER_DEFAULT_CAPS].sort((a, b) => HOST_CAPS.indexOf(a) - HOST_CAPS.indexOf(b)));
    expect(resolveCaps(['ALL'], [], false, HOST_CAPS)).toEqual(HOST_CAPS);
    expect(resolveCaps(['all'], ['net_raw'], false, HOST_CAPS)).not.toContain('CAP_NET_RAW');
    expect(resolveCaps(['chown'], ['ALL'], false, HOST_CAPS)).toEqual(['CAP_CHOWN']);
    expect(resolveCaps([], ['all'], false, HOST_CAPS)).toEqual([]);
    expect(resolveCaps(['Cap_Sys_Admin'], ['CAP_KILL'], false, HOST_CAPS)).toContain('CAP_SYS_ADMIN');
  });
});

describe('bad values: one line naming the option and the value', () => {
  const bad: [string, Partial<RunFlags>, RegExp][] = [
    ['size garbage', { memory: '64x' }, /^invalid size for --memory: '64x'/],
    ['size empty', { memory: '' }, /^invalid size for --memory: ''/],
    ['size negative', { memory: '-1m' }, /^invalid size for --memory: '-1m'/],
    ['size with a space', { memory: '64 m' }, /^invalid size for --memory/],
    ['size too large (would lose precision)', { memory: '99999999999p' }, /too large/],
    ['memory below docker minimum', { memory: '1m' }, /minimum is 6m/],
    ['swap without memory', { memorySwap: '1g' }, /^--memory-swap needs --memory$/],
    ['swap below memory', { memory: '1g', memorySwap: '512m' }, /smaller than --memory/],
    ['pids garbage', { pidsLimit: '5o' }, /^invalid value for --pids-limit: '5o'/],
    ['pids zero', { pidsLimit: '0' }, /--pids-limit: '0'/],
    ['cpus garbage', { cpus: 'half' }, /^invalid value for --cpus: 'half'/],
    ['cpus zero', { cpus: '0' }, /more than 0/],
    ['cpus tiny', { cpus: '0.001' }, /at least 0.01/],
    ['cpu-shares out of range', { cpuShares: '1' }, /--cpu-shares: '1' \(from 2 to 262144\)/],
    ['unknown cap', { capAdd: ['CAP_FLY'] }, /^unknown capability for --cap-add: 'CAP_FLY'$/],
    ['cap missing from the host bounding set', { capAdd: ['sys_resource'] }, /CAP_SYS_RESOURCE: not in this host's bounding set/],
    ['user by name (no passwd lookup)', { user: 'nobody' }, /^invalid value for --user: 'nobody'/],
    ['uid past 32 bits', { user: '4294967295' }, /--user: '4294967295' \(from 0 to 4294967294\)/],
    ['relative workdir', { workdir: 'tmp' }, /--workdir: 'tmp' \(an absolute path\)/],
    ['volume relative host path (named volume)', { volumes: ['data:/data'] }, /named volumes are not supported/],
    ['volume over /', { volumes: ['/x:/'] }, /cannot mount over \//],
    ['volume bad mode', { volumes: ['/x:/y:rx'] }, /^invalid mode for --volume: 'rx'/],
    ['volume escaping with ..', { volumes: ['/x:/a/../../etc'] }, /'\.\.' is not allowed/],
    ['duplicate mount point', { volumes: ['/x:/data'], tmpfs: ['/data'] }, /duplicate mount point: \/data/],
    ['tmpfs unknown option', { tmpfs: ['/t:size=1m,evil'] }, /invalid option for --tmpfs: 'evil'/],
    ['userns garbage', { userns: '100000' }, /--userns: '100000'/],
    ['userns wraps', { userns: '4294967290:100' }, /passes 4294967294/],
    ['net unknown', { net: 'wifi' }, /^invalid value for --net: 'wifi' \(none, host, bridge, container:NAME\)$/],
    ['--subnet without --net bridge', { subnet: '10.1.0.0/16' }, /^--subnet needs --net bridge$/],
    ['container that does not exist', { net: 'container:nope' }, /--net container:nope: no such running container/],
    ['pid none is not a mode', { pid: 'none' }, /--pid: 'none'/],
    ['hostname with uts host', { uts: 'host', hostname: 'x' }, /--hostname cannot be used with --uts host/],
    ['bad hostname', { hostname: 'a b' }, /--hostname: 'a b'/],
    ['bad name', { name: '-x' }, /invalid container name '-x'/],
    ['control bytes in a value are escaped', { memory: '6\x1b[2Jm' }, /'6\\x1b\[2Jm'/],
    ['NUL in env', { env: ['A=\0x'] }, /--env: contains a NUL byte/],
    ['env with empty name', { env: ['=x'] }, /--env: invalid variable name/],
    ['env-file bad line', { envFiles: [{ path: 'e', text: 'OK=1\nBAD NAME=2\n' }] }, /--env-file e:2: invalid variable name/],
    ['label with empty key', { labels: ['=v'] }, /--label: '=v'/],
    ['seccomp file not JSON', { seccomp: 'p', seccompFile: { path: 'p', text: '{' } }, /--seccomp p: not JSON/],
    ['seccomp file not a profile', { seccomp: 'p', seccompFile: { path: 'p', text: '[]' } }, /not a seccomp profile/],
    ['privileged with userns', { privileged: true, userns: 'auto' }, /--privileged cannot be used with --userns/],
    ['no command', { args: [] }, /no command given/],
  ];
  for (const [what, flags, re] of bad)
    it(what, () => {
      let err: unknown;
      try {
        buildRunConfig({ ...base, ...flags }, ctx);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RunConfigError);
      const m = (err as Error).message;
      expect(m).toMatch(re);
      expect(m).not.toContain('\n');
      expect(m).not.toMatch(/[\x00-\x1f]/);
    });
});
