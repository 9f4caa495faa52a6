import type { CgroupMembership } from '../parse/proc-cgroup.js';
import { unescapeBytes } from '../parse/text.js';

export type Runtime = 'docker' | 'podman' | 'kubernetes' | 'containerd' | 'systemd-nspawn' | 'lxc' | 'hostscope';

/** A container named by the cgroup path its runtime put it in. */
export interface CgroupContainerRef {
  runtime: Runtime;
  /** full id as the runtime knows it */
  id: string;
  /** short form people type: 12 hex digits for 64-digit ids, else the name */
  name: string;
  /** kubernetes pod uid, when the path has one */
  pod?: string;
  /** the cgroup path the name came from */
  path: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

function short(id: string): string {
  return HEX64.test(id) ? id.slice(0, 12) : id;
}

/** Undo systemd's unit name escaping: `\x2d` → `-`; escaped bytes decoded as UTF-8 (`\xe2\x80\xae` is U+202E) */
function unescapeUnit(s: string): string {
  return unescapeBytes(s, /\\x([0-9a-fA-F]{2})/g, 16);
}

/**
 * Recognise the cgroup layouts container runtimes create, for both cgroupfs and systemd drivers:
 * docker `/docker/<id>` and `docker-<id>.scope`; podman `libpod-<id>.scope`, `/libpod_parent/libpod-<id>`;
 * kubernetes `kubepods…/pod<uid>/<id>`, `cri-containerd-<id>.scope`, `crio-<id>.scope`;
 * containerd `/<namespace>/<id>`; systemd-nspawn `systemd-nspawn@<name>.service`, `machine-<name>.scope`;
 * lxc `/lxc/<name>`, `lxc.payload.<name>`; hostscope `/hostscope/<id>`.
 */
export function containerFromCgroupPath(path: string): CgroupContainerRef | undefined {
  // a pure function of the path, and thousands of processes share a few hundred paths: remembered
  // (bounded; callers never mutate what it returns)
  if (pathCache.has(path)) return pathCache.get(path);
  const ref = parseCgroupPath(path);
  if (pathCache.size >= PATH_CACHE_MAX) pathCache.clear();
  pathCache.set(path, ref);
  return ref;
}

const PATH_CACHE_MAX = 4096;
const pathCache = new Map<string, CgroupContainerRef | undefined>();

function parseCgroupPath(path: string): CgroupContainerRef | undefined {
  const segs = path.split('/').filter((s) => s !== '');
  const pod = segs.map((s) => /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/.exec(s)?.[1]).find((x) => x);
  const inKube = segs.some((s) => s.startsWith('kubepods'));
  for (let i = segs.length - 1; i >= 0; i--) {
    const seg = segs[i]!;
    const parent = segs[i - 1];
    let m: RegExpExecArray | null;
    const ref = (runtime: Runtime, id: string, name = short(id)): CgroupContainerRef => ({
      runtime: inKube ? 'kubernetes' : runtime,
      id,
      name,
      ...(pod ? { pod: pod.replace(/_/g, '-') } : {}),
      path,
    });
    if ((m = /^docker-([0-9a-f]{64})\.scope$/.exec(seg))) return ref('docker', m[1]!);
    if ((m = /^libpod-([0-9a-f]{64})\.scope$/.exec(seg))) return ref('podman', m[1]!);
    if ((m = /^libpod-([0-9a-f]{64})$/.exec(seg)) && parent === 'libpod_parent') return ref('podman', m[1]!);
    if ((m = /^cri-containerd-([0-9a-f]{64})\.scope$/.exec(seg))) return ref('containerd', m[1]!);
    if ((m = /^crio-([0-9a-f]{64})\.scope$/.exec(seg))) return ref('kubernetes', m[1]!);
    if ((m = /^systemd-nspawn@(.+)\.service$/.exec(seg))) return ref('systemd-nspawn', unescapeUnit(m[1]!));
    if ((m = /^machine-(.+)\.scope$/.exec(seg)) && !m[1]!.startsWith('qemu')) return ref('systemd-nspawn', unescapeUnit(m[1]!));
    if ((m = /^lxc\.payload[./](.+)$/.exec(seg))) return ref('lxc', m[1]!);
    if (parent === 'lxc.payload' || (parent === 'lxc' && i === 1)) return ref('lxc', seg);
    if (parent === 'hostscope' && i === 1) return ref('hostscope', seg);
    if (HEX64.test(seg)) {
      if (parent === 'docker') return ref('docker', seg);
      if (inKube) return ref('kubernetes', seg);
      if (parent !== undefined && i === 1) return ref('containerd', seg);
    }
  }
  return undefined;
}

/** The container a process's cgroups name, trying the v2 line first, then name=systemd, then the rest. */
export function containerFromCgroups(lines: CgroupMembership[] | undefined): CgroupContainerRef | undefined {
  if (!lines) return undefined;
  // the native scan hands processes with the same cgroup file one shared (unmutated) list
  if (linesCache.has(lines)) return linesCache.get(lines) ?? undefined;
  const ref = fromLines(lines);
  linesCache.set(lines, ref ?? null);
  return ref;
}

const linesCache = new WeakMap<CgroupMembership[], CgroupContainerRef | null>();

function fromLines(lines: CgroupMembership[]): CgroupContainerRef | undefined {
  const order = [...lines].sort((a, b) => weight(a) - weight(b));
  for (const l of order) {
    const ref = containerFromCgroupPath(l.path);
    if (ref) return ref;
  }
  return undefined;
}

function weight(l: CgroupMembership): number {
  if (l.hierarchyId === 0) return 0;
  if (l.controllers.includes('name=systemd')) return 1;
  return 2;
}
