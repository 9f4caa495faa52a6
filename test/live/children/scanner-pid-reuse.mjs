/**
 * Run by test/live/scanner-identity.test.ts as pid 1 of a pid namespace of its own, with a /proc
 * of that namespace (`unshare --pid --fork --mount --mount-proc node THIS ROOT`): only this
 * script's processes are in that /proc, so scan counts are exact and a pid can be reused on
 * purpose (/proc/sys/kernel/ns_last_pid). Prints one JSON object with what it saw.
 *
 * What it checks (the test asserts on the JSON):
 * - a known process outside freshStat is not read at all while its /proc entry keeps its d_ino;
 * - the rolling revalidation still reads it whole once every revalidateEvery scans;
 * - a process that exits and whose pid is taken by another process (another program, started
 *   right after: maybe within the same clock tick, so maybe the same start time) is read whole
 *   and the model holds the new process, with freshStat 'none', a set, and 'all';
 * - processes that come and go like ones already there (same namespaces and cgroups) patch the
 *   model instead of rebuilding it, and the patched model is the one scanHost builds.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.argv[2];
const { openSource } = await import(join(ROOT, 'dist/src/source/source.js'));
const { HostScanner } = await import(join(ROOT, 'dist/src/inspect/scanner.js'));
const { scanHost } = await import(join(ROOT, 'dist/src/inspect/scan.js'));

const out = { pid: process.pid, steps: [] };
const children = new Set();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const comm = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
};
const startOf = (pid) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]);

/** start `cmd`, wait until its exec is done (its comm is `name`) */
async function start(cmd, args, name) {
  const c = spawn(cmd, args, { stdio: 'ignore' });
  children.add(c);
  c.once('exit', () => children.delete(c));
  for (let i = 0; i < 500 && comm(c.pid) !== name; i++) await sleep(10);
  if (comm(c.pid) !== name) throw new Error(`${cmd} never became ${name}`);
  return c;
}

async function stop(c) {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const gone = once(c, 'exit');
  c.kill('SIGKILL');
  await gone; // reaped by node (we are its parent) before 'exit' is emitted
}

/** kill `a`, then start `cmd` under a's pid (ns_last_pid = pid - 1 just before the fork) */
async function reuse(a, cmd, args, name) {
  const pid = a.pid;
  await stop(a);
  for (let attempt = 0; attempt < 10; attempt++) {
    writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
    const b = await start(cmd, args, name);
    if (b.pid === pid) return b;
    await stop(b); // another task (a thread of ours) took the pid first: try again
  }
  throw new Error(`could not reuse pid ${pid}`);
}

const view = (r, pid) => {
  const p = r.model.snapshot.processes.find((x) => x.pid === pid);
  return {
    comm: p?.stat?.comm,
    start: p?.stat?.startTimeTicks,
    freshStat: r.stat.has(pid),
    stats: { fullReads: r.stats.fullReads, statOnly: r.stats.statOnly, unread: r.stats.unread, modelReused: r.stats.modelReused },
  };
};

