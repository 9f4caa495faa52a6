import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Spawned } from '../../scripts/lib/spawned.js';
import { BIN, IS_ROOT, has } from '../helpers/live.js';
import { parseExposition } from '../exporter/exposition-checker.js';

/**
 * The exporter scraped by a real Prometheus (Debian's `prometheus`, installed by .ci/run):
 *
 * - a test "container": a process in a v1 memory cgroup this test makes
 *   (/sys/fs/cgroup/memory/hostscope-exp-<pid>-<rand>), in a network namespace of its own
 *   (`ip netns`) joined by a veth pair to a second namespace, with its own uts namespace and
 *   HOSTNAME=<name> (the name hostscope gives an unrecognised container);
 * - the real `hostscope exporter` bin on a loopback port; Prometheus on another loopback port,
 *   scraping it every second, its TSDB in a temp dir;
 * - asserted through Prometheus's HTTP API: container_memory_working_set_bytes{name} equals
 *   memory.usage_in_bytes − total_inactive_file of the cgroup (within one page), and
 *   container_network_receive_bytes_total moves when the test pings between its namespaces.
 *
 * Everything (Prometheus, the exporter, the process, both namespaces, the veth, the cgroup, the temp
 * dir) is removed in afterAll, also when a test fails.
 */

const MEMCG = '/sys/fs/cgroup/memory';
const live = IS_ROOT && has('prometheus') && has('promtool') && has('ip') && has('unshare') && has('ping') && existsSync(`${MEMCG}/memory.usage_in_bytes`);

const tag = `${process.pid}${randomBytes(2).toString('hex')}`;
const name = `hsexp-${tag}`;
const cgroupDir = `${MEMCG}/hostscope-exp-${tag}`;
const nsA = `hsexpa-${tag}`;
const nsB = `hsexpb-${tag}`;
// interface names: at most 15 characters, and not lo*/veth*/docker* (cAdvisor skips those)
const ifA = `hxa${tag}`.slice(0, 15);
const ifB = `hxb${tag}`.slice(0, 15);
const octet = 1 + (process.pid % 250);
const addrA = `10.213.${octet}.1`;
const addrB = `10.213.${octet}.2`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    /* already gone */
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

