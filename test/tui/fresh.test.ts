import { afterAll, describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureSamples } from './helpers.js';
import { freshStatFor } from '../../tui/fresh.js';
import { buildGroups, buildProcRows, procCpu } from '../../tui/model.js';
import { initialState, reduce, type State } from '../../tui/store.js';
import { buildFrame } from '../../tui/frame.js';
import { sampleFromModel, scanSample, type Sample } from '../../tui/sample.js';
import { DirectoryProcSource, openSource } from '../../src/source/source.js';
import { HOSTS_DIR } from '../helpers/fixtures.js';
import { NATIVE } from '../helpers/native.js';
import { Spawned } from '../../scripts/lib/spawned.js';
import { openRecorder } from '../../tui/record/record.js';
import { openRecording } from '../../tui/record/replay.js';

/**
 * ctop asks the scanner for fresh stat only for the processes its view needs (tui/fresh.ts): the
 * members of groups whose numbers are sums over their processes (no cgroup of their own), the
 * opened group's processes, the detail view's process; every process only for the list of all.
 */
function withSamples(samples: Sample[], over: Partial<State> = {}): State {
  let s = initialState({ cols: 120, rows: 30, ...over });
  for (const x of samples) s = reduce(s, { type: 'sample', sample: x });
  return s;
}

describe('freshStatFor: which processes the next poll reads the stat of', () => {
  const { prev, cur } = fixtureSamples('v2-docker-systemd');
  const groups = buildGroups(prev, cur, 'container');
  const host = groups.find((g) => g.key === 'host')!;
  const owned = groups.filter((g) => !g.sums);

  it('no sample yet: every process (the first scan reads them all whole anyway)', () => {
    expect(freshStatFor(initialState())).toBe('all');
  });

  it('the groups view: only the members of groups without a cgroup of their own (here the host), none of a container with its cgroup', () => {
    expect(owned.length).toBeGreaterThan(0);
    const f = freshStatFor(withSamples([prev, cur]));
    expect(f).toBeInstanceOf(Set);
    expect([...(f as Set<number>)].sort((a, b) => a - b)).toEqual(host.pids);
    for (const g of owned) for (const p of g.pids) expect((f as Set<number>).has(p), `pid ${p} of ${g.name}`).toBe(false);
  });

  it("a container whose cgroup lacks a controller (no cpu usage here): its CPU % is a sum over its processes, so they are read", () => {
    const g = owned[0]!;
    const [p2, c2] = [structuredClone(prev), structuredClone(cur)];
    for (const x of [p2, c2]) delete x.cgroups[g.cgroupPath!]!.cpu;
    const row = buildGroups(p2, c2, 'container').find((r) => r.key === g.key)!;
    expect(row.sums).toBe(true);
    const f = freshStatFor(withSamples([p2, c2])) as Set<number>;
    for (const p of g.pids) expect(f.has(p)).toBe(true);
  });

  it("an opened container's process list: its processes too, not the other containers'", () => {
    const g = owned.find((x) => x.pids.length > 1) ?? owned[0]!;
    const s = withSamples([prev, cur], { views: [{ kind: 'groups' }, { kind: 'procs', groupKey: g.key, groupName: g.name }], selected: [g.key, undefined] });
    const f = freshStatFor(s) as Set<number>;
    for (const p of g.pids) expect(f.has(p)).toBe(true);
    for (const o of owned) if (o !== g) for (const p of o.pids) expect(f.has(p)).toBe(false);
  });

  it("a detail view: that process's", () => {
    const g = owned[0]!;
    const pid = g.pids[0]!;
    const s = withSamples([prev, cur], { views: [{ kind: 'groups' }, { kind: 'detail', pid, start: 0, name: 'x', tab: 'overview', scroll: 0 }], selected: [undefined, undefined] });
    expect((freshStatFor(s) as Set<number>).has(pid)).toBe(true);
  });

  it("the list of every process: 'all'", () => {
    const s = withSamples([prev, cur], { views: [{ kind: 'groups' }, { kind: 'procs', groupKey: undefined, groupName: 'all' }], selected: [undefined, undefined] });
    expect(freshStatFor(s)).toBe('all');
  });

  it('by cgroup tree: the root row sums every process, so every (non-kernel) process', () => {
    const f = freshStatFor(withSamples([prev, cur], { groupBy: 'cgroup' }));
    const users = cur.procs.filter((p) => !p.kthread).map((p) => p.pid);
    if (f !== 'all') for (const p of users) expect(f.has(p)).toBe(true);
  });
});

