import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, IS_ROOT } from '../helpers/live.js';
import { HostscopeParents } from '../helpers/run-parents.js';

/**
 * `run --userns auto` on a store root that `run` itself creates (as /run/hostscope on a fresh
 * host): the root must come out 0711, or the mapped root (host uid 100000) cannot reach its
 * rootfs and the init fails with `mount(rootfs, rootfs, rbind): Permission denied`. The temp dir
 * above the store is 0711, as /run is searchable. Every container is removed in afterAll.
 */
const ready = IS_ROOT && fs.existsSync('/bin/busybox') && fs.existsSync(path.join(BIN('hostscope'), '../../../build/Release/hostscope-monitor'));
const parent = fs.mkdtempSync(path.join(os.tmpdir(), `hs-run-userns-${process.pid}-`));
fs.chmodSync(parent, 0o711);
const store = path.join(parent, 'store');
const env = { ...process.env, HOSTSCOPE_RUN_ROOT: store, FORCE_COLOR: '0' };
const parents = new HostscopeParents();
const devNull = () => {
  const st = fs.statSync('/dev/null');
  return [st.uid, st.gid, st.mode & 0o7777];
};
const devNullBefore = devNull();

function hs(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN('hostscope'), ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
  return { code: r.status ?? 128, out: r.stdout, err: r.stderr };
}

afterAll(() => {
  const dir = path.join(store, 'containers');
  for (const id of fs.existsSync(dir) ? fs.readdirSync(dir) : []) hs('rm', '-f', id);
  fs.rmSync(parent, { recursive: true, force: true });
  parents.removeMade();
  const now = devNull();
  if (now.join() !== devNullBefore.join()) {
    fs.chownSync('/dev/null', devNullBefore[0]!, devNullBefore[1]!);
    fs.chmodSync('/dev/null', devNullBefore[2]!);
  }
}, 120_000);

describe.skipIf(!ready && !process.env.CI)('hostscope run --userns auto on a fresh store root', { timeout: 120_000 }, () => {
  it('runs as root inside, mapped to 100000; the root it made is 0711, names 0700', () => {
    expect(fs.existsSync(store)).toBe(false);
    const r = hs('run', '--rm', '--userns', 'auto', 'busybox', 'sh', '-c', 'id -u; cat /proc/self/uid_map');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe('0');
    expect(r.out.split('\n')[1]!.trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
    expect(fs.statSync(store).mode & 0o7777).toBe(0o711);
    expect(fs.statSync(path.join(store, 'names')).mode & 0o7777).toBe(0o700);
    expect(devNull()).toEqual(devNullBefore);
  });

  it('a store root the mapped root cannot search: one line naming it, nothing left behind', () => {
    fs.chmodSync(store, 0o700);
    try {
      const r = hs('run', '--rm', '--userns', 'auto', 'busybox', 'true');
      expect([r.code, r.err]).toEqual([1, `hostscope run: --userns: the container's root (host uid 100000) cannot reach its rootfs: ${store} is mode 0700 (chmod o+x ${store})\n`]);
      expect(fs.readdirSync(path.join(store, 'containers'))).toEqual([]);
    } finally {
      fs.chmodSync(store, 0o711);
    }
  });
});
