/**
 * One scan for the exporter: the host model from scanHost (native on the threadpool when live,
 * the sliced TypeScript reader on dumps), then, per container, its cgroup's figures
 * (readCgroupStats), its init's status and uid_map, and its network namespace's net/dev. Every
 * read goes through the ProcSource (bounded, O_NONBLOCK: a slow or hostile file cannot hold the
 * scan). The event loop gets a turn every few milliseconds, so /metrics and / keep answering
 * during a scan. A file that fails is counted by stage, not thrown.
 */
import { performance } from 'node:perf_hooks';
import type { ProcSource } from '../source/source.js';
import { isProcError } from '../source/errors.js';
import { parseNetDevDetail, type NetDevDetail } from '../parse/proc-net-dev.js';
import { parseSingleValue } from '../parse/cgroupfs-format.js';
import type { CgroupMembership } from '../parse/proc-cgroup.js';
import { parseStatusSecurity, type StatusSecurity } from '../parse/proc-status.js';
import { parseIdMap, type IdMapRange } from '../parse/proc-id-map.js';
import { mainCgroupPath, type Container } from '../model/containers.js';
import { nsKey, type ProcessInfo } from '../model/process.js';
import { readCgroupStats, type CgroupStats } from '../cgroup/stats.js';
import { cgroupSysRel, type CgroupHierarchy, type CgroupLayout } from '../cgroup/layout.js';
import { readCgroupLayout, type HostModel } from '../inspect/host.js';
import { scanHost } from '../inspect/scan.js';
import { UtsNameCache, withUtsNames } from '../inspect/uts.js';
import { HostScanner, indexOfPid, type ScannerOptions } from '../inspect/scanner.js';
import { namespaceContainerNamesOf, type CgroupSample, type ContainerSecurity, type ExporterSample } from './collect.js';
import type { NamespaceGroup } from '../model/namespaces.js';

export interface ReadOptions {
  /** every cgroup of the host, not only those holding a container */
  allCgroups?: boolean;
  /** at most this many cgroups with --all-cgroups (a runaway tree cannot make a scrape unbounded) */
  maxCgroups?: number;
  /** passed to scanHost / HostScanner (path, sliceMs, revalidateEvery, youngSeconds) */
  scan?: Pick<ScannerOptions, 'path' | 'sliceMs' | 'revalidateEvery' | 'youngSeconds'>;
}

export interface ReadResult {
  sample: ExporterSample;
  /** files that failed this scan, by stage */
  errors: Map<string, number>;
  /** how the scanner made this scan's model (exporterReader only): the last one as it was, patched for processes that came and went, or rebuilt */
  model?: ModelUpdate;
}

/** How a HostScanner scan made its model (ScannerStats: modelReused, modelPatched, else rebuilt). */
export type ModelUpdate = 'reused' | 'patched' | 'rebuilt';

/** Hand the event loop a turn when a slice has run this long (ms). */
const SLICE_MS = 8;

class Yielder {
  private start = performance.now();
  async maybe(): Promise<void> {
    if (performance.now() - this.start < SLICE_MS) return;
    await new Promise<void>((r) => setImmediate(r));
    this.start = performance.now();
  }
}

/** Read the host once for the exporter (a one-shot scan; the server uses exporterReader). */
export async function readExporterSample(src: ProcSource, opts: ReadOptions = {}): Promise<ReadResult> {
  // containers named as cinf, nsenter-ts and ctop name them (src/inspect/uts.ts)
  const model = await withUtsNames(src, await scanHost(src, { containers: true, excludeSelf: true, ...(opts.scan ?? {}) }));
  return sampleFromModel(src, model, opts);
}

/**
 * What the exporter's scanner reads again of a known process (docs/exporter.md, "What a scrape
 * reads again"): one younger than EXPORTER_YOUNG_SECONDS whole at every scan (namespace and cgroup
 * changes of a living process come right after its fork: a runtime's init, unshare, nsenter),
 * an older one whole once every EXPORTER_REVALIDATE_EVERY scans (10 min at Prometheus's 15 s).
 */
export const EXPORTER_YOUNG_SECONDS = 5;
export const EXPORTER_REVALIDATE_EVERY = 40;

/**
 * The exporter's scan: one long-lived HostScanner, so a scrape on a steady host reads /proc,
 * each process's stat and the containers' cgroup files, not every process's namespaces and
 * cgroup (see src/inspect/scanner.ts for what that costs in freshness: a process that changes
 * namespaces or cgroup without a new pid is seen within `revalidateEvery` scans).
 */
