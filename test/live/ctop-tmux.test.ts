/**
 * ctop end to end, in a real terminal (tmux): against two containers this test makes (unshare,
 * each with its own pid/uts/net namespaces, named by HOSTNAME), it navigates group → processes →
 * namespaces tab, filters, sorts, resizes, records and replays, quits,
 * and checks the terminal is restored (normal screen, cursor shown). `env -u CI`: Ink draws
 * nothing while CI is set. No timing thresholds: every wait polls until the screen says so (generous
 * limits: a scan of a host loaded by other tests can take tens of seconds).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, IS_ROOT, has } from '../helpers/live.js';
import { CLEAN_ENV, Spawned, parentMap, waitFor } from '../../scripts/lib/spawned.js';

const SOCK = `ctop-e2e-${process.pid}`;
const A = `ctop-e2e-a-${process.pid}`;
const B = `ctop-e2e-b-${process.pid}`;
const ok = IS_ROOT && has('tmux') && has('unshare');

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCK, ...args], { encoding: 'utf8' });
}
const screen = (s: string): string => tmux('capture-pane', '-p', '-t', s);
const key = (s: string, ...keys: string[]): void => {
  // one key per send-keys: a terminal delivers typed keys one by one
  for (const k of keys) tmux('send-keys', '-t', s, k);
};
const type = (s: string, text: string): void => void tmux('send-keys', '-t', s, '-l', text);

async function until(s: string, pred: (text: string) => boolean, what: string, timeoutMs = 240_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    last = screen(s);
    if (pred(last)) return last;
    await sleep(200);
  }
  throw new Error(`screen never showed ${what}; last screen:\n${last}`);
}

function start(s: string, args: string, cols = 120, rows = 40): void {
  // the shell prints ctop's exit status and stays, so the restored screen can be read
  tmux('new-session', '-d', '-s', s, '-x', String(cols), '-y', String(rows), `env -u CI TERM=xterm-256color ${process.execPath} ${BIN('ctop')} ${args}; echo CTOP_EXIT=$?; sleep 600`);
}

describe.skipIf(!ok)('ctop in tmux against containers made here', () => {
  const spawned = new Spawned();
  let dir = '';

  beforeAll(async () => {
    if (!existsSync(BIN('ctop'))) throw new Error(`${BIN('ctop')} is missing: run 'npm run build' first (npm test does)`);
    dir = mkdtempSync(join(tmpdir(), `ctop-e2e-${process.pid}-`));
    for (const name of [A, B]) {
      const c = spawned.start('unshare', ['--pid', '--fork', '--mount-proc', '--uts', '--net', '--ipc', 'sh', '-c', `hostname ${name}; exec sleep 600`], { env: { ...CLEAN_ENV, HOSTNAME: name } });
      await waitFor(() => [...parentMap().values()].includes(c.pid!), 10_000);
    }
  });

  afterAll(async () => {
    try {
      execFileSync('tmux', ['-L', SOCK, 'kill-server'], { stdio: 'ignore' });
    } catch {
      /* no server left */
    }
    await spawned.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('navigates, filters, sorts, resizes, records, and restores the terminal on q', async () => {
    const s = 'live';
    const rec = join(dir, 'rec.ctop');
    start(s, `--record ${rec}`);
    await until(s, (t) => t.includes(A) && t.includes(B), 'both test containers');
    // the first sample has no rates; the second has
    await until(s, (t) => new RegExp(`${A}\\s+\\S+\\s+\\d+\\s+\\d+\\.\\d`).test(t), 'a CPU % for the container');

    // filter to one container
    key(s, '/');
    type(s, `name~^${A}$`);
    key(s, 'Enter');
    let t = await until(s, (x) => x.includes(A) && !x.includes(B) && x.includes('filter:'), 'only container A after filtering');
    expect(t).toContain(`filter: name~^${A}$`);

    // group → its processes: the breadcrumb says where we are; its init is pid 1 inside
    key(s, 'Enter');
    t = await until(s, (x) => x.includes(`groups by container › ${A}`) && /sleep 600/.test(x), 'the processes of A');
    expect(t).toMatch(/\s1 +\d+ [A-Z] .*sleep 600/);
    // → the process's detail, namespaces tab: pid, net, uts (and mnt, for --mount-proc) its own, user the host's
    key(s, 'j', 'Enter');
    await until(s, (x) => x.includes('1:overview'), 'the detail tabs');
    key(s, '2');
    t = await until(s, (x) => /^net\s+\d+\s+own/m.test(x), 'the namespaces tab');
    expect(t).toMatch(/^pid\s+\d+\s+own/m);
    expect(t).toMatch(/^uts\s+\d+\s+own/m);
    expect(t).toMatch(/^mnt\s+\d+\s+own/m);
    expect(t).toMatch(/^user\s+\d+\s+host/m);

    // Esc twice: back to the groups, clearing the filter on a third
    key(s, 'Escape');
    await until(s, (x) => x.includes(`groups by container › ${A}`) && !x.includes('1:overview'), 'back to the processes');
    // one Escape at a time: two ESC bytes in one read reach Ink as a single (meta) Escape, which is
    // how a loaded machine once turned this step's `send-keys Escape Escape` into one key
    key(s, 'Escape');
    await until(s, (x) => /^groups by container +filter: /m.test(x) && !x.includes(`groups by container › ${A}`), 'the groups, still filtered');
    key(s, 'Escape');
    await until(s, (x) => x.includes(A) && x.includes(B), 'both containers again (filter cleared)');

    // sort by memory (htop's M)
    key(s, 'M');
    await until(s, (x) => /sort mem↓/.test(x), 'the memory sort');

    // resize to 80×24: the frame follows and stays within rows − 1 lines
    tmux('resize-window', '-t', s, '-x', '80', '-y', '24');
    t = await until(s, (x) => x.split('\n')[0]!.length <= 80 && x.includes('groups by container') && x.includes('NAME'), 'the 80×24 frame');
    expect(t.split('\n').every((l) => [...l].length <= 80)).toBe(true);
    expect(t.split('\n')[23] ?? '').toBe('');

    // q: ctop exits 0 and the terminal is the normal screen again with the cursor on
    key(s, 'q');
    t = await until(s, (x) => x.includes('CTOP_EXIT=0'), 'the exit status');
    expect(t).not.toContain('groups by container');
    expect(tmux('display-message', '-p', '-t', s, '#{alternate_on} #{cursor_flag}').trim()).toBe('0 1');

    // the recording replays: the newest sample first, [ steps back, q quits
    const r = 'replay';
    start(r, `--replay ${rec}`);
    t = await until(r, (x) => /REPLAY (\d+)\/\1/.test(x), 'the replay at its last sample');
    const total = Number(/REPLAY (\d+)\//.exec(t)![1]);
    expect(total).toBeGreaterThanOrEqual(2);
    key(r, '[');
    await until(r, (x) => x.includes(`REPLAY ${total - 1}/${total}`), 'one sample back');
    key(r, 'q');
    await until(r, (x) => x.includes('CTOP_EXIT=0'), 'replay exit');
  }, 1_200_000);

  // S: Ink unmounted, the shell (nsenter-ts -t PID -a, interactive: it takes the terminal's
  // foreground) runs, ctop takes the foreground back (native takeTerminal) and re-renders.
  it('S opens a shell in the container and ctop comes back after it', async () => {
    const s = 'shell';
    start(s, '');
    await until(s, (t) => t.includes(A), 'container A');
    key(s, '/');
    type(s, `name~^${A}$`);
    key(s, 'Enter');
    await until(s, (x) => x.includes(A) && !x.includes(B), 'A filtered again');
    key(s, 'S');
    await until(s, (x) => x.includes('a shell in the namespaces of pid'), 'the shell');
    type(s, 'echo SHELL-HOST=$(hostname)');
    key(s, 'Enter');
    await until(s, (x) => x.includes(`SHELL-HOST=${A}`), "the container's hostname from inside");
    type(s, 'exit');
    key(s, 'Enter');
    await until(s, (x) => x.includes('ended') && x.includes('groups by container'), 'ctop back after the shell');

    key(s, 'q');
    await until(s, (x) => x.includes('CTOP_EXIT=0'), 'the exit status');
  }, 1_200_000);

  it('SIGTERM restores the terminal too', async () => {
    const s = 'term';
    start(s, '--readonly', 100, 30);
    await until(s, (x) => x.includes('groups by container'), 'the first frame');
    const pid = Number(tmux('display-message', '-p', '-t', s, '#{pane_pid}').trim());
    // the pane's shell runs ctop as its child: signal that child (ours, started by this test)
    const ctop = [...parentMap()].find(([, ppid]) => ppid === pid)?.[0];
    expect(ctop).toBeDefined();
    process.kill(ctop!, 'SIGTERM');
    await until(s, (x) => x.includes('CTOP_EXIT=143'), 'exit status 143');
    expect(tmux('display-message', '-p', '-t', s, '#{alternate_on} #{cursor_flag}').trim()).toBe('0 1');
  }, 600_000);

  it('batch mode works without a terminal: --once --json lists the containers', { timeout: 600_000 }, () => {
    const r = spawnSync(process.execPath, [BIN('ctop'), '--once', '--json', '-d', '0.5'], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { groups: { name: string; cpuPercent: number | null; netns: number | null }[] };
    const a = j.groups.find((g) => g.name === A)!;
    expect(a).toBeDefined();
    expect(a.cpuPercent).not.toBeNull();
    expect(a.netns).not.toBeNull();
  });
});
