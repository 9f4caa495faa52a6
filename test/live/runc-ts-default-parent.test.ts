import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { BIN, IS_ROOT, has, runBin } from '../helpers/live.js';
import { CgroupParents } from '../helpers/run-parents.js';
import { exampleSpec, renderSpecJson } from '../../src/runtime/spec-default.js';
import { REMOVE_EMPTY_PARENT_ANNOTATION } from '../../src/runtime/state.js';
import { busyboxRootfs, underReaper, writeReaper } from '../helpers/reaper.js';

/**
 * runc-ts's default parent cgroup: a config.json without cgroupsPath puts the container in
 * `/runc-ts/<id>` of every hierarchy, and the container's end (delete, the end of a foreground
 * run) removes `/runc-ts` where it is left empty — rmdir only: while another container is in it,
 * it stays. A parent the config names is never removed. Real busybox containers; create and
 * delete under a python3 subreaper this test owns (the init outlives runc-ts create).
 *
 * Only this file uses `/runc-ts` (the other runtime tests name parents of their own). A parent
 * absent when the file starts is claimed (test/helpers/run-parents.ts) and removed in afterAll
 * where empty, whatever the tests did; one that existed before (a container someone runs by hand)
 * is left, and the checks below accept it only while it holds cgroups that are not ours.
 */
