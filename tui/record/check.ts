/**
 * A recording is hostile input: its checksums say a frame is intact, not that whoever wrote it was
 * ctop. A frame's JSON is checked here against the shape ctop writes before anything uses it —
 * every number finite and in range, every string bounded, every list a list, the sample version
 * one this ctop reads, a delta's diffs of bounded depth — so a frame that is not a ctop sample is
 * refused with one line naming the field, never a TypeError deep in the renderer.
 *
 * Strings are only bounded here: what they hold (escape sequences in a comm, a cgroup path) is
 * escaped where it is drawn, as for a live host.
 */
import { NS_TYPES } from '../../src/parse/ns-link.js';
import { SAMPLE_VERSION, type Sample } from '../sample.js';
import type { DeltaPayload, DeltaV2, Diff } from './format.js';

/** What is wrong with a frame, as "field: what" (the caller names the frame). */
export class ShapeError extends Error {}

type Obj = Record<string, unknown>;

/** the kernel's PID_MAX_LIMIT */
const PID_MAX = 4_194_304;
/** every id (uid, namespace inode, nsfs device) fits in 32 bits; counters in a double's exact range */
const U32 = 0xffff_ffff;
/** a cgroup path or command line longer than this was not written by ctop (PATH_MAX, its CMD_MAX is 512) */
const TEXT_MAX = 4096;
/** a delta's nested diffs go as deep as a sample's objects (cgroups → path → cpu → usageFrom) */
const DIFF_DEPTH = 8;
/** Date's range: a wall time outside it cannot be shown */
const TIME_MAX = 8.64e15;
const ERROR_CODES = new Set(['PROCESS_GONE', 'PERMISSION_DENIED', 'NOT_FOUND', 'PARSE', 'IO', 'NOT_SUPPORTED', 'TOO_BIG', 'UNSAFE']);
const NS_SET = new Set<string>(NS_TYPES);
/** keys that would reach an object's prototype when copied with [] */
const PROTO_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function fail(path: string, what: string): never {
  throw new ShapeError(`${path}: ${what}`);
}

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'not an object');
  return v as Obj;
}

function list(v: unknown, path: string, max = PID_MAX): unknown[] {
  if (!Array.isArray(v)) fail(path, 'not a list');
  if (v.length > max) fail(path, `more than ${max} entries`);
  return v;
}

function num(v: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, 'not a finite number');
  if (v < min || v > max) fail(path, `${v} out of range`);
  return v;
}

function int(v: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  num(v, path, min, max);
  if (!Number.isInteger(v)) fail(path, 'not an integer');
  return v as number;
}

function str(v: unknown, path: string, max = TEXT_MAX): string {
  if (typeof v !== 'string') fail(path, 'not a string');
  if (v.length > max) fail(path, `longer than ${max} characters`);
  return v;
}

function bool(v: unknown, path: string): void {
  if (typeof v !== 'boolean') fail(path, 'not true or false');
}

/** an optional field: absent (or null where JSON wrote undefined as null) passes */
function opt(o: Obj, k: string, path: string, check: (v: unknown, p: string) => unknown, nullable = false): void {
  const v = o[k];
  if (v === undefined || (nullable && v === null)) return;
  check(v, `${path}.${k}`);
}

/** a record's own keys, each checked; prototype keys refused */
function entries(v: unknown, path: string, max: number): [string, unknown][] {
  const o = obj(v, path);
  const out = Object.entries(o);
  if (out.length > max) fail(path, `more than ${max} entries`);
  for (const [k] of out) if (PROTO_KEYS.has(k)) fail(path, `the key ${JSON.stringify(k)}`);
  return out;
}

function nsRecord(v: unknown, path: string): void {
  for (const [k, ino] of entries(v, path, NS_TYPES.length)) {
    if (!NS_SET.has(k)) fail(path, `unknown namespace type ${JSON.stringify(k.slice(0, 32))}`);
    int(ino, `${path}.${k}`, 0, U32);
  }
}

function origin(o: Obj, path: string): void {
  if (o.version !== 1 && o.version !== 2) fail(`${path}.version`, 'not 1 or 2');
  str(o.dir, `${path}.dir`);
}

const counter = (v: unknown, p: string): number => num(v, p);