describe.skipIf(!live)('hostscope exporter scraped by a real Prometheus', () => {
  const spawned = new Spawned();
  const dir = mkdtempSync(join(tmpdir(), `hostscope-exp-${tag}-`));
  let promUrl = '';
  let exporterUrl = '';
  let containerPid = 0;

  async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    const j = (await r.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (j.status !== 'success') throw new Error(`query ${q}: ${JSON.stringify(j).slice(0, 200)}`);
    return j.data.result;
  }

  beforeAll(async () => {
    // two network namespaces and a veth between them
    ip('netns', 'add', nsA);
    ip('netns', 'add', nsB);
    ip('link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB);
    ip('link', 'set', ifA, 'netns', nsA);
    ip('link', 'set', ifB, 'netns', nsB);
    ip('-n', nsA, 'addr', 'add', `${addrA}/30`, 'dev', ifA);
    ip('-n', nsB, 'addr', 'add', `${addrB}/30`, 'dev', ifB);
    ip('-n', nsA, 'link', 'set', ifA, 'up');
    ip('-n', nsB, 'link', 'set', ifB, 'up');
    // the container: into its memory cgroup first, then into netns A with a uts namespace of its own
    mkdirSync(cgroupDir);
    const c = spawned.start('sh', ['-c', `echo $$ > ${cgroupDir}/cgroup.procs && exec ip netns exec ${nsA} unshare --uts env HOSTNAME=${name} sleep 600`]);
    containerPid = c.pid!;
    await until('the container in its cgroup and netns', async () => {
      const procs = readFileSync(`${cgroupDir}/cgroup.procs`, 'utf8');
      const comm = readFileSync(`/proc/${containerPid}/comm`, 'utf8').trim();
      return procs.includes(String(containerPid)) && comm === 'sleep' ? true : undefined;
    }, 20_000);

    // the exporter: the real bin, a loopback port of its choosing, a scan on every scrape
    const exp = spawned.start(process.execPath, [BIN('hostscope'), 'exporter', '--listen', '127.0.0.1:0', '--interval', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    exp.stderr!.on('data', (d) => (err += String(d)));
    exporterUrl = await until('the exporter to listen', async () => /serving (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(err)?.[1], 20_000);

    // Prometheus on loopback, scraping every second
    const promPort = await freePort();
    const target = exporterUrl.replace('http://', '');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: hostscope\n    static_configs:\n      - targets: ['${target}']\n`,
    );
    spawned.start('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { cwd: dir });
    promUrl = `http://127.0.0.1:${promPort}`;
    await until('Prometheus to scrape the exporter', async () => {
      const up = await query('up{job="hostscope"}');
      return up[0]?.value[1] === '1' ? true : undefined;
    });
  }, 150_000);

  afterAll(async () => {
    await spawned.stopAll();
    quietly(() => ip('netns', 'del', nsA)); // takes the veth pair with it
    quietly(() => ip('netns', 'del', nsB));
    for (let i = 0; i < 50 && existsSync(cgroupDir); i++) {
      quietly(() => rmdirSync(cgroupDir));
      if (existsSync(cgroupDir)) await sleep(100);
    }
    rmSync(dir, { recursive: true, force: true });
    expect(existsSync(cgroupDir)).toBe(false);
  }, 60_000);

  it('the scrape succeeds with no error (Prometheus parsed what it was sent)', async () => {
    const r = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; lastError: string }[] } };
    const t = r.data.activeTargets[0]!;
    expect(t.lastError).toBe('');
    expect(t.health).toBe('up');
  });

  it('container_memory_working_set_bytes{name} = usage − total_inactive_file of the cgroup, within a page', async () => {
    const series = await until('the working set series', async () => {
      const r = await query(`container_memory_working_set_bytes{name="${name}"}`);
      return r.length > 0 ? r : undefined;
    });
    expect(series).toHaveLength(1);
    expect(series[0]!.metric.id).toBe(`/hostscope-exp-${tag}`);
    // the figure Prometheus holds (scraped ≤ 1 s ago) against the files now; a sleeping process's memory holds still
    const got = Number(series[0]!.value[1]);
    const usage = Number(readFileSync(`${cgroupDir}/memory.usage_in_bytes`, 'utf8'));
    const stat = Object.fromEntries(readFileSync(`${cgroupDir}/memory.stat`, 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
    const want = Math.max(0, usage - (stat.total_inactive_file ?? stat.inactive_file ?? 0));
    expect(Math.abs(got - want)).toBeLessThanOrEqual(4096);
    // and the process is counted in it
    const procs = await query(`container_processes{name="${name}"}`);
    expect(procs[0]?.value[1]).toBe('1');
  });

  it('container_network_receive_bytes_total moves when the test sends traffic between its namespaces', async () => {
    const sel = `container_network_receive_bytes_total{name="${name}",interface="${ifA}"}`;
    const before = await until('the network series', async () => {
      const r = await query(sel);
      return r.length > 0 ? Number(r[0]!.value[1]) : undefined;
    });
    // 10 pings of 1000 bytes from B to A: A receives ≥ 10 × 1028 bytes
    const p = spawnSync('ip', ['netns', 'exec', nsB, 'ping', '-c', '10', '-i', '0.2', '-s', '1000', '-W', '2', addrA], { encoding: 'utf8' });
    expect(p.status, p.stdout + p.stderr).toBe(0);
    const after = await until('the counter to move', async () => {
      const r = await query(sel);
      const v = r.length > 0 ? Number(r[0]!.value[1]) : 0;
      return v >= before + 10 * 1028 ? v : undefined;
    }, 60_000);
    expect(after - before).toBeGreaterThanOrEqual(10 * 1028);
  });

  it('the container has its own uts and net namespaces in hostscope_container_host_namespace (none shared for those)', async () => {
    const r = await query(`hostscope_container_host_namespace{name="${name}"}`);
    const types = r.map((s) => s.metric.type).sort();
    expect(types).not.toContain('net');
    expect(types).not.toContain('uts');
    expect(types).toContain('pid');
  });

  it('promtool check metrics accepts what the exporter serves (text 0.0.4), and the strict checker both formats', async () => {
    const text = await (await fetch(`${exporterUrl}/metrics`)).text();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    parseExposition(text, 'text');
    const om = await (await fetch(`${exporterUrl}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
    parseExposition(om, 'openmetrics');
  });
});
