import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readExecFifo } from '../../src/runtime/container.js';

// runc start's side of exec.fifo (readExecFifo): it opens the FIFO O_NONBLOCK, so it can read
// before the init has opened its end; a FIFO without a writer reads as EOF. CI at 56efa9d failed
// `run -d` with "the init exited before it was released" in that window, the init alive.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hs-execfifo-${process.pid}-`));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
function fifo(name: string): string {
  const p = path.join(dir, name);
  expect(spawnSync('mkfifo', ['-m', '0622', p]).status).toBe(0);
  return p;
}

describe('readExecFifo', () => {
  it('waits while the init lives but has not opened its end yet, then takes its "0"', async () => {
    const p = fifo('late');
    const done = readExecFifo(p, () => false);
    await new Promise((r) => setTimeout(r, 60));
    // the init opens its end only now (our reader exists: a non-blocking write open succeeds)
    const w = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(w, '0');
    fs.closeSync(w);
    await expect(done).resolves.toBeUndefined();
  });
  it('an init that is gone with no byte written: one error, not a wait', async () => {
    const p = fifo('dead');
    await expect(readExecFifo(p, () => true)).rejects.toThrow(/has stopped|exited before it was released/);
  });
  it('an init that opened its end and closed it without writing, then died: the init exited', async () => {
    const p = fifo('closed');
    let dead = false;
    const done = readExecFifo(p, () => dead);
    await new Promise((r) => setTimeout(r, 20));
    fs.closeSync(fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    dead = true;
    await expect(done).rejects.toThrow('cannot start container: the init exited before it was released');
  });
});
