/**
 * The last name source (issue 10): a container's hostname as its own UTS namespace says it, the
 * way atop reads it. Node never setns()'s itself: one child forked by the native step runner
 * enters each container's uts namespace in turn (setns on /proc/PID/ns/uts, opened here) and
 * writes uname(2)'s nodename to one end of a socket pair, read back bounded from the other: one
 * fork for every container, no exec. No temp file: nothing is left behind when the reader is killed.
 * Not /proc/PID/root/etc/hostname: a sandbox made with `unshare --uts` shares the host's /etc, so
 * that file names the host, not the container. Not /proc/PID/root/proc/sys/kernel/hostname
 * either: that file shows the *reader's* uts namespace.
 *
 * Live only (and with the addon); only for containers no runtime file or cgroup names, whose uts
 * namespace is not the host's. Any failure (process gone, no permission, no addon) leaves the
 * container as it was.
 *
 * withUtsNames is the one place every tool names such a container (cinf's views, nsenter-ts
 * --container, ctop, the exporter; docs/containers.md "Names"). A tool that polls (ctop, the
 * exporter) passes a UtsNameCache: one child per uts namespace, read again only when its entry
 * is older than UTS_MAX_AGE_MS, and the same named model back while its scanner reuses a model.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { ProcSource } from '../source/source.js';
import { NS_CLONE_FLAG } from '../parse/ns-link.js';
import { closeFd, loadNative, runSteps, socketPair } from '../native/index.js';
import type { Step } from '../native/steps.js';
import { decodeBytes } from '../parse/text.js';
import type { Container } from '../model/containers.js';
import { containerIndex } from '../model/containers.js';
import { applyNames } from '../model/container-names.js';
import type { HostModel } from './host.js';

/** how long a poller (ctop, the exporter) believes a hostname it read: `hostname X` run later is seen within this */
export const UTS_MAX_AGE_MS = 30_000;

/** The containers worth asking: no name from a runtime, a uts namespace of their own. */
export function needsUtsName(c: Container): boolean {
  return c.runtime === 'unknown' && c.nameSource === undefined && c.namespaces.uts !== undefined && !c.sharedWithHost.includes('uts');
}

/**
 * The hostnames read so far, by uts namespace (dev:inode), for a tool that names containers again
 * and again. Entries of namespaces no longer seen are dropped at each use.
 */
