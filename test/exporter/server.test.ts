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

  /** write `text` on a raw socket, read until the server closes (a hang shows as '<no close>') */
  const raw = (port: number, text: string, then?: (got: string, s: Socket) => void): Promise<string> =>
    new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => {
        got += d.toString('latin1');
        then?.(got, s);
      });
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(`${got}<error>`));
      s.write(text);
      setTimeout(() => {
        s.destroy();
        resolve(`${got}<no close>`);
      }, 8_000).unref();
    });
  const statuses = (reply: string): string[] => [...reply.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]!);

  it('CONNECT and methods the parser does not know get 405 with Allow, not a silent hang-up (docs/exporter.md)', async () => {
    const { url } = await start({ scan: fixtureScan() });
    const port = Number(new URL(url).port);
    for (const req of [
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      'CONNECT /metrics HTTP/1.1\r\nHost: x\r\n\r\n',
      'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
      'TRACE / HTTP/1.1\r\nHost: x\r\n\r\n',
      'M-SEARCH * HTTP/1.1\r\nHost: x\r\n\r\n',
      'BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n', // a token llhttp does not know: its parse error
      'get /metrics HTTP/1.1\r\nHost: x\r\n\r\n', // methods are case-sensitive
    ]) {
      const reply = await raw(port, req);
      expect(reply, req).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
      expect(reply, req).toMatch(/\r\nAllow: GET, HEAD\r\n/i);
      expect(reply, req).not.toContain('<no close>');
    }
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
  });

  it('a client that resets right after CONNECT (or a bad request) does not take the exporter down', async () => {
    // node:http lets go of a CONNECT socket with none of its listeners: an ECONNRESET while the 405
    // was written was an unhandled 'error' event, and the process exited (this test's, here)
    const { url } = await start({ scan: fixtureScan() });
    const port = Number(new URL(url).port);
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        s.on('close', () => resolve());
        s.write(i % 2 ? 'CONNECT a:1 HTTP/1.1\r\nHost: a\r\n\r\n' : 'BREW / HTTP/1.1\r\n\r\nmore\r\n', () => s.resetAndDestroy());
      });
    }
    await new Promise((r) => setTimeout(r, 200));
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
  });

  it('request targets: the absolute form is served as its path; *, other schemes and non-paths are 400', async () => {
    const { url } = await start({ scan: fixtureScan(), minIntervalMs: 60_000 });
    const port = Number(new URL(url).port);
    const body = await (await fetch(`${url}/metrics`)).text();
    const abs = await raw(port, 'GET http://host.example:9256/metrics?x=1 HTTP/1.1\r\nHost: host.example:9256\r\nConnection: close\r\n\r\n');
    expect(abs).toMatch(/^HTTP\/1\.1 200 /);
    expect(abs.slice(abs.indexOf('\r\n\r\n') + 4)).toBe(body); // the same bytes as the origin form
    expect(await raw(port, 'HEAD HTTP://HOST HTTP/1.1\r\nHost: host\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 [^]*text\/html/);
    expect(await raw(port, 'GET http://host/nope HTTP/1.1\r\nHost: host\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 404 /);
    for (const target of ['*', 'ftp://host/metrics', 'metrics', 'host:9256']) {
      const reply = await raw(port, `GET ${target} HTTP/1.1\r\nHost: host\r\n\r\n`);
      expect(reply, target).toMatch(/^HTTP\/1\.1 400 /);
      expect(reply, target).not.toContain('<no close>');
    }
  });

  it('every malformed request is answered (400, 431, 408) before the socket closes, never dropped', async () => {
    const { url } = await start({ scan: fixtureScan(), requestTimeoutMs: 300 });
    const port = Number(new URL(url).port);
    const cases: [string, string][] = [
      ['GET / HTTP/9.9\r\nHost: x\r\n\r\n', '400'],
      ['GET / HTTP/1.1\nHost: x\n\n', '400'],
      ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', '400'],
      ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', '400'],
      ['GET / HTTP/1.1\r\nBad Header\r\n\r\n', '400'],
      ['\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03', '400'], // a TLS ClientHello
      [`GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(9_000)}\r\n\r\n`, '431'],
      ['\r\n\r\n', '408'], // blank lines before a request line that never comes
      ['GET /metrics HTTP/1.1\r\n', '408'],
    ];
    for (const [req, status] of cases) {
      const reply = await raw(port, req);
      expect(statuses(reply), JSON.stringify(req.slice(0, 40))).toEqual([status]);
      expect(reply).toMatch(/\r\nConnection: close\r\n/);
      expect(reply).not.toContain('<no close>');
    }
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
  });

  it('a bad request pipelined or kept alive after a good one: the good response whole, then the answer', async () => {
    // a slow scan: the bad request is parsed while the /metrics response is still pending
    const { url } = await start({ scan: async () => (await new Promise((r) => setTimeout(r, 200)), readExporterSample(fixtureSource('v2-docker-systemd'))), minIntervalMs: 0 });
    const port = Number(new URL(url).port);
    const good = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n';
    for (const [bad, status] of [['BREW / HTTP/1.1\r\n\r\n', '405'], ['GARBAGE\x00 x\r\n\r\n', '400'], ['CONNECT h:1 HTTP/1.1\r\n\r\n', '405']] as const) {
      const reply = await raw(port, good + bad);
      expect(statuses(reply), bad).toEqual(['200', status]);
      const len = Number(/Content-Length: (\d+)/i.exec(reply)![1]);
      const second = reply.indexOf(`HTTP/1.1 ${status}`);
      expect(second - (reply.indexOf('\r\n\r\n') + 4), bad).toBe(len); // not spliced into the body
    }
    let sent = false;
    const later = await raw(port, good, (got, s) => {
      if (!sent && got.includes('hostscope_scrape_success 1')) {
        sent = true;
        s.write('BAD\x01 x\r\n\r\n');
      }
    });
    expect(statuses(later)).toEqual(['200', '400']);
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
