import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Store, StoreError, humanDuration, newId } from '../../src/container/store.js';
import { parseLog, waitExit, psRows, checkReachable } from '../../src/container/engine.js';
import { withNetLock } from '../../src/container/network.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-store-${process.pid}-`));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const MONITOR = path.join(import.meta.dirname, '../../build/Release/hostscope-monitor');

describe('the store root is 0711 whatever makes it first (a --userns root must reach ROOT/containers)', () => {
  const mode = (p: string) => fs.statSync(p).mode & 0o7777;
  fs.chmodSync(tmp, 0o711);
  it('reserveName first (run does): ROOT 0711, names 0700', () => {
    const s = new Store(`${tmp}/r1/store`);
    s.reserveName('x', newId());
    expect([mode(`${tmp}/r1`), mode(`${tmp}/r1/store`), mode(`${tmp}/r1/store/names`)]).toEqual([0o711, 0o711, 0o700]);
  });
  it('create first: ROOT 0711, containers 0711', () => {
    const s = new Store(`${tmp}/r2`);
    s.create({ id: newId(), name: 'x', image: 'busybox', command: ['true'], created: '', ownRootfs: true, rm: false });
    expect([mode(`${tmp}/r2`), mode(`${tmp}/r2/containers`)]).toEqual([0o711, 0o711]);
  });
  it('the network lock first: ROOT 0711, net 0700', () => {
    withNetLock(`${tmp}/r3`, () => undefined);
    expect([mode(`${tmp}/r3`), mode(`${tmp}/r3/net`)]).toEqual([0o711, 0o700]);
  });
  it('checkReachable names the directory the mapped root cannot search', () => {
    const maps = { uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] };
    fs.mkdirSync(`${tmp}/r4/closed/rootfs`, { recursive: true });
    fs.chmodSync(`${tmp}/r4/closed`, 0o700);
    expect(() => checkReachable(`${tmp}/r4/closed/rootfs`, maps)).toThrow(`--userns: the container's root (host uid 100000) cannot reach its rootfs: ${tmp}/r4/closed is mode 0700 (chmod o+x ${tmp}/r4/closed)`);
    fs.chmodSync(`${tmp}/r4/closed`, 0o750);
    fs.chownSync(`${tmp}/r4/closed`, 0, 100000);
    expect(() => checkReachable(`${tmp}/r4/closed/rootfs`, maps)).not.toThrow();
    expect(() => checkReachable(`${tmp}/r4/closed/rootfs`, undefined)).not.toThrow();
  });
});

describe('the name store', () => {
  const s = new Store(`${tmp}/a`);
  const id1 = newId();
  const id2 = newId();
  it('ids are 64 hex, random', () => {
    expect(id1).toMatch(/^[0-9a-f]{64}$/);
    expect(id1).not.toBe(id2);
  });
  it('a name is taken once (O_EXCL); the second taker gets docker’s message naming the holder', () => {
    s.reserveName('db', id1);
    expect(() => s.reserveName('db', id2)).toThrow(new StoreError(`the container name "db" is already in use by ${id1}`));
  });
  it('release only drops the name for its own id', () => {
    s.releaseName('db', id2);
    expect(fs.existsSync(`${tmp}/a/names/db`)).toBe(true);
    s.releaseName('db', id1);
    expect(fs.existsSync(`${tmp}/a/names/db`)).toBe(false);
  });
  it('names that could be paths are refused', () => {
    for (const bad of ['../x', 'a/b', '.hidden', '', 'x'.repeat(129), 'a\nb']) expect(() => s.reserveName(bad, id1), JSON.stringify(bad)).toThrow(StoreError);
  });
  it('resolve: name, full id, unique prefix; ambiguous and unknown refs are errors', () => {
    const a = 'ab' + 'c'.repeat(62);
    const b = 'ab' + 'd'.repeat(62);
    for (const [id, name] of [[a, 'one'], [b, 'two']] as const) {
      s.reserveName(name, id);
      s.create({ id, name, image: 'busybox', command: ['true'], created: new Date().toISOString(), ownRootfs: true, rm: false });
    }
    expect(s.resolve('one')).toBe(a);
    expect(s.resolve(b)).toBe(b);
    expect(s.resolve('abd')).toBe(b);
    expect(() => s.resolve('ab')).toThrow(/multiple containers match 'ab'/);
    expect(() => s.resolve('nope')).toThrow('no such container: nope');
    expect(() => s.resolve('x\x1b[2J')).toThrow('no such container: x\\x1b[2J');
    s.remove(a);
    expect(() => s.resolve('one')).toThrow('no such container: one');
    expect(fs.existsSync(`${tmp}/a/names/one`)).toBe(false);
  });
  it('a planted symlink for a pid file is not followed', () => {
    const id = 'e'.repeat(64);
    s.create({ id, name: 'e', image: 'busybox', command: ['true'], created: new Date().toISOString(), ownRootfs: true, rm: false });
    fs.writeFileSync(`${tmp}/target`, '1\n');
    fs.symlinkSync(`${tmp}/target`, `${s.dir(id)}/init.pid`);
    expect(s.pidFile(id, 'init.pid')).toBeUndefined();
  });
});