export function exporterReader(src: ProcSource, opts: ReadOptions = {}): () => Promise<ReadResult> {
  // no per-process figure is exported (threads come from the cgroup: threadsOf below), so a known
  // process costs nothing but its /proc entry (freshStat 'none', docs/adr/0007 addendum 2)
  // nor the CPU time of each slice of the scan (sliceCpu: getrusage twice a slice)
  const scanner = new HostScanner(src, { containers: true, excludeSelf: true, freshStat: 'none', sliceCpu: false, revalidateEvery: EXPORTER_REVALIDATE_EVERY, youngSeconds: EXPORTER_YOUNG_SECONDS, ...(opts.scan ?? {}) });
  // the hostnames of unnamed containers: one child per uts namespace, read again every UTS_MAX_AGE_MS
  const utsNames = new UtsNameCache();
  return async () => {
    const { model: scanned, stats } = await scanner.scan();
    // containers named as cinf, nsenter-ts and ctop name them (src/inspect/uts.ts)
    const model = await withUtsNames(src, scanned, utsNames);
    const r = await sampleFromModel(src, model, opts);
    r.model = stats.modelReused ? 'reused' : stats.modelPatched ? 'patched' : 'rebuilt';
    return r;
  };
}

/**
 * Each namespace group's `container` label. Kept by group value across models: HostScanner's
 * patched models (processes came and went like ones already there) keep every group no process
 * joined or left, with the same members in the same containers, so its label is the same; a
 * group that changed is a new value and gets its label made again.
 */
const nsNameOfGroup = new WeakMap<NamespaceGroup, string>();

/** The process of `pid` in a snapshot's list (ascending pid order), without a pid index per model. */
function processOf(model: HostModel, pid: number): ProcessInfo | undefined {
  const i = indexOfPid(model.snapshot.processes, pid);
  return i < 0 ? undefined : model.snapshot.processes[i];
}

/** namespaceContainerNames for the groups not labelled yet */
function namespaceNames(model: HostModel): Map<NamespaceGroup, string> {
  const out = new Map<NamespaceGroup, string>();
  const todo: NamespaceGroup[] = [];
  for (const g of model.namespaces) {
    const v = nsNameOfGroup.get(g);
    if (v === undefined) todo.push(g);
    else out.set(g, v);
  }
  if (todo.length > 0) {
    for (const [g, v] of namespaceContainerNamesOf(todo, model.containerOf)) {
      nsNameOfGroup.set(g, v);
      out.set(g, v);
    }
  }
  return out;
}

/** The per-container reads, on a model already scanned. */
export async function sampleFromModel(src: ProcSource, model: HostModel, opts: ReadOptions = {}): Promise<ReadResult> {
  const errors = new Map<string, number>();
  const fail = (stage: string): void => void errors.set(stage, (errors.get(stage) ?? 0) + 1);
  const y = new Yielder();
  const layout = readCgroupLayout(src);

  const cgroups: CgroupSample[] = [];
  const seen = new Set<string>();
  // one sample per cgroup (cAdvisor's unit): containers that share one (sandboxes made in the same
  // cgroup) share its series; the name label then lists them all
  const byCgroup = new Map<string, Container[]>();
  for (const k of model.containers) {
    if (k.cgroupPath === undefined || !processOf(model, k.initPid)?.cgroups) continue;
    const l = byCgroup.get(k.cgroupPath);
    if (l) l.push(k);
    else byCgroup.set(k.cgroupPath, [k]);
  }
  for (const [path, ks] of byCgroup) {
    await y.maybe();
    const dirs = cgroupDirs(src, layout, path);
    const stats = readStats(src, layout, dirs.memberships, fail);
    const pids = ks.flatMap((k) => k.pids);
    const container = ks.length === 1 ? ks[0]! : { ...ks[0]!, name: [...new Set(ks.map((k) => k.name))].sort().join(',') };
    cgroups.push({ id: path, container, stats, maxUsageBytes: readMaxUsage(src, stats), processes: pids.length, threads: threadsOf(src, stats, dirs, fail) });
    seen.add(path);
  }
  if (opts.allCgroups) {
    // processes by the cgroup path people mean (the v2 one, else the most specific v1 one)
    const members = new Map<string, number[]>();
    for (const p of model.snapshot.processes) {
      const path = mainCgroupPath(p);
      if (path === undefined) continue;
      const l = members.get(path);
      if (l) l.push(p.pid);
      else members.set(path, [p.pid]);
    }
    for (const path of walkCgroups(src, layout, opts.maxCgroups ?? 10_000, fail)) {
      await y.maybe();
      if (seen.has(path)) continue;
      seen.add(path);
      const dirs = cgroupDirs(src, layout, path);
      const stats = readStats(src, layout, dirs.memberships, fail);
      const pids = members.get(path) ?? [];
      cgroups.push({ id: path, container: undefined, stats, maxUsageBytes: readMaxUsage(src, stats), processes: pids.length, threads: threadsOf(src, stats, dirs, fail) });
    }
  }

  const nsNames = namespaceNames(model);
  await y.maybe();
  const security = new Map<string, ContainerSecurity>();
  const network = new Map<string, NetDevDetail[]>();
  const netByNs = new Map<string, NetDevDetail[] | undefined>();
  for (const k of model.containers) {
    await y.maybe();
    const sec = readSecurity(src, k, fail);
    if (sec) security.set(k.key, sec);
    const net = k.namespaces.net;
    if (!net || k.sharedWithHost.includes('net')) continue;
    const key = nsKey(net);
    if (!netByNs.has(key)) netByNs.set(key, readNetDev(src, k, model, fail));
    const rows = netByNs.get(key);
    if (rows) network.set(k.key, rows);
  }

  return {
    sample: {
      cgroups,
      containers: model.containers,
      namespaces: model.namespaces,
      security,
      network,
      processes: model.snapshot.processes.length,
      vanished: model.snapshot.vanished,
      namespaceContainers: nsNames,
    },
    errors,
  };
}

