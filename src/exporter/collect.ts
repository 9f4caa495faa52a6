/**
 * What one scan found → metric families (pure: no I/O; src/exporter/read.ts does the reading).
 *
 * Two groups:
 * - cAdvisor's names, types, units and labels (google/cadvisor lib/metrics/prometheus.go), so
 *   dashboards written for cAdvisor work unchanged: one label set per cgroup
 *   `{container, id, image, name, namespace, pod}` (id = the cgroup path; the others empty when
 *   unknown), `cpu="total"` on container_cpu_usage_seconds_total, `interface` on the network series.
 * - `hostscope_*`: what none of them exports (namespaces, capabilities, seccomp, no_new_privs,
 *   uid maps, namespaces shared with the host) and the exporter's own cost and errors.
 *
 * Every string from the host goes through escapeControl first (a label value reaches terminals
 * and dashboards): control bytes, bidi overrides and undecodable bytes arrive as `\xNN` text.
 */
import type { NsType } from '../parse/ns-link.js';
import { capNames, formatMaskHex } from '../parse/capabilities.js';
import { mapIdOut, type IdMapRange } from '../parse/proc-id-map.js';
import type { NetDevDetail } from '../parse/proc-net-dev.js';
import type { CgroupStats } from '../cgroup/stats.js';
import type { Container } from '../model/containers.js';
import type { NamespaceGroup } from '../model/namespaces.js';
import { escapeControl } from '../render/escape.js';
import { checkFamily, checkLabelNames, labelsText, type MetricFamily, type MetricType, type Sample } from './format.js';

/** One cgroup's figures: a container's cgroup, or (with --all-cgroups) any cgroup. */
export interface CgroupSample {
  /** the cgroup path (cAdvisor's `id`): `/system.slice/docker-….scope`, `/docker/<id>` */
  id: string;
  container: Container | undefined;
  stats: CgroupStats;
  /** memory.max_usage_in_bytes (v1) or memory.peak (v2), when the kernel has it */
  maxUsageBytes: number | undefined;
  /** processes of the model whose cgroup this is (the containers' processes, for a container's cgroup) */
  processes: number;
  /** threads of the cgroup: pids.current, else the lines of cgroup.threads / tasks (read.ts threadsOf); undefined: unreadable */
  threads: number | undefined;
}

/** What the init process of a container shows (its status, uid_map), for the hostscope_* series. */
export interface ContainerSecurity {
  capEff: bigint | undefined;
  capBnd: bigint | undefined;
  /** 0 disabled, 1 strict, 2 filter */
  seccomp: number | undefined;
  noNewPrivs: boolean | undefined;
  /** the init's uid_map as the host reads it */
  uidMap: IdMapRange[] | undefined;
  /** is the init's user namespace the host's */
  userNsIsHost: boolean | undefined;
}

/** One scan, everything the families are made of. */
export interface ExporterSample {
  cgroups: CgroupSample[];
  containers: Container[];
  namespaces: NamespaceGroup[];
  /** container key → the init's figures */
  security: Map<string, ContainerSecurity>;
  /** container key → its network namespace's interfaces (absent: it shares the host's, or unread) */
  network: Map<string, NetDevDetail[]>;
  processes: number;
  /** processes that exited while they were read */
  vanished: number;
  /** namespaceContainerNames(namespaces, containers), when the reader kept it from an earlier scan of the same model */
  namespaceContainers?: ReadonlyMap<NamespaceGroup, string>;
}

/** The exporter's own figures, kept across scans by the server. */
export interface ScrapeMeta {
  /** wall time of the scan being served, seconds */
  durationSeconds: number;
  /** CPU time (user + system, every thread) the process spent during that scan, seconds */
  cpuSeconds: number;
  /** did that scan complete */
  success: boolean;
  /** scans started since the exporter started */
  scansTotal: number;
  /** errors since start, by stage (`scan` is a scan that failed whole; others are one file each) */
  errorsTotal: ReadonlyMap<string, number>;
  /** scans since start by how the scanner made the model (reused, patched, rebuilt); absent for a one-shot scan (--once) */
  modelUpdates?: ReadonlyMap<string, number>;
}

/** cAdvisor's network series skip these interface prefixes (lib/container/libcontainer/handler.go). */
export const IGNORED_INTERFACE_PREFIXES = ['lo', 'veth', 'docker', 'nerdctl'];