function cgroupSample(v: unknown, path: string): void {
  const c = obj(v, path);
  for (const [k, code] of entries(c.errors ?? {}, `${path}.errors`, 4)) {
    if (!['memory', 'cpu', 'pids', 'io'].includes(k)) fail(`${path}.errors`, `unknown controller ${JSON.stringify(k.slice(0, 32))}`);
    if (typeof code !== 'string' || !ERROR_CODES.has(code)) fail(`${path}.errors.${k}`, 'not an error code');
  }
  if (c.memory !== undefined) {
    const p = `${path}.memory`;
    const m = obj(c.memory, p);
    origin(m, p);
    counter(m.usageBytes, `${p}.usageBytes`);
    counter(m.workingSetBytes, `${p}.workingSetBytes`);
    opt(m, 'limitBytes', p, counter, true);
    for (const k of ['inactiveFileBytes', 'anonBytes', 'fileBytes', 'limitHits', 'oomEvents', 'oomKills', 'swapBytes']) opt(m, k, p, counter);
  }
  if (c.cpu !== undefined) {
    const p = `${path}.cpu`;
    const u = obj(c.cpu, p);
    origin(u, p);
    // (absent in recordings older than the split cpu/cpuacct reading: the cpu directory's own)
    opt(u, 'usageFrom', p, (x, pp) => origin(obj(x, pp), pp));
    counter(u.usageUsec, `${p}.usageUsec`);
    opt(u, 'quotaUsec', p, counter, true);
    for (const k of ['userUsec', 'systemUsec', 'weight', 'shares', 'periodUsec', 'nrPeriods', 'nrThrottled', 'throttledUsec']) opt(u, k, p, counter);
  }
  if (c.pids !== undefined) {
    const p = `${path}.pids`;
    const q = obj(c.pids, p);
    origin(q, p);
    counter(q.current, `${p}.current`);
    opt(q, 'max', p, counter, true);
  }
  if (c.io !== undefined) {
    const p = `${path}.io`;
    const q = obj(c.io, p);
    origin(q, p);
    for (const k of ['readBytes', 'writeBytes', 'readOps', 'writeOps']) counter(q[k], `${p}.${k}`);
  }
  if (c.psi !== undefined) {
    const p = `${path}.psi`;
    const q = obj(c.psi, p);
    for (const k of ['cpu', 'memory', 'io']) opt(q, k, p, (x, pp) => num(x, pp, 0, 100));
  }
}

function proc(v: unknown, path: string): void {
  const p = obj(v, path);
  int(p.pid, `${path}.pid`, 1, PID_MAX);
  int(p.ppid, `${path}.ppid`, 0, PID_MAX);
  str(p.comm, `${path}.comm`, 64);
  str(p.cmd, `${path}.cmd`);
  str(p.state, `${path}.state`, 8);
  for (const k of ['ticks', 'start', 'rssBytes']) counter(p[k], `${path}.${k}`);
  int(p.threads, `${path}.threads`, 0, PID_MAX);
  opt(p, 'uid', path, (x, pp) => int(x, pp, 0, U32));
  opt(p, 'nspid', path, (x, pp) => list(x, pp, 33).forEach((n, i) => int(n, `${pp}[${i}]`, 1, PID_MAX)));
  nsRecord(p.ns, `${path}.ns`);
  opt(p, 'cg', path, str);
  opt(p, 'ctr', path, str);
  opt(p, 'kthread', path, bool);
  opt(p, 'stale', path, bool);
  opt(p, 'errors', path, (x, pp) => entries(x, pp, 64).forEach(([k, e]) => (str(k, pp, 64), str(e, `${pp}.${k}`, 64))));
}

function container(v: unknown, path: string): void {
  const c = obj(v, path);
  str(c.key, `${path}.key`);
  str(c.name, `${path}.name`);
  str(c.runtime, `${path}.runtime`, 64);
  opt(c, 'id', path, str);
  opt(c, 'pod', path, str);
  int(c.initPid, `${path}.initPid`, 0, PID_MAX);
  opt(c, 'cgroupPath', path, str);
  opt(c, 'endedCg', path, str);
}

