import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

/** issue 6 bug 1: `npm run capture` ran a file the build never makes, and refused --help. */
describe('npm run capture', () => {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.capture!;

  it('runs the file the build makes', () => {
    const file = /^node (\S+)/.exec(script)?.[1];
    expect(file).toBe('dist/scripts/capture.js');
    expect(existsSync(join(ROOT, file!))).toBe(true); // npm test builds first
  });

  it('--help prints the usage and exits 0', () => {
    const r = spawnSync('npm', ['run', '-s', 'capture', '--', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage:\n npm run capture -- --out <dir>/);
    expect(r.stderr).toBe('');
  });

  it.each([
    [['--bogus'], "capture: unrecognized option '--bogus'"],
    [['--out'], "capture: option '--out' requires an argument"],
    [['--out', '/tmp/x', '--pids', '1,x'], "capture: invalid --pids argument: '1,x'"],
    [[], 'capture: --out <dir> is required'],
  ])('%j is one line, a hint, exit 1', (args, message) => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/scripts/capture.js'), ...args], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`${message}\nTry 'npm run capture -- --help' for more information.\n`);
  });

  it('refuses to replace a directory that is not an earlier dump', () => {
    const dir = mkdtempSync(join(tmpdir(), `hostscope-capture-out-${process.pid}-`));
    try {
      writeFileSync(join(dir, 'keep-me'), 'x');
      const r = spawnSync(process.execPath, [join(ROOT, 'dist/scripts/capture.js'), '--out', dir, '--pids', '1'], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('holds no earlier dump');
      expect(existsSync(join(dir, 'keep-me'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
