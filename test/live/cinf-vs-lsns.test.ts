import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { Spawned, waitFor } from '../../scripts/lib/spawned.js';
import { IS_ROOT, childrenOf, has, nsInode, runBin } from '../helpers/live.js';
import { NATIVE } from '../helpers/native.js';

interface LsnsRow {
  ns: number;
  type: string;
  nprocs: number;
  pid: number;
}

/**
 * The live host, with namespaces this test makes (and removes): cinf must see the same
 * namespaces as util-linux lsns, with the same process counts and lowest pids.
 */
/**
 * lsns's output. lsns 2.38 can exit 1 when a process of the other tests running meanwhile vanishes
 * while it reads (a CI run failed so once): it is asked again, up to three times, and its own words
 * are kept for the failure; its output can pass execFileSync's 1 MiB default on a busy host.
 */
function lsnsText(args: string[]): string {
  let last = '';
  for (let i = 0; i < 3; i++) {
    const r = spawnSync('lsns', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status === 0) return r.stdout;
    last = `lsns ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr ?? r.error?.message ?? '').trim()}`;
  }
  throw new Error(last);
}

describe.skipIf(!IS_ROOT || !has('lsns') || !has('unshare'))('cinf agrees with lsns on this live host', () => {
  const spawned = new Spawned();
  let container = 0; // the unshare --fork child: pid 1 of its own pid namespace
  let netOnly = 0;

  beforeAll(async () => {
    const outer = spawned.start('unshare', ['--user', '--map-root-user', '--net', '--uts', '--ipc', '--pid', '--fork', '--mount-proc', 'sh', '-c', 'hostname hs-live; sleep 600 & sleep 600']);
    netOnly = spawned.start('unshare', ['--net', 'sleep', '600']).pid!;
    spawned.start('unshare', ['--ipc', '--uts', '--cgroup', 'sleep', '600']);
    spawned.start('unshare', ['--time', '--fork', 'sleep', '600']);
    expect(await waitFor(() => childrenOf(outer.pid!).length === 1 && childrenOf(childrenOf(outer.pid!)[0]!).length === 2)).toBe(true);
    container = childrenOf(outer.pid!)[0]!;
    expect(await waitFor(() => nsInode(netOnly, 'net') !== nsInode(process.pid, 'net'))).toBe(true);
  });
  afterAll(async () => {
    await spawned.stopAll();
  });

  const lsns = (): LsnsRow[] => (JSON.parse(lsnsText(['-J', '-o', 'NS,TYPE,NPROCS,PID'])) as { namespaces: LsnsRow[] }).namespaces;
  const cinf = (): LsnsRow[] => {
    const r = runBin('cinf', ['--json', '--all', '-o', 'NS,TYPE,NPROCS,PID']);
    expect(r.code).toBe(0);
    return (JSON.parse(r.out) as { namespaces: LsnsRow[] }).namespaces;
  };

  it('the same namespaces (inode and type), every one of the eight types', () => {
    const before = lsns();
    const ours = cinf();
    const after = lsns();
    const key = (r: LsnsRow) => `${r.type}:${r.ns}`;
    const stable = new Set(before.map(key).filter((k) => after.some((r) => key(r) === k)));
    // lsns 2.38 lists only namespaces with processes (2.39 added -P for bind-mounted ones)
    expect(ours.filter((r) => r.nprocs > 0).map(key).filter((k) => stable.has(k)).sort()).toEqual([...stable].sort());
    expect(new Set(ours.map((r) => r.type))).toEqual(new Set(['mnt', 'net', 'time', 'cgroup', 'pid', 'user', 'uts', 'ipc']));
  });

  it('the same process counts and lowest pids for the namespaces the test made; host counts within the churn of the two tools', () => {
    const theirs = lsns();
    const ours = cinf();
    const mine = new Set(spawned.tree());
    for (const r of theirs) {
      const o = ours.find((x) => x.ns === r.ns && x.type === r.type);
      if (!o) continue;
      if (mine.has(r.pid)) {
        expect(o, `${r.type}:${r.ns}`).toEqual(r);
      } else {
        expect(Math.abs(o.nprocs - r.nprocs), `${r.type}:${r.ns}`).toBeLessThanOrEqual(4);
      }
    }
    const pidNs = nsInode(container, 'pid')!;
    expect(ours.find((r) => r.ns === pidNs && r.type === 'pid')).toMatchObject({ nprocs: 3, pid: container });
  });

  it.skipIf(!NATIVE)('PNS and ONS (parent and owner namespaces, through the ns ioctls) as lsns prints them', () => {
    type Rel = { ns: number; type: string; pns: number; ons: number };
    const theirs = (JSON.parse(lsnsText(['-J', '-o', 'NS,TYPE,PNS,ONS'])) as { namespaces: Rel[] }).namespaces;
    const r = runBin('cinf', ['--json', '--all', '-o', 'NS,TYPE,PNS,ONS']);
    const ours = (JSON.parse(r.out) as { namespaces: Rel[] }).namespaces;
    const mine = theirs.filter((t) => ours.some((o) => o.ns === t.ns && o.type === t.type));
    expect(mine.length).toBeGreaterThan(8);
    for (const t of mine) expect(ours.find((o) => o.ns === t.ns && o.type === t.type), `${t.type}:${t.ns}`).toEqual(t);
    // the user namespace this test made is owned by the initial one, its pid namespace by it
    const pidNs = nsInode(container, 'pid')!;
    expect(ours.find((o) => o.ns === pidNs)).toMatchObject({ pns: nsInode(process.pid, 'pid'), ons: nsInode(container, 'user') });
  });

  it.skipIf(!NATIVE)('--tree=owner draws exactly what lsns --tree=owner draws; --tree=parent has its edges', () => {
    const theirs = lsnsText(['--tree=owner', '-o', 'NS,TYPE']);
    const ours = runBin('cinf', ['--tree=owner', '--all', '-o', 'NS,TYPE']);
    expect(ours.out).toBe(theirs);
    type Node = { ns: number; type: string; children?: Node[] };
    const edges = (nodes: Node[], parent?: Node, out: string[] = []): string[] => {
      for (const n of nodes) {
        if (parent) out.push(`${parent.type}:${parent.ns}>${n.type}:${n.ns}`);
        edges(n.children ?? [], n, out);
      }
      return out.sort();
    };
    const lp = (JSON.parse(lsnsText(['--tree=parent', '-J', '-o', 'NS,TYPE'])) as { namespaces: Node[] }).namespaces;
    const cp = (JSON.parse(runBin('cinf', ['--tree=parent', '--all', '--json', '-o', 'NS,TYPE']).out) as { namespaces: Node[] }).namespaces;
    expect(edges(cp)).toEqual(edges(lp));
    expect(edges(cp).length).toBeGreaterThan(0);
  });

  it('--namespace lists the same processes as `lsns NS`', () => {
    const pidNs = nsInode(container, 'pid')!;
    const theirs = lsnsText(['-n', '-o', 'PID', String(pidNs)]).trim().split('\n').map((s) => Number(s.trim())).sort((a, b) => a - b);
    const r = runBin('cinf', ['--namespace', String(pidNs), '--json']);
    const ours = (JSON.parse(r.out) as { type: string; processes: { pid: number }[] });
    expect(ours.type).toBe('pid');
    expect(ours.processes.map((p) => p.pid)).toEqual(theirs);
  });

  it('--pid tells the container, the namespaces it owns, and its uid map', () => {
    const r = runBin('cinf', ['--pid', String(container), '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as { container: { initPid: number; runtime: string } | null; namespaces: Record<string, { inode: number; host: boolean }>; uidMap: { inside: number; outside: number; count: number }[]; hostReference: { how: string } };
    // bug 2 (issue 6): the init is pid 1 of the container's pid namespace, not the unshare parent outside it
    expect(s.container?.initPid).toBe(container);
    for (const t of ['user', 'net', 'uts', 'ipc', 'pid']) expect(s.namespaces[t], t).toMatchObject({ inode: nsInode(container, t), host: false });
    expect(s.namespaces.time).toMatchObject({ host: true });
    expect(s.uidMap).toEqual([{ inside: 0, outside: 0, count: 1 }]);
    expect(s.hostReference.how).toBe('kthreadd');
  });

  it.skipIf(!has('ip'))('a network namespace with no process (ip netns add) is listed, with where it is mounted', () => {
    const name = `hs-test-${process.pid}`;
    execFileSync('ip', ['netns', 'add', name]);
    try {
      const inode = statSync(`/run/netns/${name}`).ino;
      const r = runBin('cinf', ['-t', 'net', '--json', '-o', 'NS,NPROCS,PID,NSFS,PATH']);
      const row = (JSON.parse(r.out) as { namespaces: { ns: number; nprocs: number; pid: number | null; nsfs: string[]; path: string }[] }).namespaces.find((n) => n.ns === inode);
      expect(row).toEqual({ ns: inode, nprocs: 0, pid: null, nsfs: [`/run/netns/${name}`], path: `/run/netns/${name}` });
      const one = runBin('cinf', ['--namespace', String(inode)]);
      expect(one.code).toBe(0);
      expect(one.err).toBe(`cinf: net namespace ${inode} has no process: it is kept by a bind mount at /run/netns/${name}\n`);
    } finally {
      execFileSync('ip', ['netns', 'delete', name]);
    }
  });

  it('the net-only sandbox: one process, own net, host everything else', () => {
    const r = runBin('cinf', ['--pid', String(netOnly)]);
    expect(r.out).toMatch(/net\s+\d+ own\s+1/);
    expect(r.out).toMatch(/mnt\s+\d+ host/);
  });
});

describe.skipIf(!IS_ROOT || !has('python3'))('cinf --threads: namespaces only a thread is in', () => {
  const spawned = new Spawned();
  let pid = 0;
  beforeAll(async () => {
    // one thread of this python unshares a network namespace of its own; the process stays on the host's
    const script = 'import ctypes,threading,time\nlibc=ctypes.CDLL(None,use_errno=True)\ndef f():\n  libc.unshare(0x40000000)\n  time.sleep(600)\nthreading.Thread(target=f,daemon=True).start()\ntime.sleep(600)';
    pid = spawned.start('python3', ['-c', script]).pid!;
    expect(await waitFor(() => {
      try {
        return execFileSync('sh', ['-c', `for t in /proc/${pid}/task/*; do readlink $t/ns/net; done | sort -u | wc -l`], { encoding: 'utf8' }).trim() === '2';
      } catch {
        return false;
      }
    })).toBe(true);
  });
  afterAll(async () => {
    await spawned.stopAll();
  });

  it('lsns does not list the thread-only namespace; cinf --threads does, with the thread', () => {
    const tids = execFileSync('ls', [`/proc/${pid}/task`], { encoding: 'utf8' }).trim().split('\n').map(Number).filter((t) => t !== pid);
    const netOf = (t: number): number => Number(/\[(\d+)\]/.exec(execFileSync('readlink', [`/proc/${pid}/task/${t}/ns/net`], { encoding: 'utf8' }))![1]);
    const tid = tids.find((t) => netOf(t) !== nsInode(pid, 'net'))!;
    const inode = netOf(tid);
    const theirs = (JSON.parse(lsnsText(['-J', '-t', 'net'])) as { namespaces: { ns: number }[] }).namespaces;
    expect(theirs.some((n) => n.ns === inode)).toBe(false);
    const plain = JSON.parse(runBin('cinf', ['-t', 'net', '--json']).out) as { namespaces: { ns: number }[] };
    expect(plain.namespaces.some((n) => n.ns === inode)).toBe(false);
    const r = runBin('cinf', ['-t', 'net', '--threads', '--json', '-o', 'NS,NPROCS,PID,THREADS,PATH']);
    const row = (JSON.parse(r.out) as { namespaces: { ns: number; nprocs: number; pid: number; threads: string[]; path: string }[] }).namespaces.find((n) => n.ns === inode);
    expect(row).toEqual({ ns: inode, nprocs: 0, pid, threads: [`${pid}/${tid}`], path: `/proc/${pid}/task/${tid}/ns/net` });
    expect(runBin('cinf', ['--pid', String(pid)]).out).toMatch(new RegExp(`net \\(thread ${tid}\\)\\s+${inode} own`));
  });
});
