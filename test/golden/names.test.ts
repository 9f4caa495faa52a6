import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOSTS_DIR, captureDeps, fixtureSource, rootArgs } from '../helpers/fixtures.js';
import { golden } from '../helpers/golden.js';
import { cinfMain } from '../../cli/cinf.js';
import { inspectHost } from '../../src/inspect/host.js';
import { DirectoryProcSource } from '../../src/source/source.js';
import { bundleArg, readNerdctlNames } from '../../src/inspect/names.js';
import { applyNames, fromDockerConfig, fromMonitorArgs, fromOciConfig, podMatches } from '../../src/model/container-names.js';

/**
 * Issue 10: containers named without a daemon, from what each runtime leaves on disk, on the
 * hand-made fixtures v2-runtimes-names (scripts/make-names-fixture.mjs: containerd CRI, CRI-O,
 * podman, nerdctl, systemd-nspawn, LXC, runc-ts, docker compose, hostile configs) and the seed.
 */

async function cinf(argv: string[]) {
  const deps = captureDeps();
  const code = await cinfMain(argv, deps);
  return { code, out: deps.out(), err: deps.err() };
}

const HOST = 'v2-runtimes-names';
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

describe('cinf -o +CONTAINER,POD,IMAGE names every runtime from its files', () => {
  it.each([
    ['list-pid-names', ['-t', 'pid', '-o', 'NS,PID,CMD,CONTAINER,POD,IMAGE']],
    ['list-names', ['-o', '+CONTAINER,POD,IMAGE']],
    ['pod-shop', ['--pod', 'shop/web-7d9f4', '-o', 'NS,TYPE,PID,CONTAINER,POD,IMAGE']],
    ['pod-compose', ['--pod', 'compose:shop', '-o', 'NS,TYPE,PID,CONTAINER,POD,IMAGE']],
    ['list-names-json', ['-t', 'pid', '--json', '-o', 'NS,PID,CONTAINER,POD,IMAGE']],
  ])('%s', async (name, argv) => {
    const r = await cinf([...rootArgs(HOST), ...argv]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(CONTROL);
    golden(`${HOST}/cinf-${name}.txt`, r.out);
  });

  it('each runtime gives the name its files say (what the golden shows, asserted by name)', async () => {
    const r = await cinf([...rootArgs(HOST), '-t', 'pid', '-r', '-n', '-o', 'PID,CONTAINER,POD,IMAGE']);
    const row = (pid: number) => r.out.split('\n').find((l) => l.startsWith(`${pid} `));
    expect(row(3020)).toBe('3020 nginx shop/web-7d9f4 docker.io/library/nginx:1.27'); // containerd CRI: by id, not the shim's cwd (the sandbox's bundle)
    expect(row(3010)).toBe('3010 web-7d9f4\\x20(sandbox) shop/web-7d9f4 -'); // the pause container
    expect(row(3110)).toBe('3110 redis data/cache-0 docker.io/library/redis:7.2'); // CRI-O annotations beat conmon's k8s_… -n
    expect(row(3210)).toBe('3210 webapp - -'); // podman: conmon -n
    expect(row(3310)).toBe('3310 proxy - -'); // nerdctl name store
    expect(row(3410)).toBe('3410 deb-test - -'); // nspawn machine-deb\x2dtest.scope
    expect(row(3510)).toBe('3510 web1 - -'); // lxc.payload.web1
    expect(row(3610)).toBe('3610 builder - alpine:3.20'); // runc-ts state.json annotations
    expect(row(3710)).toBe('3710 shop-db-1 compose:shop postgres:16'); // docker compose labels
  });

  it('shims, conmon, the lxc monitor and a foreground runc-ts run in the host namespaces: no container (they were one bogus "containerd-shim" container when the fixture gave them made-up namespaces)', async () => {
    const r = await cinf([...rootArgs(HOST), '--find', '.', '-o', 'PID,CONTAINER']);
    expect(r.code).toBe(0);
    const container = (pid: number) => r.out.split('\n').find((l) => l.trimStart().startsWith(`${pid} `))?.trim().split(/ +/)[1];
    for (const pid of [3000, 3100, 3200, 3300, 3500, 3600, 3700]) expect(container(pid), `pid ${pid}`).toBe('-');
    expect(r.out).not.toMatch(/containerd-shim +containerd-shim/);
  });

  it('hostile configs: escapes in a name, invalid JSON, a symlink out of the dump — ignored, a note under --debug only', async () => {
    const quiet = await cinf([...rootArgs(HOST), '-t', 'pid', '-r', '-n', '-o', 'PID,CONTAINER,IMAGE']);
    expect(quiet.err).toBe('');
    const row = (pid: number) => quiet.out.split('\n').find((l) => l.startsWith(`${pid} `));
    expect(row(3810)).toMatch(/^3810 [0-9a-f]{12} -$/); // name and image with control characters: dropped
    expect(row(3910)).toMatch(/^3910 [0-9a-f]{12} -$/); // invalid JSON: short id
    expect(row(4010)).toMatch(/^4010 [0-9a-f]{12} -$/); // symlink to /etc/hostname: not followed out of the dump
    const loud = await cinf([...rootArgs(HOST), '--debug', '-t', 'pid']);
    expect(loud.code).toBe(0);
    expect(loud.err).toMatch(/^cinf: debug: .*config\.v2\.json: invalid JSON/m);
    expect(loud.err).toMatch(/^cinf: debug: cannot read .*config\.v2\.json: it leads outside/m);
    expect(loud.err).toMatch(/^cinf: debug: .*config\.v2\.json: name ".*" holds control characters: ignored/m);
    expect(loud.err).not.toMatch(CONTROL);
  });

  it('--pod with no such pod: one line, exit 1', async () => {
    expect(await cinf([...rootArgs(HOST), '--pod', 'nope'])).toMatchObject({ code: 1, out: '', err: 'cinf: no container of pod nope\n' });
  });
});

describe('the seed: the db container shows as db (docker config.v2.json)', () => {
  it('cinf -o +CONTAINER,POD,IMAGE', async () => {
    const r = await cinf([...rootArgs('v1-docker-seed'), '-o', '+CONTAINER,POD,IMAGE']);
    expect(r.code).toBe(0);
    golden('v1-docker-seed/cinf-list-names.txt', r.out);
    expect(r.out).toMatch(/20892 redis-server \*:6379\s+db\s+-\s+redis\n/);
  });
});

describe('hostile files on disk (a temp copy of the fixture)', () => {
  const dir = mkdtempSync(join(tmpdir(), `hostscope-names-${process.pid}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(HOSTS_DIR, HOST), dir, { recursive: true, verbatimSymlinks: true });
  const src = () => new DirectoryProcSource({ procRoot: join(dir, 'proc'), sysRoot: join(dir, 'sys') });
  const compose = () => {
    const model = inspectHost(src(), { containers: true });
    return { model, c: model.containers.find((x) => x.initPid === 3710)! };
  };

  it('a config.v2.json past its 4 MiB cap is not read: a note, the short id', () => {
    const file = join(dir, 'root/var/lib/docker/containers', compose().c.id!, 'config.v2.json');
    const keep = readFileSync(file);
    truncateSync(file, 5 * 1024 * 1024);
    try {
      const { model, c } = compose();
      expect(c.name).toBe(c.id!.slice(0, 12));
      expect(model.notes.join('\n')).toMatch(/larger than its 4 MiB cap/);
    } finally {
      writeFileSync(file, keep);
    }
  });

  it('a FIFO where config.v2.json should be: refused without blocking', () => {
    const file = join(dir, 'root/var/lib/docker/containers', compose().c.id!, 'config.v2.json');
    const keep = readFileSync(file);
    unlinkSync(file);
    execFileSync('mkfifo', [file]);
    try {
      const { model, c } = compose();
      expect(c.name).toBe(c.id!.slice(0, 12));
      expect(model.notes.join('\n')).toMatch(/not a regular file \(a FIFO\)/);
    } finally {
      unlinkSync(file);
      writeFileSync(file, keep);
    }
  });

  it('a relative or climbing host path is refused by the source', () => {
    expect(() => src().readHostFile('var/lib/docker', 100)).toThrow(/relative host path/);
    expect(() => src().readHostFile('/../../etc/passwd', 100)).toThrow(/leaves/);
  });
});

describe('name sources, unit by unit', () => {
  it('docker: Name without its slash, Config.Image, compose labels; dockershim k8s labels name the pod', () => {
    const notes: string[] = [];
    expect(fromDockerConfig({ path: 'x', text: JSON.stringify({ Name: '/web', Config: { Image: 'nginx', Labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 's' } } }) }, notes)).toMatchObject({ name: 'web', image: 'nginx', project: 'p', service: 's' });
    expect(fromDockerConfig({ path: 'x', text: JSON.stringify({ Name: '/k8s_app_pod-1_ns_uid_0', Config: { Labels: { 'io.kubernetes.container.name': 'app', 'io.kubernetes.pod.name': 'pod-1', 'io.kubernetes.pod.namespace': 'ns' } } }) }, notes)).toMatchObject({ name: 'app', pod: 'pod-1', podNamespace: 'ns' });
    expect(notes).toEqual([]);
  });
  it('non-object JSON, wrong types and over-long names are ignored', () => {
    const notes: string[] = [];
    expect(fromDockerConfig({ path: 'a', text: '[1,2]' }, notes)).toEqual({});
    expect(fromDockerConfig({ path: 'b', text: JSON.stringify({ Name: 42, Config: { Image: 'x'.repeat(2000), Labels: 'no' } }) }, notes)).toEqual({});
    expect(fromOciConfig({ path: 'c', text: JSON.stringify({ annotations: { 'io.kubernetes.cri.container-name': ['x'] } }) }, notes)).toEqual({});
    expect(notes).toEqual(['a: not a JSON object: ignored']);
  });
  it('conmon -n / --name= only for conmon; shim bundle args absolute only', () => {
    expect(fromMonitorArgs(['/usr/bin/conmon', '-c', 'id', '-n', 'web'])).toEqual({ name: 'web', nameSource: 'conmon' });
    expect(fromMonitorArgs(['conmon', '--name=api'])).toEqual({ name: 'api', nameSource: 'conmon' });
    expect(fromMonitorArgs(['sh', '-n', 'web'])).toEqual({});
    expect(bundleArg(['containerd-shim', '-namespace', 'moby', '-bundle', '/run/x'])).toBe('/run/x');
    expect(bundleArg(['conmon', '-b', 'relative/dir'])).toBeUndefined();
    expect(bundleArg(['runc', '--bundle=/b'])).toBe('/b');
  });
  it('nerdctl name store: file name is the name, contents the id; junk ids skipped', () => {
    const notes: string[] = [];
    const m = readNerdctlNames(fixtureSource(HOST), notes);
    expect([...m.values()].sort()).toEqual(['old-gone', 'proxy']);
  });
  it('podMatches: NAME, NAMESPACE/NAME, uid, compose:PROJECT', () => {
    const c = { pod: 'web', podNamespace: 'shop', podUid: 'u-1', project: undefined } as never;
    expect(['web', 'shop/web', 'u-1'].map((s) => podMatches(c, s))).toEqual([true, true, true]);
    expect(podMatches(c, 'other/web')).toBe(false);
    expect(podMatches({ pod: undefined, project: 'shop' } as never, 'compose:shop')).toBe(true);
  });
  it('applyNames leaves a container with no files as it was (same object)', () => {
    const model = inspectHost(fixtureSource('v1-docker-seed'), { containers: true });
    expect(applyNames(model.containers, new Map(), [])[0]).toBe(model.containers.find((c) => c.key === model.containers[0]!.key));
  });
});

describe('capture: runtime files go into dumps with env values redacted', () => {
  it('redactEnv: every Env/env array, keys kept, values gone; the rest untouched', async () => {
    const { redactEnv } = await import('../../scripts/lib/runtime-files.js');
    const docker = { Name: '/db', Config: { Env: ['POSTGRES_PASSWORD=hunter2', 'PATH=/bin'], Image: 'postgres' } };
    const oci = { process: { env: ['TOKEN=abc=def'] }, annotations: { env: 'not an array' } };
    expect(redactEnv(docker)).toEqual({ Name: '/db', Config: { Env: ['POSTGRES_PASSWORD=<redacted>', 'PATH=<redacted>'], Image: 'postgres' } });
    expect(redactEnv(oci)).toEqual({ process: { env: ['TOKEN=<redacted>'] }, annotations: { env: 'not an array' } });
    expect(JSON.stringify(redactEnv(docker))).not.toContain('hunter2');
  });
});
