import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, IS_ROOT, has } from '../helpers/live.js';
import { HostscopeParents } from '../helpers/run-parents.js';

/**
 * `run -i` and `-t` on real busybox containers: a terminal made by python3's pty module plays
 * the user (test/helpers/pty-run.py), pipes play scripts. The store is this test's own.
 */
const ready = IS_ROOT && has('python3') && fs.existsSync('/bin/busybox') && fs.existsSync(path.join(BIN('hostscope'), '../../../build/Release/hostscope-monitor'));
const store = fs.mkdtempSync(path.join(os.tmpdir(), `hs-run-tty-${process.pid}-`));
const env = { ...process.env, HOSTSCOPE_RUN_ROOT: store, FORCE_COLOR: '0' };
const parents = new HostscopeParents();
const ids = () => (fs.existsSync(`${store}/containers`) ? fs.readdirSync(`${store}/containers`) : []);
const mountsOfStore = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(store));

function hsWithInput(input: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN('hostscope'), ...args], { encoding: 'utf8', env, input, timeout: 120000 });
  return { code: r.status ?? 128, out: r.stdout, err: r.stderr };
}

afterAll(() => {
  for (const id of ids()) spawnSync(process.execPath, [BIN('hostscope'), 'rm', '-f', id], { env });
  fs.rmSync(store, { recursive: true, force: true });
  parents.removeMade();
}, 120_000);

