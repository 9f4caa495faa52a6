// The addon's watches at Node's exit: a watch left armed (unref'd, as `runc-ts run -d` and `create`
// leave the report pipe's and the init's) whose fd becomes ready while Node tears its env down.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNative } from '../../src/native/index.js';
import { ROOT_DIR } from '../helpers/live.js';

const addon = path.join(ROOT_DIR, 'build/Release/hostscope_native.node');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-teardown-${process.pid}-`));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// A report watch on a FIFO's read end, unref'd, so Node exits with it armed. The only writer is a
// fs.promises FileHandle left open: Node closes it when its realm's objects are cleaned up, after
// the loop ended and before the env's cleanup hooks (N-API's frees the napi_env), and then polls
// the loop again while its own handles close, so the EOF is seen by a watch whose env is gone.
// Before the fix this segfaulted every time, in napi_open_handle_scope from report_fired (the
// backtrace of the `runc-ts run -d` crash, where the EOF is the init's exec closing the pipe).
const SCRIPT = `
const fs = require('node:fs');
const [addon, fifo] = process.argv.slice(1);
const b = require(addon);
const r = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
b.watchReports(r, (kind) => console.log('report', kind));
if (!b.setRef(r, false)) throw new Error('no watch of ' + r);
fs.promises.open(fifo, 'w').then((fh) => { globalThis.writer = fh; console.log('armed'); });
`;

describe.skipIf(!loadNative())('native watches at exit', () => {
  it('a watch still armed when Node exits is stopped with the env: an EOF during teardown is no segfault', () => {
    const fifo = path.join(tmp, 'report');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    for (let i = 0; i < 3; i++) {
      const r = spawnSync(process.execPath, ['-e', SCRIPT, addon, fifo], { encoding: 'utf8', timeout: 30_000 });
      expect({ status: r.status, signal: r.signal, out: r.stdout, err: r.stderr }).toEqual({ status: 0, signal: null, out: 'armed\n', err: '' });
    }
  });
});