describe('humanDuration: go-units as docker ps prints it', () => {
  const cases: [number, string][] = [
    [500, 'Less than a second'],
    [1000, '1 second'],
    [5000, '5 seconds'],
    [59_999, '59 seconds'],
    [60_000, 'About a minute'],
    [5 * 60_000, '5 minutes'],
    [3_600_000, 'About an hour'],
    [3 * 3_600_000, '3 hours'],
    [3 * 86_400_000, '3 days'],
    [20 * 86_400_000, '2 weeks'],
    [90 * 86_400_000, '3 months'],
    [800 * 86_400_000, '2 years'],
  ];
  for (const [ms, text] of cases) it(`${ms} ms → ${text}`, () => expect(humanDuration(ms)).toBe(text));
});

/**
 * A runtime in sh with runc's verbs, for the monitor alone: `create` parks the "init" (sh reading a
 * FIFO, then running the script in DIR/script) in the background with create's stdio and writes
 * its pid (the init's cwd is DIR); `start` writes the FIFO; `delete` records that it ran. FAIL_CREATE in DIR makes create
 * fail with a message.
 */
const FAKE_RUNTIME = `
dir=$1; verb=$2; shift 2
case $verb in
create)
  if [ -e "$dir/FAIL_CREATE" ]; then echo "create: boom from the runtime" >&2; exit 4; fi
  mkfifo "$dir/go"
  cd "$dir"
  exec 3<&0
  if [ "$5" = --console-socket ]; then
    # process.terminal: the init opens a pty, makes it its controlling terminal and stdio, and
    # sends the master over the console socket (runc's recvtty protocol) before it parks
    python3 "\${0%/*}/console-init.py" "$6" "$dir/go" "$dir/script" </dev/null &
  else
    sh -c 'read x < "$1"; exec sh -c "$(cat "$2")" <&3' init "$dir/go" "$dir/script" <&3 &
  fi
  echo $! > "$4"; exit 0;;
start) echo go > "$dir/go";;
delete) echo "$@" > "$dir/deleted";;
*) exit 9;;
esac
`;

const CONSOLE_INIT = `
import fcntl, os, socket, sys, termios
m, s = os.openpty()
os.setsid()
fcntl.ioctl(s, termios.TIOCSCTTY, 0)
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
socket.send_fds(c, [b'/dev/ptmx'], [m])
c.close()
os.close(m)
for fd in (0, 1, 2):
    os.dup2(s, fd)
os.close(s)
open(sys.argv[2]).read()
os.execvp('sh', ['sh', '-c', open(sys.argv[3]).read()])
`;

