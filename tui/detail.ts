/**
 * The detail tabs of one process, rendered from the foundation's story (src/inspect/story.ts reads
 * it, src/render/story.ts's storySectionLines turns each section into escaped, width-bounded lines):
 * one source for `cinf --pid` and ctop. `readDetail` reads the story (I/O, one pid, small) with the
 * host facts taken from ctop's last sample rather than a second scan of the host; `detailTab`
 * picks the sections of one tab (pure). A process that is gone, or whose pid now belongs to a new
 * process (start time changed), is reported as gone; unreadable files show `-` with the reason.
 * In a replay, `recordedStory` makes the overview and namespaces sections from what the sample kept.
 */
import type { ProcSource } from '../src/source/source.js';
import { readStory, storySection, type StoryHostFacts, type ProcessStory, type StorySection, type StorySectionId, type NsEntryFact } from '../src/inspect/story.js';
import { readCgroupLayout } from '../src/inspect/host.js';
import { storyHeadline, storySectionLines, storySectionTitle } from '../src/render/story.js';
import type { Container } from '../src/model/containers.js';
import type { Runtime } from '../src/model/cgroup-names.js';
import type { HostReference, NamespaceGroup } from '../src/model/namespaces.js';
import type { NsId } from '../src/model/process.js';
import { NS_ENTRIES, NS_TYPES, entryType, type NsType } from '../src/parse/ns-link.js';
import type { Sample } from './sample.js';
import type { DetailTab } from './store.js';

export { DOCKER_DEFAULT_CAPS } from '../src/render/story.js';

export interface Detail {
  story: ProcessStory;
  /** read at this wall time */
  readAtMs: number;
  /** from a recording: only what a sample keeps */
  recorded?: boolean;
}

/** Which story sections each tab shows, in order. */
export const TAB_SECTIONS: Record<DetailTab, StorySectionId[]> = {
  overview: ['overview'],
  namespaces: ['namespaces'],
  cgroups: ['cgroups', 'resources'],
  capabilities: ['capabilities'],
  security: ['security'],
  idmaps: ['user-namespace'],
  environment: ['environment'],
  mounts: ['mounts'],
};

/**
 * The story's host facts from a sample: the host reference it recorded, "who is in this
 * namespace" and "which container is this pid in" as lookups over its processes (computed only for
 * the keys the story asks about: one process's namespaces and their members).
 */
export function hostFactsFromSample(sample: Sample): StoryHostFacts {
  const dev = sample.hostRef?.nsDev ?? 0;
  const refNs: Partial<Record<NsType, NsId>> = {};
  for (const t of NS_TYPES) {
    const inode = sample.host[t];
    if (inode !== undefined) refNs[t] = { type: t, inode, dev };
  }
  const ref: HostReference = {
    ns: refNs,
    pid: sample.hostRef?.pid,
    how: sample.hostRef?.how ?? 'pid 1',
    initialPidNs: sample.hostRef?.initialPidNs ?? true,
  };
  let byCtr: Map<string, Container> | undefined;
  let ctrOfPid: Map<number, string> | undefined;
  const containers = (): void => {
    if (byCtr) return;
    byCtr = new Map();
    ctrOfPid = new Map();
    const members = new Map<string, number[]>();
    for (const p of sample.procs) {
      if (p.ctr === undefined) continue;
      ctrOfPid.set(p.pid, p.ctr);
      let m = members.get(p.ctr);
      if (!m) members.set(p.ctr, (m = []));
      m.push(p.pid);
    }
    for (const c of sample.containers) {
      byCtr.set(c.key, {
        key: c.key,
        name: c.name,
        runtime: c.runtime as Runtime | 'unknown',
        id: c.id,
        pod: c.pod,
        initPid: c.initPid,
        pids: members.get(c.key) ?? [c.initPid],
        cgroupPath: c.cgroupPath,
        hostname: undefined,
        namespaces: {},
        sharedWithHost: [],
      });
    }
  };
  const groups = new Map<string, NamespaceGroup | undefined>();
  return {
    ref,
    containerOf: {
      get(pid: number): Container | undefined {
        containers();
        const k = ctrOfPid!.get(pid);
        return k === undefined ? undefined : byCtr!.get(k);
      },
    },
    nsByKey: {
      get(key: string): NamespaceGroup | undefined {
        if (groups.has(key)) return groups.get(key);
        const m = /^([a-z_]+):(\d+):(\d+)$/.exec(key);
        let g: NamespaceGroup | undefined;
        if (m && (NS_TYPES as readonly string[]).includes(m[1]!)) {
          const type = m[1] as NsType;
          const inode = Number(m[3]);
          const pids = sample.procs.filter((p) => p.ns[type] === inode).map((p) => p.pid).sort((a, b) => a - b);
          const ns = { type, inode, dev: Number(m[2]) };
          g = { ns, key, pids, processes: [], lowest: undefined, bindMounts: [], threads: [], isHost: ref.ns[type]?.inode === inode };
        }
        groups.set(key, g);
        return g;
      },
    },
  };
}

