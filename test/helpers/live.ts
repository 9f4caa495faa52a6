import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export const IS_ROOT = process.geteuid?.() === 0;
export const ROOT_DIR = join(import.meta.dirname, '../..');
export const BIN = (name: string): string => join(ROOT_DIR, 'dist/bin', `${name}.js`);

export function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** run a compiled bin as a real subprocess (no TTY, no stdin) */
export function runBin(name: string, args: string[], opts: { asUser?: number } = {}): { code: number; out: string; err: string } {
  if (!existsSync(BIN(name))) throw new Error(`${BIN(name)} is missing: run 'npm run build' first (npm test does)`);
  const argv = opts.asUser === undefined ? [process.execPath, BIN(name), ...args] : ['setpriv', `--reuid=${opts.asUser}`, `--regid=${opts.asUser}`, '--clear-groups', process.execPath, BIN(name), ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status ?? 128 + (r.signal ? 9 : 0), out: r.stdout, err: r.stderr };
}

export function nsInode(pid: number, type: string): number | undefined {
  try {
    return Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${type}`))![1]);
  } catch {
    return undefined;
  }
}

export function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