const ready = IS_ROOT && fs.existsSync('/bin/busybox') && has('python3');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-runcts-parent-${process.pid}-`));
const root = `${tmp}/root`;
const tag = `hs-par-${process.pid}-${randomBytes(3).toString('hex')}`;
const parents = new CgroupParents('runc-ts');
const reaper = writeReaper(`${tmp}/reap.py`);
let n = 0;
const ids: string[] = [];
/** parents named by a config (never runc-ts's to remove): removed here */
const userParents: string[] = [];
const HIERARCHIES = fs.readdirSync('/sys/fs/cgroup').filter((h) => fs.existsSync(`/sys/fs/cgroup/${h}/cgroup.procs`));
type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any

afterAll(() => {
  // a failed test may leave a container: kill and delete it through the runtime, then rmdir what is left
  if (ready) for (const id of ids) if (fs.existsSync(`${root}/${id}`)) under(`$R delete --force ${id}`);
  for (const h of HIERARCHIES) {
    for (const id of ids) {
      try {
        fs.rmdirSync(`/sys/fs/cgroup/${h}/runc-ts/${id}`);
      } catch {
        /* gone, as it should be */
      }
    }
    for (const p of userParents) {
      for (const id of ids) {
        try {
          fs.rmdirSync(`/sys/fs/cgroup/${h}${p}/${id}`);
        } catch {
          /* gone */
        }
      }
      try {
        fs.rmdirSync(`/sys/fs/cgroup/${h}${p}`);
      } catch {
        /* not made in this hierarchy */
      }
    }
  }
  parents.removeMade();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function bundle(script: string, mut: (c: J, id: string) => void = () => {}): { dir: string; id: string } {
  const id = `${tag}-${++n}`;
  ids.push(id);
  const dir = `${tmp}/${id}`;
  busyboxRootfs(dir, ['sh', 'cat', 'sleep']);
  const c = JSON.parse(renderSpecJson(exampleSpec()));
  c.process.terminal = false;
  c.process.args = ['sh', '-c', script];
  delete c.linux.cgroupsPath; // the default: /runc-ts/<id>
  mut(c, id);
  fs.writeFileSync(`${dir}/config.json`, JSON.stringify(c));
  return { dir, id };
}

/** a shell script under the subreaper; $R is runc-ts with our --root */
function under(script: string): { code: number; out: string; err: string } {
  return underReaper(reaper, ['sh', '-c', script], { timeout: 300_000, env: { ...process.env, R: `${process.execPath} ${BIN('runc-ts')} --root ${root}`, FORCE_COLOR: '0' } });
}

const subdirs = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);

/** hierarchies where `/runc-ts/<id>` exists */
const holding = (id: string): string[] => HIERARCHIES.filter((h) => fs.existsSync(`/sys/fs/cgroup/${h}/runc-ts/${id}`));

/**
 * No cgroup of ours under /runc-ts and no /runc-ts left empty, in any hierarchy: where /runc-ts
 * is still there, it holds cgroups of someone else's (none of ours).
 */
function noParentLeft(): void {
  for (const h of HIERARCHIES) {
    const dir = `/sys/fs/cgroup/${h}/runc-ts`;
    if (!fs.existsSync(dir)) continue;
    const left = subdirs(dir);
    expect(left.filter((d) => ids.includes(d)), h).toEqual([]);
    expect(left.length, `${dir} is left, empty`).toBeGreaterThan(0);
  }
}

function devNullUntouched(): void {
  const st = fs.statSync('/dev/null');
  expect([st.uid, st.gid, st.mode & 0o7777, st.isCharacterDevice(), st.rdev]).toEqual([0, 0, 0o666, true, 0x103]);
}

describe.skipIf(!ready && !process.env.CI)('runc-ts default parent cgroup /runc-ts', { timeout: 300_000 }, () => {
  it('run in the foreground without cgroupsPath: when the container ends no /runc-ts is left in any hierarchy', () => {
    const b = bundle('echo in-container; exit 3');
    const r = runBin('runc-ts', ['--root', root, 'run', '--bundle', b.dir, b.id]);
    expect(r.code, r.err).toBe(3);
    expect(r.out).toBe('in-container\n');
    expect(r.err).not.toMatch(/cgroup/); // (this host's bounding set draws a capability warning)
    expect(holding(b.id)).toEqual([]);
    noParentLeft();
    devNullUntouched();
  });

  it('two containers made by hand (create, start, delete): deleting one leaves /runc-ts to the other, deleting the last removes it in every hierarchy', () => {
    const a = bundle('while :; do sleep 1; done');
    const c = bundle('while :; do sleep 1; done');
    const r = under(
      `$R create --bundle ${a.dir} ${a.id} 2>&1; echo create-a=$?
       $R create --bundle ${c.dir} ${c.id} 2>&1; echo create-c=$?
       $R start ${a.id}; echo start-a=$?
       for h in ${HIERARCHIES.join(' ')}; do [ -d /sys/fs/cgroup/$h/runc-ts/${a.id} ] && echo "a-in $h"; [ -d /sys/fs/cgroup/$h/runc-ts/${c.id} ] && echo "c-in $h"; done
       $R kill ${a.id} KILL; echo kill-a=$?
       n=0; while [ "$($R state ${a.id} | grep -c '"status": "stopped"')" = 0 ] && [ $n -lt 500 ]; do n=$((n+1)); sleep 0.01; done
       $R delete ${a.id} 2>&1; echo delete-a=$?
       for h in ${HIERARCHIES.join(' ')}; do [ -d /sys/fs/cgroup/$h/runc-ts ] && echo "parent-after-a $h"; [ -d /sys/fs/cgroup/$h/runc-ts/${c.id} ] && echo "c-after-a $h"; done
       $R delete --force ${c.id} 2>&1; echo delete-c=$?`,
    );
    expect(r.out, r.err).toMatch(/^create-a=0$/m);
    expect(r.out).toMatch(/^create-c=0$/m);
    expect(r.out).toMatch(/^start-a=0$/m);
    const made = [...r.out.matchAll(/^a-in (\S+)$/gm)].map((m) => m[1]);
    // every hierarchy runc-ts manages here: the v1 controllers, name=systemd and the unified one
    expect(made.length).toBeGreaterThanOrEqual(5);
    expect([...r.out.matchAll(/^c-in (\S+)$/gm)].map((m) => m[1])).toEqual(made);
    expect(r.out).toMatch(/^kill-a=0$/m);
    expect(r.out).toMatch(/^delete-a=0$/m);
    // c still in it: the parent stays in every hierarchy (its rmdir was EBUSY: no warning, exit 0)
    expect([...r.out.matchAll(/^parent-after-a (\S+)$/gm)].map((m) => m[1])).toEqual(made);
    expect([...r.out.matchAll(/^c-after-a (\S+)$/gm)].map((m) => m[1])).toEqual(made);
    expect(r.out).toMatch(/^delete-c=0$/m);
    expect(r.out).not.toMatch(/cgroup/);
    expect(holding(a.id)).toEqual([]);
    expect(holding(c.id)).toEqual([]);
    noParentLeft();
    devNullUntouched();
  });

  it('parallel create/start/kill/delete under the default parent: none fails (a delete removing /runc-ts while another create makes its cgroup), nothing left', () => {
    const PAR = 6;
    const ROUNDS = 3;
    const bs = Array.from({ length: PAR * ROUNDS }, () => bundle('while :; do sleep 1; done'));
    const life = (b: { dir: string; id: string }) =>
      `$R create --bundle ${b.dir} ${b.id} || { echo FAIL create ${b.id}; exit 1; }
       $R start ${b.id} || { echo FAIL start ${b.id}; exit 1; }
       $R delete --force ${b.id} || { echo FAIL delete ${b.id}; exit 1; }
       echo done ${b.id}`;
    const lanes = Array.from({ length: PAR }, (_, k) => `( ${bs.filter((_, i) => i % PAR === k).map(life).join('\n')} ) &`);
    const r = under(`${lanes.join('\n')}\nfail=0; for j in $(jobs -p); do wait $j || fail=1; done; echo fail=$fail`);
    expect(r.out, r.err).not.toContain('FAIL');
    expect(r.out).toMatch(/^fail=0$/m);
    expect(r.out.split('\n').filter((l) => l.startsWith('done ')).length).toBe(PAR * ROUNDS);
    for (const b of bs) expect(holding(b.id), b.id).toEqual([]);
    noParentLeft();
    devNullUntouched();
  });

  it('a parent the config declares its own default (the annotation hostscope run writes): the end of its last container removes it, as /runc-ts', () => {
    const own = `/${tag}-decl`;
    userParents.push(own);
    const a = bundle('exit 0', (c, id) => {
      c.linux.cgroupsPath = `${own}/${id}`;
      c.annotations = { ...(c.annotations ?? {}), [REMOVE_EMPTY_PARENT_ANNOTATION]: 'true' };
    });
    const r = runBin('runc-ts', ['--root', root, 'run', '--bundle', a.dir, a.id]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/cgroup/);
    for (const h of HIERARCHIES) expect(fs.existsSync(`/sys/fs/cgroup/${h}${own}`), h).toBe(false);
    devNullUntouched();
  });

  it('a create racing the removal of its declared parent (a process rmdir-ing it in a loop): ENOENT on its own mkdir is retried, none fails', async () => {
    const own = `/${tag}-race`;
    userParents.push(own);
    const stop = `${tmp}/race.stop`;
    // rmdir of the empty parent in every hierarchy, as fast as it goes: what a parallel end does, at every instant
    const hammer = spawn('python3', ['-c', `import os, sys\nn = 0\nwhile not os.path.exists(sys.argv[1]):\n    for d in sys.argv[2:]:\n        try:\n            os.rmdir(d); n += 1\n        except OSError:\n            pass\nprint(n)`, stop, ...HIERARCHIES.map((h) => `/sys/fs/cgroup/${h}${own}`)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let removed = '';
    hammer.stdout.on('data', (d: Buffer) => (removed += d.toString()));
    const ended = new Promise((res) => hammer.on('close', res));
    try {
      const bs = Array.from({ length: 6 }, () =>
        bundle('while :; do sleep 1; done', (c, id) => {
          c.linux.cgroupsPath = `${own}/${id}`;
          c.annotations = { ...(c.annotations ?? {}), [REMOVE_EMPTY_PARENT_ANNOTATION]: 'true' };
        }),
      );
      const life = (b: { dir: string; id: string }) =>
        `$R create --bundle ${b.dir} ${b.id} 2>&1 || { echo FAIL create ${b.id}; exit 1; }
         $R start ${b.id} || { echo FAIL start ${b.id}; exit 1; }
         $R delete --force ${b.id} || { echo FAIL delete ${b.id}; exit 1; }
         echo done ${b.id}`;
      const lanes = [0, 1, 2].map((k) => `( ${bs.filter((_, i) => i % 3 === k).map(life).join('\n')} ) &`);
      const r = under(`${lanes.join('\n')}\nfail=0; for j in $(jobs -p); do wait $j || fail=1; done; echo fail=$fail`);
      expect(r.out, r.err).not.toContain('FAIL');
      expect(r.out).toMatch(/^fail=0$/m);
      expect(r.out.split('\n').filter((l) => l.startsWith('done ')).length).toBe(bs.length);
      for (const b of bs) for (const h of HIERARCHIES) expect(fs.existsSync(`/sys/fs/cgroup/${h}${own}/${b.id}`), `${h} ${b.id}`).toBe(false);
    } finally {
      fs.writeFileSync(stop, '');
      await ended;
    }
    // the loop did remove the parent (the creates did meet it gone)
    expect(Number(removed.trim())).toBeGreaterThan(0);
    devNullUntouched();
  });

  it('a parent the config names is never removed, /runc-ts included', () => {
    const own = `/${tag}-user`;
    userParents.push(own);
    const a = bundle('exit 0', (c, id) => (c.linux.cgroupsPath = `${own}/${id}`));
    const ra = runBin('runc-ts', ['--root', root, 'run', '--bundle', a.dir, a.id]);
    expect(ra.code, ra.err).toBe(0);
    // the default parent's name, given explicitly: the user's, so never removed (afterAll does, where this file made it)
    const b = bundle('while :; do sleep 1; done', (c, id) => (c.linux.cgroupsPath = `/runc-ts/${id}`));
    const r = under(`$R create --bundle ${b.dir} ${b.id}; echo create=$?; $R delete --force ${b.id}; echo delete=$?`);
    expect(r.out, r.err).toMatch(/^create=0\ndelete=0$/m);
    for (const h of HIERARCHIES) {
      // the directory of each container is gone, the parents named in config.json stay
      expect(fs.existsSync(`/sys/fs/cgroup/${h}${own}/${a.id}`), h).toBe(false);
      expect(fs.existsSync(`/sys/fs/cgroup/${h}${own}`), h).toBe(true);
      expect(fs.existsSync(`/sys/fs/cgroup/${h}/runc-ts/${b.id}`), h).toBe(false);
      expect(fs.existsSync(`/sys/fs/cgroup/${h}/runc-ts`), h).toBe(true);
    }
    devNullUntouched();
  });
});
