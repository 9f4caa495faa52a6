import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readlinkSync } from 'node:fs';
import { Spawned, waitFor } from '../../scripts/lib/spawned.js';
import { IS_ROOT, childrenOf, has } from '../helpers/live.js';
import { NATIVE } from '../helpers/native.js';
import { captureDeps } from '../helpers/fixtures.js';
import { cinfMain } from '../../cli/cinf.js';

/**
 * Issue 10 on the live host: a container this test makes (unshare: own pid, uts and mount
 * namespaces, a hostname, an init with a child) found by `cinf --find`, shown by `--pid P --tree`
 * with host pids and NSpids side by side, and by `--container NAME`.
 */
describe.skipIf(!IS_ROOT || !has('unshare'))('live: cinf --find and --tree on a container the test makes', () => {
  const spawned = new Spawned();
  const tag = `${process.pid}${Math.random().toString(36).slice(2, 6)}`;
  const host = `hs-find-${tag}`;
  const secs = 600 + (process.pid % 97); // a command line no one else's process has
  let unsharePid = 0;
  let init = 0;
  let child = 0;
  /** the sleep's pid inside (2 or 3: `hostname` ran before it) */
  let childNs = 0;

  beforeAll(async () => {
    const u = spawned.start('unshare', ['--uts', '--pid', '--fork', '--mount-proc', 'sh', '-c', `hostname ${host}; sleep ${secs}.${tag.length} & wait`]);
    unsharePid = u.pid!;
    expect(await waitFor(() => childrenOf(unsharePid).length === 1 && childrenOf(childrenOf(unsharePid)[0]!).length === 1)).toBe(true);
    init = childrenOf(unsharePid)[0]!;
    child = childrenOf(init)[0]!;
    expect(await waitFor(() => { try { return readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'sleep'; } catch { return false; } })).toBe(true);
    childNs = Number(/^NSpid:\s.*\s(\d+)$/m.exec(readFileSync(`/proc/${child}/status`, 'utf8'))![1]);
  }, 90_000); // a loaded host (another bench's 10,000 processes) starts an unshare slowly
  afterAll(async () => {
    await spawned.stopAll();
  });

  const cinf = async (argv: string[]) => {
    const deps = captureDeps();
    const code = await cinfMain(argv, deps);
    return { code, out: deps.out(), err: deps.err() };
  };

  it('--find REGEX -q prints exactly our sleep; without -q its NSpid and container', async () => {
    const pattern = `^sleep ${secs}\\.${tag.length}$`;
    expect(await cinf(['--find', pattern, '-q'])).toMatchObject({ code: 0, out: `${child}\n` });
    const r = await cinf(['--find', pattern, '--json']);
    const rows = (JSON.parse(r.out) as { processes: { pid: number; nspid: number; container: string }[] }).processes;
    expect(rows).toEqual([expect.objectContaining({ pid: child, nspid: childNs, container: NATIVE ? host : expect.any(String) })]);
  });

  it('--find --ns pid:INODE lists the container\'s processes only', async () => {
    const inode = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${init}/ns/pid`))![1]);
    const r = await cinf(['--find', '.', '--ns', `pid:${inode}`, '-q']);
    expect(r.out.trim().split('\n').map(Number).sort((a, b) => a - b)).toEqual([init, child].sort((a, b) => a - b));
  });

  it('--pid P --tree: the tree from the unshare process down, host pid and NSpid side by side', async () => {
    const r = await cinf(['--pid', String(child), '--tree', '--json']);
    expect(r.code).toBe(0);
    type Node = { pid: number; nspid: number; children?: Node[] };
    const j = JSON.parse(r.out) as { container: { initPid: number; pids: number[] }; processes: Node[] };
    expect(j.container.initPid).toBe(init);
    const flat: [number, number, number][] = [];
    const walk = (ns: Node[], depth: number) => ns.forEach((n) => (flat.push([n.pid, n.nspid, depth]), walk(n.children ?? [], depth + 1)));
    walk(j.processes, 0);
    // unshare (in the host pid namespace, so NSpid = its pid) → sh (pid 1 inside) → sleep
    expect(flat.filter(([pid]) => [unsharePid, init, child].includes(pid))).toEqual([
      [unsharePid, unsharePid, 0],
      [init, 1, 1],
      [child, childNs, 2],
    ]);
    const text = await cinf(['--pid', String(child), '--tree']);
    expect(text.out).toMatch(new RegExp(`\\n *${init} +1 root +└─sh -c hostname`));
  });

  it.skipIf(!NATIVE)('--container NAME (its UTS hostname) prints its init\'s story and members', async () => {
    const r = await cinf(['--container', host]);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(`container ${host} (unknown, init pid ${init})`);
    expect(r.out).toMatch(new RegExp(`members \\(\\d+\\)`));
    expect(r.out).toContain(`sleep ${secs}.${tag.length}`);
  });
});
