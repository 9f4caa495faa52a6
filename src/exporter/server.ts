/**
 * The exporter's HTTP side (node:http): `/metrics` in the format the Accept header asks for, `/`
 * a small index page, 404 for any other path, 405 for a method other than GET and HEAD (CONNECT
 * and methods Node's parser does not know included), 400 for a request target that names no path
 * (`*`, a non-HTTP absolute URI); the absolute form (`GET http://host/metrics`) is served as its
 * path, as RFC 9112 §3.2.2 asks. No malformed request is dropped without an answer: 400 (431 for
 * headers past the cap, 408 for a request that does not arrive in time), then the socket closes.
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
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
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
  // a request Node's parser refuses: an answer on a socket that can still take it, else drop it
  const idle = opts.idleTimeoutMs ?? 30_000;
  server.on('clientError', (e: NodeJS.ErrnoException & { rawPacket?: Buffer; bytesParsed?: number }, sock) => answerAndClose(sock, clientErrorStatus(e), idle));
  // CONNECT is not a request node:http hands to the handler: without this listener its socket is
  // destroyed without a word; the docs promise 405 for every method but GET and HEAD. The socket
  // is node:http's no more (closeAllConnections does not see it): close() ends it itself.
  const detached = new Set<Duplex>();
  server.on('connect', (_req: IncomingMessage, sock: Duplex) => {
    detached.add(sock);
    sock.once('close', () => detached.delete(sock));
    answerAndClose(sock, 405, idle);
  });

  return {
    server,
    stats: () => ({ scans, scrapes, errors }),
    metrics,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of detached) s.destroy();
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

/** a method token followed by a request target and an HTTP/1.x version: a request line (RFC 9112 §3) */
const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [\x21-\x7e]+ HTTP\/1\.[01]\r?\n/;

/** what to answer a request the parser refused (the statuses Node's own default handler picks, and 405) */
function clientErrorStatus(e: NodeJS.ErrnoException & { rawPacket?: Buffer; bytesParsed?: number }): number {
  if (e.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (e.code === 'HPE_HEADER_OVERFLOW') return 431;
  // llhttp knows a fixed list of methods and refuses any other (BREW, get) as a parse error: a
  // well-formed request line with a method it does not know is a method not allowed. The packet
  // may hold requests before it (pipelined): the bad one is the line where parsing stopped.
  if (e.code === 'HPE_INVALID_METHOD' && e.rawPacket && e.bytesParsed !== undefined) {
    const at = Math.min(e.bytesParsed, e.rawPacket.length);
    const start = at > 0 ? e.rawPacket.lastIndexOf(0x0a, at - 1) + 1 : 0;
    if (REQUEST_LINE.test(e.rawPacket.toString('latin1', start, start + 8192))) return 405;
  }
  return 400;
}

/** sockets given their one short answer (answerAndClose) */
const answered = new WeakSet<Duplex>();

/**
 * One short response, then close. A response still being sent on the socket (a pipelined request
 * before the bad one) is let finish first, so the answer is not spliced into it; a socket that
 * cannot be written any more is dropped. A client that never closes its side is cut off.
 */
function answerAndClose(sock: Duplex, status: number, deadlineMs: number): void {
  // once a socket: the parser reports its error again on every later chunk
  if (answered.has(sock)) return;
  answered.add(sock);
  // a socket node:http let go of (CONNECT) has none of its listeners: a reset while the answer is
  // written must not be an unhandled 'error' (the process would exit), and a client that never
  // reads the response ahead of the answer must not hold the socket (node:http's idle timeout no
  // longer applies to it)
  sock.on('error', () => sock.destroy());
  const deadline = setTimeout(() => sock.destroy(), deadlineMs);
  deadline.unref();
  sock.once('close', () => clearTimeout(deadline));
  const send = (): void => {
    if (!sock.writable) return void sock.destroy();
    const body = `${(STATUS_CODES[status] ?? 'error').toLowerCase()}\n`;
    const allow = status === 405 ? 'Allow: GET, HEAD\r\n' : '';
    sock.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${allow}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    const t = setTimeout(() => sock.destroy(), 5_000);
    t.unref();
    sock.once('close', () => clearTimeout(t));
  };
  // node:http's in-flight response on this socket, if any (what its own default handler looks at)
  const inflight = (sock as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inflight && !inflight.writableFinished) {
    inflight.once('finish', send);
    inflight.once('close', () => {
      if (!inflight.writableFinished) sock.destroy();
    });
  } else send();
}

/** the path of a request target: origin form, or absolute form with an http(s) authority; undefined for `*` and anything else */
function targetPath(url: string): string | undefined {
  if (url.startsWith('/')) {
    const q = url.indexOf('?');
    return q < 0 ? url : url.slice(0, q);
  }
  const m = /^https?:\/\/[^/?#]*(\/[^?#]*)?/i.exec(url);
  return m ? (m[1] ?? '/') : undefined;
}

async function handle(req: IncomingMessage, res: ServerResponse, metrics: Exporter['metrics']): Promise<void> {
  // never read a body: a client streaming one is cut off by the request timeout
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
    res.end('method not allowed\n');
    return;
  }
  const path = targetPath(req.url ?? '/');
  if (path === undefined) {
    res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
    res.end(method === 'HEAD' ? undefined : 'bad request: the target is not a path\n');
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
