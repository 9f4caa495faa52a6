import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BIN, IS_ROOT, has } from '../helpers/live.js';
import { exampleSpec, renderSpecJson } from '../../src/runtime/spec-default.js';
import { underReaper, writeReaper } from '../helpers/reaper.js';

/**
 * runc-ts terminals and hooks on real busybox containers, every script under a python3 subreaper
 * this test owns (the init outlives `create`; PID 1 reaps late).
 *
 * Terminals: a python3 console-socket receiver (socket.recv_fds: runc's recvtty protocol) gets the
 * pty master the container's init allocated from its own devpts, writes commands and reads what
 * the container's shell answers (tty, stty size, /dev/console). `run` in the foreground is run
 * under a pty python3 makes (pty.fork), as a user's terminal.
 *
 * Hooks: each hook writes the state it got on stdin, its namespaces and what it sees as / to a
 * file the test reads; failing and timed-out hooks leave nothing behind.
 */
const ready = IS_ROOT && fs.existsSync('/bin/busybox') && has('python3');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-runcts-tty-${process.pid}-`));
const root = `${tmp}/root`;
const cgParent = `/hostscope-tty-${process.pid}-${randomBytes(4).toString('hex')}`;
const reaper = writeReaper(`${tmp}/reap.py`);
const recv = `${tmp}/recv.py`;
const ptyRun = `${tmp}/ptyrun.py`;
// recv.py SOCKET OUT LINE...: accept one connection, receive one fd (SCM_RIGHTS) and its message,
// write each LINE to it, copy what comes back into OUT until the pty closes or __END__ shows
fs.writeFileSync(
  recv,
  `import os, select, socket, stat, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(1)
open(out + ".ready", "w").close()
c, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(c, 1024, 4)
m = fds[0]
st = os.fstat(m)
head = "name=%s fds=%d chr=%s major=%d minor=%d\\n" % (msg.decode(), len(fds), stat.S_ISCHR(st.st_mode), os.major(st.st_rdev), os.minor(st.st_rdev))
for line in sys.argv[3:]:
    os.write(m, (line + "\\n").encode())
buf = b""
deadline = time.time() + 120
while time.time() < deadline:
    r, _, _ = select.select([m], [], [], 1)
    if not r:
        continue
    try:
        d = os.read(m, 4096)
    except OSError:
        break
    if not d:
        break
    buf += d
    if b"__END__\\r\\n" in buf:
        break
open(out, "w").write(head + buf.decode(errors="replace"))
`,
);
// ptyrun.py ROWS COLS INPUT CMD...: run CMD on a new pty (its controlling terminal) sized ROWS x COLS,
// type INPUT, print what the terminal showed, exit with CMD's status
fs.writeFileSync(
  ptyRun,
  `import fcntl, os, pty, select, struct, sys, termios, time
rows, cols, inp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
pid, m = pty.fork()
if pid == 0:
    os.execvp(sys.argv[4], sys.argv[4:])
fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
time.sleep(0.2)
os.write(m, inp.encode())
out = b""
deadline = time.time() + 120
while time.time() < deadline:
    r, _, _ = select.select([m], [], [], 1)
    if r:
        try:
            d = os.read(m, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(st))
`,
);
let n = 0;
const ids: string[] = [];
type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any

afterAll(() => {
  if (ready) for (const id of ids) if (fs.existsSync(`${root}/${id}`)) under(`$R delete --force ${id}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    try {
      fs.rmdirSync(`/sys/fs/cgroup/${h}${cgParent}`);
    } catch {
      /* not made in this hierarchy */
    }
  }
});

