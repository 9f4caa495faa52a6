import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spawned, waitFor } from '../../scripts/lib/spawned.js';
import { IS_ROOT, childrenOf, has, nsInode } from '../helpers/live.js';
import { NATIVE } from '../helpers/native.js';
import { captureDeps } from '../helpers/fixtures.js';
import { cinfMain } from '../../cli/cinf.js';

/**
 * Issue 10, the last name source: two `unshare` sandboxes (no runtime, no cgroup of their own, no
 * HOSTNAME in their environment) are told apart by the hostname each set in its own uts
 * namespace, read by a native child that setns()'d into it — not `sh` and `sh`.
 */
describe.skipIf(!IS_ROOT || !NATIVE || !has('unshare'))('live: unnamed containers are named by their UTS hostname', () => {
  const spawned = new Spawned();
  const tag = `${process.pid}${Math.random().toString(36).slice(2, 6)}`;
  // three sandboxes, read by one child (stop 20: one fork visits every uts namespace); the third's
  // hostname is HOST_NAME_MAX (64) bytes, the longest the kernel keeps
  const names = [`hs-a-${tag}`, `hs-b-${tag}`, `hs-c-${tag}-`.padEnd(64, 'x')];
  const inits: number[] = [];

  beforeAll(async () => {
    for (const n of names) {
      const u = spawned.start('unshare', ['--uts', '--pid', '--fork', '--mount-proc', 'sh', '-c', `hostname ${n}; exec sleep 600`]);
      expect(await waitFor(() => childrenOf(u.pid!).length === 1)).toBe(true);
      const init = childrenOf(u.pid!)[0]!;
      // the hostname is set once sh has exec'd sleep
      expect(await waitFor(() => { try { return readFileSync(`/proc/${init}/comm`, 'utf8').trim() === 'sleep'; } catch { return false; } })).toBe(true);
      inits.push(init);
    }
    expect(nsInode(inits[0]!, 'uts')).not.toBe(nsInode(process.pid, 'uts'));
    // a fourth sandbox never sets a hostname: its uts namespace holds a copy of the host's
    const u = spawned.start('unshare', ['--uts', '--pid', '--fork', '--mount-proc', 'sleep', '600']);
    expect(await waitFor(() => childrenOf(u.pid!).length === 1)).toBe(true);
    copied = childrenOf(u.pid!)[0]!;
  });
  let copied = 0;

  it('a sandbox that never set a hostname is not named after the host (the copy names nothing)', async () => {
    const deps = captureDeps();
    expect(await cinfMain(['-t', 'uts', '--json', '-o', 'NS,PID,CONTAINER'], deps)).toBe(0);
    const rows = (JSON.parse(deps.out()) as { namespaces: { ns: number; container: string[] }[] }).namespaces;
    const row = rows.find((r) => r.ns === nsInode(copied, 'uts'));
    expect(row).toBeDefined();
    expect(row?.container).not.toEqual([hostname()]);
    expect(row?.container).toEqual(['sleep']);
  });
  afterAll(async () => {
    await spawned.stopAll();
  });

  it('cinf -t uts -o CONTAINER shows each sandbox by its hostname', async () => {
    const deps = captureDeps();
    const code = await cinfMain(['-t', 'uts', '--json', '-o', 'NS,PID,CONTAINER'], deps);
    expect(code).toBe(0);
    const rows = (JSON.parse(deps.out()) as { namespaces: { ns: number; container: string[] }[] }).namespaces;
    for (const [i, init] of inits.entries()) {
      const row = rows.find((r) => r.ns === nsInode(init, 'uts'));
      expect(row?.container).toEqual([names[i]]);
    }
  });

  it('stop 20 C: the hostnames are read without a temp file (a Ctrl-C mid-read left /tmp/hostscope-uts-PID-*)', async () => {
    // the reader's temp dir (os.tmpdir() follows TMPDIR) must not change at all: no entry made,
    // so none can be left behind however the process is stopped
    const dir = mkdtempSync(join(tmpdir(), 'hs-uts-tmp-'));
    const was = process.env.TMPDIR;
    try {
      const before = statSync(dir, { bigint: true }).mtimeNs;
      process.env.TMPDIR = dir;
      const deps = captureDeps();
      expect(await cinfMain(['-t', 'uts', '--json', '-o', 'NS,CONTAINER'], deps)).toBe(0);
      expect(deps.out()).toContain(names[0]);
      expect(readdirSync(dir)).toEqual([]);
      expect(statSync(dir, { bigint: true }).mtimeNs).toBe(before);
    } finally {
      if (was === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = was;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the host /etc/hostname would have named both the same (why the uts namespace is read, not the file)', () => {
    expect(readFileSync(`/proc/${inits[0]}/root/etc/hostname`, 'utf8')).toBe(readFileSync(`/proc/${inits[1]}/root/etc/hostname`, 'utf8'));
  });
});
