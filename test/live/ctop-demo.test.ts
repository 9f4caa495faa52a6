import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, IS_ROOT, has, nsInode } from '../helpers/live.js';
import { parentMap } from '../../scripts/lib/spawned.js';
import { HostscopeParents } from '../helpers/run-parents.js';

/**
 * `ctop --demo` makes its containers with `hostscope run` (busybox) and removes them on every way
 * out. In tmux, with a store of this test's own (HOSTSCOPE_RUN_ROOT): the three containers appear
 * with their limits, the sidecar shares web's network namespace, web's (--net none) holds only lo;
 * `q` removes them all (no container in the store, no process left); a SIGTERM that arrives while
 * they are still being made removes them too. afterAll removes anything left even when a step failed.
 */
const ready = IS_ROOT && has('tmux') && fs.existsSync('/bin/busybox') && fs.existsSync(path.join(BIN('hostscope'), '../../../build/Release/hostscope-monitor'));
const SOCK = `ctop-demo-${process.pid}`;
// a path the demo makes itself (as /run/hostscope on a host that never ran a container), in a temp dir
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `ctop-demo-${process.pid}-`));
const store = path.join(tmpDir, 'store');
const env = { ...process.env, HOSTSCOPE_RUN_ROOT: store, FORCE_COLOR: '0' };
const parents = new HostscopeParents();

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCK, ...args], { encoding: 'utf8' });
}
const screen = (s: string): string => tmux('capture-pane', '-p', '-t', s);
async function until(s: string, pred: (text: string) => boolean, what: string, timeoutMs = 300_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    last = screen(s);
    if (pred(last)) return last;
    await sleep(200);
  }
  throw new Error(`screen never showed ${what}; last screen:\n${last}`);
}
function start(s: string, args: string): number {
  tmux('new-session', '-d', '-s', s, '-x', '140', '-y', '40', `env -u CI TERM=xterm-256color HOSTSCOPE_RUN_ROOT=${store} ${process.execPath} ${BIN('ctop')} ${args}; echo CTOP_EXIT=$?; sleep 600`);
  const shell = Number(tmux('display-message', '-p', '-t', s, '#{pane_pid}').trim());
  return shell;
}
function hs(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN('hostscope'), ...args], { encoding: 'utf8', env, timeout: 120_000 });
  return { code: r.status ?? 128, out: r.stdout, err: r.stderr };
}
const ids = (): string[] => (fs.existsSync(`${store}/containers`) ? fs.readdirSync(`${store}/containers`) : []);

afterAll(() => {
  try {
    execFileSync('tmux', ['-L', SOCK, 'kill-server'], { stdio: 'ignore' });
  } catch {
    /* no server */
  }
  for (const id of ids()) hs('rm', '-f', id);
  fs.rmSync(tmpDir, { recursive: true, force: true });
  parents.removeMade();
}, 300_000);

describe.skipIf(!ready)('ctop --demo with hostscope run containers', { timeout: 900_000 }, () => {
  it('shows the three containers with their limits and shared network namespace; q removes them all', async () => {
    const shell = start('q', '--demo');
    const t = await until('q', (x) => /^demo-web-\d+ .*64M/m.test(x) && /^demo-db-\d+ /m.test(x) && /^demo-sidecar-\d+ /m.test(x), 'the three demo containers');
    expect(t).toMatch(/^demo-db-\d+ +hostscope .*128M/m);
    const ctop = [...parentMap()].find(([, ppid]) => ppid === shell)?.[0];
    const tag = String(ctop);
    const ps = hs('ps', '--format', 'json');
    const rows = ps.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { Names: string; State: string });
    expect(rows.map((r) => r.Names).sort()).toEqual([`demo-db-${tag}`, `demo-sidecar-${tag}`, `demo-web-${tag}`]);
    const pid = (n: string): number => (JSON.parse(hs('inspect', n).out) as { State: { Pid: number } }[])[0]!.State.Pid;
    const [web, db, side] = [pid(`demo-web-${tag}`), pid(`demo-db-${tag}`), pid(`demo-sidecar-${tag}`)];
    // the sidecar is in web's network namespace (--net container:), nothing else of it
    expect(nsInode(side, 'net')).toBe(nsInode(web, 'net'));
    expect(nsInode(side, 'pid')).not.toBe(nsInode(web, 'pid'));
    // web's own network namespace (--net none) has only lo; db has one of its own too
    const ifaces = fs.readFileSync(`/proc/${web}/net/dev`, 'utf8').split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(':')[0]);
    expect(ifaces).toEqual(['lo']);
    expect(nsInode(db, 'net')).not.toBe(nsInode(process.pid, 'net'));
    expect(nsInode(db, 'net')).not.toBe(nsInode(web, 'net'));
    tmux('send-keys', '-t', 'q', 'q');
    await until('q', (x) => x.includes('CTOP_EXIT=0'), 'the exit status');
    expect(ids()).toEqual([]);
    // the store's state root the demo brought into being is gone again (left empty: nothing else ran)
    expect(fs.existsSync(store)).toBe(false);
    for (const p of [web, db, side]) expect(fs.existsSync(`/proc/${p}`)).toBe(false);
    expect(tmux('display-message', '-p', '-t', 'q', '#{alternate_on} #{cursor_flag}').trim()).toBe('0 1');
  });

  it('a SIGTERM while the containers are still being made removes them too', async () => {
    const shell = start('term', '--demo');
    // the first container's state appears in the store: ctop is in the middle of making them
    const end = Date.now() + 300_000;
    while (ids().length === 0 && Date.now() < end) await sleep(50);
    expect(ids().length).toBeGreaterThan(0);
    const ctop = [...parentMap()].find(([, ppid]) => ppid === shell)?.[0];
    expect(ctop).toBeDefined();
    process.kill(ctop!, 'SIGTERM');
    await until('term', (x) => x.includes('CTOP_EXIT=143'), 'exit status 143');
    expect(ids()).toEqual([]);
    expect(hs('ps', '-a').out.trim().split('\n').length).toBe(1);
    // and no stand-in made after the stop (the fallback used to start once the runs were cut short)
    await sleep(1000);
    const standIns = fs.readdirSync('/sys/fs/cgroup').flatMap((h) => {
      try {
        return fs.readdirSync(`/sys/fs/cgroup/${h}`).filter((d) => d.startsWith(`hostscope-demo-${ctop}-`));
      } catch {
        return [];
      }
    });
    expect(standIns).toEqual([]);
  });
});