function bundle(args: string[], mut: (c: J) => void = () => {}): { dir: string; id: string } {
  const id = `hs-tty-${process.pid}-${++n}`;
  ids.push(id);
  const dir = `${tmp}/${id}`;
  fs.mkdirSync(`${dir}/rootfs/bin`, { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'hooklog']) fs.mkdirSync(`${dir}/rootfs/${d}`);
  fs.copyFileSync('/bin/busybox', `${dir}/rootfs/bin/busybox`);
  fs.chmodSync(`${dir}/rootfs/bin/busybox`, 0o755);
  for (const x of ['sh', 'cat', 'echo', 'sleep', 'true', 'tty', 'stty', 'ls', 'readlink', 'stat', 'cut']) fs.symlinkSync('busybox', `${dir}/rootfs/bin/${x}`);
  const c = JSON.parse(renderSpecJson(exampleSpec()));
  c.process.args = args;
  c.linux.cgroupsPath = `${cgParent}/${id}`;
  mut(c);
  fs.writeFileSync(`${dir}/config.json`, JSON.stringify(c));
  return { dir, id };
}

function under(script: string, extraEnv: Record<string, string> = {}): { code: number; out: string; err: string } {
  return underReaper(reaper, ['sh', '-c', script], { timeout: 180_000, env: { ...process.env, R: `${process.execPath} ${BIN('runc-ts')} --root ${root}`, FORCE_COLOR: '0', ...extraEnv } });
}

function nothingLeft(id: string) {
  expect(fs.existsSync(`${root}/${id}`)).toBe(false);
  expect(fs.existsSync(`${root}/.locks/${id}`)).toBe(false);
  for (const h of fs.readdirSync('/sys/fs/cgroup')) expect(fs.existsSync(`/sys/fs/cgroup/${h}${cgParent}/${id}`), h).toBe(false);
  // no mount of the bundle is left in our mount namespace
  expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`${tmp}/${id}`);
  const st = fs.statSync('/dev/null');
  expect([st.uid, st.gid, st.mode & 0o7777, st.isCharacterDevice(), st.rdev]).toEqual([0, 0, 0o666, true, 0x103]);
}

/** pids whose command line names dir (the init is a fork of runc-ts: its cmdline is runc-ts's, with the bundle) */
function processesOf(dir: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir)) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** a receiver on SOCK writing LINES; the shell waits until it listens */
const receiver = (sock: string, out: string, lines: string[]) => `python3 ${recv} ${sock} ${out} ${lines.map((l) => `'${l}'`).join(' ')} & rp=$!
for i in $(seq 1 500); do [ -e ${out}.ready ] && break; sleep 0.02; done`;

