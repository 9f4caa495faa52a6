import { mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNative, runSteps, type ExitStatus, type StepProcess } from '../../src/native/index.js';
import type { Step } from '../../src/native/steps.js';

/** CI builds the addon; a missing addon there is a failure, elsewhere a skip */
export const NATIVE = loadNative() !== undefined;
if (!NATIVE && process.env.CI) throw new Error('the native addon is not built (CI needs it: npm rebuild)');

export const ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C'];

export function sh(script: string): Step {
  return { op: 'exec', file: 'sh', argv: ['sh', '-c', script], envp: ENV, search: true };
}

/**
 * run steps with stdout and stderr sent to a file; returns the exit status and what it printed.
 * A list with a `ready` step: onReady() runs once it is parked (open its fifo, release it), and a
 * step failing after that is thrown like one before it.
 */
export async function runCaptured(
  steps: Step[],
  opts: { failAt?: number; beforeRelease?: (pid: number) => void | Promise<void>; onReady?: (p: StepProcess) => void | Promise<void> } = {},
): Promise<ExitStatus & { out: string; pid: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'hostscope-test-'));
  const file = join(dir, 'out');
  const fd = openSync(file, 'w');
  try {
    const p = await runSteps([{ op: 'dup2', from: fd, to: 1 }, { op: 'dup2', from: fd, to: 2 }, ...steps], opts);
    if (p.ready) {
      await opts.onReady?.(p);
      const err = await p.finished;
      if (err) {
        await p.exited;
        throw err;
      }
    }
    const st = await p.exited;
    return { ...st, out: readFileSync(file, 'utf8'), pid: p.pid };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}
