import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { HOSTS_DIR } from './fixtures.js';
import { BIN } from './live.js';

/**
 * Hostile host dumps for issue 6 #12–#18: a copy of a real fixture host (vm-hybrid-v1 by default)
 * in a temp dir named after this process, changed by the test. `cleanup()` removes every one made.
 */
const made: string[] = [];

export function hostileDump(mutate: (root: string) => void, host = 'vm-hybrid-v1'): string {
  const root = mkdtempSync(join(tmpdir(), `hostscope-hostile-${process.pid}-`));
  made.push(root);
  cpSync(join(HOSTS_DIR, host), root, { recursive: true, verbatimSymlinks: true });
  mutate(root);
  return root;
}

export function cleanupDumps(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function dumpArgs(root: string): string[] {
  return ['--proc-root', join(root, 'proc'), '--sys-root', join(root, 'sys')];
}

/**
 * Run the built cinf on a dump as a subprocess, killed after `timeoutMs`: a read that blocks on a
 * FIFO blocks the whole process, so an in-process test could not even fail.
 */
export function runCinfOn(root: string, args: string[], timeoutMs = 20_000): { code: number | null; signal: NodeJS.Signals | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN('cinf'), ...dumpArgs(root), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { code: r.status, signal: r.signal, out: r.stdout ?? '', err: r.stderr ?? '' };
}