describe.skipIf(!ready && !process.env.CI)('runc-ts terminals: the pty comes from the container and its master goes over the console socket', () => {
  it('create --console-socket + start: the master arrives (SCM_RIGHTS, "/dev/ptmx"), the shell on it has /dev/pts/N of its own devpts, consoleSize, /dev/console', () => {
    const b = bundle(['sh'], (c) => {
      c.process.terminal = true;
      c.process.consoleSize = { height: 33, width: 101 };
    });
    const sock = `${tmp}/${b.id}.sock`;
    const out = `${tmp}/${b.id}.out`;
    const r = under(
      `${receiver(sock, out, ['tty; stty size; [ -t 0 ] && echo stdin-is-tty; stat -c "%t:%T" /dev/console; readlink /proc/1/fd/0; echo __EN""D__', 'exit 0'])}
       $R create --bundle ${b.dir} --console-socket ${sock} ${b.id} 2>/dev/null; echo create=$?
       $R start ${b.id}; echo start=$?
       wait $rp; echo recv=$?
       for i in $(seq 1 200); do $R state ${b.id} | grep -q '"stopped"' && break; sleep 0.05; done
       $R delete ${b.id}; echo delete=$?`,
    );
    expect(r.out, r.err).toContain('create=0\nstart=0\nrecv=0\ndelete=0\n');
    const got = fs.readFileSync(out, 'utf8');
    // the master: a char device of the ptmx major (5:2 is /dev/ptmx; a master fd is on major 5 or the pty master majors)
    expect(got).toMatch(/^name=\/dev\/ptmx fds=1 chr=True major=\d+ minor=\d+\n/);
    // the container's own devpts numbers from 0; the host's is busy
    expect(got).toMatch(/\r\n\/dev\/pts\/0\r\n33 101\r\nstdin-is-tty\r\n88:0\r\n\/dev\/pts\/0\r\n__END__\r\n/);
    nothingLeft(b.id);
  }, 240_000);

  it('exec -t --console-socket -d joins a running container with a new pty; -t -d without a socket and a socket without a terminal are runc\'s errors', () => {
    // exec's process is config.json's: its consoleSize sizes the exec's pty too
    const b = bundle(['sh', '-c', 'while :; do sleep 0.1; done'], (c) => {
      c.process.terminal = false;
      c.process.consoleSize = { height: 24, width: 77 };
    });
    const sock = `${tmp}/${b.id}.sock`;
    const out = `${tmp}/${b.id}.out`;
    const r = under(
      `$R run -d --bundle ${b.dir} ${b.id}; echo run=$?
       ${receiver(sock, out, ['tty; stty size; echo pid1=$(cat /proc/1/cmdline | tr "\\0" " "); echo __EN""D__', 'exit'])}
       $R exec -t -d --console-socket ${sock} ${b.id} sh; echo exec=$?
       wait $rp; echo recv=$?
       $R exec -t -d ${b.id} sh; echo exec-nosock=$?
       $R exec --console-socket ${sock}.x ${b.id} true; echo exec-sock-notty=$?
       $R delete --force ${b.id}; echo delete=$?`,
    );
    expect(r.out, r.err).toContain('run=0\nexec=0\nrecv=0\nexec-nosock=1\nexec-sock-notty=1\ndelete=0\n');
    const got = fs.readFileSync(out, 'utf8');
    expect(got).toMatch(/\r\n\/dev\/pts\/0\r\n24 77\r\npid1=sh -c while :; do sleep 0.1; done\r\n__END__\r\n/);
    expect(r.err).toContain('runc-ts: cannot allocate tty if runc will detach without setting console socket\n');
    expect(r.err).toContain('runc-ts: cannot use console socket if runc will not detach or allocate tty\n');
    nothingLeft(b.id);
  }, 240_000);

  it('terminal true: create without --console-socket, and --console-socket with terminal false, fail with runc\'s words and leave nothing', () => {
    const t = bundle(['true'], (c) => (c.process.terminal = true));
    const f = bundle(['true'], (c) => (c.process.terminal = false));
    const r = under(
      `$R create --bundle ${t.dir} ${t.id}; echo a=$?
       $R run -d --bundle ${t.dir} ${t.id}; echo b=$?
       $R create --bundle ${f.dir} --console-socket ${tmp}/nobody.sock ${f.id}; echo c=$?
       $R run --bundle ${f.dir} --console-socket ${tmp}/nobody.sock ${f.id}; echo d=$?
       $R create --bundle ${t.dir} --console-socket ${tmp}/nobody.sock ${t.id} 2>${tmp}/refused.err; echo e=$?`,
    );
    expect(r.out).toBe('a=1\nb=1\nc=1\nd=1\ne=1\n');
    // nobody listens: the init's connect step fails with its errno, and create cleans up
    expect(fs.readFileSync(`${tmp}/refused.err`, 'utf8')).toContain(`runc-ts: container init: connect(console socket): No such file or directory (${tmp}/nobody.sock)\n`);
    expect(r.err.split('\n').filter((l) => !l.includes('warning'))).toEqual([
      'runc-ts: cannot allocate tty if runc will detach without setting console socket',
      'runc-ts: cannot allocate tty if runc will detach without setting console socket',
      'runc-ts: cannot use console socket if runc will not detach or allocate tty',
      'runc-ts: cannot use console socket if runc will not detach or allocate tty',
      '',
    ]);
    nothingLeft(t.id);
    nothingLeft(f.id);
  }, 240_000);

  it('run in the foreground with terminal true and no socket: the container\'s pty is attached to runc-ts\'s terminal (sized like it), the exit status passes through; without any terminal it is runc\'s error', () => {
    const b = bundle(['sh'], (c) => (c.process.terminal = true));
    const r = under(`python3 ${ptyRun} 41 123 'tty; stty size; stty onlcr; echo O""K; exit 7\n' $R run --bundle ${b.dir} ${b.id}; echo rc=$?`);
    // line ends: ONLCR is cleared on the caller's terminal too (libuv's raw mode keeps it; runc's
    // clears OPOST), so a \r\n from the container's pty (ONLCR set again inside, as a shell's
    // line editor restores it) is not made \r\r\n here
    expect(r.out, JSON.stringify(r.out)).toMatch(/\/dev\/pts\/0\r?\n41 123\r?\n/);
    expect(r.out, JSON.stringify(r.out)).toContain('OK\r\n');
    expect(r.out, JSON.stringify(r.out)).not.toContain('\r\r\n');
    expect(r.out).toMatch(/rc=7\n$/);
    nothingLeft(b.id);
    // no tty on stdio and no controlling terminal (a new session)
    const n2 = bundle(['true'], (c) => (c.process.terminal = true));
    const r2 = under(`python3 -c 'import os, sys; os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])' sh -c "$R run --bundle ${n2.dir} ${n2.id} </dev/null 2>&1 | cat"; echo rc=$?`);
    expect(r2.out.split('\n').filter((l) => !l.includes('warning'))).toEqual(['runc-ts: open /dev/tty: no such device or address', 'rc=0', '']);
    nothingLeft(n2.id);
  }, 240_000);
});

