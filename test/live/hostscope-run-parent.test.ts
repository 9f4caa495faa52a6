import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, IS_ROOT } from '../helpers/live.js';
import { HostscopeParents } from '../helpers/run-parents.js';

/**
 * `hostscope run`'s parent cgroup `/hostscope`: made by the first container in every hierarchy,
 * removed by the end of the last one (the runtime's delete at the container's end, `rm`, a failed
 * create) where it is left empty — never while another container is in it. Real busybox
 * containers in a store of this test's own (HOSTSCOPE_RUN_ROOT); afterAll removes every container
 * of it even when a step failed.
 *
 * Other test files run hostscope containers at the same time, under the same `/hostscope`: a
 * parent still there is accepted only while it holds cgroups that are not ours (another file's
 * container may also be between its mkdir of `/hostscope` and of its own cgroup, or between its
 * rmdir of its cgroup and of `/hostscope`: an empty parent is looked at again for a while before
 * it counts as left behind). Parents absent when the file starts are claimed
 * (test/helpers/run-parents.ts) and removed in afterAll where empty, whatever the tests did.
 */
const ready = IS_ROOT && fs.existsSync('/bin/busybox') && fs.existsSync(path.join(BIN('hostscope'), '../../../build/Release/hostscope-monitor'));
const store = fs.mkdtempSync(path.join(os.tmpdir(), `hs-run-parent-${process.pid}-`));
const env = { ...process.env, HOSTSCOPE_RUN_ROOT: store, FORCE_COLOR: '0' };
const parents = new HostscopeParents();
const HIERARCHIES = fs.readdirSync('/sys/fs/cgroup').filter((h) => fs.existsSync(`/sys/fs/cgroup/${h}/cgroup.procs`));
/** every container id (or short id) this file made */
const ours: string[] = [];

function hs(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN('hostscope'), ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  return { code: r.status ?? 128, out: r.stdout, err: r.stderr };
}
function hsAsync(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN('hostscope'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (code) => resolve({ code: code ?? 128, out, err }));
  });
}
const ids = () => (fs.existsSync(`${store}/containers`) ? fs.readdirSync(`${store}/containers`) : []);
const subdirs = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
/** hierarchies where `/hostscope/<id>` exists */
const holding = (id: string): string[] => HIERARCHIES.filter((h) => fs.existsSync(`/sys/fs/cgroup/${h}/hostscope/${id}`));
const isOurs = (d: string) => ours.some((o) => d.startsWith(o));

/**
 * No cgroup of ours under /hostscope and no /hostscope left empty, in any hierarchy: where it is
 * still there it holds another test file's containers (an empty one is looked at again for ~5 s:
 * another file's container may be making or removing its cgroup just now).
 */
async function noParentLeft(): Promise<void> {
  for (const h of HIERARCHIES) {
    const dir = `/sys/fs/cgroup/${h}/hostscope`;
    let left: string[] | undefined;
    for (let k = 0; k < 50; k++) {
      if (!fs.existsSync(dir)) {
        left = undefined;
        break;
      }
      try {
        left = subdirs(dir);
      } catch {
        left = undefined; // removed meanwhile
        break;
      }
      if (left.length > 0) break;
      await sleep(100);
    }
    if (left === undefined) continue;
    expect(left.filter(isOurs), h).toEqual([]);
    expect(left.length, `${dir} is left, empty`).toBeGreaterThan(0);
  }
}

function devNullIntact(): void {
  const st = fs.statSync('/dev/null');
  expect([st.uid, st.gid, st.mode & 0o7777, st.isCharacterDevice(), st.rdev]).toEqual([0, 0, 0o666, true, 0x103]);
}

afterAll(() => {
  // (a loaded machine: the removal of every container may take a while)
  for (const id of ids()) hs('rm', '-f', id);
  for (const h of HIERARCHIES) {
    const dir = `/sys/fs/cgroup/${h}/hostscope`;
    if (!fs.existsSync(dir)) continue;
    for (const d of subdirs(dir).filter(isOurs)) {
      try {
        fs.rmdirSync(`${dir}/${d}`);
      } catch {
        /* gone, as it should be */
      }
    }
  }
  fs.rmSync(store, { recursive: true, force: true });
  parents.removeMade();
}, 240_000);