/** A cgroup path in a hierarchy, as the path under its mount (the hierarchy's root may be a subtree). */
function inHierarchy(h: CgroupHierarchy, path: string): string {
  return h.root === '/' ? path : `${h.root.replace(/\/$/, '')}${path === '/' ? '' : path}`;
}

/** A cgroup's directories: as memberships (for readCgroupStats) and as paths under the sys root. */
export interface CgroupDirs {
  memberships: CgroupMembership[];
  /** the same directories, sys-relative, in the layout's order */
  rels: { version: 1 | 2; rel: string }[];
}

/**
 * The cgroup `path` in every hierarchy that has a directory of that name, as cAdvisor reads a
 * cgroup: a controller whose hierarchy keeps the process elsewhere (cpuacct at `/` beside
 * memory at `/x`, as on this project's VM) gives no figures for `/x` rather than the root's.
 */
function cgroupDirs(src: ProcSource, layout: CgroupLayout, path: string): CgroupDirs {
  const out: CgroupDirs = { memberships: [], rels: [] };
  for (const h of layout.hierarchies) {
    const p = inHierarchy(h, path);
    const rel = cgroupSysRel(h, p);
    if (rel === undefined || !src.sysExists(rel)) continue;
    out.memberships.push({ hierarchyId: h.version === 2 ? 0 : 1, controllers: h.controllers, path: p });
    out.rels.push({ version: h.version === 2 ? 2 : 1, rel });
  }
  return out;
}

/**
 * container_threads of a cgroup, without reading any process: as cAdvisor (container/libcontainer
 * handler.go, setThreadsStats: `ThreadsCurrent = PidsStats.Current`), the pids controller's
 * pids.current (v2, or the v1 pids hierarchy; it counts the cgroup's descendants too). Where no
 * pids controller holds the cgroup (v1 without a pids directory of that name, v2 with pids not
 * enabled for it), the threads listed in the cgroup itself: the lines of v2 `cgroup.threads`
 * (the v2 directory first when the host runs v2), else of a v1 `tasks` (every v1 hierarchy lists
 * the same tasks). Every read is bounded by the source (a cgroupfs file: 4 MiB, ~600,000 tasks);
 * undefined (no sample) when none can be read.
 */
export function threadsOf(src: ProcSource, stats: CgroupStats, dirs: CgroupDirs, fail: (stage: string) => void): number | undefined {
  if (stats.pids) return stats.pids.current;
  const order = [...dirs.rels.filter((d) => d.version === 2), ...dirs.rels.filter((d) => d.version === 1)];
  for (const d of order) {
    const file = d.version === 2 ? 'cgroup.threads' : 'tasks';
    try {
      return countLines(src.readSysText(`${d.rel}/${file}`));
    } catch (e) {
      if (counts(e)) fail('cgroup');
    }
  }
  return undefined;
}

/** lines of a cgroupfs list (one id a line, newline-terminated) */
function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  // a last line without its newline still counts
  if (text.length > 0 && text[text.length - 1] !== '\n') n++;
  return n;
}

/** A failed read that means something went wrong (not "the process exited", not "the kernel lacks it", not "the dump lacks it"). */
function counts(e: unknown): boolean {
  if (!isProcError(e)) throw e;
  return e.code !== 'PROCESS_GONE' && e.code !== 'NOT_FOUND' && e.code !== 'NOT_SUPPORTED';
}