/** A whole sample, as a key frame holds it or a delta gives back: throws ShapeError. */
export function checkSample(v: unknown): Sample {
  const s = obj(v, 'sample');
  if (s.v !== SAMPLE_VERSION) fail('sample.v', `version ${JSON.stringify(s.v)}; this ctop reads version ${SAMPLE_VERSION}`);
  for (const k of ['startMs', 'endMs']) num(s[k], `sample.${k}`, -TIME_MAX, TIME_MAX);
  num(s.wallMs, 'sample.wallMs', -TIME_MAX, TIME_MAX);
  opt(s, 'uptimeSec', 'sample', counter);
  int(s.ncpu, 'sample.ncpu', 1, 65_536);
  str(s.cgroupMode, 'sample.cgroupMode', 16);
  nsRecord(s.host, 'sample.host');
  if (s.hostRef !== undefined) {
    const h = obj(s.hostRef, 'sample.hostRef');
    opt(h, 'pid', 'sample.hostRef', (x, p) => int(x, p, 0, PID_MAX));
    str(h.how, 'sample.hostRef.how', 32);
    bool(h.initialPidNs, 'sample.hostRef.initialPidNs');
    opt(h, 'nsDev', 'sample.hostRef', (x, p) => int(x, p, 0, U32));
  }
  const pids = new Set<number>();
  list(s.procs, 'sample.procs').forEach((p, i) => {
    proc(p, `sample.procs[${i}]`);
    // one process per pid: a repeated one would make the process tree loop
    const pid = (p as Obj).pid as number;
    if (pids.has(pid)) fail(`sample.procs[${i}].pid`, `${pid} given twice`);
    pids.add(pid);
  });
  list(s.containers, 'sample.containers', 100_000).forEach((c, i) => container(c, `sample.containers[${i}]`));
  for (const [k, c] of entries(s.cgroups, 'sample.cgroups', PID_MAX)) {
    str(k, 'sample.cgroups (a key)');
    cgroupSample(c, `sample.cgroups[${JSON.stringify(k.slice(0, 64))}]`);
  }
  for (const [k, n] of entries(s.net, 'sample.net', PID_MAX)) {
    if (!/^\d{1,10}$/.test(k)) fail('sample.net', `the key ${JSON.stringify(k.slice(0, 32))} is not a namespace inode`);
    const o = obj(n, `sample.net.${k}`);
    counter(o.rx, `sample.net.${k}.rx`);
    counter(o.tx, `sample.net.${k}.tx`);
  }
  int(s.vanished, 'sample.vanished', 0, PID_MAX);
  int(s.denied, 'sample.denied', 0, PID_MAX);
  opt(s, 'thin', 'sample', bool);
  return s as unknown as Sample;
}

function diff(v: unknown, path: string, depth: number): void {
  if (depth > DIFF_DEPTH) fail(path, `nested deeper than ${DIFF_DEPTH}`);
  const d = obj(v, path);
  if (d.s !== undefined) entries(d.s, `${path}.s`, PID_MAX);
  if (d.n !== undefined) for (const [k, sub] of entries(d.n, `${path}.n`, PID_MAX)) diff(sub, `${path}.n.${k.slice(0, 64)}`, depth + 1);
  if (d.x !== undefined) list(d.x, `${path}.x`).forEach((k, i) => PROTO_KEYS.has(str(k, `${path}.x[${i}]`)) && fail(`${path}.x[${i}]`, 'a prototype key'));
}

/**
 * A delta frame's payload, before it is applied to its key frame: the parts applyDelta walks
 * (the sample it gives back is then checked whole by checkSample).
 */
export function checkDelta(v: unknown): DeltaPayload | DeltaV2 {
  const d = obj(v, 'delta');
  list(d.gone, 'delta.gone').forEach((p, i) => int(p, `delta.gone[${i}]`, 1, PID_MAX));
  if (d.d === 2) {
    if (d.s !== undefined) diff(d.s, 'delta.s', 0);
    list(d.add, 'delta.add').forEach((p, i) => proc(p, `delta.add[${i}]`));
    list(d.upd, 'delta.upd').forEach((u, i) => {
      const pair = list(u, `delta.upd[${i}]`, 2);
      int(pair[0], `delta.upd[${i}][0]`, 1, PID_MAX);
      diff(pair[1], `delta.upd[${i}][1]`, 0);
    });
    if (d.co !== undefined) list(d.co, 'delta.co', 100_000).forEach((k, i) => str(k, `delta.co[${i}]`));
    return d as unknown as DeltaV2;
  }
  if (d.d !== undefined) fail('delta.d', `format ${JSON.stringify(d.d)} unknown`);
  // CTOPREC1: the sample with its changed processes whole
  list(d.procs, 'delta.procs').forEach((p, i) => proc(p, `delta.procs[${i}]`));
  return d as unknown as DeltaPayload;
}

export type { Diff };
