import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, IS_ROOT } from '../helpers/live.js';
import { HostscopeParents } from '../helpers/run-parents.js';

/**
 * Issue 9's Done-when, step by step with hostscope's own commands only (no cat of /proc, no docker):
 * run a detached container with a name and limits; find it with `hostscope top` and cinf; read its
 * environment, namespaces, cgroup limits, seccomp mode and capabilities (cinf, capdecode); share its
 * network namespace with a second container (same net inode, different others); enter it with
 * nsenter-ts; change a limit live; stop it and see its exit code and logs; remove both, nothing
 * left. Its own store (HOSTSCOPE_RUN_ROOT); afterAll removes everything even when a step failed.
 */
const ready = IS_ROOT && fs.existsSync('/bin/busybox') && fs.existsSync(path.join(BIN('hostscope'), '../../../build/Release/hostscope-monitor'));
const store = fs.mkdtempSync(path.join(os.tmpdir(), `hs-seed-walk-${process.pid}-`));
const env = { ...process.env, HOSTSCOPE_RUN_ROOT: store, FORCE_COLOR: '0' };
const db = `walk-db-${process.pid}`;
const web = `walk-web-${process.pid}`;
const parents = new HostscopeParents();

function tool(bin: string, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN(bin), ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  return { code: r.status ?? 128, out: r.stdout, err: r.stderr };
}
const hs = (...a: string[]) => tool('hostscope', ...a);
const ids = () => (fs.existsSync(`${store}/containers`) ? fs.readdirSync(`${store}/containers`) : []);
/** the NAMESPACES rows of a story: type → [inode, shared] */
function nsRows(story: string): Map<string, [string, string]> {
  const block = story.split('\nNAMESPACES')[1]!.split('\n\n')[0]!;
  const m = new Map<string, [string, string]>();
  for (const l of block.split('\n').slice(2)) {
    const f = /^\s+(\S+)\s+(\d+)\s+(.*?)\s+(\d+)?$/.exec(l);
    if (f) m.set(f[1]!, [f[2]!, f[3]!.trim()]);
  }
  return m;
}

afterAll(() => {
  for (const id of ids()) hs('rm', '-f', id);
  fs.rmSync(store, { recursive: true, force: true });
  parents.removeMade();
}, 240_000);

