import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { has, IS_ROOT, runBin } from '../helpers/live.js';

/** the built bin as a real subprocess, against runc 1.1 (Debian) in the same situations */
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmpdir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `hs-spec-${process.pid}-`));
  fs.chmodSync(d, 0o777);
  dirs.push(d);
  return d;
};
describe.skipIf(!has('runc') && !process.env.CI)('runc-ts spec vs runc spec (subprocess)', () => {
  for (const args of [[], ['--rootless']]) {
    it(`spec ${args.join(' ')}: same bytes, same mode`, () => {
      const a = tmpdir();
      const b = tmpdir();
      execFileSync('runc', ['spec', ...args, '--bundle', a]);
      const r = runBin('runc-ts', ['spec', ...args, '--bundle', b]);
      expect(r).toEqual({ code: 0, out: '', err: '' });
      expect(fs.readFileSync(`${b}/config.json`, 'utf8')).toBe(fs.readFileSync(`${a}/config.json`, 'utf8'));
      expect(fs.statSync(`${b}/config.json`).mode).toBe(fs.statSync(`${a}/config.json`).mode);
    });
  }
  it.skipIf(!IS_ROOT)('spec --rootless as uid 65534', () => {
    const a = tmpdir();
    const b = tmpdir();
    execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'runc', 'spec', '--rootless', '--bundle', a]);
    expect(runBin('runc-ts', ['spec', '--rootless', '--bundle', b], { asUser: 65534 }).code).toBe(0);
    expect(fs.readFileSync(`${b}/config.json`, 'utf8')).toBe(fs.readFileSync(`${a}/config.json`, 'utf8'));
  });
});
