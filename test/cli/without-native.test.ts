import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_DIR } from '../helpers/live.js';

/** A package whose addon could not be built: copy dist and package.json, but no build/. */
describe('without the native addon', () => {
  it('inspection commands work; nsenter-ts says what is missing in one line, exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostscope-nonative-'));
    try {
      cpSync(join(ROOT_DIR, 'dist'), join(dir, 'dist'), { recursive: true });
      cpSync(join(ROOT_DIR, 'package.json'), join(dir, 'package.json'));
      cpSync(join(ROOT_DIR, 'binding.gyp'), join(dir, 'binding.gyp'));
      symlinkSync(join(ROOT_DIR, 'node_modules'), join(dir, 'node_modules'));
      const run = (bin: string, args: string[]) => spawnSync(process.execPath, [join(dir, 'dist/bin', `${bin}.js`), ...args], { encoding: 'utf8' });
      const cinf = run('cinf', ['-t', 'net', '-o', 'NS,TYPE', '-n']);
      expect(cinf.status).toBe(0);
      expect(cinf.stdout).toMatch(/^\d+ net$/m);
      const pns = run('cinf', ['-t', 'net', '-o', 'NS,PNS', '-n']);
      expect(pns.stdout).toMatch(/^\d+ -$/m); // asked for, not available: '-'
      const ns = run('nsenter-ts', ['-t', String(process.pid), '-n', 'true']);
      expect(ns.status).toBe(1);
      expect(ns.stderr).toMatch(/^nsenter-ts: the native addon is not built \(.*\); run 'npm rebuild' with a C compiler and the Node headers installed\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
