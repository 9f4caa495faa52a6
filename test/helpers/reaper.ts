import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';

/**
 * A python3 subreaper (PR_SET_CHILD_SUBREAPER) for live runtime tests: a container's init outlives
 * `runc-ts create`, and PID 1 is not ours and reaps late, so every script runs under this, which
 * reaps continuously (as a monitor does: a dying container init waits for its namespace's zombies)
 * and exits with the script's own status.
 */
const REAPER_PY = `import ctypes, os, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
rc = 1
while True:  # reap continuously: a dying container init waits for its namespace's zombies
    try:
        p, st = os.wait()
    except ChildProcessError:
        break
    if p == pid:
        rc = os.waitstatus_to_exitcode(st)
sys.exit(rc)
`;

/** Write the subreaper to `path` (in the test's temp dir); returns `path`. */
export function writeReaper(path: string): string {
  writeFileSync(path, REAPER_PY);
  return path;
}

/** `args` under the subreaper at `reaper`: exit code (-1 when killed or not started), stdout, stderr. */
export function underReaper(reaper: string, args: string[], opts: { timeout: number; env: NodeJS.ProcessEnv }): { code: number; out: string; err: string } {
  const r = spawnSync('python3', [reaper, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeout, env: opts.env });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** A rootfs of one static busybox (copied from the host's /bin/busybox) with `links` to it, and empty proc, sys and dev. */
export function busyboxRootfs(dir: string, links: readonly string[]): void {
  mkdirSync(`${dir}/rootfs/bin`, { recursive: true });
  for (const d of ['proc', 'sys', 'dev']) mkdirSync(`${dir}/rootfs/${d}`);
  copyFileSync('/bin/busybox', `${dir}/rootfs/bin/busybox`);
  chmodSync(`${dir}/rootfs/bin/busybox`, 0o755);
  for (const x of links) symlinkSync('busybox', `${dir}/rootfs/bin/${x}`);
}
