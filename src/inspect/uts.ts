/**
 * The last name source (issue 10): a container's hostname as its own UTS namespace says it, the
 * way atop reads it. Node never setns()'s itself: a child forked by the native step runner enters
 * the container's uts namespace (setns on /proc/PID/ns/uts opened here) and execs
 * `/bin/hostname` (uname(2) nodename) with its stdout on one end of a socket pair, read back
 * bounded from the other. No temp file: nothing is left behind when the reader is killed.
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
import type { Container } from '../model/containers.js';
import { containerIndex } from '../model/containers.js';
import { applyNames } from '../model/container-names.js';
import type { HostModel } from './host.js';

const HOSTNAME_BIN = '/bin/hostname';

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
export async function readUtsHostnames(src: ProcSource, containers: readonly Container[], notes: string[] = [], cache?: UtsNameCache): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const wanted = containers.filter(needsUtsName);
  if (cache) cache.keep(new Set(wanted.map(utsKey)));
  if (wanted.length === 0 || !src.isLive || !loadNative()) return out;
  const read = new Map<string, string | undefined>();
  for (const c of wanted) {
    const key = utsKey(c);
    let name: string | undefined;
    if (read.has(key)) name = read.get(key);
    else {
      const hit = cache?.get(key);
      name = hit ? hit.name : await hostnameIn(src, c.initPid, notes);
      read.set(key, name);
      if (!hit) cache?.set(key, name);
    }
    if (name !== undefined) out.set(c.key, name);
  }
  return out;
}

async function hostnameIn(src: ProcSource, pid: number, notes: string[]): Promise<string | undefined> {
  let nsFd: number | undefined;
  let ends: [number, number] | undefined;
  try {
    nsFd = openSync(`${src.procRoot}/${pid}/ns/uts`, 'r');
    ends = socketPair();
    const child = await runSteps([
      { op: 'setns', fd: nsFd, nstype: NS_CLONE_FLAG.uts, label: 'setns(uts)' },
      { op: 'dup2', from: ends[1], to: 1 },
      { op: 'exec', file: HOSTNAME_BIN, argv: ['hostname'], envp: [], search: false },
    ]);
    // the child holds its own copy as its stdout: with ours closed, its exit is our end's EOF
    closeFd(ends[1]);
    ends[1] = -1;
    const status = await child.exited;
    if (status.code !== 0) {
      notes.push(`${HOSTNAME_BIN} in the uts namespace of pid ${pid} exited with ${status.code ?? `signal ${status.signal}`}`);
      return undefined;
    }
    // bounded: a hostname is at most 64 bytes (HOST_NAME_MAX); more is not a hostname
    const buf = Buffer.alloc(256);
    let n = 0;
    for (let r = -1; r !== 0 && n < buf.length; n += r) r = readSync(ends[0], buf, n, buf.length - n, null);
    const text = buf.subarray(0, n).toString('utf8').trim();
    // rendering escapes what it holds
    return text !== '' && text.length <= 64 ? text : undefined;
  } catch (e) {
    notes.push(`hostname of pid ${pid}: ${(e as Error).message}`);
    return undefined;
  } finally {
    if (nsFd !== undefined) closeSync(nsFd);
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
  const names = await readUtsHostnames(src, model.containers, notes, cache);
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