describe.skipIf(!ready && !process.env.CI)('the seeds’ walk with hostscope alone', { timeout: 240_000 }, () => {
  let pid = 0;
  let dbId = '';

  it('run -d --name db --memory 64m --pids-limit 50 -e …; hostscope top and cinf find it by name', () => {
    const r = hs('run', '-d', '--name', db, '--memory', '64m', '--pids-limit', '50', '-e', 'DB_PASSWORD=walk-secret', 'busybox', 'sh', '-c', 'echo db ready; exec sleep 100000');
    expect(r.code, r.err).toBe(0);
    dbId = r.out.trim();
    expect(dbId).toMatch(/^[0-9a-f]{64}$/);
    const top = hs('top', db);
    expect(top.code, top.err).toBe(0);
    const rows = top.out.trim().split('\n');
    expect(rows[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(rows).toHaveLength(2);
    pid = Number(rows[1]!.trim().split(/\s+/)[1]);
    expect(pid).toBeGreaterThan(1);
    expect(rows[1]).toMatch(/sleep 100000$/);
    // cinf lists the container's namespaces under its name
    const list = tool('cinf', '-o', 'NS,TYPE,PID,CONTAINER');
    expect(list.out).toMatch(new RegExp(`^\\s*\\d+ pid\\s+${pid} ${db}$`, 'm'));
  });

  it('cinf --container db: its environment, namespaces, cgroup limits, seccomp and no_new_privs, capabilities', () => {
    const s = tool('cinf', '--container', db, '--env');
    expect(s.code, s.err).toBe(0);
    expect(s.out).toContain(`container ${db} (hostscope, ${dbId}`);
    expect(s.out).toMatch(/^ {2}DB_PASSWORD=walk-secret$/m);
    const ns = nsRows(s.out);
    for (const t of ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup']) expect(ns.get(t)?.[1], t).toMatch(/^own/);
    expect(ns.get('user')?.[1]).toBe('host');
    expect(s.out).toMatch(/^ {2}memory .*limit 64\.0 MiB/m);
    expect(s.out).toMatch(/^ {2}pids +current 1, max 50/m);
    expect(s.out).toMatch(/^ {2}seccomp +filter \(1 filter\)$/m);
    expect(s.out).toMatch(/^ {2}no_new_privs +yes$/m);
    // docker's default capability set, also as capdecode --pid shows it (capsh --decode's words)
    expect(s.out).toMatch(/^ {2}effective +00000000a80425fb /m);
    const caps = tool('capdecode', '--pid', String(pid));
    expect(caps.code, caps.err).toBe(0);
    expect(caps.out).toMatch(/^CapEff:\t0x00000000a80425fb=cap_chown,cap_dac_override,cap_fowner,cap_fsetid,cap_kill,cap_setgid,cap_setuid,cap_setpcap,cap_net_bind_service,cap_net_raw,cap_sys_chroot,cap_mknod,cap_audit_write,cap_setfcap$/m);
    expect(caps.out).toMatch(/^CapAmb:\t0x0000000000000000=$/m);
  });

  it('a second container with --net container:db: the same net inode, every other namespace its own', () => {
    const r = hs('run', '-d', '--name', web, '--net', `container:${db}`, 'busybox', 'sleep', '100000');
    expect(r.code, r.err).toBe(0);
    const a = nsRows(tool('cinf', '--container', db).out);
    const b = nsRows(tool('cinf', '--container', web).out);
    expect(b.get('net')![0]).toBe(a.get('net')![0]);
    expect(a.get('net')![1]).toBe(`own (also ${web})`);
    for (const t of ['mnt', 'uts', 'ipc', 'pid', 'cgroup']) expect(b.get(t)![0], t).not.toBe(a.get(t)![0]);
  });

  it('nsenter-ts --container db -a runs inside: its hostname, and its own pid 1 in ps', () => {
    const h = tool('nsenter-ts', '--container', db, '-a', 'hostname');
    expect(h.code, h.err).toBe(0);
    expect(h.out.trim()).toBe(dbId.slice(0, 12));
    const ps = tool('nsenter-ts', '--container', db, '-a', 'ps', '-o', 'pid,comm');
    expect(ps.code, ps.err).toBe(0);
    expect(ps.out).toMatch(/^\s*1 sleep$/m);
  });

  it('update --memory 32m --pids-limit 20 changes the live limits, as cinf reads them', () => {
    const u = hs('update', '--memory', '32m', '--pids-limit', '20', db);
    expect(u.code, u.err).toBe(0);
    const s = tool('cinf', '--container', db).out;
    expect(s).toMatch(/^ {2}memory .*limit 32\.0 MiB/m);
    expect(s).toMatch(/^ {2}pids +current 1, max 20/m);
  });

  it('stop: ps -a shows the exit code, logs show what it printed; rm of both leaves nothing', () => {
    expect(hs('stop', '-t', '1', db).code).toBe(0);
    const ps = hs('ps', '-a');
    expect(ps.out).toMatch(new RegExp(`Exited \\((137|143)\\) .* ${db}\\n`));
    expect(hs('logs', db).out).toBe('db ready\n');
    expect(hs('rm', db).code).toBe(0);
    expect(hs('rm', '-f', web).code).toBe(0);
    expect(ids()).toEqual([]);
    expect(hs('ps', '-a').out.trim().split('\n')).toHaveLength(1);
    for (const h of fs.readdirSync('/sys/fs/cgroup')) expect(fs.existsSync(`/sys/fs/cgroup/${h}/hostscope/${dbId}`), h).toBe(false);
    expect(fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
  });
});
