import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { BIN, IS_ROOT, has } from '../helpers/live.js';
import { exampleSpec, renderSpecJson } from '../../src/runtime/spec-default.js';

/**
 * Differential (stop 20, finding 2): runc's default spec (terminal off, `sleep 300`) asks for three
 * ambient capabilities with no inheritable set. runc 1.1.5 leaves them out without a word;
 * runc-ts printed `warning: process.capabilities.ambient: …` on run -d and on every exec.
 * Both runtimes get the same bundle; what each prints on stderr must be the same (nothing).
 */
const ready = IS_ROOT && has('runc') && fs.existsSync('/bin/busybox');
describe.skipIf(!ready && !process.env.CI)('warnings of run -d and exec: runc-ts vs runc on the default spec', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-runc-warn-${process.pid}-`));
  const tag = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const made: [string, string, string][] = []; // [tool, root, id]
  afterAll(() => {
    for (const [tool, root, id] of made) {
      const argv = tool === 'runc' ? ['runc', '--root', root] : [process.execPath, BIN('runc-ts'), '--root', root];
      spawnSync(argv[0]!, [...argv.slice(1), 'delete', '--force', id], { stdio: 'ignore', timeout: 60_000 });
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const bundle = `${tmp}/bundle`;
  fs.mkdirSync(`${bundle}/rootfs/bin`, { recursive: true });
  for (const d of ['proc', 'sys', 'dev']) fs.mkdirSync(`${bundle}/rootfs/${d}`);
  fs.copyFileSync('/bin/busybox', `${bundle}/rootfs/bin/busybox`);
  fs.chmodSync(`${bundle}/rootfs/bin/busybox`, 0o755);
  for (const x of ['sh', 'sleep', 'hostname']) fs.symlinkSync('busybox', `${bundle}/rootfs/bin/${x}`);
  const c = JSON.parse(renderSpecJson(exampleSpec()));
  c.process.terminal = false;
  c.process.args = ['sleep', '300'];
  fs.writeFileSync(`${bundle}/config.json`, JSON.stringify(c));

  function both(tool: 'runc' | 'runc-ts') {
    const root = `${tmp}/root-${tool}`;
    const id = `hs-warn-${tag}-${tool}`;
    const argv = tool === 'runc' ? ['runc', '--root', root] : [process.execPath, BIN('runc-ts'), '--root', root];
    // files, not pipes: the detached container inherits its stdio and would hold a pipe open
    let k = 0;
    const go = (...a: string[]) => {
      const o = `${tmp}/${tool}-${++k}.out`;
      const e = `${tmp}/${tool}-${k}.err`;
      const fo = fs.openSync(o, 'w');
      const fe = fs.openSync(e, 'w');
      try {
        const r = spawnSync(argv[0]!, [...argv.slice(1), ...a], { stdio: ['ignore', fo, fe], timeout: 60_000 });
        return { code: r.status, out: fs.readFileSync(o, 'utf8'), err: fs.readFileSync(e, 'utf8') };
      } finally {
        fs.closeSync(fo);
        fs.closeSync(fe);
      }
    };
    made.push([tool, root, id]);
    const run = go('run', '-d', '--bundle', bundle, id);
    const exec = go('exec', id, 'hostname');
    return { run, exec };
  }

  it('the default spec: neither prints a warning on run -d or exec', { timeout: 120_000 }, () => {
    const theirs = both('runc');
    const ours = both('runc-ts');
    expect(theirs.run).toEqual({ code: 0, out: '', err: '' });
    expect(theirs.exec).toEqual({ code: 0, out: 'runc\n', err: '' });
    expect(ours.run).toEqual(theirs.run);
    expect(ours.exec).toEqual(theirs.exec);
  });
});