export function isIgnoredInterface(name: string): boolean {
  const l = name.toLowerCase();
  return IGNORED_INTERFACE_PREFIXES.some((p) => l.startsWith(p));
}

type Labels = (readonly [string, string])[];

/** A label set sorted by name, its names checked and its text rendered once (`{a="x",b="y"}`). */
export interface LabelSet {
  readonly pairs: Labels;
  readonly text: string;
  /** `text` as UTF-8 bytes (writeFormatBytes copies them into each scrape's body) */
  readonly bytes: Buffer;
}

const byName = (a: readonly [string, string], b: readonly [string, string]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

function labelSet(pairs: Labels): LabelSet {
  // label names in order, as client_golang writes them (cAdvisor's output)
  const sorted = pairs.length > 1 ? [...pairs].sort(byName) : pairs;
  checkLabelNames('label set', sorted);
  const text = labelsText(sorted);
  return { pairs: sorted, text, bytes: Buffer.from(text, 'utf8') };
}

/**
 * Label sets by a key of their raw values, kept while they are used: a container's label text is
 * made (escaped, sorted, rendered) at the first scrape that shows it and reused by later scrapes;
 * a set not used by the last scrape is dropped at the next one (two generations), so the cache
 * holds what the host shows now, no more. Only the values change per scrape, never the labels.
 */
class LabelSets {
  private cur = new Map<string, LabelSet>();
  private prev = new Map<string, LabelSet>();
  /** a new scrape's families: what the last one did not use goes */
  next(): void {
    this.prev = this.cur;
    this.cur = new Map();
  }
  get(key: string, make: () => Labels): LabelSet {
    let v = this.cur.get(key);
    if (v) return v;
    v = this.prev.get(key) ?? labelSet(make());
    this.cur.set(key, v);
    return v;
  }
  /** the set `base` with more labels (keyed by `base`'s key and `extra`) */
  with(baseKey: string, base: LabelSet, extraKey: string, extra: () => Labels): LabelSet {
    // JSON of both: no value (a cgroup directory may hold \x01, a runtime's name \0) can make one key look like another
    return this.get(JSON.stringify([baseKey, extraKey]), () => [...base.pairs, ...extra()]);
  }
}

const labelSets = new LabelSets();

class Families {
  private readonly byName = new Map<string, MetricFamily>();
  add(name: string, type: MetricType, help: string, labels: Labels | LabelSet, value: number | undefined): void {
    if (value === undefined || value === null || Number.isNaN(value)) return;
    let f = this.byName.get(name);
    if (!f) {
      f = { name, type, help, samples: [] };
      this.byName.set(name, f);
    }
    if ('text' in labels) {
      f.samples.push({ labels: labels.pairs, value, text: labels.text, bytes: labels.bytes } satisfies Sample);
      return;
    }
    const sorted = labels.length > 1 ? [...labels].sort(byName) : labels;
    f.samples.push({ labels: sorted, value } satisfies Sample);
  }
  /** declare a family so it is written (in this order) even before its first sample */
  declare(name: string, type: MetricType, help: string): void {
    if (!this.byName.has(name)) this.byName.set(name, { name, type, help, samples: [] });
  }
  list(): MetricFamily[] {
    const out = [...this.byName.values()];
    for (const f of out) checkFamily(f);
    return out;
  }
}

const h = (s: string): string => escapeControl(s);
/**
 * h, made injective: the backslash itself as `\x5c` first, and a C1 control (U+0080–U+009F, which
 * escapeControl writes `\x80` like the undecodable byte 0x80) as `\u0080`: no two strings give the
 * same text
 */
const hApart = (s: string): string => escapeControl(s.replaceAll('\\', '\\x5c').replace(/[\u0080-\u009f]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`));

/**
 * The ids (cgroup paths) of this scrape whose label text another id also escapes to: a directory
 * named with the byte 0xFF and a sibling named with the four characters `\xff` (or the control
 * byte 0x01 and `\x01`) — one label set, a duplicate series Prometheus drops and promtool refuses.
 * Those are written with hApart; every other id keeps cAdvisor's text (a systemd unit's `\x2d` as
 * it is). Repeated until no two meet (hApart is injective, so it ends); nothing to do, one pass of
 * escapeControl's fast test, when no id needed escaping at all.
 */
export function idsApart(cgroups: readonly CgroupSample[]): ReadonlySet<string> {
  return textsApart(cgroups.map((c) => c.id));
}

/** idsApart of any label values written side by side (a container's interface names too) */
export function textsApart(texts: readonly string[]): ReadonlySet<string> {
  const apart = new Set<string>();
  if (!texts.some((x) => h(x) !== x)) return apart;
  for (;;) {
    const seen = new Map<string, string>();
    let more = false;
    for (const x of texts) {
      const t = apart.has(x) ? hApart(x) : h(x);
      const other = seen.get(t);
      if (other === undefined) {
        seen.set(t, x);
        continue;
      }
      for (const id of [other, x]) {
        if (apart.has(id)) continue;
        apart.add(id);
        more = true;
      }
    }
    if (!more) return apart;
  }
}

/** cAdvisor's label set: container, id, image, name, namespace, pod (sorted, as client_golang writes them). */
export function cgroupLabels(c: CgroupSample, apart = false): Labels {
  const k = c.container;
  // as cAdvisor: `container`, `pod` and `namespace` are Kubernetes' (set only for a pod's
  // containers), `image` what the runtime left on disk; empty when hostscope could not read them
  // `pod` holds the pod's name only when a runtime file named it (podUid then set), else a uid
  const podName = k?.podUid !== undefined && k.pod ? k.pod : undefined;
  return [
    ['container', podName ? h(k!.name) : ''],
    ['id', apart ? hApart(c.id) : h(c.id)],
    ['image', k?.image ? h(k.image) : ''],
    ['name', k ? h(k.name) : ''],
    ['namespace', k?.podNamespace ? h(k.podNamespace) : ''],
    ['pod', podName ? h(podName) : ''],
  ];
}

/** what cgroupLabels depends on, as a key for labelSets */
function cgroupKey(c: CgroupSample): string {
  const k = c.container;
  return JSON.stringify(k ? ['c', c.id, k.name, k.image ?? '', k.podNamespace ?? '', k.podUid !== undefined ? (k.pod ?? '') : ''] : ['c', c.id]);
}

/**
 * The labels of a container's own hostscope_* series: its cgroup, name and init pid (sandboxes
 * made in one cgroup can share a name; the init pid tells them apart).
 */
function containerLabels(k: Container): Labels {
  return [
    ['id', h(k.cgroupPath ?? '')],
    ['init_pid', String(k.initPid)],
    ['name', h(k.name)],
  ];
}

/** v2 cpu.weight → v1 shares, the inverse of runc's shares→weight conversion, as cAdvisor reports it. */
export function weightToShares(weight: number): number {
  return 2 + Math.floor(((weight - 1) * 262142) / 9999);
}

const usec = (v: number | undefined): number | undefined => (v === undefined ? undefined : v / 1e6);

/** The families of one scan (sample undefined: the scan failed; only the exporter's own series). */
export function buildFamilies(sample: ExporterSample | undefined, meta: ScrapeMeta): MetricFamily[] {
  const f = new Families();
  labelSets.next();
  if (sample) {
    const apart = idsApart(sample.cgroups);
    for (const c of sample.cgroups) cadvisorSeries(f, c, sample, apart.size > 0 && apart.has(c.id));
    hostscopeSeries(f, sample);
  }
  selfSeries(f, meta, sample);
  return f.list();
}

function cadvisorSeries(f: Families, c: CgroupSample, sample: ExporterSample, apart: boolean): void {
  const key = apart ? JSON.stringify(['apart', cgroupKey(c)]) : cgroupKey(c);
  const l = labelSets.get(key, () => cgroupLabels(c, apart));
  const { cpu, memory, pids } = c.stats;
  if (cpu) {
    f.add('container_cpu_usage_seconds', 'counter', 'Cumulative cpu time consumed in seconds.', labelSets.with(key, l, 'cpu', () => [['cpu', 'total']]), usec(cpu.usageUsec));
    f.add('container_cpu_user_seconds', 'counter', 'Cumulative user cpu time consumed in seconds.', l, usec(cpu.userUsec));
    f.add('container_cpu_system_seconds', 'counter', 'Cumulative system cpu time consumed in seconds.', l, usec(cpu.systemUsec));
    f.add('container_cpu_cfs_periods', 'counter', 'Number of elapsed enforcement period intervals.', l, cpu.nrPeriods);
    f.add('container_cpu_cfs_throttled_periods', 'counter', 'Number of throttled period intervals.', l, cpu.nrThrottled);
    f.add('container_cpu_cfs_throttled_seconds', 'counter', 'Total time duration the container has been throttled.', l, usec(cpu.throttledUsec));
    f.add('container_spec_cpu_period', 'gauge', 'CPU period of the container.', l, cpu.periodUsec);
    if (cpu.quotaUsec !== null) f.add('container_spec_cpu_quota', 'gauge', 'CPU quota of the container.', l, cpu.quotaUsec);
    f.add('container_spec_cpu_shares', 'gauge', 'CPU share of the container.', l, cpu.shares ?? (cpu.weight === undefined ? undefined : weightToShares(cpu.weight)));
  }
  if (memory) {
    f.add('container_memory_usage_bytes', 'gauge', 'Current memory usage in bytes, including all memory regardless of when it was accessed', l, memory.usageBytes);
    f.add('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.', l, memory.workingSetBytes);
    f.add('container_memory_rss', 'gauge', 'Size of RSS in bytes.', l, memory.anonBytes);
    f.add('container_memory_cache', 'gauge', 'Number of bytes of page cache memory.', l, memory.fileBytes);
    f.add('container_memory_swap', 'gauge', 'Container swap usage in bytes.', l, memory.swapBytes);
    f.add('container_memory_max_usage_bytes', 'gauge', 'Maximum memory usage recorded in bytes', l, c.maxUsageBytes);
    // cAdvisor writes 0 for "unlimited"
    f.add('container_spec_memory_limit_bytes', 'gauge', 'Memory limit for the container.', l, memory.limitBytes ?? 0);
    // the kernel's own count (memory.events oom_kill / memory.oom_control oom_kill): survives a restart of the exporter
    f.add('container_oom_events', 'counter', 'Count of out of memory events observed for the container', l, memory.oomKills);
  }
  const k = c.container;
  const net = k ? sample.network.get(k.key) : undefined;
  if (net) {
    // two interfaces whose names escape to one label text (a byte and its `\xNN` spelling: any
    // root of the container's network namespace can name them) are written apart, as ids are
    const ifApart = textsApart(net.filter((d) => !isIgnoredInterface(d.iface)).map((d) => d.iface));
    for (const d of net) {
      if (isIgnoredInterface(d.iface)) continue;
      const apart = ifApart.has(d.iface);
      const li = labelSets.with(key, l, JSON.stringify(['if', d.iface, apart]), () => [['interface', apart ? hApart(d.iface) : h(d.iface)]]);
      f.add('container_network_receive_bytes', 'counter', 'Cumulative count of bytes received', li, d.rxBytes);
      f.add('container_network_receive_packets', 'counter', 'Cumulative count of packets received', li, d.rxPackets);
      f.add('container_network_receive_packets_dropped', 'counter', 'Cumulative count of packets dropped while receiving', li, d.rxDropped);
      f.add('container_network_receive_errors', 'counter', 'Cumulative count of errors encountered while receiving', li, d.rxErrors);
      f.add('container_network_transmit_bytes', 'counter', 'Cumulative count of bytes transmitted', li, d.txBytes);
      f.add('container_network_transmit_packets', 'counter', 'Cumulative count of packets transmitted', li, d.txPackets);
      f.add('container_network_transmit_packets_dropped', 'counter', 'Cumulative count of packets dropped while transmitting', li, d.txDropped);
      f.add('container_network_transmit_errors', 'counter', 'Cumulative count of errors encountered while transmitting', li, d.txErrors);
    }
  }
  f.add('container_processes', 'gauge', 'Number of processes running inside the container.', l, c.processes);
  f.add('container_threads', 'gauge', 'Number of threads running inside the container', l, c.threads);
  if (pids) f.add('container_threads_max', 'gauge', 'Maximum number of threads allowed inside the container, infinity if value is zero', l, pids.max ?? 0);
}

const SECCOMP_NAMES = ['disabled', 'strict', 'filter'];

/** capNames, kept per mask (a host has few distinct capability sets) */
const capNamesMemo = new Map<bigint, string[]>();
function capNamesOf(mask: bigint): string[] {
  let v = capNamesMemo.get(mask);
  if (!v) {
    if (capNamesMemo.size >= 1024) capNamesMemo.clear();
    capNamesMemo.set(mask, (v = capNames(mask)));
  }
  return v;
}

/**
 * The `container` label of each namespace: the names of the containers with processes in it,
 * sorted, comma-separated, escaped. It depends on the model only: the exporter keeps it while
 * its scanner hands back the same model.
 */
export function namespaceContainerNames(namespaces: readonly NamespaceGroup[], containers: readonly Container[]): Map<NamespaceGroup, string> {
  const containerOf = new Map<number, Container>();
  for (const k of containers) for (const pid of k.pids) containerOf.set(pid, k);
  return namespaceContainerNamesOf(namespaces, containerOf);
}

/** namespaceContainerNames with the model's pid → container map (no map made per call) */
export function namespaceContainerNamesOf(namespaces: readonly NamespaceGroup[], containerOf: ReadonlyMap<number, Container>): Map<NamespaceGroup, string> {
  const out = new Map<NamespaceGroup, string>();
  for (const g of namespaces) {
    const names = new Set<string>();
    for (const pid of g.pids) {
      const k = containerOf.get(pid);
      if (k) names.add(k.name);
    }
    out.set(g, h([...names].sort().join(',')));
  }
  return out;
}

function hostscopeSeries(f: Families, s: ExporterSample): void {
  const nsNames = s.namespaceContainers ?? namespaceContainerNames(s.namespaces, s.containers);
  f.declare('hostscope_namespace', 'info', 'A namespace: its type, inode, whether it is the host\'s, and the containers with processes in it (comma-separated).');
  f.declare('hostscope_namespace_processes', 'gauge', 'Processes in the namespace.');
  for (const g of s.namespaces) {
    const key = JSON.stringify(['n', g.ns.inode, g.ns.type]);
    const base = labelSets.get(key, () => [
      ['inode', String(g.ns.inode)],
      ['type', g.ns.type],
    ]);
    const names = nsNames.get(g) ?? '';
    const host = g.isHost ? 'true' : 'false';
    f.add('hostscope_namespace', 'info', '', labelSets.with(key, base, JSON.stringify([host, names]), () => [['container', names], ['host', host]]), 1);
    f.add('hostscope_namespace_processes', 'gauge', '', base, g.pids.length);
  }
  f.declare('hostscope_container', 'info', 'A container hostscope found: runtime, full id, init pid (pod is the kubernetes pod uid from the cgroup path).');
  f.declare('hostscope_container_processes', 'gauge', 'Processes in the container.');
  f.declare('hostscope_container_capabilities', 'info', "The container init's effective and bounding capability sets, as a hex mask and decoded names.");
  f.declare('hostscope_container_capabilities_held', 'gauge', "Capabilities in the container init's effective and bounding sets.");
  f.declare('hostscope_container_seccomp_mode', 'gauge', "The container init's seccomp mode: 0 disabled, 1 strict, 2 filter (the mode label names it).");
  f.declare('hostscope_container_no_new_privs', 'gauge', "1 when the container init has no_new_privs set.");
  f.declare('hostscope_container_user_namespace', 'info', "The container init's user namespace: its uid_map as the host reads it, and whether the container is rootless.");
  f.declare('hostscope_container_rootless', 'gauge', '1 when the container has a user namespace of its own and its uid 0 is not the host\'s uid 0 (rootless).');
  f.declare('hostscope_container_host_namespace', 'gauge', "1 for each namespace type in which the container init shares the host's namespace.");
  f.declare('hostscope_containers_sharing_host_namespace', 'gauge', "Containers whose init shares the host's namespace of this type.");
  const sharing = new Map<NsType, number>();
  for (const k of s.containers) {
    const key = JSON.stringify(['k', k.cgroupPath ?? '', k.initPid, k.name]);
    const l = labelSets.get(key, () => containerLabels(k));
    f.add('hostscope_container', 'info', '', labelSets.with(key, l, JSON.stringify(['i', k.id ?? '', k.pod ?? '', k.runtime]), () => [['container_id', h(k.id ?? '')], ['pod', h(k.pod ?? '')], ['runtime', k.runtime]]), 1);
    f.add('hostscope_container_processes', 'gauge', '', l, k.pids.length);
    const sec = s.security.get(k.key);
    if (sec) {
      for (const [set, mask] of [['effective', sec.capEff], ['bounding', sec.capBnd]] as const) {
        if (mask === undefined) continue;
        const names = capNamesOf(mask);
        f.add('hostscope_container_capabilities', 'info', '', labelSets.with(key, l, JSON.stringify(['c', set, String(mask)]), () => [['caps', names.join(',')], ['mask', `0x${formatMaskHex(mask)}`], ['set', set]]), 1);
        f.add('hostscope_container_capabilities_held', 'gauge', '', labelSets.with(key, l, JSON.stringify(['s', set]), () => [['set', set]]), names.length);
      }
      if (sec.seccomp !== undefined) {
        const mode = SECCOMP_NAMES[sec.seccomp] ?? String(sec.seccomp);
        f.add('hostscope_container_seccomp_mode', 'gauge', '', labelSets.with(key, l, JSON.stringify(['m', mode]), () => [['mode', mode]]), sec.seccomp);
      }
      if (sec.noNewPrivs !== undefined) f.add('hostscope_container_no_new_privs', 'gauge', '', l, sec.noNewPrivs ? 1 : 0);
      if (sec.uidMap !== undefined && sec.userNsIsHost !== undefined) {
        const rootless = isRootless(sec.uidMap, sec.userNsIsHost);
        const map = sec.uidMap.map((r) => `${r.inside} ${r.outside} ${r.count}`).join(';');
        const hostNs = sec.userNsIsHost ? 'true' : 'false';
        const rl = rootless ? 'true' : 'false';
        f.add('hostscope_container_user_namespace', 'info', '', labelSets.with(key, l, JSON.stringify(['u', hostNs, rl, map]), () => [['host_user_namespace', hostNs], ['rootless', rl], ['uid_map', map]]), 1);
        f.add('hostscope_container_rootless', 'gauge', '', l, rootless ? 1 : 0);
      }
    }
    for (const t of k.sharedWithHost) {
      f.add('hostscope_container_host_namespace', 'gauge', '', labelSets.with(key, l, JSON.stringify(['t', t]), () => [['type', t]]), 1);
      sharing.set(t, (sharing.get(t) ?? 0) + 1);
    }
  }
  for (const [t, n] of [...sharing].sort((a, b) => (a[0] < b[0] ? -1 : 1))) f.add('hostscope_containers_sharing_host_namespace', 'gauge', '', [['type', t]], n);
}

/** Rootless: a user namespace of its own whose uid 0 is not the host's uid 0 (or is not mapped at all). */
export function isRootless(uidMap: IdMapRange[], userNsIsHost: boolean): boolean {
  if (userNsIsHost) return false;
  return mapIdOut(uidMap, 0) !== 0;
}

function selfSeries(f: Families, m: ScrapeMeta, s: ExporterSample | undefined): void {
  f.add('hostscope_scrape_duration_seconds', 'gauge', 'Wall time of the scan these figures come from, in seconds.', [], m.durationSeconds);
  f.add('hostscope_scrape_cpu_seconds', 'gauge', "CPU time the exporter spent during that scan (every thread), in seconds.", [], m.cpuSeconds);
  f.add('hostscope_scrape_success', 'gauge', '1 when the scan these figures come from completed.', [], m.success ? 1 : 0);
  f.add('hostscope_scans', 'counter', 'Scans of the host since the exporter started (concurrent scrapes share one).', [], m.scansTotal);
  f.declare('hostscope_scrape_errors', 'counter', 'Errors since the exporter started, by stage: scan (a scan that failed whole), cgroup, network, security (one file each).');
  for (const stage of ['scan', 'cgroup', 'network', 'security']) f.add('hostscope_scrape_errors', 'counter', '', [['stage', stage]], m.errorsTotal.get(stage) ?? 0);
  if (m.modelUpdates) {
    // what a scrape costs depends most on this: a rebuilt model (a new namespace or container, a
    // container's init gone) costs several times a reused one at 10,000 processes (docs/exporter.md)
    f.declare('hostscope_model_updates', 'counter', 'Scans since the exporter started by how the host model was made: reused (nothing came, went or changed), patched (processes came and went like ones already there), rebuilt.');
    for (const how of ['reused', 'patched', 'rebuilt']) f.add('hostscope_model_updates', 'counter', '', [['how', how]], m.modelUpdates.get(how) ?? 0);
  }
  if (s) {
    f.add('hostscope_processes', 'gauge', 'Processes the scan read.', [], s.processes);
    f.add('hostscope_processes_vanished', 'gauge', 'Processes that exited while the scan read them.', [], s.vanished);
    f.add('hostscope_containers', 'gauge', 'Containers the scan found.', [], s.containers.length);
  }
}
