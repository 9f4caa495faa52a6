import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { BIN, IS_ROOT, nsInode } from '../helpers/live.js';
import { HostscopeParents } from '../helpers/run-parents.js';

/**
 * The seeds' walk with hostscope alone, on real busybox containers this test makes: run -d with a
 * name and limits, ps, inspect, cinf, the name lock, exec, a second container sharing the first's
 * network namespace, stop, ps -a, logs, rm leaving nothing. The store is a temp dir of this test
 * (HOSTSCOPE_RUN_ROOT); every container is removed in afterAll even when a step failed.
 */
const ready = IS_ROOT && fs.existsSync('/bin/busybox') && fs.existsSync(path.join(BIN('hostscope'), '../../../build/Release/hostscope-monitor'));
const store = fs.mkdtempSync(path.join(os.tmpdir(), `hs-run-live-${process.pid}-`));
const env = { ...process.env, HOSTSCOPE_RUN_ROOT: store, FORCE_COLOR: '0' };
const name = `t-${process.pid}`;
const parents = new HostscopeParents();

function hs(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN('hostscope'), ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
  return { code: r.status ?? 128, out: r.stdout, err: r.stderr };
}
function cinf(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN('cinf'), ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status ?? 128, out: r.stdout, err: r.stderr };
}
/** a command, docker's status and its line (runc's exec.LookPath texts) */
const CANNOT_RUN: [string, number, string][] = [
  ['nosuchcmd', 127, 'exec: "nosuchcmd": executable file not found in $PATH'],
  ['/nosuch', 127, 'exec: "/nosuch": stat /nosuch: no such file or directory'],
  ['/etc/passwd', 126, 'exec: "/etc/passwd": permission denied'],
  ['/bin', 126, 'exec: "/bin": is a directory'],
];
const ids = () => (fs.existsSync(`${store}/containers`) ? fs.readdirSync(`${store}/containers`) : []);
const cgroupDirs = (id: string) => fs.readdirSync('/sys/fs/cgroup').filter((h) => fs.existsSync(`/sys/fs/cgroup/${h}/hostscope/${id}`));
function devNullIntact() {
  const st = fs.statSync('/dev/null');
  expect([st.uid, st.gid, st.mode & 0o7777, st.isCharacterDevice(), st.rdev]).toEqual([0, 0, 0o666, true, 0x103]);
}
function inspectPid(ref: string): number {
  const r = hs('inspect', ref);
  expect(r.code, r.err).toBe(0);
  return (JSON.parse(r.out) as { State: { Pid: number } }[])[0]!.State.Pid;
}

afterAll(() => {
  // (a loaded machine: the removal of every container may take a while)
  for (const id of ids()) hs('rm', '-f', id);
  fs.rmSync(store, { recursive: true, force: true });
  parents.removeMade();
}, 240_000);

