/**
 * Where samples come from. The full scan is synchronous (ADR 1): in the bins it runs in a worker
 * thread so key handling never waits for it; tests and the fallback run it in-thread.
 * (src/inspect/scan.ts's non-blocking scanHost replaces the worker once it lands.)
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import type { ProcSource } from '../src/source/source.js';
import { takeSample, type Sample } from './sample.js';
import type { Scan } from './poller.js';

export function inThreadScan(src: ProcSource): Scan {
  return async () => {
    await new Promise((r) => setImmediate(r));
    return takeSample(src);
  };
}

export interface WorkerScan {
  scan: Scan;
  close(): Promise<void>;
}

/** A scan in a worker thread running `workerFile` (dist/bin/ctop-scan-worker.js). */
export function workerScan(workerFile: string, roots: { procRoot?: string; sysRoot?: string }): WorkerScan | undefined {
  if (!existsSync(workerFile)) return undefined;
  const w = new Worker(workerFile, { workerData: roots, stdout: false, stderr: false });
  w.unref();
  let seq = 0;
  const waiting = new Map<number, { resolve: (s: Sample) => void; reject: (e: Error) => void }>();
  w.on('message', (m: { id: number; sample?: Sample; error?: string }) => {
    const p = waiting.get(m.id);
    if (!p) return;
    waiting.delete(m.id);
    if (m.sample) p.resolve(m.sample);
    else p.reject(new Error(m.error ?? 'scan failed'));
  });
  const fail = (e: Error): void => {
    for (const p of waiting.values()) p.reject(e);
    waiting.clear();
  };
  w.on('error', fail);
  w.on('exit', () => fail(new Error('scan worker exited')));
  return {
    scan: () =>
      new Promise<Sample>((resolve, reject) => {
        const id = ++seq;
        waiting.set(id, { resolve, reject });
        w.postMessage({ id });
      }),
    close: async () => {
      await w.terminate();
    },
  };
}