describe.skipIf(!fs.existsSync(MONITOR))('the monitor (build/Release/hostscope-monitor), with a runtime in sh', () => {
  fs.mkdirSync(tmp, { recursive: true });
  fs.writeFileSync(`${tmp}/fake-runtime.sh`, FAKE_RUNTIME);
  fs.writeFileSync(`${tmp}/console-init.py`, CONSOLE_INIT);
  function monitor(script: string, flags: string[] | ((dir: string) => string[]) = [], setup?: (dir: string) => void): { dir: string; store: Store; id: string } {
    const store = new Store(`${tmp}/m`);
    const id = newId();
    const dir = store.create({ id, name: `m${id.slice(0, 6)}`, image: 'x', command: ['sh'], created: new Date().toISOString(), ownRootfs: false, rm: false });
    fs.writeFileSync(`${dir}/script`, script);
    setup?.(dir);
    const r = spawnSync(MONITOR, [...(typeof flags === 'function' ? flags(dir) : flags), dir, id, '--', 'sh', `${tmp}/fake-runtime.sh`, dir], { stdio: 'ignore' });
    expect(r.status).toBe(0);
    return { dir, store, id };
  }
  it('writes docker json-file lines per stream, escaped, RFC3339Nano times; the exit file has the code', async () => {
    const { dir, store, id } = monitor(`printf 'a "q" \\\\ \\t\\033[2J\\n'; printf 'e1\\n' >&2; printf 'no newline'; exit 3`);
    const exit = await waitExit(store, id, 20000);
    expect(exit.exitCode).toBe(3);
    expect(exit.signal).toBeNull();
    expect(exit.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const raw = fs.readFileSync(`${dir}/ctr.log`, 'utf8');
    expect(raw).toContain('{"log":"a \\"q\\" \\\\ \\t\\u001b[2J\\n","stream":"stdout","time":"');
    const lines = parseLog(raw);
    expect(lines.map((l) => [l.stream, l.log])).toEqual(
      expect.arrayContaining([
        ['stdout', 'a "q" \\ \t\x1b[2J\n'],
        ['stderr', 'e1\n'],
        ['stdout', 'no newline'],
      ]),
    );
    for (const l of lines) expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(psRows(store, true).find((r) => r.id === id)?.status).toMatch(/^Exited \(3\) .* ago$/);
  });
  it('create, start, delete in that order: init.pid is the parked init, whose parent is the monitor (its subreaper); delete --force ID ran', async () => {
    const { dir, store, id } = monitor('echo started; read x < script.gate; exit 0', [], (d) => spawnSync('mkfifo', [`${d}/script.gate`]));
    for (let k = 0; k < 400 && store.pidFile(id, 'init.pid') === undefined; k++) await new Promise((r) => setTimeout(r, 25));
    const init = store.pidFile(id, 'init.pid')!;
    expect(init).toBe(Number(fs.readFileSync(`${dir}/create.pid`, 'utf8')));
    const ppid = Number(/^PPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${init}/status`, 'utf8'))![1]);
    expect(ppid).toBe(store.pidFile(id, 'monitor.pid'));
    fs.writeFileSync(`${dir}/script.gate`, 'x\n');
    expect((await waitExit(store, id, 20000)).exitCode).toBe(0);
    expect(fs.readFileSync(`${dir}/deleted`, 'utf8')).toBe(`--force ${id}\n`);
    expect(fs.existsSync(`/proc/${init}`)).toBe(false);
  });
  it('a line longer than 16 KiB is cut into records, as docker does; nothing is lost', async () => {
    const { dir, store, id } = monitor(`head -c 40000 /dev/zero | tr '\\0' x; echo`);
    await waitExit(store, id, 20000);
    const lines = parseLog(fs.readFileSync(`${dir}/ctr.log`, 'utf8'));
    expect(lines.length).toBe(3);
    expect(lines.map((l) => l.log).join('')).toBe('x'.repeat(40000) + '\n');
  });
  it('an init killed by a signal: 128+N and the signal', async () => {
    const { store, id } = monitor('kill -TERM $$');
    const exit = await waitExit(store, id, 20000);
    expect([exit.exitCode, exit.signal]).toEqual([143, 15]);
  });
  it('a runtime that cannot be run: 127 and the reason in the log, no init.pid', async () => {
    const store = new Store(`${tmp}/m`);
    const id = newId();
    const dir = store.create({ id, name: `m${id.slice(0, 6)}`, image: 'x', command: ['x'], created: new Date().toISOString(), ownRootfs: false, rm: false });
    spawnSync(MONITOR, [dir, id, '--', `${tmp}/no-such-runtime`], { stdio: 'ignore' });
    expect((await waitExit(store, id, 20000)).exitCode).toBe(127);
    expect(fs.readFileSync(`${dir}/ctr.log`, 'utf8')).toContain('cannot run');
    expect(store.pidFile(id, 'init.pid')).toBeUndefined();
  });
  it('create failing: its status, its message logged as stderr, no start, no delete', async () => {
    const { dir, store, id } = monitor('echo never', [], (d) => fs.writeFileSync(`${d}/FAIL_CREATE`, ''));
    expect((await waitExit(store, id, 20000)).exitCode).toBe(4);
    expect(parseLog(fs.readFileSync(`${dir}/ctr.log`, 'utf8')).map((l) => [l.stream, l.log])).toEqual([['stderr', 'create: boom from the runtime\n']]);
    expect(fs.existsSync(`${dir}/deleted`)).toBe(false);
  });
  it('-k: the hook gets the init pid before start; a failing hook kills the parked init, its status is the exit code', async () => {
    const { dir, store, id } = monitor('echo should-not-run', ['-k', 'sh', '-k', '-c', '-k', `echo "$0" > ${tmp}/hook-pid; echo hook says no >&2; exit 5`]);
    expect((await waitExit(store, id, 20000)).exitCode).toBe(5);
    const hookPid = Number(fs.readFileSync(`${tmp}/hook-pid`, 'utf8'));
    expect(hookPid).toBe(Number(fs.readFileSync(`${dir}/create.pid`, 'utf8')));
    expect(fs.existsSync(`/proc/${hookPid}`)).toBe(false);
    const log = parseLog(fs.readFileSync(`${dir}/ctr.log`, 'utf8')).map((l) => l.log);
    expect(log).toEqual(['hook says no\n']);
    expect(store.pidFile(id, 'init.pid')).toBeUndefined();
  });
  it('-i: what is written to DIR/stdin reaches the container; closing it ends the container’s stdin', async () => {
    const { dir, store, id } = monitor('cat; echo after-eof', ['-i']);
    const fd = fs.openSync(`${dir}/stdin`, 'w');
    fs.writeSync(fd, 'line one\nline two\n');
    fs.closeSync(fd);
    expect((await waitExit(store, id, 20000)).exitCode).toBe(0);
    expect(parseLog(fs.readFileSync(`${dir}/ctr.log`, 'utf8')).map((l) => l.log)).toEqual(['line one\n', 'line two\n', 'after-eof\n']);
  });
  it('-t ROWSxCOLS: the master comes over --console-socket; the container’s stdio is a pty of that size, typed input is echoed, output logged as stdout', async () => {
    const { dir, store, id } = monitor('tty; stty size; read x; echo "got:$x"', ['-i', '-t', '30x100']);
    const fd = fs.openSync(`${dir}/stdin`, 'w');
    fs.writeSync(fd, 'hello\n');
    expect((await waitExit(store, id, 20000)).exitCode).toBe(0);
    fs.closeSync(fd);
    const text = parseLog(fs.readFileSync(`${dir}/ctr.log`, 'utf8')).map((l) => l.log).join('');
    expect(text).toMatch(/\/pts\/\d+\r\n30 100\r\n/); // the init's own pty, the size set on the master it sent
    expect(text).toMatch(/^hello\r\n|\r\nhello\r\n/); // the echo of the line discipline (typed before or after the prompt)
    expect(text).toContain('got:hello\r\n');
  });
  it('-x: the exit command runs once the exit file exists (what `run -d --rm` uses)', async () => {
    const { dir, store, id } = monitor('exit 7', (d) => ['-x', 'sh', '-x', '-c', '-x', `cat ${d}/exit > ${d}/x-saw`]);
    await waitExit(store, id, 20000);
    for (let k = 0; k < 400 && !fs.readFileSync(`${dir}/x-saw`, { flag: 'a+' }).toString().endsWith('\n'); k++) await new Promise((r) => setTimeout(r, 25));
    expect(JSON.parse(fs.readFileSync(`${dir}/x-saw`, 'utf8'))).toMatchObject({ exitCode: 7 });
  });
  it('bad usage: exit 1, nothing started', () => {
    expect(spawnSync(MONITOR, ['only-a-dir'], { stdio: 'ignore' }).status).toBe(1);
    expect(spawnSync(MONITOR, ['-t', '0x0', 'd', 'i', '--', 'x'], { stdio: 'ignore' }).status).toBe(1);
  });
});
