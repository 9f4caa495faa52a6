import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { exampleSpec, renderSpecJson, rootlessSpec } from '../../src/runtime/spec-default.js';
import { validateSpec } from '../../src/runtime/spec.js';

const hasRunc = (() => {
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
// CI installs runc (.ci/run): there a missing runc fails instead of skipping
const needRunc = !hasRunc && !process.env.CI;
const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function runcSpec(args: string[], asUser?: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hs-runcspec-${process.pid}-`));
  dirs.push(dir);
  if (asUser === undefined) execFileSync('runc', ['spec', ...args, '--bundle', dir]);
  else {
    fs.chmodSync(dir, 0o777);
    execFileSync('setpriv', [`--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups', 'runc', 'spec', ...args, '--bundle', dir]);
  }
  return fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
}

describe('runc spec starter config (differential against Debian runc 1.1.x)', () => {
  it.skipIf(needRunc)('runc spec: byte-identical', () => {
    expect(renderSpecJson(exampleSpec())).toBe(runcSpec([]));
  });
  it.skipIf(needRunc)('runc spec --rootless as root: byte-identical (hostID 0)', () => {
    expect(renderSpecJson(rootlessSpec(process.geteuid!(), process.getegid!()))).toBe(runcSpec(['--rootless']));
  });
  it.skipIf(needRunc || !isRoot)('runc spec --rootless as uid 65534: the mapping names the caller', () => {
    expect(renderSpecJson(rootlessSpec(65534, 65534))).toBe(runcSpec(['--rootless'], 65534));
  });
  it('both starters pass our own validation', () => {
    const host = { apparmor: false, selinux: false };
    const { spec } = validateSpec(JSON.parse(renderSpecJson(exampleSpec())), host);
    expect(spec.linux.namespaces.map((n) => n.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount']);
    const r = validateSpec(JSON.parse(renderSpecJson(rootlessSpec(1000, 1000))), host).spec;
    expect(r.linux.uidMappings).toEqual([{ containerID: 0, hostID: 1000, size: 1 }]);
  });
  it('Go escapes <, > and & in strings; so do we', () => {
    expect(renderSpecJson({ a: 'x<y>&z' })).toBe('{\n\t"a": "x\\u003cy\\u003e\\u0026z"\n}');
  });
});