describe.skipIf(!ready && !process.env.CI)('hostscope run: the /hostscope parent cgroup goes with the last container', { timeout: 300_000 }, () => {
  it('foreground run --rm of a short command: no /hostscope/<id> and no empty /hostscope left in any hierarchy', async () => {
    // the container prints its hostname: its short id (the id of a foreground --rm container is never printed)
    const r = hs('run', '--rm', 'busybox', 'sh', '-c', 'hostname; exit 3');
    expect(r.code, r.err).toBe(3);
    const short = r.out.trim();
    expect(short).toMatch(/^[0-9a-f]{12}$/);
    ours.push(short);
    expect(r.err).toBe('');
    expect(ids().filter((i) => i.startsWith(short))).toEqual([]);
    await noParentLeft();
    devNullIntact();
  });

  it('two containers: rm -f of one leaves /hostscope to the other in every hierarchy; stop of the other (its end) removes it; rm after that finds nothing to do', async () => {
    const a = hs('run', '-d', 'busybox', 'sleep', '300');
    expect(a.code, a.err).toBe(0);
    const ida = a.out.trim();
    ours.push(ida);
    const b = hs('run', '-d', 'busybox', 'sleep', '300');
    expect(b.code, b.err).toBe(0);
    const idb = b.out.trim();
    ours.push(idb);
    const made = holding(ida);
    // every hierarchy the runtime manages here: the v1 controllers, name=systemd, the unified one
    expect(made.length).toBeGreaterThanOrEqual(5);
    expect(holding(idb)).toEqual(made);
    const ra = hs('rm', '-f', ida);
    expect([ra.code, ra.err]).toEqual([0, '']);
    expect(holding(ida)).toEqual([]);
    // b still in it: the parent stays (its rmdir was EBUSY: no word of it)
    for (const h of made) expect(fs.existsSync(`/sys/fs/cgroup/${h}/hostscope`), h).toBe(true);
    expect(holding(idb)).toEqual(made);
    const sb = hs('stop', '-t', '1', idb);
    expect([sb.code, sb.err]).toEqual([0, '']);
    expect(hs('ps', '-a').out).toMatch(new RegExp(`^${idb.slice(0, 12)} .*Exited \\((143|137)\\)`, 'm'));
    expect(holding(idb)).toEqual([]);
    await noParentLeft();
    const rb = hs('rm', idb);
    expect([rb.code, rb.err]).toEqual([0, '']);
    expect(ids().filter((i) => i === ida || i === idb)).toEqual([]);
    await noParentLeft();
    devNullIntact();
  });

  it('run -d of a container that ends by itself: its end removes /hostscope, no rm needed', async () => {
    const r = hs('run', '-d', 'busybox', 'true');
    expect(r.code, r.err).toBe(0);
    const id = r.out.trim();
    ours.push(id);
    const w = hs('wait', id);
    expect([w.code, w.out]).toEqual([0, '0\n']);
    expect(holding(id)).toEqual([]);
    await noParentLeft();
    expect(hs('rm', id).code).toBe(0);
  });

  it('a failed create (the runtime cannot make a mount): one line, no container, no /hostscope left', async () => {
    // a file bound over the rootfs' /bin (a directory): runc-ts's init fails during create, after the cgroup was made
    const before = ids();
    const r = hs('run', '--rm', '-v', '/etc/hostname:/bin', 'busybox', 'true');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^hostscope run: runc-ts: container init: .*\n$/);
    expect(ids()).toEqual(before);
    await noParentLeft();
    devNullIntact();
  });

  it('parallel run --rm (one container ending while another is made): none fails, nothing left', async () => {
    const LANES = 4;
    const ROUNDS = 3;
    const before = ids();
    const lane = async (k: number) => {
      const got: { code: number; out: string; err: string }[] = [];
      for (let i = 0; i < ROUNDS; i++) got.push(await hsAsync('run', '--rm', '--name', `hs-par-${process.pid}-${k}-${i}`, 'busybox', 'hostname'));
      return got;
    };
    const all = (await Promise.all(Array.from({ length: LANES }, (_, k) => lane(k)))).flat();
    for (const r of all) if (/^[0-9a-f]{12}$/.test(r.out.trim())) ours.push(r.out.trim());
    for (const r of all) expect([r.code, r.err]).toEqual([0, '']);
    expect(ids()).toEqual(before);
    await noParentLeft();
    devNullIntact();
  });
});