describe.skipIf(!ready && !process.env.CI)('hostscope run -i / -t', { timeout: 240_000 }, () => {
  it('-it on a terminal: `tty` inside is /dev/pts/N, the size is the terminal’s, typed input reaches the container, its status is ours, no \\r\\r\\n', () => {
    const r = spawnSync('python3', [path.join(import.meta.dirname, '../helpers/pty-run.py'), '30', '100', process.execPath, BIN('hostscope'), 'run', '-it', '--rm', 'busybox', 'sh', '-c', 'tty; stty size; echo READY; read x; echo "got:$x"; exit 5'], { encoding: 'utf8', env, timeout: 180000 });
    expect(r.status, r.stderr).toBe(0);
    const [raw, st] = r.stdout.trim().split('\n');
    expect(st).toBe('status 5');
    expect(raw).toMatch(/^b'\/dev\/pts\/\d+\\r\\n30 100\\r\\nREADY\\r\\n/);
    expect(raw).toContain('got:typed-line\\r\\n');
    expect(raw).not.toContain('\\r\\r\\n');
    expect(ids()).toEqual([]);
    expect(mountsOfStore()).toEqual([]);
  });

  it('-it: the shell has the pty as its controlling terminal (job control), and ^C typed interrupts a sleep in it', () => {
    // a sleep of an unusual length, so its host process is found by its command line
    const secs = String(3000 + (process.pid % 997));
    const steps = jobControlSteps(secs, '');
    const r = spawnSync('python3', [path.join(import.meta.dirname, '../helpers/pty-steps.py'), '30x100', JSON.stringify(steps), process.execPath, BIN('hostscope'), 'run', '-it', '--rm', 'busybox', 'sh'], { encoding: 'utf8', env, timeout: 180000 });
    expect(r.status, r.stderr).toBe(0);
    const [raw, done, st] = r.stdout.trim().split('\n');
    expect([done, st], raw).toEqual([`steps ${steps.length}/${steps.length}`, 'status 7']);
    expect(raw).not.toContain('job control turned off');
    // /proc/self/stat fields 7 and 8: tty_nr and tpgid
    const [ttyNr, tpgid] = raw!.match(/\\r\\n(-?\d+) (-?\d+)\\r\\nCTTY/)!.slice(1).map(Number);
    expect(ttyNr).not.toBe(0);
    expect(tpgid).toBeGreaterThan(0);
    expect(raw).toContain('after-130\\r\\n');
    expect(ids()).toEqual([]);
  });

  it('exec -it on a terminal: the command gets a pty of its own as its controlling terminal; ^C interrupts a sleep in it; no \\r\\r\\n', () => {
    const d = hsWithInput('', 'run', '-d', 'busybox', 'sleep', '300');
    expect(d.code, d.err).toBe(0);
    const id = d.out.trim();
    const secs = String(4000 + (process.pid % 997));
    const steps = jobControlSteps(secs, ' tty;');
    try {
      const r = spawnSync('python3', [path.join(import.meta.dirname, '../helpers/pty-steps.py'), '30x100', JSON.stringify(steps), process.execPath, BIN('hostscope'), 'exec', '-it', id, 'sh'], { encoding: 'utf8', env, timeout: 180000 });
      expect(r.status, r.stderr).toBe(0);
      const [raw, done, st] = r.stdout.trim().split('\n');
      expect([done, st], raw).toEqual([`steps ${steps.length}/${steps.length}`, 'status 7']);
      expect(raw).not.toContain('job control turned off');
      // line ends as runc exec -t gives them (runc-ts clears ONLCR on the master, as runc does)
      const re = /\\n(-?\d+) (-?\d+)(?:\\r)?\\n\/dev\/pts\/\d+(?:\\r)?\\nCTTY/;
      expect(raw).toMatch(re);
      const [ttyNr, tpgid] = raw!.match(re)!.slice(1).map(Number);
      expect(ttyNr).not.toBe(0);
      expect(tpgid).toBeGreaterThan(0);
      expect(raw).toMatch(/after-130(\\r)?\\n/);
      expect(raw).not.toContain('\\r\\r\\n');
    } finally {
      hsWithInput('', 'rm', '-f', id);
    }
  });

  it('-i with a pipe: every line reaches the container, EOF ends its stdin', () => {
    const r = hsWithInput('one\ntwo\n', 'run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo done');
    expect([r.code, r.out, r.err]).toEqual([0, 'one\ntwo\ndone\n', '']);
  });

  it('-i with more input than the container reads: it exits, we do not hang on our stdin', () => {
    const r = hsWithInput('y\n'.repeat(200000), 'run', '-i', '--rm', 'busybox', 'head', '-n', '2');
    expect([r.code, r.out]).toEqual([0, 'y\ny\n']);
  });

  it('no command: the built-in busybox image runs its Cmd, sh (docker busybox’s), reading stdin with -i', () => {
    const r = hsWithInput('echo "in:$0"\n', 'run', '-i', '--rm', 'busybox');
    expect([r.code, r.out, r.err]).toEqual([0, 'in:sh\n', '']);
    const q = hsWithInput('', 'run', '--rm', 'busybox');
    expect([q.code, q.out, q.err]).toEqual([0, '', '']);
    expect(ids()).toEqual([]);
  });

  it('-v with a host path that is not there: made a directory (0755, parents too), as docker does; one that cannot be made is one line naming the -v', () => {
    const src = `${store}/vol-${process.pid}/a/b`;
    const r = hsWithInput('', 'run', '--rm', '-v', `${src}:/data`, 'busybox', 'sh', '-c', 'echo hi > /data/f');
    expect([r.code, r.err]).toEqual([0, '']);
    expect(fs.statSync(src).mode & 0o7777).toBe(0o755);
    expect(fs.readFileSync(`${src}/f`, 'utf8')).toBe('hi\n');
    fs.writeFileSync(`${store}/a-file`, '');
    const bad = hsWithInput('', 'run', '--rm', '-v', `${store}/a-file/x:/data`, 'busybox', 'true');
    expect([bad.code, bad.err]).toEqual([1, `hostscope run: -v ${store}/a-file/x:/data: cannot create the host directory ${store}/a-file/x: ENOTDIR\n`]);
    // under /proc a missing parent says ENOENT to mkdir: an error, not a loop
    const proc = hsWithInput('', 'run', '--rm', '-v', '/proc/self/no-such/x:/data', 'busybox', 'true');
    expect([proc.code, proc.err]).toEqual([1, 'hostscope run: -v /proc/self/no-such/x:/data: cannot create the host directory /proc/self/no-such/x: ENOENT\n']);
    expect(ids()).toEqual([]);
  });

  it('without -i the container’s stdin is empty (/dev/null), as docker’s', () => {
    const r = hsWithInput('ignored\n', 'run', '--rm', 'busybox', 'sh', '-c', 'cat; echo end');
    expect([r.code, r.out]).toEqual([0, 'end\n']);
  });

  it('-t with no terminal here: the container still gets a pty (24x80), TERM=xterm; -d -t keeps it, logs hold what it printed', () => {
    const r = hsWithInput('', 'run', '-t', '--rm', 'busybox', 'sh', '-c', 'tty; stty size; echo $TERM');
    expect([r.code, r.out]).toEqual([0, '/dev/pts/0\r\n24 80\r\nxterm\r\n']);
    const d = hsWithInput('', 'run', '-d', '-t', 'busybox', 'sh', '-c', 'tty; exec sleep 60');
    expect(d.code, d.err).toBe(0);
    const id = d.out.trim();
    let logs = '';
    for (let k = 0; k < 200 && !logs.includes('\n'); k++) {
      logs = hsWithInput('', 'logs', id).out;
      spawnSync('sleep', ['0.1']);
    }
    expect(logs).toBe('/dev/pts/0\r\n');
    expect(mountsOfStore()).toEqual([]); // the pty is the container's own: no devpts of ours
    expect(hsWithInput('', 'rm', '-f', id).code).toBe(0);
    expect(mountsOfStore()).toEqual([]);
    expect(ids()).toEqual([]);
  });
});

/**
 * pty-steps.py's script for a shell on a pty: print tty_nr and tpgid (fields 7, 8 of
 * /proc/self/stat; `also`: more commands before the marker), start a sleep of `secs` (an unusual
 * length: its host process is found by its command line), type ^C, print $?, exit 7
 */
function jobControlSteps(secs: string, also: string): object[] {
  return [
    { wait: '# ' },
    { send: `cut -d' ' -f7,8 /proc/self/stat;${also} echo CT''TY\r` },
    { wait: 'CTTY' },
    { send: `sleep ${secs}\r` },
    { proc: `sleep\u0000${secs}\u0000` },
    { send: '\x03' },
    { wait: '# ' },
    { send: "echo after''-$?\r" },
    { wait: 'after-' },
    { send: 'exit 7\r' },
  ];
}
