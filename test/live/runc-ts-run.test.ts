import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { BIN, IS_ROOT, runBin } from '../helpers/live.js';
import { exampleSpec, renderSpecJson, rootlessSpec } from '../../src/runtime/spec-default.js';

/**
 * Real busybox containers made by runc-ts run (the bin as a subprocess: its Node is the init's
 * parent and reaps it). After each: no state dir, no cgroup, the host's /dev/null untouched.
 */
const ready = IS_ROOT && fs.existsSync('/bin/busybox');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-runcts-run-${process.pid}-`));
const root = `${tmp}/root`;
// a mapped root (uid 100000) must be able to reach the rootfs, as with runc
fs.chmodSync(tmp, 0o755);
const cgParent = `/hostscope-test-${process.pid}-${randomBytes(4).toString('hex')}`;
let n = 0;
type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    try {
      for (const sub of fs.readdirSync(`/sys/fs/cgroup/${h}${cgParent}`, { withFileTypes: true }).filter((e) => e.isDirectory())) fs.rmdirSync(`/sys/fs/cgroup/${h}${cgParent}/${sub.name}`);
    } catch {
      /* none */
    }
    try {
      fs.rmdirSync(`/sys/fs/cgroup/${h}${cgParent}`);
    } catch {
      /* not made in this hierarchy */
    }
  }
});

function bundle(script: string, mut: (c: J) => void = () => {}, start: () => object = exampleSpec): { dir: string; id: string } {
  const id = `hs-${process.pid}-${++n}`;
  const dir = `${tmp}/${id}`;
  fs.mkdirSync(`${dir}/rootfs/bin`, { recursive: true });
  for (const d of ['proc', 'sys', 'dev']) fs.mkdirSync(`${dir}/rootfs/${d}`);
  fs.copyFileSync('/bin/busybox', `${dir}/rootfs/bin/busybox`);
  fs.chmodSync(`${dir}/rootfs/bin/busybox`, 0o755);
  for (const x of ['sh', 'cat', 'echo', 'hostname', 'readlink', 'ls', 'sleep', 'seq', 'id', 'grep']) fs.symlinkSync('busybox', `${dir}/rootfs/bin/${x}`);
  const c = JSON.parse(renderSpecJson(start()));
  c.process.terminal = false;
  c.process.args = ['sh', '-c', script];
  c.linux.cgroupsPath = `${cgParent}/${id}`;
  mut(c);
  fs.writeFileSync(`${dir}/config.json`, JSON.stringify(c));
  return { dir, id };
}
function run(b: { dir: string; id: string }) {
  return runBin('runc-ts', ['--root', root, 'run', '--bundle', b.dir, b.id]);
}
function nothingLeft(id: string) {
  expect(fs.existsSync(`${root}/${id}`)).toBe(false);
  expect(fs.existsSync(`${root}/.locks/${id}`)).toBe(false);
  for (const h of fs.readdirSync('/sys/fs/cgroup')) expect(fs.existsSync(`/sys/fs/cgroup/${h}${cgParent}/${id}`), h).toBe(false);
  const st = fs.statSync('/dev/null');
  expect([st.uid, st.gid, st.mode & 0o7777, st.isCharacterDevice(), st.rdev]).toEqual([0, 0, 0o666, true, 0x103]);
}
const hostNs = (t: string) => fs.readlinkSync(`/proc/self/ns/${t}`);

describe.skipIf(!ready && !process.env.CI)('runc-ts run: real busybox containers', () => {
  it('new namespaces, pid 1, hostname, runc default capabilities and no_new_privs, exit code', () => {
    const b = bundle('echo self=$$; hostname; for t in pid net ipc uts mnt user cgroup; do echo $t=$(readlink /proc/self/ns/$t); done; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; exit 7');
    const r = run(b);
    expect(r.code, r.err).toBe(7);
    const out = Object.fromEntries(r.out.trim().split('\n').flatMap((l) => { const m = /^([^=:]+)[=:]\s*(.*)$/.exec(l); return m ? [[m[1]!, m[2]!] as [string, string]] : []; }));
    expect(out.self).toBe('1');
    expect(r.out).toMatch(/^runc$/m);
    for (const t of ['pid', 'net', 'ipc', 'uts', 'mnt']) expect(out[t], t).not.toBe(hostNs(t));
    for (const t of ['user', 'cgroup']) expect(out[t], t).toBe(hostNs(t));
    expect(out.CapEff).toBe('0000000020000420');
    expect(out.CapBnd).toBe('0000000020000420');
    expect(out.NoNewPrivs).toBe('1');
    nothingLeft(b.id);
  });
  it('the stdout pipe runc-ts shares with the container stays blocking (a Node stream on it would set O_NONBLOCK on the shared file description while runc-ts waits)', () => {
    const b = bundle('grep ^flags: /proc/self/fdinfo/1');
    const r = run(b);
    expect(r.code, r.err).toBe(0);
    const flags = /^flags:\s+([0-7]+)$/m.exec(r.out)?.[1];
    expect(flags, r.out).toBeDefined();
    expect(Number.parseInt(flags!, 8) & 0o4000).toBe(0);
    nothingLeft(b.id);
  });
  it('a failed run in a cgroupsPath shared with a process runc-ts did not start: that process survives and the cgroup stays (the suite\'s parallel relative-cgroup tests saw one container\'s cleanup SIGKILL another\'s init)', () => {
    const b = bundle('true', (c) => {
      c.process.args = ['/no/such/binary'];
    });
    const cg = `${cgParent}/${b.id}`;
    const dirs = ['freezer', 'pids'].map((h) => `/sys/fs/cgroup/${h}${cg}`);
    const other = spawn('sleep', ['120'], { stdio: 'ignore' });
    try {
      for (const d of dirs) {
        fs.mkdirSync(d, { recursive: true });
        fs.writeFileSync(`${d}/cgroup.procs`, String(other.pid));
      }
      const r = run(b);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/holds processes runc-ts did not start: not killed, not removed/);
      expect(fs.readFileSync(`/proc/${other.pid}/stat`, 'utf8')).toMatch(/^\d+ \(sleep\) S /);
      expect(fs.readFileSync(`${dirs[0]}/cgroup.procs`, 'utf8').trim().split('\n')).toEqual([String(other.pid)]);
      expect(fs.existsSync(`${root}/${b.id}`)).toBe(false);
      expect(fs.existsSync(`${root}/.locks/${b.id}`)).toBe(false);
    } finally {
      other.kill('SIGKILL');
      spawnSync('sh', ['-c', `while [ -e /proc/${other.pid} ] && ! grep -q ') Z' /proc/${other.pid}/stat; do sleep 0.05; done`]);
    }
  });
  it('masked paths unreadable, read-only paths read-only, the root read-only', () => {
    const b = bundle('cat /proc/timer_list | wc -c; ls /sys/firmware | wc -l; echo x > /proc/sys/kernel/domainname && echo WROTE; touch /x 2>/dev/null && echo TOUCHED; echo done', (c) => {
      c.process.args = ['sh', '-c', c.process.args[2]];
    });
    fs.symlinkSync('busybox', `${b.dir}/rootfs/bin/wc`);
    fs.symlinkSync('busybox', `${b.dir}/rootfs/bin/touch`);
    const r = run(b);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]!.trim()).toBe('0');
    expect(lines[1]!.trim()).toBe('0');
    expect(r.out).not.toMatch(/WROTE|TOUCHED/);
    expect(r.out).toMatch(/done\n$/);
    nothingLeft(b.id);
  });
  it('a user namespace: the uid map written by the parent, devices bound (the host /dev/null never chowned)', () => {
    const b = bundle('cat /proc/self/uid_map /proc/self/gid_map; id -u; ls -ln /dev/null', (c) => {
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }, () => rootlessSpec(0, 0));
    const r = run(b);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n').slice(0, 2).map((l) => l.trim().split(/\s+/))).toEqual([['0', '100000', '65536'], ['0', '100000', '65536']]);
    expect(r.out.split('\n')[2]).toBe('0');
    nothingLeft(b.id);
  });
  for (const nnp of [true, false]) {
    it(`a seccomp rule returns EPERM (no_new_privs ${nnp ? 'on: filter loaded last' : 'off: loaded before the capability drop'})`, () => {
      const b = bundle('mkdir /dev/shm/a 2>&1; echo rc=$?; grep -E "^Seccomp:" /proc/self/status', (c) => {
        c.process.noNewPrivileges = nnp;
        c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
      });
      fs.symlinkSync('busybox', `${b.dir}/rootfs/bin/mkdir`);
      const r = run(b);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/Operation not permitted/);
      expect(r.out).toMatch(/^rc=1$/m);
      expect(r.out).toMatch(/^Seccomp:\s+2$/m);
      nothingLeft(b.id);
    });
  }
  it('an allocation past the memory limit is OOM-killed: exit 137 (SIGKILL)', () => {
    const b = bundle('a=$(head -c 200000000 /dev/zero | tr "\\0" x); echo survived ${#a}', (c) => {
      c.linux.resources.memory = { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 };
    });
    for (const x of ['head', 'tr']) fs.symlinkSync('busybox', `${b.dir}/rootfs/bin/${x}`);
    const r = run(b);
    expect(r.code, r.err).toBe(137);
    expect(r.out).not.toMatch(/survived/);
    nothingLeft(b.id);
  });
  it('the pid limit stops a fork loop', () => {
    const b = bundle('cat /sys/fs/cgroup/pids/pids.max; (i=0; while [ $i -lt 30 ]; do sleep 30 & i=$((i+1)); done) 2>&1; echo after', (c) => {
      c.linux.resources.pids = { limit: 8 };
    });
    const r = run(b);
    expect(r.out).toMatch(/^8$/m);
    expect(r.err + r.out).toMatch(/can't fork|Resource temporarily unavailable|Try again/);
    nothingLeft(b.id);
  });
  it('a capability the host bounding set lacks (CAP_SYS_RESOURCE here) is one error naming it; nothing left', () => {
    const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]!;
    const lacks = (BigInt(`0x${bnd}`) >> 24n) % 2n === 0n;
    const b = bundle('true', (c) => c.process.capabilities.bounding.push('CAP_SYS_RESOURCE'));
    const r = run(b);
    if (lacks) {
      expect(r).toEqual({ code: 1, out: '', err: expect.stringMatching(/^(runc-ts: warning: [^\n]*\n)*runc-ts: config\.json: process\.capabilities\.bounding\[3\]: CAP_SYS_RESOURCE is not in the host's bounding set\n$/) });
    }
    nothingLeft(b.id);
  });
  it('bad input: invalid config, missing bundle, a symlinked rootfs — one line, exit 1, nothing left', () => {
    const bad = bundle('true', (c) => (c.process.cwd = 'relative'));
    expect(run(bad)).toEqual({ code: 1, out: '', err: 'runc-ts: config.json: process.cwd: "relative" must be an absolute path\n' });
    nothingLeft(bad.id);
    const missing = runBin('runc-ts', ['--root', root, 'run', '--bundle', `${tmp}/nope`, 'x1']);
    expect(missing).toEqual({ code: 1, out: '', err: `runc-ts: cannot read ${tmp}/nope/config.json: no such file or directory\n` });
    const sym = bundle('true');
    fs.renameSync(`${sym.dir}/rootfs`, `${sym.dir}/real`);
    fs.symlinkSync(`${sym.dir}/real`, `${sym.dir}/rootfs`);
    const r = run(sym);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/root\.path: ".*rootfs" is a symlink\n$/);
    nothingLeft(sym.id);
  });
  it('a foreground run forwards SIGTERM, SIGINT, SIGHUP to the init (runc\'s signal handler): the init\'s trap decides, its exit code is run\'s; nothing left', async () => {
    // before: Node's default action ended runc-ts itself (killed by the signal), the init kept running
    for (const [sig, code] of [
      ['SIGTERM', 42],
      ['SIGINT', 43],
      ['SIGHUP', 44],
    ] as const) {
      const b = bundle(`trap "echo got-${sig}; exit ${code}" ${sig.slice(3)}; echo ready; while :; do sleep 0.05; done`);
      const child = spawn(process.execPath, [BIN('runc-ts'), '--root', root, 'run', '--bundle', b.dir, b.id], { stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<[number | null, string | null]>((r) => child.on('exit', (c, s) => r([c, s])));
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      try {
        for (let i = 0; i < 400 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
        expect(out, err).toContain('ready');
        child.kill(sig);
        expect(await exited, err).toEqual([code, null]);
        expect(out).toContain(`got-${sig}`);
        nothingLeft(b.id);
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
        // on failure (runc-ts gone, the init not): what is left in the container's cgroup is killed here
        try {
          for (const pid of fs.readFileSync(`/sys/fs/cgroup/pids${cgParent}/${b.id}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* no cgroup left: the run cleaned up */
        }
      }
    }
  });
});
