/**
 * The exporter's HTTP side (node:http): `/metrics` in the format the Accept header asks for, `/`
 * a small index page, 404 for any other path, 405 for a method other than GET and HEAD.
 *
 * Collection: one scan per scrape, shared. Scrapes that arrive while a scan runs wait for it and
 * get its result; a result younger than `minIntervalMs` is served again without a new scan (a
 * client hammering /metrics cannot make the exporter scan more than once per interval). Each
 * result is rendered at most once per format and the same string is sent to every client.
 *
 * A scan that throws is an error metric (`hostscope_scrape_errors_total{stage="scan"}`,
 * `hostscope_scrape_success 0`), answered with the exporter's own series; the endpoint keeps
 * answering. Resources are bounded: at most `maxConnections` sockets (more are refused by the
 * kernel's accept then closed by Node), header and request timeouts (a client that sends its
 * request slowly is cut off), an idle socket timeout, no request bodies read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { buildFamilies, type ExporterSample, type ScrapeMeta } from './collect.js';
import type { ModelUpdate } from './read.js';
import { CONTENT_TYPES, negotiate, writeFormatBytes, type ExpositionFormat } from './format.js';

export interface ScanOutcome {
  sample: ExporterSample;
  /** files that failed in this scan, by stage */
  errors: Map<string, number>;
  /** how the scan made its model (the live scanner's; absent from a one-shot scan) */
  model?: ModelUpdate;
}

export interface ExporterOptions {
  /** one scan of the host (readExporterSample bound to a source, in production) */
  scan: () => Promise<ScanOutcome>;
  /** reuse a result this young instead of scanning again, ms (default 1000; 0: every scrape scans unless one is running) */
  minIntervalMs?: number;
  /** most sockets open at once (default 256: a hundred concurrent scrapes fit) */
  maxConnections?: number;
  /** the whole request (headers) must arrive within this, ms (default 10000) */
  requestTimeoutMs?: number;
  /** an idle socket is closed after this, ms (default 30000) */
  idleTimeoutMs?: number;
  /** told of every failed scan (the CLI prints one line to stderr) */
  onScanError?: (e: unknown) => void;
}

interface Result {
  sample: ExporterSample | undefined;
  durationSeconds: number;
  cpuSeconds: number;
  finishedAt: number;
  /**
   * rendered bodies per format, filled on first use, as UTF-8 bytes: every client of this result
   * is sent the same Buffer, so a hundred slow readers hold one copy, not a hundred
   */
  bodies: Partial<Record<ExpositionFormat, Buffer>>;
}

export interface Exporter {
  server: Server;
  /** the scrape counters, for tests and the bench */
  stats(): { scans: number; scrapes: number; errors: ReadonlyMap<string, number> };
  /** the body and content type for an Accept header (what /metrics answers) */
  metrics(accept: string | undefined): Promise<{ body: Buffer; contentType: string }>;
  close(): Promise<void>;
}

const INDEX = `<!doctype html>
<html><head><meta charset="utf-8"><title>hostscope exporter</title></head>
<body><h1>hostscope exporter</h1>
<p>Containers, namespaces, cgroups, capabilities and seccomp of this host, for Prometheus.</p>
<p><a href="/metrics">/metrics</a> (Prometheus text 0.0.4; OpenMetrics 1.0 by content negotiation)</p>
</body></html>
`;

export function createExporter(opts: ExporterOptions): Exporter {
  const minInterval = opts.minIntervalMs ?? 1000;
  let inflight: Promise<Result> | undefined;
  let last: Result | undefined;
  let scans = 0;
  let scrapes = 0;
  const errors = new Map<string, number>();
  /** scans by how their model was made (hostscope_model_updates_total), once a scan told */
  const modelUpdates = new Map<ModelUpdate, number>();
  const bump = (stage: string, n = 1): void => void errors.set(stage, (errors.get(stage) ?? 0) + n);

  const runScan = async (): Promise<Result> => {
    scans++;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let sample: ExporterSample | undefined;
    try {
      const out = await opts.scan();
      sample = out.sample;
      for (const [stage, n] of out.errors) bump(stage, n);
      if (out.model) modelUpdates.set(out.model, (modelUpdates.get(out.model) ?? 0) + 1);
    } catch (e) {
      bump('scan');
      opts.onScanError?.(e);
    }
    const c = process.cpuUsage(c0);
    return { sample, durationSeconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6, finishedAt: performance.now(), bodies: {} };
  };

  /** the current result: the last one if young enough, the running scan's, or a new scan's */
  const current = (): Promise<Result> => {
    if (last && last.sample && performance.now() - last.finishedAt < minInterval) return Promise.resolve(last);
    if (!inflight) {
      inflight = runScan().then((r) => {
        last = r;
        inflight = undefined;
        return r;
      });
    }
    return inflight;
  };

  const metrics = async (accept: string | undefined): Promise<{ body: Buffer; contentType: string }> => {
    const format = negotiate(accept);
    const r = await current();
    scrapes++;
    const body = (r.bodies[format] ??= render(format, r, { scans, errors, modelUpdates }));
    return { body, contentType: CONTENT_TYPES[format] };
  };

  const requestTimeout = opts.requestTimeoutMs ?? 10_000;
  const server = createServer(
    {
      requestTimeout,
      headersTimeout: requestTimeout,
      keepAliveTimeout: 5_000,
      // how often Node looks for requests past their timeout (default 30 s: a slow client would linger that long)
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(requestTimeout / 2))),
      maxHeaderSize: 8 * 1024,
    },
    (req, res) => {
    handle(req, res, metrics).catch(() => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end('internal error\n');
      } else res.destroy();
    });
    },
  );
  server.maxConnections = opts.maxConnections ?? 256;
  server.setTimeout(opts.idleTimeoutMs ?? 30_000, (sock) => sock.destroy());
  // a malformed request: a 400 on a socket that can still take it, else drop it
  server.on('clientError', (_e, sock) => {
    if (sock.writable) sock.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else sock.destroy();
  });

  return {
    server,
    stats: () => ({ scans, scrapes, errors }),
    metrics,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function render(format: ExpositionFormat, r: Result, counters: { scans: number; errors: ReadonlyMap<string, number>; modelUpdates: ReadonlyMap<ModelUpdate, number> }): Buffer {
  const meta: ScrapeMeta = {
    durationSeconds: r.durationSeconds,
    cpuSeconds: r.cpuSeconds,
    success: r.sample !== undefined,
    scansTotal: counters.scans,
    errorsTotal: new Map(counters.errors),
  };
  if (counters.modelUpdates.size > 0) meta.modelUpdates = new Map(counters.modelUpdates);
  return writeFormatBytes(format, buildFamilies(r.sample, meta));
}

async function handle(req: IncomingMessage, res: ServerResponse, metrics: Exporter['metrics']): Promise<void> {
  // never read a body: a client streaming one is cut off by the request timeout
  const url = req.url ?? '/';
  const path = url.split('?')[0]!;
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
    res.end('method not allowed\n');
    return;
  }
  if (path === '/metrics') {
    const { body, contentType } = await metrics(header(req, 'accept'));
    res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': body.length, 'Cache-Control': 'no-store' });
    res.end(method === 'HEAD' ? undefined : body);
    return;
  }
  if (path === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(INDEX) });
    res.end(method === 'HEAD' ? undefined : INDEX);
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(method === 'HEAD' ? undefined : 'not found\n');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
