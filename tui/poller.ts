/**
 * Polling, off the render path: one scan at a time (never overlapping), the next one `interval`
 * after the last one started, each result dispatched as a sample. The scan itself is injected:
 * a worker thread in the bins, in-thread for tests and host dumps.
 */
import type { Action } from './store.js';
import type { Sample } from './sample.js';

export type Scan = () => Promise<Sample>;

export interface PollerOptions {
  scan: Scan;
  dispatch: (a: Action) => void;
  intervalMs: () => number;
  /** called with every sample (the recorder) */
  onSample?: (s: Sample) => void;
  /**
   * work on a new sample before it is dispatched (the group rows, built in steps so keys are
   * handled in between; the reducer then finds them memoised and returns at once)
   */
  prepare?: (s: Sample) => Promise<void>;
  /** how many scans to do at most (`-n`) */
  limit?: number;
  onError?: (e: unknown) => void;
  onDone?: () => void;
}

export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running = false;
  private count = 0;

  constructor(private readonly o: PollerOptions) {}

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** scan now (after a key that wants fresh data) unless one is running */
  poke(): void {
    if (this.running || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get scans(): number {
    return this.count;
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    const began = Date.now();
    try {
      const s = await this.o.scan();
      if (this.stopped) return;
      if (this.o.prepare) await this.o.prepare(s);
      if (this.stopped) return;
      this.count++;
      this.o.onSample?.(s);
      this.o.dispatch({ type: 'sample', sample: s });
    } catch (e) {
      this.o.onError?.(e);
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    if (this.o.limit !== undefined && this.count >= this.o.limit) {
      this.o.onDone?.();
      return;
    }
    const wait = Math.max(10, this.o.intervalMs() - (Date.now() - began));
    this.timer = setTimeout(() => void this.tick(), wait);
  }
}
