import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { DirectoryProcSource, type ProcSource } from '../../src/source/source.js';
import { ProcError } from '../../src/source/errors.js';
import { takeSnapshot } from '../../src/proc/snapshot.js';
import { readProcess } from '../../src/proc/process.js';
import { inspectHost } from '../../src/inspect/host.js';
import { fixtureSource } from '../helpers/fixtures.js';

/** a source over a fixture where chosen pids exit after being listed: ENOENT or ESRCH mid-read */
function vanishing(base: ProcSource, gone: Map<number, 'ENOENT' | 'ESRCH'>, afterFile?: string): ProcSource {
  const check = (rel: string): void => {
    const pid = Number(rel.split('/')[0]);
    const errno = gone.get(pid);
    if (errno && (!afterFile || !rel.endsWith(afterFile))) throw new ProcError('PROCESS_GONE', rel, `gone: ${rel}`, errno);
  };
  return Object.assign(Object.create(Object.getPrototypeOf(base)), base, {
    readProc: (rel: string) => (check(rel), base.readProc(rel)),
    readProcText: (rel: string) => (check(rel), base.readProcText(rel)),
    readProcTextBytes: (rel: string) => (check(rel), base.readProcTextBytes(rel)),
    readProcLink: (rel: string) => (check(rel), base.readProcLink(rel)),
  }) as ProcSource;
}

describe('processes that exit while they are read', () => {
  const base = fixtureSource('v2-docker-systemd');

  it('are counted as vanished and left out; the scan goes on (ENOENT and ESRCH alike)', () => {
    const src = vanishing(base, new Map([[1234, 'ENOENT'], [1300, 'ESRCH']]));
    const snap = takeSnapshot(src, { files: ['stat', 'status', 'ns', 'cgroup'] });
    expect(snap.vanished).toBe(2);
    expect(snap.processes.map((p) => p.pid)).not.toContain(1234);
    expect(snap.processes.map((p) => p.pid)).toContain(1301);
  });

  it('a process gone after its stat was read is skipped whole, not shown with holes', () => {
    const src = vanishing(base, new Map([[1400, 'ESRCH']]), 'stat');
    const snap = takeSnapshot(src, { files: ['stat', 'status', 'ns'] });
    expect(snap.processes.find((x) => x.pid === 1400)).toBeUndefined();
    expect(snap.vanished).toBe(1);
  });

  it('a zombie is partial by nature and stays', () => {
    const snap = takeSnapshot(fixtureSource('vm-hybrid-v1'), { files: ['stat', 'status', 'ns', 'mountinfo'] });
    const z = snap.processes.find((p) => p.status?.state === 'Z')!;
    expect(z.errors.mountinfo).toBe('PROCESS_GONE');
    expect(snap.vanished).toBe(0);
  });

  it('a pid reused by a new process while it is read is not mixed with the old one', () => {
    let reads = 0;
    // stat is read as bytes (its comm may not be UTF-8), the rest as text: both see the reuse
    const later = (read: (rel: string) => string) => (rel: string) => {
      const text = read(rel);
      // the second read of 1234/stat sees a process started later under the same pid
      if (rel === '1234/stat' && reads++ > 0) return text.replace(/^(\S+ \(.*\) (?:\S+ ){19})(\d+)/, (_m, pre: string, t: string) => `${pre}${Number(t) + 1}`);
      return text;
    };
    const reused = Object.assign(Object.create(Object.getPrototypeOf(base)), base, {
      readProcText: later((rel) => base.readProcText(rel)),
      readProcTextBytes: later((rel) => base.readProcTextBytes(rel)),
    }) as ProcSource;
    expect(readProcess(base, 1234, ['status', 'cgroup'], { verifyIdentity: true })?.status?.name).toBe('redis-server');
    expect(readProcess(reused, 1234, ['status', 'cgroup'], { verifyIdentity: true })).toBeUndefined();
  });

  it('the whole model builds while processes come and go on the live host', async () => {
    const churn = spawn('sh', ['-c', 'for i in $(seq 400); do /bin/true & done; wait'], { stdio: 'ignore' });
    const exited = once(churn, 'exit');
    const live = new DirectoryProcSource();
    let scans = 0;
    try {
      while (churn.exitCode === null && scans < 200) {
        const host = inspectHost(live, { containers: true, files: ['status', 'cmdline'] });
        expect(host.namespaces.length).toBeGreaterThan(0);
        scans++;
        await new Promise((r) => setImmediate(r));
      }
      expect(scans).toBeGreaterThan(0);
    } finally {
      await exited; // what the test started ends before the test does
    }
  });
});