try {
  const src = openSource();
  for (const mode of ['none', 'set', 'all']) {
    const s = new HostScanner(src, { files: ['ids'], containers: true, revalidateEvery: 1000, freshStat: mode === 'set' ? new Set([1]) : mode });
    const a = await start('sleep', ['600'], 'sleep');
    const aIno = statSync(`/proc/${a.pid}`).ino;
    const aStart = startOf(a.pid);
    const known = [];
    // first scan: all new; second: a new pid is read whole once more; then known
    for (let i = 0; i < 4; i++) known.push(view(await s.scan(), a.pid));
    const b = await reuse(a, 'tail', ['-f', '/dev/null'], 'tail');
    const bIno = statSync(`/proc/${b.pid}`).ino;
    const after = view(await s.scan(), b.pid);
    const next = view(await s.scan(), b.pid);
    out.steps.push({ mode, pid: a.pid, aIno, bIno, aStart, bStart: startOf(b.pid), known, after, next });
    await stop(b);
  }
  // revalidation: a known process outside freshStat is read whole at the scan whose phase is its pid % N
  {
    const N = 3;
    const s = new HostScanner(src, { files: ['ids'], containers: true, revalidateEvery: N, freshStat: 'none' });
    const c = await start('sleep', ['601'], 'sleep');
    const scans = [];
    for (let i = 0; i < 3 + 2 * N; i++) {
      const r = await s.scan();
      scans.push({ scan: i, freshStat: r.stat.has(c.pid), fullReads: r.stats.fullReads, unread: r.stats.unread });
    }
    out.revalidation = { pid: c.pid, every: N, scans };
    await stop(c);
  }
  // patches: a container (own uts namespace), a process joining it, a plain process beside pid 1
  {
    const OPTS = { files: ['ids'], containers: true };
    const s = new HostScanner(src, { ...OPTS, revalidateEvery: 1000, freshStat: 'none' });
    const essence = (m) => ({
      pids: m.snapshot.processes.map((p) => p.pid),
      namespaces: m.namespaces.map((g) => ({ key: g.key, pids: g.pids, lowest: g.lowest?.pid, isHost: g.isHost })),
      containers: m.containers.map((k) => ({ key: k.key, name: k.name, init: k.initPid, pids: k.pids, cgroup: k.cgroupPath, shared: k.sharedWithHost })),
      containerOf: [...m.containerOf].map(([pid, k]) => [pid, k.key]).sort((a, b) => a[0] - b[0]),
      nsByKey: [...m.nsByKey.keys()].sort(),
    });
    const c = await start('unshare', ['--uts', 'sleep', '602'], 'sleep');
    for (let i = 0; i < 3; i++) await s.scan();
    const steps = [];
    const check = async (what) => {
      const r = await s.scan();
      const ref = await scanHost(src, OPTS);
      steps.push({ what, patched: r.stats.modelPatched, reused: r.stats.modelReused, same: JSON.stringify(essence(r.model)) === JSON.stringify(essence(ref)), containers: r.model.containers.length, got: essence(r.model), want: essence(ref) });
    };
    const d = await start('nsenter', ['-t', String(c.pid), '--uts', 'sleep', '603'], 'sleep');
    await check('a process joins the container');
    await s.scan(); // (a new process is read whole once more)
    const e = await start('sleep', ['604'], 'sleep');
    await check('a plain process starts');
    await s.scan();
    await stop(d);
    await check('the joined process exits');
    await stop(e);
    await check('the plain process exits');
    // a process found before its exec, read whole again at the next scan: the same pid, parent
    // and start with another comm (an exec), then with the container's uts namespace (setns then
    // exec: nsenter), patched as the old value leaving and the new one arriving
    for (const [what, cmd] of [
      ['a process seen before its exec execs (the same namespaces: patched)', 'exec sleep 607'],
      [`a process seen before its setns joins the container (patched into it)`, `exec nsenter -t ${c.pid} --uts sleep 608`],
    ]) {
      const w = spawn('sh', ['-c', `read x; ${cmd}`], { stdio: ['pipe', 'ignore', 'ignore'] });
      children.add(w);
      w.once('exit', () => children.delete(w));
      for (let i = 0; i < 500 && comm(w.pid) !== 'sh'; i++) await sleep(10);
      await s.scan(); // found as sh (an arrival, read whole again next scan)
      w.stdin.end('go\n');
      for (let i = 0; i < 500 && comm(w.pid) !== 'sleep'; i++) await sleep(10);
      await check(what);
      await stop(w);
      await s.scan();
    }
    await stop(c);
    await check('the container init exits, its last process (the container gone whole: patched)');
    // a process whose only own namespace is a user namespace is a container of its own; another
    // one entering that user namespace (same namespaces, same cgroups: a twin) is another container
    const u = await start('unshare', ['--user', '--map-root-user', 'sleep', '605'], 'sleep');
    await s.scan();
    await s.scan();
    const v = await start('nsenter', ['-t', String(u.pid), '--user', 'sleep', '606'], 'sleep');
    await check('a process enters a lone sandboxed process\'s user namespace (another container: a rebuild)');
    await s.scan();
    await stop(v);
    await check('that process exits, the init and only process of its container (gone whole: patched)');
    await stop(u);
    out.patches = steps;
  }
} catch (e) {
  out.error = String(e?.stack ?? e);
} finally {
  for (const c of children) await stop(c);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
