import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Spawned, waitFor } from '../../scripts/lib/spawned.js';
import { BIN, IS_ROOT, childrenOf, has } from '../helpers/live.js';

/**
 * Stop 20, finding B: a container's "monitor" (the init's first parent outside it) can be any
 * user's process, and its `--bundle DIR` (or, for a comm like `runc`, its cwd) named the
 * config.json live root cinf opened, following symlinks, fstat'ed only after the open. So
 * `nobody` made root open its FIFO (which unblocks the FIFO's writer; a device the same way:
 * opening /dev/watchdog arms it) and read a root-only config.json, showing its annotation name.
 * Three nobody processes, each the monitor of an `unshare -Ur --uts` sandbox of its own:
 *  - --bundle D, D/config.json a FIFO (a writer waiting on it would have been let through)
 *  - --bundle S, S a root-owned directory whose config.json (mode 600) names SECRET
 *  - --bundle L, L/config.json nobody's symlink to S/config.json
 */
const NOBODY = 65534;
const ok = IS_ROOT && has('setpriv') && has('unshare') && has('mkfifo') && has('strace');

describe.skipIf(!ok)('live: a bundle path an unprivileged monitor names', { timeout: 60_000 }, () => {
  const spawned = new Spawned();
  const tag = `${process.pid}${Math.random().toString(36).slice(2, 6)}`;
  const secret = `SECRET-${tag}`;
  const dirs: string[] = [];
  const inits: number[] = [];
  let fifoDir = '';

  const asNobody = (script: string, dir: string) => {
    const p = spawned.start('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sh', '-c', script, dir, '--bundle', dir]);
    return p;
  };
  const sandboxOf = async (sh: number): Promise<number> => {
    let init = 0;
    expect(await waitFor(() => (init = childrenOf(sh).find((c) => { try { return readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'sleep'; } catch { return false; } }) ?? 0) > 0, 10_000)).toBe(true);
    return init;
  };

  beforeAll(async () => {
    const mk = (name: string): string => {
      const d = mkdtempSync(join(tmpdir(), `hs-bundle-${name}-`));
      dirs.push(d);
      chmodSync(d, 0o755);
      return d;
    };
    // the FIFO: nobody's directory, nobody's FIFO
    fifoDir = mk('fifo');
    chownSync(fifoDir, NOBODY, NOBODY);
    const f = asNobody('mkfifo "$0/config.json"; unshare -Ur --uts sleep 600; wait', fifoDir);
    // a root-only config.json in root's directory
    const secretDir = mk('secret');
    writeFileSync(join(secretDir, 'config.json'), JSON.stringify({ annotations: { 'org.hostscope.name': secret } }));
    chmodSync(join(secretDir, 'config.json'), 0o600);
    const s = asNobody('cat "$0/config.json" 2>/dev/null; unshare -Ur --uts sleep 600; wait', secretDir);
    // nobody's symlink to it
    const linkDir = mk('link');
    chownSync(linkDir, NOBODY, NOBODY);
    symlinkSync(join(secretDir, 'config.json'), join(linkDir, 'config.json'));
    const l = asNobody('unshare -Ur --uts sleep 600; wait', linkDir);
    // setpriv execs sh, which stays (the `wait`): the monitor of the sleep unshare execs
    for (const p of [f, s, l]) inits.push(await sandboxOf(p.pid!));
  });
  afterAll(async () => {
    await spawned.stopAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('cinf believes none of them and opens none for reading: not the FIFO, not the symlink, not root\'s file', () => {
    // the real bin under strace: which opens of these paths did it make, with which flags
    const trace = join(dirs[0]!, '..', `hs-bundle-trace-${tag}`);
    try {
      const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=open,openat,openat2', '-o', trace, process.execPath, BIN('cinf'), '-o', 'PID,CONTAINER', '-t', 'uts', '--debug'], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
      expect(r.status).toBe(0);
      for (const init of inits) expect(r.stdout).toMatch(new RegExp(`^ *${init} `, 'm'));
      expect(r.stdout + r.stderr).not.toContain(secret);
      // why, on --debug
      expect(r.stderr).toContain(`${fifoDir}/config.json: not a regular file (a FIFO)`);
      expect(r.stderr).toContain(`${dirs[1]}/config.json: owned by uid 0, not by the uid its monitor runs as (${NOBODY}): ignored`);
      expect(r.stderr).toContain(`${dirs[2]}/config.json: not a regular file (a symlink)`);
      // each was looked at through an O_PATH|O_NOFOLLOW handle only: opening the FIFO for reading
      // would have let a writer through (a device's driver would have run: /dev/watchdog arms)
      const opens = readFileSync(trace, 'utf8').split('\n').filter((l) => dirs.some((d) => l.includes(`"${d}/config.json"`)));
      for (const d of dirs) expect(opens.some((l) => l.includes(`"${d}/config.json"`))).toBe(true);
      for (const l of opens) expect(l).toMatch(/O_PATH/);
      for (const l of opens) expect(l).toMatch(/O_NOFOLLOW/);
    } finally {
      rmSync(trace, { force: true });
    }
  });
});
