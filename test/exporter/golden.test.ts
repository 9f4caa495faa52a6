import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GOLDEN_DIR, HOSTS_DIR, captureDeps, fixtureSource, rootArgs } from '../helpers/fixtures.js';
import { has } from '../helpers/live.js';
import { exporterMain } from '../../cli/exporter.js';
import { readExporterSample } from '../../src/exporter/read.js';
import { parseExposition } from './exposition-checker.js';

/**
 * Golden expositions of the fixture hosts, both formats (`hostscope exporter --once`).
 * UPDATE_GOLDEN=1 rewrites them; the diff is reviewed like code.
 */
function golden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, 'exporter', name);
  const text = actual.split(HOSTS_DIR).join('<HOSTS>');
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  if (!existsSync(file)) throw new Error(`no golden file exporter/${name}: run UPDATE_GOLDEN=1 npx vitest run test/exporter and review the diff`);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

async function once(host: string, extra: string[] = []): Promise<string> {
  const deps = captureDeps();
  const code = await exporterMain(['--once', ...extra, ...rootArgs(host)], deps);
  expect(deps.err()).toBe('');
  expect(code).toBe(0);
  return deps.out();
}

const HOSTS = ['v2-docker-systemd', 'v1-docker-seed'];

describe.each(HOSTS)('exporter golden on %s', (host) => {
  it('text 0.0.4', async () => {
    const body = await once(host);
    parseExposition(body, 'text');
    golden(`${host}.prom`, body);
  });

  it('OpenMetrics 1.0', async () => {
    const body = await once(host, ['--openmetrics']);
    parseExposition(body, 'openmetrics');
    golden(`${host}.om.txt`, body);
  });

  it('--all-cgroups adds every cgroup directory, each once', async () => {
    const body = await once(host, ['--all-cgroups']);
    const fams = parseExposition(body, 'text');
    // the root cgroup has no memory.current on v2 (so no memory series, as the kernel has none), but it is there
    const ids = fams.find((f) => f.name === 'container_processes')!.samples.map((s) => s.labels.find(([k]) => k === 'id')![1]);
    expect(ids).toContain('/');
    expect(new Set(ids).size).toBe(ids.length);
    golden(`${host}.all-cgroups.prom`, body);
  });

  it.skipIf(!has('promtool'))('promtool check metrics accepts it', async () => {
    const body = await once(host);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('exporter on the v2 fixture: what the series say', () => {
  it('working set = memory.current − inactive_file; rss = anon; cache = file (cAdvisor v2)', async () => {
    const fams = parseExposition(await once('v2-docker-systemd'), 'text');
    const dir = join(HOSTS_DIR, 'v2-docker-systemd/sys/fs/cgroup/system.slice/docker-0a5ceea3df52e200d45772c4507b20d7c95a97dcd3939cb33a8d5bc1b842e334.scope');
    const current = Number(readFileSync(join(dir, 'memory.current'), 'utf8'));
    const stat = Object.fromEntries(readFileSync(join(dir, 'memory.stat'), 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
    const value = (name: string) => fams.find((f) => f.name === name)!.samples.find((s) => s.labels.some(([k, v]) => k === 'name' && v === '0a5ceea3df52'))!.value;
    expect(value('container_memory_working_set_bytes')).toBe(current - stat.inactive_file!);
    expect(value('container_memory_rss')).toBe(stat.anon);
    expect(value('container_memory_cache')).toBe(stat.file);
  });

  it('no net/dev in the dump (the fixtures have none): no network series and no error (network is covered by the live test)', async () => {
    const fams = parseExposition(await once('v2-docker-systemd'), 'text');
    expect(fams.find((f) => f.name === 'container_network_receive_bytes_total')).toBeUndefined();
    expect(fams.find((f) => f.name === 'hostscope_scrape_errors_total')!.samples.every((x) => x.value === 0)).toBe(true);
  });

  it('the rootless podman container is rootless (uid 0 → 1000), docker ones are not', async () => {
    const fams = parseExposition(await once('v2-docker-systemd'), 'text');
    const rootless = fams.find((f) => f.name === 'hostscope_container_rootless')!;
    const by = Object.fromEntries(rootless.samples.map((s) => [s.labels.find(([k]) => k === 'name')![1], s.value]));
    expect(by['9d72cb96129c']).toBe(1);
    expect(by['0a5ceea3df52']).toBe(0);
  });

  it('a sample is a value: reading twice gives the same families', async () => {
    const a = await readExporterSample(fixtureSource('v1-docker-seed'));
    const b = await readExporterSample(fixtureSource('v1-docker-seed'));
    expect(a.sample.cgroups.map((c) => c.id)).toEqual(b.sample.cgroups.map((c) => c.id));
    expect(a.errors.size).toBe(0);
  });
});