describe.skipIf(!ready && !process.env.CI)('hostscope run: the seeds’ walk on real busybox containers', { timeout: 240_000 }, () => {
  let id = '';
  let pid = 0;
  let id2 = '';

  it('run -d --name --memory 64m --pids-limit 50 prints a 64-hex id; ps shows it Up', () => {
    const r = hs('run', '-d', '--name', name, '--memory', '64m', '--pids-limit', '50', 'busybox', 'sh', '-c', `echo hello-${process.pid}; exec sleep 300`);
    expect(r.code, r.err).toBe(0);
    id = r.out.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ps = hs('ps');
    expect(ps.out.split('\n')[0]).toMatch(/^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +NAMES$/);
    const row = ps.out.split('\n').find((l) => l.startsWith(id.slice(0, 12)));
    expect(row).toMatch(new RegExp(`^${id.slice(0, 12)} +busybox +"sh -c echo hello-.*" +.* ago +Up .* +${name}$`));
    const j = hs('ps', '--format', 'json');
    expect(JSON.parse(j.out.trim().split('\n').find((l) => l.includes(id))!)).toMatchObject({ ID: id, Names: name, State: 'running' });
  });

  it('inspect gives the init pid; its cgroup has the limits; cinf sees its namespaces and the container', () => {
    pid = inspectPid(name);
    expect(pid).toBeGreaterThan(1);
    expect(fs.readFileSync(`/sys/fs/cgroup/memory/hostscope/${id}/memory.limit_in_bytes`, 'utf8').trim()).toBe('67108864');
    expect(fs.readFileSync(`/sys/fs/cgroup/pids/hostscope/${id}/pids.max`, 'utf8').trim()).toBe('50');
    const c = cinf('--pid', String(pid));
    expect(c.code, c.err).toBe(0);
    expect(c.out).toContain(`hostscope ${id}`);
    for (const t of ['mnt', 'net', 'pid', 'uts', 'ipc', 'cgroup']) expect(c.out).toMatch(new RegExp(`\\n  ${t} +\\d+ own`));
    const cfg = JSON.parse(hs('inspect', name).out)[0].Config;
    expect(cfg.annotations['org.hostscope.name']).toBe(name);
    expect(fs.readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Seccomp:\s+2$/m);
  });

  it('top lists the init with its host pid, as ps -ef does; update --memory 32m changes memory.limit_in_bytes live', () => {
    const t = hs('top', name);
    expect(t.code, t.err).toBe(0);
    const lines = t.out.trim().split('\n');
    expect(lines[0]).toMatch(/^UID {17}PID {17}PPID {16}C {19}STIME {15}TTY {17}TIME {16}CMD$/);
    const ps = spawnSync('ps', ['-o', 'user=,pid=,ppid=,tty=,cmd=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim().split(/\s+/);
    const row = lines.find((l) => l.split(/\s+/)[1] === String(pid))!.split(/\s+/);
    expect([row[0], row[1], row[2], row[5], row.slice(7).join(' ')]).toEqual([ps[0], ps[1], ps[2], ps[3], ps.slice(4).join(' ')]);
    const u = hs('update', '--memory', '32m', '--pids-limit', '20', name);
    expect(u.code, u.err).toBe(0);
    expect(fs.readFileSync(`/sys/fs/cgroup/memory/hostscope/${id}/memory.limit_in_bytes`, 'utf8').trim()).toBe('33554432');
    expect(fs.readFileSync(`/sys/fs/cgroup/pids/hostscope/${id}/pids.max`, 'utf8').trim()).toBe('20');
    expect(JSON.parse(hs('inspect', name).out)[0].Config.linux.resources.memory.limit).toBe(33554432);
    const bad = hs('update', '--memory', 'lots', name);
    expect([bad.code, bad.err]).toEqual([1, "hostscope update: invalid size for --memory: 'lots' (a number with an optional unit b, k, m, g, e.g. 64m)\n"]);
    const st = hs('stats', '--no-stream', name);
    expect(st.code, st.err).toBe(0);
    expect(st.out).toMatch(new RegExp(`^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +PIDS\n${id.slice(0, 12)} +${name} +\\d+\\.\\d\\d% +[\\d.]+[KMG]?i?B / 32MiB +[\\d.]+% +1\n$`));
  });

  it('a name in use is refused with the id using it, and leaves nothing behind', () => {
    const before = ids().length;
    const r = hs('run', '-d', '--name', name, 'busybox', 'true');
    expect(r.code).toBe(1);
    expect(r.err).toBe(`hostscope run: the container name "${name}" is already in use by ${id}\n`);
    expect(ids().length).toBe(before);
  });

  it('exec runs hostname inside (the short id) ', () => {
    const r = hs('exec', name, 'hostname');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`${id.slice(0, 12)}\n`);
  });

  it('exec of a command that cannot be run: docker’s one line and status (127 not there, 126 not runnable)', () => {
    for (const [cmd, code, text] of CANNOT_RUN) {
      const r = hs('exec', name, cmd);
      expect([r.code, r.out, r.err], cmd).toEqual([code, '', `hostscope exec: ${text}\n`]);
    }
  });

  it('the monitor drove runc-ts create + start: the init’s parent is the monitor (its subreaper), no runtime process is left', () => {
    const mon = Number(fs.readFileSync(`${store}/containers/${id}/monitor.pid`, 'utf8'));
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(Number(/^PPid:\s+(\d+)$/m.exec(status)![1])).toBe(mon);
    expect(fs.readFileSync(`/proc/${mon}/cmdline`, 'utf8').split('\0')).toContain(id);
    // runc-ts create and start have exited: the monitor's only child is the init
    expect(spawnSync('pgrep', ['-P', String(mon)], { encoding: 'utf8' }).stdout.trim()).toBe(String(pid));
  });

  it('exec goes through runc-ts exec: the container’s capabilities, seccomp filter, no_new_privs and cgroup apply to it as to the init', () => {
    const field = (text: string, k: string) => new RegExp(`^${k}:\\s+(\\S+)$`, 'm').exec(text)?.[1];
    const initStatus = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const r = hs('exec', name, 'cat', '/proc/self/status', '/proc/self/cgroup');
    expect(r.code, r.err).toBe(0);
    for (const k of ['CapEff', 'CapPrm', 'CapBnd', 'NoNewPrivs', 'Seccomp']) expect(field(r.out, k), k).toBe(field(initStatus, k));
    expect(field(r.out, 'Seccomp')).toBe('2');
    expect(field(r.out, 'NoNewPrivs')).toBe('1');
    // the cgroup lines as the init sees them (cgroup namespace: both at its root)
    const cg = r.out.split('\n').filter((l) => /^\d+:[^:]*:\//.test(l));
    const initCg = spawnSync('nsenter', ['-t', String(pid), '-C', 'cat', `/proc/${pid}/cgroup`], { encoding: 'utf8' }).stdout;
    expect(cg.length).toBeGreaterThan(0);
    for (const l of cg) expect(initCg).toContain(l);
    // user, env and cwd as runc exec takes them
    const u = hs('exec', '-u', '65534:65534', '-e', 'X=1', '-w', '/tmp', name, 'sh', '-c', 'id -u; id -g; echo $X; pwd');
    expect([u.code, u.out]).toEqual([0, '65534\n65534\n1\n/tmp\n']);
    const bad = hs('exec', '-u', 'nobody', name, 'true');
    expect([bad.code, bad.err]).toEqual([1, "hostscope exec: invalid value for --user: 'nobody' (UID[:GID], numbers)\nTry 'hostscope exec --help' for more information.\n"]);
  });

  it('--net container:NAME shares the network namespace only', () => {
    const r = hs('run', '-d', '--name', `${name}-b`, '--net', `container:${name}`, 'busybox', 'sleep', '300');
    expect(r.code, r.err).toBe(0);
    id2 = r.out.trim();
    const pid2 = inspectPid(id2);
    expect(nsInode(pid2, 'net')).toBe(nsInode(pid, 'net'));
    for (const t of ['pid', 'mnt', 'uts', 'ipc', 'cgroup']) expect(nsInode(pid2, t), t).not.toBe(nsInode(pid, t));
  });

  it('stop: ps -a shows Exited (143) or (137); logs return what echo printed; wait prints the code', () => {
    const r = hs('stop', '-t', '2', name);
    expect(r.code, r.err).toBe(0);
    const row = hs('ps', '-a').out.split('\n').find((l) => l.startsWith(id.slice(0, 12)));
    expect(row).toMatch(/Exited \((143|137)\) .* ago/);
    expect(hs('ps').out).not.toContain(id.slice(0, 12));
    expect(hs('logs', name).out).toBe(`hello-${process.pid}\n`);
    expect(hs('logs', '--timestamps', name).out).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z hello-/);
    expect(hs('wait', name).out).toMatch(/^(143|137)\n$/);
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
  });

  it('rm leaves no cgroup, state, name or process; rm of a running one needs -f', () => {
    const r0 = hs('rm', `${name}-b`);
    expect(r0.code).toBe(1);
    expect(r0.err).toMatch(/it is running: stop it first or use rm -f/);
    for (const [ref, i] of [[name, id], [`${name}-b`, id2]] as const) {
      const r = hs('rm', '-f', ref);
      expect(r.code, r.err).toBe(0);
      expect(fs.existsSync(`${store}/containers/${i}`)).toBe(false);
      expect(fs.existsSync(`${store}/names/${ref}`)).toBe(false);
      expect(cgroupDirs(i)).toEqual([]);
    }
    expect(spawnSync('pgrep', ['-f', id]).status).toBe(1);
    expect(spawnSync('pgrep', ['-f', id2]).status).toBe(1);
    devNullIntact();
  });

  it('foreground run --rm: output passed through, the exit status is the container’s, nothing left', () => {
    const before = ids().length;
    const r = hs('run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3');
    expect(r.code).toBe(3);
    expect(r.out).toBe('out\n');
    expect(r.err).toBe('err\n');
    expect(ids().length).toBe(before);
  });

  it('run -d --rm: the monitor removes the container when it exits (no ps needed): no state, name, cgroup or runtime state left', async () => {
    const n = `${name}-rm`;
    const r = hs('run', '-d', '--rm', '--name', n, 'busybox', 'sh', '-c', 'sleep 1; exit 4');
    expect(r.code, r.err).toBe(0);
    const rid = r.out.trim();
    for (let k = 0; k < 1200 && fs.existsSync(`${store}/containers/${rid}`); k++) await new Promise((res) => setTimeout(res, 50));
    expect(fs.existsSync(`${store}/containers/${rid}`)).toBe(false);
    expect(fs.existsSync(`${store}/names/${n}`)).toBe(false);
    expect(fs.existsSync(`${store}/runc-ts/${rid}`)).toBe(false);
    expect(cgroupDirs(rid)).toEqual([]);
    for (let k = 0; k < 200 && spawnSync('pgrep', ['-f', rid]).status === 0; k++) await new Promise((res) => setTimeout(res, 50));
    expect(spawnSync('pgrep', ['-f', rid]).status).toBe(1);
  });

  it('bad input: one line, nothing left (bad size, missing image, a runtime failure)', () => {
    const before = ids().length;
    const a = hs('run', '--memory', '64x', 'busybox', 'true');
    expect([a.code, a.err]).toEqual([1, "hostscope run: invalid size for --memory: '64x' (a number with an optional unit b, k, m, g, e.g. 64m)\n"]);
    const b = hs('run', 'nosuchimage', 'true');
    expect([b.code, b.err]).toEqual([1, "hostscope run: unknown image 'nosuchimage' (busybox, oci:DIR[:TAG], or --rootfs DIR)\n"]);
    // a capability this host's bounding set lacks: refused before anything is made
    const c = hs('run', '--name', `${name}-c`, '--cap-add', 'ALL', '--cap-add', 'CAP_SYS_RESOURCE', 'busybox', 'true');
    expect(c.code).toBe(1);
    expect(c.err.split('\n').length).toBe(2);
    expect(ids().length).toBe(before);
    expect(fs.existsSync(`${store}/names/${name}-c`)).toBe(false);
    devNullIntact();
  });

  it('run of a command that cannot be run, with -v (checked by the runtime’s init), -d, both or neither: docker’s one line and status, nothing left', () => {
    const before = ids().length;
    const vol = fs.mkdtempSync(path.join(os.tmpdir(), `hs-run-vol-${process.pid}-`));
    try {
      fs.writeFileSync(path.join(vol, 'hello.sh'), '#!/bin/sh\necho from-volume\n', { mode: 0o755 });
      for (const v of [[], ['-v', `${vol}:/mnt`]])
        for (const d of [[], ['-d']])
          for (const [cmd, code, text] of CANNOT_RUN) {
            const r = hs('run', '--rm', ...v, ...d, 'busybox', cmd);
            expect([r.code, r.out, r.err], `${v.join(' ')} ${d.join(' ')} ${cmd}`).toEqual([code, '', `hostscope run: ${text}\n`]);
          }
      // a command the volume brings is found (the reason the front end cannot check before the mounts)
      const ok = hs('run', '--rm', '-v', `${vol}:/mnt`, 'busybox', '/mnt/hello.sh');
      expect([ok.code, ok.out, ok.err]).toEqual([0, 'from-volume\n', '']);
    } finally {
      fs.rmSync(vol, { recursive: true, force: true });
    }
    expect(ids().length).toBe(before);
  });

  it('rm removes the container’s directory in every hierarchy (cpu and cpuacct apart, the unified one); one it cannot remove is named on one line, exit 1, the container kept for another rm', async () => {
    const r = hs('run', '-d', '--name', `${name}-cg`, 'busybox', 'sleep', '300');
    expect(r.code, r.err).toBe(0);
    const cid = r.out.trim();
    // every hierarchy this host mounts, the unified one and cpu, cpuacct apart included
    const hierarchies = fs.readdirSync('/sys/fs/cgroup').filter((h) => fs.existsSync(`/sys/fs/cgroup/${h}/cgroup.procs`));
    expect(hierarchies).toEqual(expect.arrayContaining(['cpu', 'cpuacct', 'memory', 'pids', 'unified']));
    expect(cgroupDirs(cid).sort()).toEqual(hierarchies.sort());
    // a process of this test held in the pids hierarchy only: the runtime's kill (freezer's list) misses it, its rmdir stays EBUSY
    const held = spawn('sleep', ['600'], { stdio: 'ignore' });
    const release = () => {
      try {
        fs.writeFileSync('/sys/fs/cgroup/pids/cgroup.procs', String(held.pid));
      } catch {
        /* gone */
      }
    };
    try {
      fs.writeFileSync(`/sys/fs/cgroup/pids/hostscope/${cid}/cgroup.procs`, String(held.pid));
      const bad = hs('rm', '-f', `${name}-cg`);
      expect(bad.code).toBe(1);
      expect(bad.err).toBe(`hostscope rm: cannot remove container ${name}-cg: cannot remove cgroup /sys/fs/cgroup/pids/hostscope/${cid}: Device or resource busy (processes still in it: ${held.pid})\n`);
      expect(cgroupDirs(cid)).toEqual(['pids']);
      expect(ids()).toContain(cid);
      release();
      const ok = hs('rm', `${name}-cg`);
      expect([ok.code, ok.err]).toEqual([0, '']);
      expect(cgroupDirs(cid)).toEqual([]);
      expect(ids()).not.toContain(cid);
      expect(fs.existsSync(`${store}/runc-ts/${cid}`)).toBe(false);
    } finally {
      release();
      held.kill('SIGKILL');
    }
  });
});