describe('a process whose stat was not read this poll (outside freshStat)', () => {
  const dir = mkdtempSync(join(tmpdir(), `ctop-fresh-${process.pid}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** three polls of one fixture host where pid 1234's stat is read in the first and third only, its ticks rising 50 a poll */
  async function polls(): Promise<Sample[]> {
    const { inspectHost, readCgroupLayout } = await import('../../src/inspect/host.js');
    const src = new DirectoryProcSource({ procRoot: join(HOSTS_DIR, 'v2-docker-systemd', 'proc'), sysRoot: join(HOSTS_DIR, 'v2-docker-systemd', 'sys') });
    const model = inspectHost(src, { files: ['ids', 'stat', 'cgroup'], containers: true, excludeSelf: true });
    const layout = readCgroupLayout(src);
    const all = new Map(model.snapshot.processes.filter((p) => p.stat).map((p) => [p.pid, p.stat!]));
    const out: Sample[] = [];
    for (let i = 0; i < 3; i++) {
      const stat = new Map(all);
      const old = all.get(1234)!;
      stat.set(1234, { ...old, utimeTicks: old.utimeTicks + 50 * i });
      if (i === 1) stat.delete(1234);
      out.push(sampleFromModel(src, model, layout, i * 1000, { stat, wallNow: () => 1000 + i * 1000, ncpu: 2 }));
      out[i]!.endMs = i * 1000 + 500;
    }
    return out;
  }

  it('keeps the figures of the last poll that read it (not the older ones of the model), marked stale; the next read clears the mark', async () => {
    const [a, b, c] = await polls();
    const pa = a!.procs.find((p) => p.pid === 1234)!;
    const pb = b!.procs.find((p) => p.pid === 1234)!;
    const pc = c!.procs.find((p) => p.pid === 1234)!;
    expect(pa.stale).toBeUndefined();
    expect(pb.stale).toBe(true);
    expect(pb.ticks).toBe(pa.ticks);
    expect(pc.stale).toBeUndefined();
    expect(pc.ticks).toBe(pa.ticks + 100);
    // the others were read every time: never stale
    expect(b!.procs.filter((p) => p.stale).map((p) => p.pid)).toEqual([1234]);
  });

  it('no CPU % from or against a stale sample (its ticks are not of that moment): "—", never a spike', async () => {
    const [a, b, c] = await polls();
    expect(procCpu(a, b!).has(1234)).toBe(false);
    expect(procCpu(b, c!).has(1234)).toBe(false);
    const rows = buildProcRows(b, c!, new Set([1234]));
    expect(rows[0]!.cpuPct).toBeUndefined();
  });

  it('a recording of such polls replays the screens the live view drew (the mark is recorded)', async () => {
    const samples = await polls();
    const file = join(dir, 'stale.ctop');
    const rec = openRecorder(file);
    for (const s of samples) rec.append(s);
    rec.close();
    const r = openRecording(file);
    expect(r.count).toBe(3);
    const chalk = new Chalk({ level: 0 });
    const strip = (f: ReturnType<typeof buildFrame>): string[] => [...f.head.slice(1), f.columns, ...f.rows.map((x) => x.text)];
    for (const view of [{ kind: 'groups' as const }, { kind: 'procs' as const, groupKey: undefined, groupName: 'all' }]) {
      for (let i = 1; i < 3; i++) {
        const over: Partial<State> = { views: [{ kind: 'groups' }, ...(view.kind === 'procs' ? [view] : [])], selected: [undefined, undefined], procTree: false, sort: { key: 'pid', desc: false } };
        const live = withSamples(samples.slice(0, i + 1), over);
        const replayed = reduce(initialState({ cols: 120, rows: 30, ...over }), { type: 'replaceHistory', history: r.window(i, 30), replay: { index: i, total: 3, times: [] } });
        expect(strip(buildFrame(replayed, chalk)), `${view.kind} at frame ${i}`).toEqual(strip(buildFrame(live, chalk)));
      }
    }
  });
});

describe.skipIf(!NATIVE || process.getuid?.() !== 0)('scanSample with freshStat on the live host', () => {
  const spawned = new Spawned();
  afterAll(() => spawned.stopAll());

  it("a busy process in the set keeps fresh figures; a sleeper outside it is stale at its unread polls, with its last figures; 'all' reads every one", async () => {
    const busy = spawned.start('sh', ['-c', 'while :; do :; done']);
    const idle = spawned.start('sleep', ['600']);
    const src = openSource();
    const set = new Set([busy.pid!]);
    const got: Sample[] = [];
    // the first scan reads every process whole, and some are revalidated each scan (pid % 10)
    for (let i = 0; i < 6; i++) {
      got.push(await scanSample(src, { freshStat: i === 0 ? 'all' : set }));
      await new Promise((r) => setTimeout(r, 60));
    }
    const of = (s: Sample, pid: number) => s.procs.find((p) => p.pid === pid);
    for (const s of got.slice(1)) expect(of(s, busy.pid!)?.stale, 'the busy one').toBeUndefined();
    expect(of(got.at(-1)!, busy.pid!)!.ticks).toBeGreaterThan(of(got[0]!, busy.pid!)!.ticks);
    const idles = got.map((s) => of(s, idle.pid!)!);
    expect(idles.slice(1).some((p) => p.stale)).toBe(true);
    for (let i = 1; i < idles.length; i++) if (idles[i]!.stale) expect(idles[i]!.ticks).toBe(idles[i - 1]!.ticks);
    // read whole to revalidate it or not, outside the set it stays stale with its figures
    expect(idles.slice(2).every((p) => p.stale)).toBe(true);
    const all = await scanSample(src, { freshStat: 'all' });
    expect(all.procs.filter((p) => p.stale)).toEqual([]);
  }, 180_000);
});

describe("a group owns its cgroup only when every process under it (sub-cgroups included) is the group's", () => {
  it('a stranger in a sub-cgroup takes the ownership away; one in a sibling whose name starts the same does not', () => {
    const { prev, cur } = fixtureSamples('v1-docker-seed');
    const g = buildGroups(prev, cur, 'container').find((x) => x.source === 'cgroup')!;
    const stranger = cur.procs.find((p) => !p.kthread && !g.pids.includes(p.pid) && p.cg !== g.cgroupPath)!;
    const moved = (to: string): Sample => ({ ...cur, procs: cur.procs.map((p) => (p === stranger ? { ...p, cg: to } : p)) });
    expect(buildGroups(prev, moved(`${g.cgroupPath}/sub`), 'container').find((x) => x.key === g.key)!.source).toBe('procs');
    expect(buildGroups(prev, moved(`${g.cgroupPath}x`), 'container').find((x) => x.key === g.key)!.source).toBe('cgroup');
    expect(buildGroups(prev, moved(g.cgroupPath!.slice(0, g.cgroupPath!.lastIndexOf('/'))), 'container').find((x) => x.key === g.key)!.source).toBe('cgroup');
  });
});
