import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectoryProcSource } from '../../src/source/source.js';
import { modelFromSnapshot, type HostModel } from '../../src/inspect/host.js';
import { patchModel, patchModelSteps } from '../../src/inspect/scanner.js';
import type { NsId, ProcessInfo } from '../../src/model/process.js';
import type { NsEntry } from '../../src/parse/ns-link.js';
import type { ProcStat } from '../../src/parse/proc-stat.js';
import type { CgroupMembership } from '../../src/parse/proc-cgroup.js';

/**
 * HostScanner patches its last model when processes only came and went (patchModel). At 10,000
 * processes its passes over the whole list (a host-wide group such as the host's user namespace
 * holds nearly every process, the container index, the process list) held the event loop for tens
 * of milliseconds on every such poll, so it runs in steps (patchModelSteps) between which the
 * scanner yields (issue 6). The model is made of plain values here, shared the way the native scan
 * shares them (one ns record per namespace set, one cgroup list per text), at 6,000 processes.
 */
const dir = mkdtempSync(join(tmpdir(), 'hostscope-patch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// an empty dump: the model needs nothing from files for these processes
const src = new DirectoryProcSource({ procRoot: dir, sysRoot: dir });

const TYPES: [NsEntry, string][] = [['cgroup', 'cgroup'], ['ipc', 'ipc'], ['mnt', 'mnt'], ['net', 'net'], ['pid', 'pid'], ['user', 'user'], ['uts', 'uts']];
const nsSet = (base: number, own: boolean): Partial<Record<NsEntry, NsId>> =>
  Object.freeze(Object.fromEntries(TYPES.map(([e, t], i) => [e, { type: t, inode: e === 'user' || !own ? 4026531834 + i : base + i, dev: 4 } as NsId])));
const HOST_NS = nsSet(0, false);
const CTR_NS = [nsSet(4026540000, true), nsSet(4026541000, true), nsSet(4026542000, true)];
const cg = (path: string): CgroupMembership[] => Object.freeze([Object.freeze({ hierarchyId: 0, controllers: [], path })]) as CgroupMembership[];
const HOST_CG = cg('/');
const CTR_CG = ['/docker/aaa', '/docker/bbb', '/docker/ccc'].map(cg);
const IDS = { uid: { real: 0, effective: 0, saved: 0, fs: 0 }, gid: { real: 0, effective: 0, saved: 0, fs: 0 } };

function stat(pid: number, ppid: number, comm: string): ProcStat {
  return { pid, comm, state: 'S', ppid, pgrp: pid, session: pid, ttyNr: 0, tpgid: -1, flags: 0, minflt: 0, majflt: 0, utimeTicks: 0, stimeTicks: 0, priority: 20, nice: 0, numThreads: 1, startTimeTicks: pid, vsizeBytes: 0, rssPages: 0, processor: 0 };
}
const proc = (pid: number, ppid: number, comm: string, ns: Partial<Record<NsEntry, NsId>>, cgroups: CgroupMembership[]): ProcessInfo =>
  Object.freeze({ pid, errors: Object.freeze({}), ns, ids: IDS, stat: stat(pid, ppid, comm), cgroups }) as ProcessInfo;

const OPTS = { files: ['ids' as const, 'stat' as const, 'cgroup' as const], containers: true };
function model(processes: ProcessInfo[]): HostModel {
  return modelFromSnapshot(src, { processes, vanished: 0, denied: 0, selfPid: undefined, takenAtMs: 0, monoStartMs: 0, monoEndMs: 0 }, OPTS);
}
const essence = (m: Omit<HostModel, 'snapshot'>, processes: readonly ProcessInfo[]) => ({
  pids: processes.map((p) => p.pid),
  namespaces: m.namespaces.map((g) => ({ key: g.key, pids: g.pids, lowest: g.lowest?.pid, same: g.processes.every((p, i) => p.pid === g.pids[i]) })),
  containers: m.containers.map((k) => ({ key: k.key, init: k.initPid, pids: k.pids, cgroup: k.cgroupPath })),
  containerOf: [...m.containerOf].map(([pid, k]) => [pid, k.key]).sort((a, b) => (a[0] as number) - (b[0] as number)),
  nsByKey: [...m.nsByKey.keys()].sort(),
});

describe('patchModel at 6,000 processes: the model a rebuild makes, in steps', () => {
  // pid 1 and kthreadd on the host, then three containers (an init each, then its workers) and
  // host processes interleaved by pid
  const before: ProcessInfo[] = [proc(1, 0, 'init', HOST_NS, HOST_CG), proc(2, 0, 'kthreadd', HOST_NS, HOST_CG)];
  for (let k = 0; k < 3; k++) before.push(proc(100 + k, 1, 'containerd-shim', HOST_NS, HOST_CG), proc(200 + k, 100 + k, 'init', CTR_NS[k]!, CTR_CG[k]!));
  for (let pid = 1000; pid < 7000; pid++) {
    const k = pid % 4;
    before.push(k === 3 ? proc(pid, 1, 'sleep', HOST_NS, HOST_CG) : proc(pid, 200 + k, 'worker', CTR_NS[k]!, CTR_CG[k]!));
  }
  // a snapshot's processes are in pid order
  before.sort((a, b) => a.pid - b.pid);
  const m0 = model(before);

  it('processes leaving and joining containers and the host: the patched model equals the rebuilt one', () => {
    // every 7th worker and host process leaves; 900 arrive, each like one already there
    const departures = before.filter((p) => p.pid >= 1000 && p.pid % 7 === 0);
    const arrivals: ProcessInfo[] = [];
    for (let pid = 7000; pid < 7900; pid++) {
      const k = pid % 4;
      arrivals.push(k === 3 ? proc(pid, 1, 'sleep', HOST_NS, HOST_CG) : proc(pid, 200 + k, 'worker', CTR_NS[k]!, CTR_CG[k]!));
    }
    const p = patchModel(m0, arrivals, departures, undefined);
    expect(p).toBeDefined();
    const gone = new Set(departures.map((d) => d.pid));
    const after = [...before.filter((x) => !gone.has(x.pid)), ...arrivals];
    const ref = model(after);
    expect(essence(p!.model, p!.processes)).toEqual(essence(ref, ref.snapshot.processes));
    // the host's user namespace holds every process: it was patched, not left as it was
    expect(p!.model.namespaces.find((g) => g.ns.type === 'user')!.pids.length).toBe(after.length);
  });

  it('a patch that touches host-wide groups runs in many steps (the scanner yields between them)', () => {
    const departures = before.filter((p) => p.pid >= 1000 && p.pid % 5 === 0);
    const arrivals = [proc(8000, 1, 'sleep', HOST_NS, HOST_CG)];
    const it = patchModelSteps(m0, arrivals, departures, undefined);
    let steps = 0;
    let r = it.next();
    while (!r.done) {
      steps++;
      r = it.next();
    }
    expect(r.value).toBeDefined();
    // 6,000 processes: the twins pass, the host-wide groups, the container index and the process
    // list each take several steps of 1,024
    expect(steps).toBeGreaterThanOrEqual(20);
    expect(essence(r.value!.model, r.value!.processes)).toEqual(essence(patchModel(m0, arrivals, departures, undefined)!.model, patchModel(m0, arrivals, departures, undefined)!.processes));
  });

  it('only host processes came and went: the container index is the one of before, and the model a rebuild makes', () => {
    const departures = before.filter((p) => p.pid >= 1000 && p.pid % 4 === 3 && p.pid % 3 === 0);
    const arrivals = [proc(8001, 1, 'sleep', HOST_NS, HOST_CG), proc(8005, 1, 'sleep', HOST_NS, HOST_CG)];
    const p = patchModel(m0, arrivals, departures, undefined)!;
    expect(p.model.containerOf).toBe(m0.containerOf);
    const gone = new Set(departures.map((d) => d.pid));
    const ref = model([...before.filter((x) => !gone.has(x.pid)), ...arrivals]);
    expect(essence(p.model, p.processes)).toEqual(essence(ref, ref.snapshot.processes));
  });

  it('a host process that setns\'d into a container without its own pid namespace, started before its init: rebuilt, not patched', () => {
    // (found by review) the init of such a container is its earliest member with a parent outside:
    // the newcomer, started earlier, is the init now, and the container's name with it
    const netOnly = Object.freeze({ ...HOST_NS, net: { type: 'net', inode: 4026548003, dev: 4 } as NsId });
    const ctrCg = cg('/docker/ddd');
    const c = proc(300, 1, 'nsentered', HOST_NS, HOST_CG);
    const small = [proc(1, 0, 'init', HOST_NS, HOST_CG), proc(2, 0, 'kthreadd', HOST_NS, HOST_CG), c, proc(500, 1, 'ctr-init', netOnly, ctrCg)];
    const m = model(small);
    const moved = proc(300, 1, 'nsentered', netOnly, ctrCg);
    expect(patchModel(m, [moved], [c], undefined)).toBeUndefined();
    const ref = model([small[0]!, small[1]!, moved, small[3]!]);
    expect(ref.containers.find((k) => k.cgroupPath === '/docker/ddd')?.initPid).toBe(300);
  });

  it('a container gone whole (its init and every process of its): patched, its own namespaces dropped, the model a rebuild makes', () => {
    // a short-lived container (others' tests, a job) leaving rebuilt the whole model at 10,000 processes
    const departures = before.filter((p) => p.pid === 201 || (p.pid >= 1000 && p.pid % 4 === 1) || p.pid === 1003);
    const arrivals = [proc(8001, 1, 'sleep', HOST_NS, HOST_CG), proc(8002, 202, 'worker', CTR_NS[2]!, CTR_CG[2]!)];
    const p = patchModel(m0, arrivals, departures, undefined);
    expect(p).toBeDefined();
    const gone = new Set(departures.map((d) => d.pid));
    const ref = model([...before.filter((x) => !gone.has(x.pid)), ...arrivals]);
    expect(essence(p!.model, p!.processes)).toEqual(essence(ref, ref.snapshot.processes));
    expect(p!.model.containers.map((k) => k.initPid)).toEqual([200, 202]);
    // its net, mnt, … namespaces are gone; the user namespace it shared with the host stays
    expect(p!.model.namespaces.some((g) => g.ns.inode === 4026541003)).toBe(false);
    expect(p!.model.nsByKey.size).toBe(p!.model.namespaces.length);
    // with bound namespaces in the model an emptied one may still be listed (a bind mount holds it): rebuilt
    expect(patchModel(m0, arrivals, departures, undefined, true)).toBeUndefined();
  });

  it('a container gone whole but for one process, or one whose pod name others take: rebuilt (undefined)', () => {
    const all = before.filter((p) => p.pid === 201 || (p.pid >= 1000 && p.pid % 4 === 1));
    expect(patchModel(m0, [], all.filter((p) => p.pid !== 1001), undefined)).toBeUndefined();
    // a worker of it arriving as it leaves: the container stays, with another init: a rebuild decides
    expect(patchModel(m0, [proc(8003, 201, 'worker', CTR_NS[1]!, CTR_CG[1]!)], all, undefined)).toBeUndefined();
    const pod = { ...m0, containers: m0.containers.map((k) => (k.initPid === 201 ? { ...k, podNamespace: 'default' } : k)) };
    const podOf = new Map([...m0.containerOf].map(([pid, k]) => [pid, pod.containers.find((c) => c.key === k.key)!]));
    expect(patchModel({ ...pod, containerOf: podOf }, [], all, undefined)).toBeUndefined();
  });

  it('a process read while it exited (its ns links but user and pid gone): patched into the host groups when those are the host\'s, as a rebuild puts it', () => {
    // seen on the shared host: a short-lived command caught between exit_task_namespaces() and
    // becoming a zombie rebuilt the model at every scan that met one
    const exiting = (pid: number, ns: Partial<Record<NsEntry, NsId>>): ProcessInfo =>
      Object.freeze({
        ...proc(pid, 1, 'sh', Object.freeze({ user: ns.user!, pid: ns.pid! }), HOST_CG),
        errors: Object.freeze(Object.fromEntries(['ns/mnt', 'ns/net', 'ns/uts', 'ns/ipc', 'ns/cgroup'].map((k) => [k, 'NOT_FOUND']))),
      }) as ProcessInfo;
    const a = exiting(8100, HOST_NS);
    const p = patchModel(m0, [a], [], undefined);
    expect(p).toBeDefined();
    const ref = model([...before, a]);
    expect(essence(p!.model, p!.processes)).toEqual(essence(ref, ref.snapshot.processes));
    expect(p!.model.containerOf.has(8100)).toBe(false);
    // one left in a container's pid namespace (it could be that container's): rebuilt
    expect(patchModel(m0, [exiting(8101, CTR_NS[0]!)], [], undefined)).toBeUndefined();
    // an error that is not a gone ns link: rebuilt
    expect(patchModel(m0, [Object.freeze({ ...a, errors: { stat: 'PERMISSION_DENIED' } }) as ProcessInfo], [], undefined)).toBeUndefined();
  });

  it('nothing to patch for: a departing container init or an arrival without a twin means a rebuild (undefined)', () => {
    expect(patchModel(m0, [], [before.find((p) => p.pid === 200)!], undefined)).toBeUndefined();
    const stranger = proc(9000, 1, 'sleep', nsSet(4026549000, true), cg('/docker/zzz'));
    expect(patchModel(m0, [stranger], [], undefined)).toBeUndefined();
  });
});