export class UtsNameCache {
  private readonly byNs = new Map<string, { name: string | undefined; atMs: number }>();
  private memo = new WeakMap<HostModel, { out: HostModel; gen: number }>();
  private gen = 0;
  constructor(
    readonly maxAgeMs = UTS_MAX_AGE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** the fresh entry of a namespace: undefined when none (read it) */
  get(key: string): { name: string | undefined } | undefined {
    const e = this.byNs.get(key);
    return e && this.now() - e.atMs < this.maxAgeMs ? e : undefined;
  }

  set(key: string, name: string | undefined): void {
    const old = this.byNs.get(key);
    if (!old || old.name !== name) this.gen++;
    this.byNs.set(key, { name, atMs: this.now() });
  }

  /** keep only these namespaces' entries */
  keep(keys: ReadonlySet<string>): void {
    for (const k of this.byNs.keys()) if (!keys.has(k)) this.byNs.delete(k);
  }

  /** the named model made of `model` while no entry changed since (a scanner's reused model) */
  memoOf(model: HostModel): HostModel | undefined {
    const m = this.memo.get(model);
    return m && m.gen === this.gen && this.byNs.size > 0 && [...this.byNs.values()].every((e) => this.now() - e.atMs < this.maxAgeMs) ? m.out : undefined;
  }

  remember(model: HostModel, out: HostModel): void {
    this.memo.set(model, { out, gen: this.gen });
  }
}

function utsKey(c: Container): string {
  const u = c.namespaces.uts!;
  return `${u.dev}:${u.inode}`;
}

/**
 * key → the hostname inside that container's uts namespace, for the containers that need one
 * (one child per uts namespace; with a cache, only for namespaces it holds no fresh entry of).
 */
export async function readUtsHostnames(
  src: ProcSource,
  containers: readonly Container[],
  notes: string[] = [],
  cache?: UtsNameCache,
  hostPid?: number,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const wanted = containers.filter(needsUtsName);
  if (cache) cache.keep(new Set([HOST_KEY, ...wanted.map(utsKey)]));
  if (wanted.length === 0 || !src.isLive || !loadNative()) return out;
  // one init pid per namespace not known yet (fresh in the cache)
  const toRead = new Map<string, number>();
  for (const c of wanted) {
    const key = utsKey(c);
    if (!toRead.has(key) && !cache?.get(key)) toRead.set(key, c.initPid);
  }
  const read = new Map<string, string | undefined>();
  const keys = [...toRead.keys()];
  // the host's own hostname comes along (first): `unshare --uts` copies it, and a copy names nothing
  if (keys.length > 0 && hostPid !== undefined) {
    keys.unshift(HOST_KEY);
    toRead.set(HOST_KEY, hostPid);
  }
  for (let i = 0; i < keys.length; i += UTS_BATCH) {
    const batch = keys.slice(i, i + UTS_BATCH);
    const names = await hostnamesIn(src, batch.map((k) => toRead.get(k)!), notes);
    batch.forEach((k, j) => {
      read.set(k, names[j]);
      cache?.set(k, names[j]);
    });
  }
  const host = read.has(HOST_KEY) ? read.get(HOST_KEY) : cache?.get(HOST_KEY)?.name;
  for (const c of wanted) {
    const key = utsKey(c);
    const name = read.has(key) ? read.get(key) : cache?.get(key)?.name;
    if (name !== undefined && name !== host) out.set(c.key, name);
  }
  return out;
}

/** the cache's key of the host's own hostname (a uts key is dev:inode) */
const HOST_KEY = 'host';

/** uts namespaces one child visits (its fds are open at once; its answers wait in the socket buffer) */
const UTS_BATCH = 128;

/**
 * The hostnames in the uts namespaces of these pids, in order (undefined: not read). One child of
 * the native step runner visits them all: setns(uts) into each in turn and writes uname()'s
 * nodename — a fork per batch, not a fork and an exec of hostname(1) per container.
 */
async function hostnamesIn(src: ProcSource, pids: readonly number[], notes: string[]): Promise<(string | undefined)[]> {
  const names: (string | undefined)[] = pids.map(() => undefined);
  const fds: (number | undefined)[] = [];
  let ends: [number, number] | undefined;
  try {
    for (const pid of pids) {
      try {
        fds.push(openSync(`${src.procRoot}/${pid}/ns/uts`, 'r'));
      } catch (e) {
        fds.push(undefined);
        notes.push(`hostname of pid ${pid}: ${(e as Error).message}`);
      }
    }
    ends = socketPair();
    const sock = ends[1];
    // per namespace: setns (a failure is remembered, not fatal), then "y" + nodename + NUL, or "n" NUL
    const steps: Step[] = [];
    for (const fd of fds) {
      if (fd === undefined) {
        steps.push({ op: 'writeFd', fd: sock, data: 'n\0' });
        continue;
      }
      const at = steps.length;
      steps.push({ op: 'setns', fd, nstype: NS_CLONE_FLAG.uts, label: 'setns(uts)', ignoreError: true });
      steps.push({ op: 'writeFd', fd: sock, data: 'y', when: { step: at, ok: true } });
      steps.push({ op: 'writeHostname', fd: sock, when: { step: at, ok: true } });
      steps.push({ op: 'writeFd', fd: sock, data: 'n\0', when: { step: at, ok: false } });
    }
    const child = await runSteps(steps);
    // the child holds its own copy: with ours closed, its exit is our end's EOF
    closeFd(ends[1]);
    ends[1] = -1;
    const status = await child.exited;
    if (status.code !== 0) {
      notes.push(`reading hostnames in uts namespaces: the child exited with ${status.code ?? `signal ${status.signal}`}`);
      return names;
    }
    // bounded: per namespace at most "y" + 64 bytes (HOST_NAME_MAX) + NUL
    const buf = Buffer.alloc(pids.length * 66 + 1);
    let n = 0;
    for (let r = -1; r !== 0 && n < buf.length; n += r) r = readSync(ends[0], buf, n, buf.length - n, null);
    let at = 0;
    for (let j = 0; j < pids.length && at < n; j++) {
      const nul = buf.indexOf(0, at);
      if (nul < 0 || nul >= n) break;
      const rec = buf.subarray(at, nul);
      at = nul + 1;
      if (rec[0] !== 0x79 /* y */) continue;
      // rendering escapes what it holds; bytes that are not UTF-8 are kept (decodeBytes)
      const text = decodeBytes(rec, 1, rec.length);
      if (text !== '' && rec.length - 1 <= 64) names[j] = text;
    }
    return names;
  } catch (e) {
    notes.push(`reading hostnames in uts namespaces: ${(e as Error).message}`);
    return names;
  } finally {
    for (const fd of fds) if (fd !== undefined) closeSync(fd);
    if (ends) for (const fd of ends) if (fd >= 0) closeFd(fd);
  }
}

/**
 * The model with the UTS hostnames of unnamed containers as their names (a new model): how
 * every tool names a container no runtime names. `cache`: for pollers (see UtsNameCache).
 */
export async function withUtsNames(src: ProcSource, model: HostModel, cache?: UtsNameCache): Promise<HostModel> {
  const memo = cache?.memoOf(model);
  if (memo) return memo;
  const notes = [...model.notes];
  const names = await readUtsHostnames(src, model.containers, notes, cache, model.ref.pid);
  let out: HostModel;
  if (names.size === 0) out = notes.length === model.notes.length ? model : { ...model, notes };
  else {
    const files = new Map([...names].map(([k, v]) => [k, { utsHostname: v }]));
    const containers = applyNames(model.containers, files, notes);
    out = { ...model, containers, containerOf: containerIndex(containers), notes };
  }
  cache?.remember(model, out);
  return out;
}