/** Read a process's story for the detail view; undefined when it is gone or its pid was reused (start ≠). */
export function readDetail(src: ProcSource, pid: number, start: number, sample: Sample | undefined): Detail | undefined {
  let layout;
  try {
    layout = readCgroupLayout(src);
  } catch {
    /* the story reads it again and says what failed */
  }
  const story = readStory(src, pid, {
    env: true,
    mounts: true,
    ...(sample && !sample.thin ? { host: hostFactsFromSample(sample) } : {}),
    ...(layout ? { layout } : {}),
    ...(start >= 0 ? { expectStart: start } : {}),
  });
  return story ? { story, readAtMs: Date.now() } : undefined;
}

/** The story of a process as a recording kept it: the overview and namespaces sections only. */
export function recordedStory(sample: Sample, pid: number): Detail | undefined {
  const p = sample.procs.find((q) => q.pid === pid);
  if (!p) return undefined;
  const facts = hostFactsFromSample(sample);
  const dev = sample.hostRef?.nsDev ?? 0;
  const c = facts.containerOf.get(pid);
  const notKept = { reason: 'not-read' as const, because: 'not kept in a recording' };
  const own: NsType[] = NS_TYPES.filter((t) => p.ns[t] !== undefined && sample.host[t] !== undefined && p.ns[t] !== sample.host[t]);
  const overview: StorySection = {
    id: 'overview',
    title: 'PROCESS',
    pid,
    name: p.comm,
    command: p.cmd || `[${p.comm}]`,
    cmdline: undefined,
    state: { code: p.state, name: undefined },
    ppid: p.ppid,
    threads: p.threads,
    nsPid: p.nspid,
    uid: undefined,
    gid: undefined,
    groups: undefined,
    kernelThread: p.kthread === true,
    container: c
      ? { kind: 'container', name: c.name, runtime: c.runtime, id: c.id, initPid: c.initPid, processes: c.pids.length }
      : own.length
        ? { kind: 'none', ownTypes: own }
        : { kind: 'host' },
    status: notKept,
  };
  const entries: NsEntryFact[] = [];
  for (const entry of NS_ENTRIES) {
    if (entry.endsWith('_for_children')) continue;
    const type = entryType(entry);
    const inode = p.ns[type];
    if (inode === undefined) continue;
    const g = facts.nsByKey.get(`${type}:${dev}:${inode}`);
    const isHost = sample.host[type] === inode;
    const others = new Set<string>();
    if (!isHost) for (const q of g?.pids ?? []) {
      const oc = facts.containerOf.get(q);
      if (oc && oc.key !== c?.key) others.add(oc.name);
    }
    entries.push({ entry, type, inode, dev, sharing: isHost ? 'host' : 'own', isHost, processes: g?.pids.length ?? 1, otherContainers: [...others].sort(), unknown: undefined });
  }
  const namespaces: StorySection = { id: 'namespaces', title: 'NAMESPACES', reference: { pid: facts.ref.pid, how: facts.ref.how, initialPidNs: facts.ref.initialPidNs }, entries, unknown: undefined };
  return { story: { pid, sections: [overview, namespaces], cgroupMode: sample.cgroupMode as ProcessStory['cgroupMode'], errors: {} }, readAtMs: sample.wallMs, recorded: true };
}

export interface TabOptions {
  /** columns available */
  width: number;
  /** environment values shown (`e`), else masked */
  showEnv: boolean;
}

/** The lines of one tab: each section's title line, then its body, at most `width` columns each. */
export function detailTab(d: Detail, tab: DetailTab, o: TabOptions): string[] {
  const out: string[] = [];
  const overview = storySection(d.story, 'overview');
  if (tab === 'overview' && overview) out.push(cutLine(storyHeadline(overview), o.width));
  if (d.recorded) out.push('(from the recording: the overview and namespaces that each sample keeps)');
  for (const id of TAB_SECTIONS[tab]) {
    const s = d.story.sections.find((x) => x.id === id);
    if (!s) {
      if (!d.recorded) out.push(`${id}: not read`);
      else if (out.length <= 1) out.push(`(a recording does not keep the ${tab})`);
      continue;
    }
    if (out.length > 0 && out[out.length - 1] !== '') out.push('');
    out.push(cutLine(storySectionTitle(s), o.width));
    if (id === 'environment') out.push(o.showEnv ? '(values shown: e hides them)' : '(values hidden: e shows them)');
    out.push(...storySectionLines(s, { width: o.width, maskEnv: !o.showEnv, dockerDefault: true }));
  }
  return out;
}

function cutLine(s: string, w: number): string {
  const chars = [...s];
  return chars.length > w ? `${chars.slice(0, Math.max(0, w - 1)).join('')}…` : s;
}
