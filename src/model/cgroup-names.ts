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
  /** the uid whose delegated cgroup subtree (`user@UID.service`) holds it: a rootless container of that user */
  owner?: number;
  /**
   * the container's own cgroup directory (path up to the part that named it): two directories are
   * two containers even when they claim one id
   */
  dir: string;
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
 *
 * Only where the runtimes put them, since anyone with a writable cgroup (a delegated
 * `user@UID.service` subtree, a chowned v1 directory) can make a directory of any name and container
 * ids are world-readable in /proc/<pid>/cgroup (finding 1 of stop 20): a `.scope`/`.service` unit
 * only under slices all the way from the root (systemd makes those; a user cannot), a cgroupfs
 * directory only at its place under a top-level parent. Inside `/user.slice/user-UID.slice/user@UID.service/`
 * the same unit names under slices are rootless containers of UID (`owner`). A container is also
 * told apart by its directory (`dir`): one made elsewhere that claims a real container's id is
 * another container, never merged into it (src/model/containers.ts). The outermost match wins:
 * what a container makes below its own cgroup is that container's.
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
const POD = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;
const pathCache = new Map<string, CgroupContainerRef | undefined>();

function parseCgroupPath(path: string): CgroupContainerRef | undefined {
  const segs = path.split('/').filter((s) => s !== '');
  // a user's delegated subtree: what is below it is that user's
  const user = /^user@(\d+)\.service$/.exec(segs[2] ?? '');
  const owner = segs[0] === 'user.slice' && user && segs[1] === `user-${user[1]}.slice` ? Number(user[1]) : undefined;
  const base = owner === undefined ? 0 : 3;
  const inKube = owner === undefined && (segs[0]?.startsWith('kubepods') ?? false);
  const pod = inKube ? segs.map((s) => POD.exec(s)?.[1]).find((x) => x) : undefined;
  // every segment from base up to i is a slice (systemd's, made by root or the user's manager)
  let underSlices = true;
  for (let i = base; i < segs.length; i++) {
    const seg = segs[i]!;
    const parent = i > 0 ? segs[i - 1] : undefined;
    let m: RegExpExecArray | null;
    const ref = (runtime: Runtime, id: string, name = short(id)): CgroupContainerRef => ({
      runtime: inKube ? 'kubernetes' : runtime,
      id,
      name,
      ...(pod ? { pod: pod.replace(/_/g, '-') } : {}),
      ...(owner !== undefined ? { owner } : {}),
      dir: `/${segs.slice(0, i + 1).join('/')}`,
      path,
    });
    if (i > base && underSlices) {
      if ((m = /^docker-([0-9a-f]{64})\.scope$/.exec(seg))) return ref('docker', m[1]!);
      if ((m = /^libpod-([0-9a-f]{64})\.scope$/.exec(seg))) return ref('podman', m[1]!);
      if ((m = /^cri-containerd-([0-9a-f]{64})\.scope$/.exec(seg))) return ref('containerd', m[1]!);
      if ((m = /^crio-([0-9a-f]{64})\.scope$/.exec(seg))) return ref('kubernetes', m[1]!);
      if ((m = /^systemd-nspawn@(.+)\.service$/.exec(seg))) return ref('systemd-nspawn', unescapeUnit(m[1]!));
      if ((m = /^machine-(.+)\.scope$/.exec(seg)) && !m[1]!.startsWith('qemu')) return ref('systemd-nspawn', unescapeUnit(m[1]!));
    }
    if (owner === undefined) {
      // cgroupfs layouts: fixed places under a top-level directory the runtime made as root
      if ((m = /^lxc\.payload\.(.+)$/.exec(seg)) && i === 0) return ref('lxc', m[1]!);
      if (i === 1) {
        if ((m = /^libpod-([0-9a-f]{64})$/.exec(seg)) && parent === 'libpod_parent') return ref('podman', m[1]!);
        if (parent === 'lxc.payload' || parent === 'lxc') return ref('lxc', seg);
        if (parent === 'hostscope') return ref('hostscope', seg);
      }
      if (HEX64.test(seg)) {
        if (i === 1 && parent === 'docker') return ref('docker', seg);
        // kubepods[/qos]/pod<uid>/<id>
        if (inKube && i <= 3 && parent !== undefined && POD.test(parent)) return ref('kubernetes', seg);
        if (i === 1 && !inKube) return ref('containerd', seg);
      }
    }
    if (!seg.endsWith('.slice')) underSlices = false;
    // nothing further down can be a runtime's (the cgroupfs places are at most 4 deep)
    if (!underSlices && i >= 3) break;
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