function readStats(src: ProcSource, layout: CgroupLayout, memberships: CgroupMembership[], fail: (stage: string) => void): CgroupStats {
  try {
    const stats = readCgroupStats(src, layout, memberships);
    for (const code of Object.values(stats.errors)) if (code && code !== 'PROCESS_GONE') fail('cgroup');
    return stats;
  } catch (e) {
    if (counts(e)) fail('cgroup');
    return { errors: {} };
  }
}

/** memory.max_usage_in_bytes (v1) or memory.peak (v2, kernel 5.19+) of the memory cgroup the stats came from. */
function readMaxUsage(src: ProcSource, stats: CgroupStats): number | undefined {
  const m = stats.memory;
  if (!m || !m.dir.startsWith('/sys/')) return undefined;
  const file = m.version === 1 ? 'memory.max_usage_in_bytes' : 'memory.peak';
  try {
    return parseSingleValue(src.readSysText(`${m.dir.slice('/sys/'.length)}/${file}`), `${m.dir}/${file}`) ?? undefined;
  } catch (e) {
    if (!isProcError(e)) throw e;
    return undefined;
  }
}

/**
 * The init's capabilities, seccomp and no_new_privs (status: read every scrape — a living process
 * can drop bounding capabilities, move effective ones within its permitted set, set no_new_privs
 * or add a seccomp filter at any time) and its uid_map (read every scrape too: a few bytes, and a
 * user namespace's inode alone does not say it is the same namespace).
 */
function readSecurity(src: ProcSource, k: Container, fail: (stage: string) => void): ContainerSecurity | undefined {
  const pid = k.initPid;
  let st: StatusSecurity | undefined;
  let uidMap: IdMapRange[] | undefined;
  try {
    st = parseStatusSecurity(src.readProcText(`${pid}/status`), `${src.procRoot}/${pid}/status`);
  } catch (e) {
    if (!isProcError(e)) throw e;
    if (e.code === 'PROCESS_GONE') return undefined;
    if (e.code !== 'NOT_FOUND') fail('security');
  }
  try {
    uidMap = parseIdMap(src.readProcText(`${pid}/uid_map`), `${src.procRoot}/${pid}/uid_map`);
  } catch (e) {
    if (!isProcError(e)) throw e;
    if (e.code === 'PROCESS_GONE' && st === undefined) return undefined;
    if (e.code !== 'PROCESS_GONE' && e.code !== 'NOT_FOUND') fail('security');
  }
  const userNs = k.namespaces.user;
  return {
    capEff: st?.capEff,
    capBnd: st?.capBnd,
    seccomp: st?.seccomp,
    noNewPrivs: st?.noNewPrivs,
    uidMap,
    userNsIsHost: userNs ? k.sharedWithHost.includes('user') : undefined,
  };
}

/** net/dev of the container's network namespace, read through its init (then any member still there). */
function readNetDev(src: ProcSource, k: Container, model: HostModel, fail: (stage: string) => void): NetDevDetail[] | undefined {
  const want = k.namespaces.net!;
  const candidates = [k.initPid, ...k.pids.filter((p) => p !== k.initPid)].slice(0, 4);
  for (const pid of candidates) {
    const ns = processOf(model, pid)?.ns?.net;
    if (!ns || ns.inode !== want.inode) continue;
    try {
      return parseNetDevDetail(src.readProcText(`${pid}/net/dev`), `${src.procRoot}/${pid}/net/dev`);
    } catch (e) {
      if (counts(e)) {
        fail('network');
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Every cgroup directory of the primary hierarchy (v2 when the host runs it, else the v1 memory
 * hierarchy, else the first v1 one), as cgroup paths, breadth first, at most `max`.
 */
function walkCgroups(src: ProcSource, layout: CgroupLayout, max: number, fail: (stage: string) => void): string[] {
  const primary: CgroupHierarchy | undefined =
    (layout.mode === 'v2' ? layout.hierarchies.find((h) => h.version === 2) : undefined) ??
    layout.hierarchies.find((h) => h.version === 1 && h.controllers.includes('memory')) ??
    layout.hierarchies.find((h) => h.version === 1) ??
    layout.hierarchies[0];
  if (!primary) return [];
  const out: string[] = [];
  const queue = ['/'];
  while (queue.length > 0 && out.length < max) {
    const path = queue.shift()!;
    const rel = cgroupSysRel(primary, inHierarchy(primary, path));
    if (rel === undefined) continue;
    out.push(path);
    let entries;
    try {
      entries = src.listSys(rel);
    } catch (e) {
      if (counts(e)) fail('cgroup');
      continue;
    }
    for (const d of entries.filter((e) => e.isDir).map((e) => e.name).sort()) queue.push(path === '/' ? `/${d}` : `${path}/${d}`);
  }
  return out;
}
