/**
 * A model step that throws (a bug, an error no reader expected) must not leave HostScanner
 * returning an old model as current. The scanner's known processes move on to each scan before the
 * model is made; when that failed, the next scan — finding nothing new — used to return the model
 * of the scan before, without the process that had arrived (ctop and the exporter would never show
 * it until something else changed). Here modelSliced throws once, at the scan that finds a process
 * in a new UTS namespace (no twin in the model: a rebuild); the scan after must hold it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const fail = { once: false };
vi.mock(import('../../src/inspect/scan.js'), async (importOriginal) => {
  const orig = await importOriginal();
  return {
    ...orig,
    modelSliced: (...args: Parameters<typeof orig.modelSliced>) => {
      if (fail.once) {
        fail.once = false;
        return Promise.reject(new Error('a model step failed (injected)'));
      }
      return orig.modelSliced(...args);
    },
  };
});

const { openSource } = await import('../../src/source/source.js');
const { nativeScanAvailable } = await import('../../src/inspect/scan.js');
const { HostScanner } = await import('../../src/inspect/scanner.js');

const native = process.env.HOSTSCOPE_REQUIRE_NATIVE === '1' || nativeScanAvailable(openSource());
const root = process.geteuid?.() === 0;

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

describe.skipIf(!native || !root)('HostScanner after a model step threw', () => {
  it('rebuilds at the next scan: a process that arrived at the failed scan is in the model', async () => {
    const scanner = new HostScanner(openSource(), { files: ['ids'], containers: true, path: 'native', excludeSelf: true });
    await scanner.scan();
    const second = (child = spawn('unshare', ['--uts', 'sleep', '60'], { stdio: 'ignore' }));
    try {
      // until unshare has made its UTS namespace and exec'd sleep (no twin in the model: a rebuild)
      const mine = readlinkSync('/proc/self/ns/uts');
      let ready = false;
      for (let i = 0; i < 400 && !ready; i++) {
        try {
          ready = readlinkSync(`/proc/${second.pid}/ns/uts`) !== mine && readFileSync(`/proc/${second.pid}/comm`, 'utf8') === 'sleep\n';
        } catch {
          // not there yet
        }
        if (!ready) await new Promise((r) => setTimeout(r, 25));
      }
      expect(ready).toBe(true);
      const uts = readlinkSync(`/proc/${second.pid}/ns/uts`);
      fail.once = true;
      await expect(scanner.scan()).rejects.toThrow('injected');
      expect(fail.once).toBe(false); // the failure happened where meant: in the model step
      // the model of the scan before is set aside (on a busy host, other processes coming and
      // going would make the next scan rebuild anyway and hide a reuse: this says it directly)
      expect((scanner as unknown as { last: unknown }).last).toBeUndefined();
      const after = await scanner.scan();
      expect(after.stats.modelReused).toBe(false);
      expect(after.model.snapshot.processes.some((q) => q.pid === second.pid)).toBe(true);
      // in a UTS namespace group of its own (not only the host-wide ones every process is in)
      const inode = Number(/\[(\d+)\]/.exec(uts)![1]);
      const group = after.model.namespaces.find((g) => g.ns.type === 'uts' && g.ns.inode === inode);
      expect(group?.pids).toContain(second.pid);
    } finally {
      second.kill('SIGKILL');
    }
  });
});