/** a hook that appends its name to ORDER and writes its stdin, namespaces, and / to DIR/NAME (sh from the host or the container) */
function hook(name: string, dir: string, sh = '/bin/sh', extra: J = {}): J {
  return {
    path: sh,
    args: ['sh', '-c', `echo ${name} >> ${dir}/order; { cat; echo; echo "mnt=$(readlink /proc/self/ns/mnt) pidns=$(readlink /proc/self/ns/pid) sid=$(cut -d' ' -f6 /proc/self/stat) pid=$$ env=$HOOK_ENV"; ls /; } > ${dir}/${name}`, name],
    env: [`HOOK_ENV=${name}-env`, 'PATH=/bin:/usr/bin'],
    ...extra,
  };
}

describe.skipIf(!ready && !process.env.CI)('runc-ts hooks: each at its point, in its namespaces, with the state on stdin', () => {
  it('prestart, createRuntime, createContainer, startContainer, poststart, poststop: order, state, namespaces, root', () => {
    const log = `${tmp}/hooks-${process.pid}-a`;
    fs.mkdirSync(log);
    const b = bundle(['sh', '-c', 'echo program >> /hooklog/order; sleep 0.3'], (c) => {
      c.process.terminal = false;
      c.annotations = { 'org.example/k': 'v' };
      c.mounts.push({ destination: '/hooklog', type: 'bind', source: log, options: ['rbind', 'rw'] });
      c.hooks = {
        prestart: [hook('prestart', log)],
        createRuntime: [hook('createRuntime', log)],
        createContainer: [hook('createContainer', log)],
        // the path resolves in the container: its busybox; it writes to the bind mount of LOG
        startContainer: [hook('startContainer', '/hooklog', '/bin/sh')],
        poststart: [hook('poststart', log)],
        poststop: [hook('poststop', log)],
      };
    });
    const r = under(
      `echo host-mnt=$(readlink /proc/self/ns/mnt) host-pidns=$(readlink /proc/self/ns/pid)
       $R create --bundle ${b.dir} --pid-file ${tmp}/${b.id}.pid ${b.id} 2>/dev/null; echo create=$?
       echo init-mnt=$(readlink /proc/$(cat ${tmp}/${b.id}.pid)/ns/mnt)
       $R start ${b.id}; echo start=$?
       for i in $(seq 1 200); do $R state ${b.id} | grep -q '"stopped"' && break; sleep 0.05; done
       $R delete ${b.id}; echo delete=$?`,
    );
    expect(r.out, r.err).toContain('create=0\n');
    expect(r.out).toContain('start=0\n');
    expect(r.out).toContain('delete=0\n');
    // the program runs concurrently with poststart (after start released it): only its place after startContainer is fixed
    const order = fs.readFileSync(`${log}/order`, 'utf8').trim().split('\n');
    expect(order.filter((x) => x !== 'program')).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    expect(order.indexOf('program')).toBeGreaterThan(order.indexOf('startContainer'));
    expect(order.indexOf('program')).toBeLessThan(order.indexOf('poststop'));
    const pid = Number(fs.readFileSync(`${tmp}/${b.id}.pid`, 'utf8'));
    const hostMnt = /host-mnt=(\S+)/.exec(r.out)![1];
    const hostPidns = /host-pidns=(\S+)/.exec(r.out)![1];
    const initMnt = /init-mnt=(\S+)/.exec(r.out)![1];
    const read = (name: string) => {
      const [state, where, ...ls] = fs.readFileSync(`${log}/${name}`, 'utf8').split('\n');
      return { state: JSON.parse(state!), where: where!, ls: ls.join(' ') };
    };
    const base = { ociVersion: '1.0.2-dev', id: b.id, bundle: b.dir, annotations: { 'org.example/k': 'v' } };
    for (const [name, status, withPid] of [
      ['prestart', 'creating', true],
      ['createRuntime', 'creating', true],
      ['createContainer', 'creating', true],
      ['startContainer', 'created', true],
      ['poststart', 'running', true],
      ['poststop', 'stopped', false],
    ] as const) {
      const h = read(name);
      expect(h.state, name).toEqual({ ...base, status, ...(withPid ? { pid } : {}) });
      // its own session: the hook leads it (createContainer reads the host's /proc before pivot_root
      // while $$ is its pid in the container's pid namespace: not comparable there)
      const m = /sid=(\d+) pid=(\d+) env=(\S+)/.exec(h.where)!;
      if (name !== 'createContainer') expect(m[1], name).toBe(m[2]);
      expect(m[3], name).toBe(`${name}-env`);
    }
    // runtime namespace: the host's mount and pid namespaces, the host's /
    for (const name of ['prestart', 'createRuntime', 'poststart', 'poststop']) {
      expect(read(name).where, name).toContain(`mnt=${hostMnt} pidns=${hostPidns}`);
      expect(read(name).ls, name).toContain('proc');
      expect(read(name).ls, name).not.toContain('hooklog');
    }
    // container namespace: the init's mount namespace; createContainer before pivot_root sees the host's /,
    // startContainer after it the container's root
    const cc = read('createContainer');
    expect(cc.where).toContain(`mnt=${initMnt}`);
    expect(cc.where).not.toContain(`pidns=${hostPidns}`);
    expect(cc.ls).not.toContain('hooklog');
    const sc = read('startContainer');
    expect(sc.where).toContain(`mnt=${initMnt}`);
    expect(sc.where).not.toContain(`pidns=${hostPidns}`);
    expect(sc.ls.split(' ').sort()).toEqual(expect.arrayContaining(['bin', 'dev', 'hooklog', 'proc', 'sys']));
    nothingLeft(b.id);
  }, 240_000);

  it('a failing createRuntime or createContainer hook fails create with runc\'s message (exit status, stdout, stderr) and leaves no state, cgroup, mount or process; poststop still runs', () => {
    const log = `${tmp}/hooks-${process.pid}-b`;
    fs.mkdirSync(log);
    for (const kind of ['createRuntime', 'createContainer'] as const) {
      const b = bundle(['sh', '-c', `echo ran > /tmp/${kind}-program`], (c) => {
        c.process.terminal = false;
        c.hooks = { [kind]: [{ path: '/bin/sh', args: ['sh', '-c', 'echo to-out; echo to-err >&2; exit 3'] }], poststop: [hook(`poststop-${kind}`, log)] };
      });
      const r = under(`$R create --bundle ${b.dir} ${b.id}; echo create=$?`);
      expect(r.out).toBe('create=1\n');
      expect(r.err).toContain(`runc-ts: error during container init: error running ${kind} hook #0: exit status 3, stdout: to-out\\x0a, stderr: to-err\\x0a\n`);
      expect(JSON.parse(fs.readFileSync(`${log}/poststop-${kind}`, 'utf8').split('\n')[0]!)).toMatchObject({ id: b.id, status: 'stopped' });
      // no init process of this bundle is left anywhere
      expect(processesOf(b.dir)).toEqual([]);
      nothingLeft(b.id);
    }
  }, 240_000);

  it('a hook past its timeout is killed with what it started (its own process group) and create fails with runc\'s message; a missing hook binary is Go\'s fork/exec error', () => {
    const b = bundle(['true'], (c) => {
      c.process.terminal = false;
      c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `sleep 600 & echo $! > ${tmp}/bg.pid; sleep 600`], timeout: 1 }] };
    });
    const r = under(`$R create --bundle ${b.dir} ${b.id}; echo create=$?`);
    expect(r.out).toBe('create=1\n');
    expect(r.err).toContain('runc-ts: error during container init: error running createRuntime hook #0: hook ran past specified timeout of 1.0s\n');
    const bg = Number(fs.readFileSync(`${tmp}/bg.pid`, 'utf8'));
    // the background sleep was killed with the group (it may linger as a zombie of the subreaper only until reaped)
    const stat = (() => {
      try {
        return fs.readFileSync(`/proc/${bg}/stat`, 'utf8');
      } catch {
        return '';
      }
    })();
    expect(stat === '' || / Z /.test(stat) || !stat.includes('(sleep)')).toBe(true);
    nothingLeft(b.id);
    const m = bundle(['true'], (c) => {
      c.process.terminal = false;
      c.hooks = { prestart: [{ path: `${tmp}/no-such-hook` }] };
    });
    const r2 = under(`$R create --bundle ${m.dir} ${m.id}; echo create=$?`);
    expect(r2.out).toBe('create=1\n');
    expect(r2.err).toContain(`runc-ts: error during container init: error running prestart hook #0: fork/exec ${tmp}/no-such-hook: no such file or directory\n`);
    nothingLeft(m.id);
  }, 240_000);

  it('a failing startContainer or poststart hook fails start and kills the container (runc); a failing poststop hook is a warning, the next one still runs, delete succeeds', () => {
    const log = `${tmp}/hooks-${process.pid}-c`;
    fs.mkdirSync(log);
    for (const kind of ['startContainer', 'poststart'] as const) {
      const b = bundle(['sh', '-c', 'while :; do sleep 0.1; done'], (c) => {
        c.process.terminal = false;
        c.hooks = { [kind]: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 5'] }] };
      });
      const r = under(
        `$R create --bundle ${b.dir} ${b.id} 2>/dev/null; echo create=$?
         $R start ${b.id}; echo start=$?
         for i in $(seq 1 200); do $R state ${b.id} | grep -q '"stopped"' && break; sleep 0.05; done
         $R state ${b.id} | grep status
         $R delete ${b.id}; echo delete=$?`,
      );
      expect(r.out, kind).toContain('create=0\nstart=1\n  "status": "stopped",\ndelete=0\n');
      expect(r.err).toContain(`runc-ts: error running ${kind} hook #0: exit status 5, stdout: , stderr: \n`);
      nothingLeft(b.id);
    }
    const b = bundle(['true'], (c) => {
      c.process.terminal = false;
      c.hooks = { poststop: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 6'] }, hook('poststop-second', log)] };
    });
    const r = under(`$R run --bundle ${b.dir} ${b.id}; echo run=$?`);
    expect(r.out).toBe('run=0\n');
    expect(r.err).toContain('runc-ts: warning: error running poststop hook #0: exit status 6, stdout: , stderr: \n');
    expect(fs.existsSync(`${log}/poststop-second`)).toBe(true);
    nothingLeft(b.id);
  }, 240_000);
});
