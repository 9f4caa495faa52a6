import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createExporter, type Exporter, type ScanOutcome } from '../../src/exporter/server.js';
import { readExporterSample } from '../../src/exporter/read.js';
import { fixtureSource, captureDeps, rootArgs } from '../helpers/fixtures.js';
import { spawnSync } from 'node:child_process';
import { EXPORTER_V8_FLAGS, exporterMain } from '../../cli/exporter.js';
import { parseExposition } from './exposition-checker.js';
import type { ProcSource } from '../../src/source/source.js';

const running: Exporter[] = [];
afterEach(async () => {
  for (const e of running.splice(0)) await e.close();
});

async function start(opts: Parameters<typeof createExporter>[0]): Promise<{ exp: Exporter; url: string }> {
  const exp = createExporter(opts);
  running.push(exp);
  await new Promise<void>((r) => exp.server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  return { exp, url: `http://127.0.0.1:${(exp.server.address() as AddressInfo).port}` };
}

const fixtureScan = (host = 'v2-docker-systemd') => () => readExporterSample(fixtureSource(host));

function value(body: string, line: string): number | undefined {
  const l = body.split('\n').find((x) => x.startsWith(`${line} `));
  return l === undefined ? undefined : Number(l.slice(line.length + 1));
}

describe('exporter HTTP', () => {
  it('/metrics 200 text 0.0.4 by default; / is an index; other paths 404; POST/PUT/DELETE 405 with Allow', async () => {
    const { url } = await start({ scan: fixtureScan() });
    const m = await fetch(`${url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    parseExposition(await m.text(), 'text');
    const idx = await fetch(`${url}/`);
    expect(idx.status).toBe(200);
    expect(await idx.text()).toContain('href="/metrics"');
    for (const p of ['/nope', '/metrics/', '/metricsx', '/index.html']) expect((await fetch(`${url}${p}`)).status, p).toBe(404);
    // a query string does not change the path
    expect((await fetch(`${url}/metrics?x=1`)).status).toBe(200);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await fetch(`${url}/metrics`, { method, body: method === 'DELETE' ? undefined : 'x' });
      expect(r.status, method).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, HEAD');
    }
    const head = await fetch(`${url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(1000);
    expect(await head.text()).toBe('');
  });

  it('hostscope_model_updates_total counts scans by how the scanner made the model, only when the scan says (not for a one-shot scan)', async () => {
    const hows = ['rebuilt', 'reused', 'reused', 'patched'] as const;
    let i = 0;
    const { url } = await start({ minIntervalMs: 0, scan: async () => ({ ...(await readExporterSample(fixtureSource('v2-docker-systemd'))), model: hows[i++ % hows.length] }) });
    let body = '';
    for (let k = 0; k < hows.length; k++) body = await (await fetch(`${url}/metrics`)).text();
    parseExposition(body, 'text');
    expect(body).toContain('# TYPE hostscope_model_updates_total counter');
    expect(value(body, 'hostscope_model_updates_total{how="reused"}')).toBe(2);
    expect(value(body, 'hostscope_model_updates_total{how="patched"}')).toBe(1);
    expect(value(body, 'hostscope_model_updates_total{how="rebuilt"}')).toBe(1);
    const plain = await start({ scan: fixtureScan() });
    expect(await (await fetch(`${plain.url}/metrics`)).text()).not.toContain('hostscope_model_updates');
  });

  it('Accept picks OpenMetrics 1.0 (with # EOF) or text, with the exact Content-Type', async () => {
    const { url } = await start({ scan: fixtureScan() });
    const om = await fetch(`${url}/metrics`, { headers: { accept: 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' } });
    expect(om.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const body = await om.text();
    expect(body.endsWith('# EOF\n')).toBe(true);
    parseExposition(body, 'openmetrics');
    const txt = await fetch(`${url}/metrics`, { headers: { accept: 'text/plain;version=0.0.4;q=0.5,*/*;q=0.1' } });
    expect(txt.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await txt.text()).not.toContain('# EOF');
  });

  it('100 concurrent scrapes share one scan and get the same body', async () => {
    let scans = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { exp, url } = await start({
      minIntervalMs: 0,
      scan: async () => {
        scans++;
        await gate; // every scrape arrives while this scan runs
        return readExporterSample(fixtureSource('v1-docker-seed'));
      },
    });
    // release the scan once all 100 requests have reached the server (however slow the machine is)
    let arrived = 0;
    exp.server.on('request', () => {
      if (++arrived === 100) setImmediate(release);
    });
    const all = Array.from({ length: 100 }, () => fetch(`${url}/metrics`).then((r) => r.text()));
    const bodies = await Promise.all(all);
    expect(scans).toBe(1);
    expect(exp.stats().scans).toBe(1);
    expect(new Set(bodies).size).toBe(1);
    expect(value(bodies[0]!, 'hostscope_scans_total')).toBe(1);
    // with minIntervalMs 0 the next scrape scans again
    await fetch(`${url}/metrics`).then((r) => r.text());
    expect(scans).toBe(2);
  });

  it('a result younger than the interval is served again without a scan', async () => {
    let scans = 0;
    const { url } = await start({ minIntervalMs: 60_000, scan: async () => (scans++, readExporterSample(fixtureSource('v1-docker-seed'))) });
    for (let i = 0; i < 5; i++) await fetch(`${url}/metrics`).then((r) => r.text());
    expect(scans).toBe(1);
  });

  it('clients of one result are sent the same bytes (a crowd of slow readers holds one copy); paused readers do not stop others', async () => {
    const { exp, url } = await start({ minIntervalMs: 60_000, scan: fixtureScan() });
    const a = await exp.metrics(undefined);
    const b = await exp.metrics('text/plain;version=0.0.4');
    expect(a.body).toBe(b.body); // the same Buffer object, not an equal copy
    const om1 = await exp.metrics('application/openmetrics-text');
    const om2 = await exp.metrics('application/openmetrics-text;version=1.0.0');
    expect(om1.body).toBe(om2.body);
    // 30 clients that ask and never read their answer
    const port = Number(new URL(url).port);
    const paused: Socket[] = [];
    for (let i = 0; i < 30; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.pause();
      s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
      paused.push(s);
    }
    await new Promise((r) => setTimeout(r, 200));
    const r = await fetch(`${url}/metrics`);
    expect(r.status).toBe(200);
    expect(Buffer.from(await r.arrayBuffer()).equals(a.body)).toBe(true);
    for (const s of paused) s.destroy();
  });

  it('a scan that fails half way is an error metric; the endpoint keeps answering and recovers', async () => {
    // a source that breaks (an unexpected exception, not a ProcError) after some cgroup reads
    let failNext = true;
    const broken = (src: ProcSource): ProcSource => {
      let reads = 0;
      return new Proxy(src, {
        get(target, prop, recv) {
          if (prop === 'readSysText' && failNext)
            return (rel: string) => {
              if (++reads > 5) throw new Error('disk on fire');
              return target.readSysText(rel);
            };
          const v = Reflect.get(target, prop, recv) as unknown;
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    };
    const errors: unknown[] = [];
    const { exp, url } = await start({ minIntervalMs: 0, scan: () => readExporterSample(broken(fixtureSource('v2-docker-systemd'))), onScanError: (e) => errors.push(e) });
    const r1 = await fetch(`${url}/metrics`);
    expect(r1.status).toBe(200);
    const b1 = await r1.text();
    parseExposition(b1, 'text');
    expect(value(b1, 'hostscope_scrape_errors_total{stage="scan"}')).toBe(1);
    expect(value(b1, 'hostscope_scrape_success')).toBe(0);
    expect(b1).not.toContain('container_memory_usage_bytes{');
    expect(String(errors[0])).toContain('disk on fire');
    failNext = false;
    const b2 = await (await fetch(`${url}/metrics`)).text();
    expect(value(b2, 'hostscope_scrape_success')).toBe(1);
    expect(value(b2, 'hostscope_scrape_errors_total{stage="scan"}')).toBe(1);
    expect(b2).toContain('container_memory_usage_bytes{');
    expect(exp.stats().scans).toBe(2);
  });

  it('a malformed request gets 400 and the server keeps answering', async () => {
    const { url } = await start({ scan: fixtureScan() });
    const port = Number(new URL(url).port);
    const reply = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
      s.write('GARBAGE \x00\x01 NOT HTTP\r\n\r\n');
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
  });

  it('a client that sends its headers slowly is cut off by the request timeout', async () => {
    const { url } = await start({ scan: fixtureScan(), requestTimeoutMs: 300 });
    const port = Number(new URL(url).port);
    const closed = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n')); // never finishes
      s.resume(); // read what the server says, so its end is seen
      s.on('close', () => resolve(true));
      s.on('error', () => undefined);
      setTimeout(() => {
        s.destroy();
        resolve(false);
      }, 5_000);
    });
    expect(closed).toBe(true);
  });

  it('connections past maxConnections are closed, those within keep working', async () => {
    const { exp, url } = await start({ scan: fixtureScan(), maxConnections: 4 });
    const port = Number(new URL(url).port);
    const sockets: Socket[] = [];
    const closedCount = { n: 0 };
    for (let i = 0; i < 10; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('close', () => closedCount.n++);
      s.on('error', () => undefined);
      sockets.push(s);
    }
    await new Promise((r) => setTimeout(r, 300));
    const open = await new Promise<number>((r) => exp.server.getConnections((_e, n) => r(n)));
    expect(open).toBeLessThanOrEqual(4);
    expect(closedCount.n).toBeGreaterThanOrEqual(6);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
  });
});

describe('hostscope exporter (CLI)', () => {
  it('serves on the address given, binds loopback by default, stops when told (as on SIGTERM)', async () => {
    const deps = captureDeps();
    const ac = new AbortController();
    let addr: { host: string; port: number } | undefined;
    const done = exporterMain(['--listen', '127.0.0.1:0', ...rootArgs('v1-docker-seed')], deps, { signal: ac.signal, onListening: (a) => (addr = a) });
    while (!addr) await new Promise((r) => setTimeout(r, 20));
    expect(addr.host).toBe('127.0.0.1');
    const r = await fetch(`http://127.0.0.1:${addr.port}/metrics`);
    expect(r.status).toBe(200);
    ac.abort();
    expect(await done).toBe(0);
    expect(deps.err()).toMatch(/^hostscope exporter: serving http:\/\/127\.0\.0\.1:\d+\/metrics\n$/);
  });

  it.each([
    [['--listen', 'nope'], "invalid listen address 'nope'"],
    [['--listen', '127.0.0.1:70000'], 'invalid listen address'],
    [['--interval', 'abc'], "invalid interval 'abc'"],
    [['--max-connections', '0'], 'invalid max-connections'],
    [['--bogus'], 'unrecognized option'],
  ])('bad usage %j: one line and exit 1', async (argv, msg) => {
    const deps = captureDeps();
    expect(await exporterMain(argv, deps)).toBe(1);
    expect(deps.err()).toContain(msg);
    expect(deps.err().split('\n')[0]).toMatch(/^hostscope exporter: /);
  });

  it('an address in use: one line, exit 1', async () => {
    const { url } = await start({ scan: fixtureScan() });
    const deps = captureDeps();
    expect(await exporterMain(['--listen', `127.0.0.1:${new URL(url).port}`, ...rootArgs('v1-docker-seed')], deps)).toBe(1);
    expect(deps.err()).toMatch(/^hostscope exporter: cannot listen on 127\.0\.0\.1:\d+: address in use\n$/);
  });

  it("the server's V8 GC flags are ones this Node knows (setFlagsFromString ignores an unknown one silently)", () => {
    expect(EXPORTER_V8_FLAGS.length).toBeGreaterThan(0);
    // node refuses an unknown V8 flag on its command line (exit 9, "bad option")
    const r = spawnSync(process.execPath, [...EXPORTER_V8_FLAGS, '-e', '0'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const bad = spawnSync(process.execPath, ['--no-hostscope-not-a-flag', '-e', '0'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(bad.status).not.toBe(0);
  });
});
