/** The body of the scan worker thread: take a sample on each request, post it back. */
import { parentPort, workerData } from 'node:worker_threads';
import { openSource } from '../src/source/source.js';
import { takeSample } from './sample.js';

export function runScanWorker(): void {
  const roots = (workerData ?? {}) as { procRoot?: string; sysRoot?: string };
  const src = openSource(roots);
  parentPort?.on('message', (m: { id: number }) => {
    try {
      parentPort!.postMessage({ id: m.id, sample: takeSample(src) });
    } catch (e) {
      parentPort!.postMessage({ id: m.id, error: (e as Error).message });
    }
  });
}
