import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { BIN, IS_ROOT, has } from '../helpers/live.js';
import { exampleSpec, renderSpecJson } from '../../src/runtime/spec-default.js';
import { busyboxRootfs, underReaper, writeReaper } from '../helpers/reaper.js';

/**
 * runc-ts create/start/kill/delete/run -d/ps/pause/resume/update/events/features on real busybox
 * containers. The init outlives runc-ts create: every script runs under a python3 subreaper
 * (PR_SET_CHILD_SUBREAPER) that this test owns, which reaps the orphaned inits before it exits —
 * PID 1 is not ours and reaps late. After each: no state dir, no cgroup, no process of the
 * container, the host's /dev/null untouched.
 */
const ready = IS_ROOT && fs.existsSync('/bin/busybox') && has('python3');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-runcts-life-${process.pid}-`));
const root = `${tmp}/root`;
const cgParent = `/hostscope-life-${process.pid}-${randomBytes(4).toString('hex')}`;
const reaper = writeReaper(`${tmp}/reap.py`);
let n = 0;
const ids: string[] = [];
type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any

afterAll(() => {
  // a failed test may leave a container: kill it through the runtime, then remove what is left
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

function bundle(script: string, mut: (c: J) => void = () => {}): { dir: string; id: string } {
  const id = `hs-life-${process.pid}-${++n}`;
  ids.push(id);
  const dir = `${tmp}/${id}`;
  busyboxRootfs(dir, ['sh', 'cat', 'echo', 'sleep', 'true']);
  const c = JSON.parse(renderSpecJson(exampleSpec()));
  c.process.terminal = false;
  c.process.args = ['sh', '-c', script];
  c.linux.cgroupsPath = `${cgParent}/${id}`;
  mut(c);
  fs.writeFileSync(`${dir}/config.json`, JSON.stringify(c));
  return { dir, id };
}

/** a shell script under the subreaper; $R is runc-ts with our --root */
function under(script: string): { code: number; out: string; err: string } {
  return underReaper(reaper, ['sh', '-c', script], { timeout: 120_000, env: { ...process.env, R: `${process.execPath} ${BIN('runc-ts')} --root ${root}`, FORCE_COLOR: '0' } });
}

function nothingLeft(id: string) {
  expect(fs.existsSync(`${root}/${id}`)).toBe(false);
  expect(fs.existsSync(`${root}/.locks/${id}`)).toBe(false);
  for (const h of fs.readdirSync('/sys/fs/cgroup')) expect(fs.existsSync(`/sys/fs/cgroup/${h}${cgParent}/${id}`), h).toBe(false);
  const st = fs.statSync('/dev/null');
  expect([st.uid, st.gid, st.mode & 0o7777, st.isCharacterDevice(), st.rdev]).toEqual([0, 0, 0o666, true, 0x103]);
}
const statusLine = (s: string) => [...s.matchAll(/"status": "(\w+)"/g)].map((m) => m[1]);

describe.skipIf(!ready && !process.env.CI)('runc-ts create/start/kill/delete: real busybox containers under a subreaper', () => {
  it('create returns with the init parked (created, pid shown, pid file), start releases it once, the container writes to the caller\'s stdio', () => {
    const b = bundle('trap "echo got-term; exit 3" TERM; echo hello-from-$$; while :; do sleep 0.05; done');
    const r = under(
      `$R create --bundle ${b.dir} --pid-file ${tmp}/${b.id}.pid ${b.id} 2>/dev/null; echo create=$?
       pid=$(cat ${tmp}/${b.id}.pid); echo pidfile=$pid
       $R state ${b.id}; echo
       echo letter=$(cut -d' ' -f3 /proc/$pid/stat) ppid=$(cut -d' ' -f4 /proc/$pid/stat) me=$PPID
       $R start ${b.id}; echo start=$?
       sleep 0.3
       $R state ${b.id}; echo
       $R start ${b.id}; echo start2=$?
       $R kill ${b.id}; echo kill=$?
       sleep 0.5
       $R state ${b.id}; echo
       $R start ${b.id}; echo start3=$?
       $R delete ${b.id}; echo delete=$?
       $R state ${b.id}; echo state-after=$?`,
    );
    expect(r.out).toMatch(/^create=0$/m);
    const pid = Number(/^pidfile=(\d+)$/m.exec(r.out)?.[1]);
    expect(pid).toBeGreaterThan(1);
    expect(r.out).toContain(`"pid": ${pid},`);
    expect(statusLine(r.out)).toEqual(['created', 'running', 'stopped']);
    // parked in a blocking open of the fifo (S), a child of the subreaper (python3 = the sh's parent)
    const m = /^letter=(\w) ppid=(\d+) me=(\d+)$/m.exec(r.out)!;
    expect(m[1]).toBe('S');
    expect(m[2]).toBe(m[3]);
    expect(r.out).toMatch(/^start=0$/m);
    expect(r.out).toMatch(/^hello-from-1$/m); // the container's stdout is the caller's
    expect(r.out).toMatch(/^start2=1$/m);
    expect(r.err).toContain('runc-ts: cannot start an already running container');
    expect(r.out).toMatch(/^kill=0$/m);
    expect(r.out).toMatch(/^got-term$/m); // default signal SIGTERM
    expect(r.out).toMatch(/^start3=1$/m);
    expect(r.err).toContain('runc-ts: cannot start a container that has stopped');
    expect(r.out).toMatch(/^delete=0$/m);
    expect(r.out).toMatch(/^state-after=1$/m);
    expect(r.err).toContain(`container does not exist`);
    expect(fs.existsSync(`/proc/${pid}`) && fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes('(sleep)')).toBe(false);
    nothingLeft(b.id);
  });

  it('delete: a running container without --force is refused (runc\'s text, exit 1); --force kills it; a created one is deleted without --force', () => {
    const a = bundle('while :; do sleep 1; done');
    const c = bundle('echo never-started');
    const r = under(
      `$R run -d --bundle ${a.dir} ${a.id}; echo run=$?
       $R create --bundle ${c.dir} ${c.id} 2>/dev/null; echo create=$?
       $R delete ${a.id}; echo delete=$?
       $R delete --force ${a.id}; echo force=$?
       $R delete ${c.id}; echo delete-created=$?
       $R delete ${a.id}; echo again=$?
       $R delete --force ${a.id}; echo again-force=$?`,
    );
    expect(r.out).toMatch(/^run=0$/m);
    expect(r.out).toMatch(/^create=0$/m);
    expect(r.out).toMatch(/^delete=1$/m);
    expect(r.err).toContain(`runc-ts: cannot delete container ${a.id} that is not stopped: running`);
    expect(r.out).toMatch(/^force=0$/m);
    expect(r.out).toMatch(/^delete-created=0$/m);
    expect(r.out).not.toContain('never-started');
    expect(r.out).toMatch(/^again=1$/m); // runc: "container does not exist"
    expect(r.out).toMatch(/^again-force=0$/m); // --force on a missing container is not an error
    nothingLeft(a.id);
    nothingLeft(c.id);
  });

  it('kill: names, SIG-names and numbers; --all reaches every process; an unknown signal and a stopped container are runc\'s errors', () => {
    const b = bundle('trap "echo usr1" USR1; sleep 1000 & while :; do sleep 0.05; done');
    const r = under(
      `$R run -d --bundle ${b.dir} ${b.id}
       sleep 0.3
       $R kill ${b.id} usr1; echo k1=$?; sleep 0.3
       $R kill ${b.id} SIGUSR1; echo k2=$?; sleep 0.3
       $R kill ${b.id} 10; echo k3=$?; sleep 0.3
       $R kill ${b.id} SIGBOGUS; echo bogus=$?
       $R ps --format json ${b.id}
       $R kill --all ${b.id} KILL; echo all=$?
       sleep 0.5
       $R ps --format json ${b.id}
       $R kill ${b.id} KILL; echo dead=$?
       $R delete ${b.id}; echo delete=$?`,
    );
    expect(r.out.match(/^usr1$/gm)?.length).toBe(3);
    for (const k of ['k1', 'k2', 'k3', 'all', 'delete']) expect(r.out, k).toMatch(new RegExp(`^${k}=0$`, 'm'));
    expect(r.out).toMatch(/^bogus=1$/m);
    expect(r.err).toContain('runc-ts: unknown signal "SIGBOGUS"');
    const lists = [...r.out.matchAll(/^\[([\d,]*)\]$/gm)].map((m) => (m[1] ? m[1].split(',').map(Number) : []));
    expect(lists[0]!.length).toBeGreaterThanOrEqual(2); // sh and its background sleep (and maybe a sleep 0.05)
    expect(lists[1]).toEqual([]);
    expect(r.out).toMatch(/^dead=1$/m);
    expect(r.err).toContain('runc-ts: container not running');
    nothingLeft(b.id);
  });

  it('run -d, ps (json and table), pause/resume (state paused, the freezer FROZEN), update changing live limits, events --stats', () => {
    const b = bundle('while :; do sleep 0.05; done');
    const cg = (ctrl: string, f: string) => `/sys/fs/cgroup/${ctrl}${cgParent}/${b.id}/${f}`;
    const r = under(
      `$R run -d --bundle ${b.dir} --pid-file ${tmp}/${b.id}.pid ${b.id}; echo run=$?
       $R ps --format json ${b.id}
       $R ps ${b.id}
       $R pause ${b.id}; echo pause=$?
       $R state ${b.id}; echo
       echo freezer=$(cat ${cg('freezer', 'freezer.state')})
       $R pause ${b.id}; echo pause2=$?
       $R resume ${b.id}; echo resume=$?
       $R resume ${b.id}; echo resume2=$?
       $R state ${b.id}; echo
       $R update --pids-limit 9 --memory 64m --memory-swap 128m --cpu-quota 20000 --cpu-period 100000 --cpu-share 512 ${b.id}; echo update=$?
       echo pids=$(cat ${cg('pids', 'pids.max')}) mem=$(cat ${cg('memory', 'memory.limit_in_bytes')}) memsw=$(cat ${cg('memory', 'memory.memsw.limit_in_bytes')}) quota=$(cat ${cg('cpu', 'cpu.cfs_quota_us')}) shares=$(cat ${cg('cpu', 'cpu.shares')})
       echo '{"pids":{"limit":11},"memory":{"limit":100663296,"swap":134217728}}' > ${tmp}/${b.id}.res
       $R update -r ${tmp}/${b.id}.res ${b.id}; echo update-r=$?
       echo pids=$(cat ${cg('pids', 'pids.max')}) mem=$(cat ${cg('memory', 'memory.limit_in_bytes')})
       $R update --memory lots ${b.id}; echo update-bad=$?
       $R events --stats ${b.id}
       $R delete --force ${b.id}`,
    );
    expect(r.out).toMatch(/^run=0$/m);
    const pid = Number(fs.readFileSync(`${tmp}/${b.id}.pid`, 'utf8'));
    const json = JSON.parse(/^\[[\d,]*\]$/m.exec(r.out)![0]) as number[];
    expect(json).toContain(pid);
    // table: ps -ef's header, then the init's line
    expect(r.out).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/m);
    expect(r.out).toMatch(new RegExp(`^root\\s+${pid}\\s+\\d+ .*sh -c while`, 'm'));
    expect(statusLine(r.out)).toEqual(['paused', 'running']);
    expect(r.out).toMatch(/^freezer=FROZEN$/m);
    expect(r.out).toMatch(/^pause2=1$/m);
    expect(r.out).toMatch(/^resume2=1$/m);
    expect(r.err).toContain('runc-ts: container not paused');
    expect(r.out).toMatch(/^update=0$/m);
    expect(r.out).toMatch(/^pids=9 mem=67108864 memsw=134217728 quota=20000 shares=512$/m);
    expect(r.out).toMatch(/^update-r=0$/m);
    expect(r.out).toMatch(/^pids=11 mem=100663296$/m);
    expect(r.out).toMatch(/^update-bad=1$/m);
    expect(r.err).toContain('invalid value for memory: "lots"');
    const ev = JSON.parse(r.out.split('\n').find((l) => l.startsWith('{"type":"stats"'))!);
    expect(ev.type).toBe('stats');
    expect(ev.id).toBe(b.id);
    expect(ev.data.pids.limit).toBe(11);
    expect(ev.data.pids.current).toBeGreaterThanOrEqual(1);
    expect(ev.data.memory.usage.limit).toBe(100663296);
    expect(ev.data.cpu.usage.total).toBeGreaterThan(0);
    nothingLeft(b.id);
  });

  it('create with a broken bundle leaves nothing; an id in use is refused; unknown ids are errors for every verb', () => {
    const b = bundle('true');
    // runc's exec.LookPath before the init parks: a missing binary is create's error, not start's
    const nobin = bundle('true', (c) => {
      c.process.args = ['/no/such/binary'];
    });
    const r = under(
      `$R create --bundle ${tmp}/nope ${b.id}; echo missing=$?
       $R create --bundle ${nobin.dir} ${nobin.id}; echo nobin=$?
       $R create --bundle ${b.dir} ${b.id} 2>/dev/null; echo create=$?
       $R create --bundle ${b.dir} ${b.id}; echo dup=$?
       $R start ${b.id}; echo start=$?
       $R delete ${b.id}; echo delete=$?
       for v in start pause resume delete ps state; do $R $v no-such-${process.pid}; echo $v=$?; done
       $R kill no-such-${process.pid} KILL; echo kill=$?`,
    );
    expect(r.out).toMatch(/^missing=1$/m);
    expect(r.err).toContain(`cannot read ${tmp}/nope/config.json: no such file or directory`);
    expect(r.out).toMatch(/^nobin=1$/m);
    expect(r.err).toContain('runc-ts: unable to start container process: exec: "/no/such/binary": stat /no/such/binary: no such file or directory\n');
    expect(r.out).toMatch(/^create=0$/m);
    expect(r.out).toMatch(/^dup=1$/m);
    expect(r.err).toContain(`container with id exists: ${b.id}`);
    expect(r.out).toMatch(/^delete=0$/m);
    for (const v of ['start', 'pause', 'resume', 'delete', 'ps', 'state', 'kill']) expect(r.out, v).toMatch(new RegExp(`^${v}=1$`, 'm'));
    nothingLeft(b.id);
    nothingLeft(nobin.id);
  });

  it('a namespace path that is a FIFO (or a directory) is refused before anything is made: one line naming the field, exit 1, nothing left', () => {
    // it used to block the init in open() for good, with the state ("creating") and the cgroups left behind
    const fifo = `${tmp}/ns-fifo-${process.pid}`;
    spawnSync('mkfifo', [fifo]);
    const b = bundle('true', (c) => {
      for (const ns of c.linux.namespaces) if (ns.type === 'network') ns.path = fifo;
    });
    const d = bundle('true', (c) => {
      for (const ns of c.linux.namespaces) if (ns.type === 'uts') ns.path = tmp;
    });
    const r = under(`$R run --bundle ${b.dir} ${b.id}; echo fifo=$?; $R run --bundle ${d.dir} ${d.id}; echo dir=$?`);
    expect(r.out).toMatch(/^fifo=1$/m);
    expect(r.out).toMatch(/^dir=1$/m);
    const i = JSON.parse(fs.readFileSync(`${b.dir}/config.json`, 'utf8')).linux.namespaces.findIndex((x: J) => x.type === 'network');
    expect(r.err).toBe(`runc-ts: config.json: linux.namespaces[${i}].path: ${JSON.stringify(fifo)} is a FIFO, not a namespace file\n` + `runc-ts: config.json: linux.namespaces[${JSON.parse(fs.readFileSync(`${d.dir}/config.json`, 'utf8')).linux.namespaces.findIndex((x: J) => x.type === 'uts')}].path: ${JSON.stringify(tmp)} is a directory, not a namespace file\n`);
    nothingLeft(b.id);
    nothingLeft(d.id);
  });

  it('exec: joins the init\'s namespaces and cgroup, runc\'s overrides (user, env, cwd, cap), -d with a pid file, 255 when the process cannot start, refused in a stopped container', () => {
    const b = bundle('while :; do sleep 0.05; done', (c) => {
      c.process.env.push('KEEP=1');
    });
    for (const x of ['id', 'pwd', 'readlink', 'grep']) fs.symlinkSync('busybox', `${b.dir}/rootfs/bin/${x}`);
    fs.writeFileSync(`${tmp}/${b.id}.proc.json`, JSON.stringify({ args: ['sh', '-c', 'echo from-process-json; exit 4'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }));
    const r = under(
      `$R run -d --bundle ${b.dir} --pid-file ${tmp}/${b.id}.pid ${b.id}
       init=$(cat ${tmp}/${b.id}.pid)
       echo init-pidns=$(readlink /proc/$init/ns/pid) init-mnt=$(readlink /proc/$init/ns/mnt)
       $R exec ${b.id} sh -c 'echo me=$$ pidns=$(readlink /proc/self/ns/pid) mnt=$(readlink /proc/self/ns/mnt); grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; grep pids /proc/self/cgroup; exit 5' 2>/dev/null; echo exec=$?
       $R exec --user 1000:1001 --env FOO=bar --env KEEP=2 --cwd /proc ${b.id} sh -c 'echo user=$(id -u):$(id -g) foo=$FOO keep=$KEEP cwd=$(pwd)' 2>/dev/null; echo exec2=$?
       $R exec --cap CAP_SYS_ADMIN ${b.id} grep CapEff /proc/self/status 2>/dev/null
       $R exec --process ${tmp}/${b.id}.proc.json ${b.id} 2>/dev/null; echo exec-process=$?
       $R exec ${b.id} /no/such/binary; echo missing=$?
       $R exec -d --pid-file ${tmp}/${b.id}.epid ${b.id} sleep 1000 2>/dev/null; echo detach=$?
       epid=$(cat ${tmp}/${b.id}.epid); echo epid-pidns=$(readlink /proc/$epid/ns/pid)
       $R ps --format json ${b.id}; echo epid=$epid
       $R kill ${b.id} KILL; sleep 0.5
       $R exec ${b.id} true; echo stopped=$?
       $R delete ${b.id}; echo delete=$?`,
    );
    const ns = /^init-pidns=(\S+) init-mnt=(\S+)$/m.exec(r.out)!;
    expect(r.out).toMatch(new RegExp(`^me=([2-9]|\\d\\d+) pidns=${ns[1]!.replace(/[[\]]/g, '\\$&')} mnt=${ns[2]!.replace(/[[\]]/g, '\\$&')}$`, 'm'));
    expect(r.out).toMatch(/^CapEff:\s+0000000020000420$/m);
    expect(r.out).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(r.out).toContain(`pids:${cgParent}/${b.id}`);
    expect(r.out).toMatch(/^exec=5$/m);
    expect(r.out).toMatch(/^user=1000:1001 foo=bar keep=2 cwd=\/proc$/m);
    expect(r.out).toMatch(/^exec2=0$/m);
    expect(r.out).toMatch(/^CapEff:\s+0000000020200420$/m); // + CAP_SYS_ADMIN (bit 21)
    expect(r.out).toContain('from-process-json');
    expect(r.out).toMatch(/^exec-process=4$/m);
    expect(r.out).toMatch(/^missing=255$/m);
    expect(r.err).toContain('runc-ts: exec failed: unable to start container process: exec: "/no/such/binary": stat /no/such/binary: no such file or directory');
    expect(r.out).toMatch(/^detach=0$/m);
    expect(/^epid-pidns=(\S+)$/m.exec(r.out)![1]).toBe(ns[1]);
    const epid = Number(/^epid=(\d+)$/m.exec(r.out)![1]);
    expect(JSON.parse(/^\[[\d,]*\]$/m.exec(r.out)![0])).toContain(epid);
    expect(r.out).toMatch(/^stopped=1$/m);
    expect(r.err).toContain('runc-ts: cannot exec in a stopped container');
    expect(r.out).toMatch(/^delete=0$/m);
    nothingLeft(b.id);
  });

  it('a foreground exec forwards SIGTERM and SIGHUP to its process (runc\'s signal handler): the process\'s trap decides, its exit code is exec\'s; the init is untouched', () => {
    // before: Node's default action ended runc-ts exec itself (143), the exec'd process kept running in the container
    const b = bundle('while :; do sleep 0.05; done');
    const r = under(
      `$R run -d --bundle ${b.dir} --pid-file ${tmp}/${b.id}.pid ${b.id}
       for sig in TERM HUP; do
         out=${tmp}/${b.id}.$sig.out
         $R exec ${b.id} sh -c "trap 'echo got-$sig; exit 42' $sig; echo ready; while :; do sleep 0.05; done" >$out 2>&1 &
         x=$!
         for i in $(seq 200); do grep -q ready $out && break; sleep 0.05; done
         kill -$sig $x; wait $x; echo exec-$sig=$?
         cat $out
       done
       kill -0 $(cat ${tmp}/${b.id}.pid) && echo init-alive
       echo left=$(for p in $($R ps --format json ${b.id} | tr -d '[]' | tr , ' '); do tr '\\0' ' ' </proc/$p/cmdline 2>/dev/null; echo; done | grep -c got-)
       $R kill ${b.id} KILL; sleep 0.5
       $R delete ${b.id}; echo delete=$?`,
    );
    for (const sig of ['TERM', 'HUP']) {
      expect(r.out, r.err).toMatch(new RegExp(`^exec-${sig}=42$`, 'm'));
      expect(r.out).toMatch(new RegExp(`^got-${sig}$`, 'm'));
    }
    expect(r.out).toMatch(/^init-alive$/m);
    // no exec'd process is left in the container once both execs ended
    expect(r.out).toMatch(/^left=0$/m);
    expect(r.out).toMatch(/^delete=0$/m);
    nothingLeft(b.id);
  });

  it('features: a JSON document in runc\'s shape', () => {
    const r = under('$R features');
    expect(r.code).toBe(0);
    const f = JSON.parse(r.out);
    expect(f.ociVersionMin).toBe('1.0.0');
    expect(f.linux.namespaces).toContain('pid');
    expect(f.linux.cgroup.v1).toBe(true);
    expect(f.hooks).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  });
});
