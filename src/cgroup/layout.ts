import type { MountInfo } from '../parse/proc-mountinfo.js';
import type { CgroupMembership } from '../parse/proc-cgroup.js';
import { posix } from 'node:path';

export type CgroupMode = 'v1' | 'v2' | 'hybrid' | 'none';

/** One mounted cgroup hierarchy, as mountinfo shows it. */
export interface CgroupHierarchy {
  version: 1 | 2;
  /** v1: the controllers of the mount (`cpu`,`cpuacct` or `name=systemd`); v2: [] */
  controllers: string[];
  mountPoint: string;
  /** the hierarchy's directory that is mounted there (`/` unless bind-mounted from inside) */
  root: string;
}

export interface CgroupLayout {
  mode: CgroupMode;
  hierarchies: CgroupHierarchy[];
}

const V1_OPTIONS_NOT_CONTROLLERS = new Set(['rw', 'ro', 'noprefix', 'xattr', 'clone_children', 'cpuset_v2_mode', 'nosuid', 'nodev', 'noexec', 'relatime']);

/**
 * Find the cgroup hierarchies from the reader's mountinfo, never by guessing paths (cgroups(7)):
 * v1 mounts have fstype `cgroup` and name their controllers in the super options; the v2
 * hierarchy is fstype `cgroup2`. v1 only → v1, v2 only → v2, both → hybrid.
 * When a hierarchy is mounted twice, the first mount under /sys/fs/cgroup wins.
 */
export function detectCgroupLayout(mounts: MountInfo[]): CgroupLayout {
  const found: CgroupHierarchy[] = [];
  const seen = new Set<string>();
  const sorted = [...mounts].sort((a, b) => rank(a) - rank(b));
  for (const m of sorted) {
    if (m.fsType !== 'cgroup' && m.fsType !== 'cgroup2') continue;
    const version = m.fsType === 'cgroup2' ? 2 : 1;
    const controllers = version === 2 ? [] : m.superOptions.filter((o) => !V1_OPTIONS_NOT_CONTROLLERS.has(o) && !o.startsWith('release_agent=')).sort();
    const key = `${version}:${controllers.join(',')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    found.push({ version, controllers, mountPoint: m.mountPoint, root: m.root });
  }
  const hasV1 = found.some((h) => h.version === 1);
  const hasV2 = found.some((h) => h.version === 2);
  const mode: CgroupMode = hasV1 && hasV2 ? 'hybrid' : hasV1 ? 'v1' : hasV2 ? 'v2' : 'none';
  // plain code-unit order: localeCompare would load ICU collation for nothing
  found.sort((a, b) => a.version - b.version || (a.mountPoint < b.mountPoint ? -1 : a.mountPoint > b.mountPoint ? 1 : 0));
  return { mode, hierarchies: found };
}

function rank(m: MountInfo): number {
  return m.mountPoint.startsWith('/sys/fs/cgroup') ? 0 : 1;
}

/** The hierarchy a /proc/<pid>/cgroup line belongs to. */
export function hierarchyFor(layout: CgroupLayout, line: CgroupMembership): CgroupHierarchy | undefined {
  if (line.hierarchyId === 0 && line.controllers.length === 0) return layout.hierarchies.find((h) => h.version === 2);
  const want = [...line.controllers].sort().join(',');
  return layout.hierarchies.find((h) => h.version === 1 && h.controllers.join(',') === want);
}

/** The v1 hierarchy carrying a controller, if one is mounted. */
export function v1HierarchyOf(layout: CgroupLayout, controller: string): CgroupHierarchy | undefined {
  return layout.hierarchies.find((h) => h.version === 1 && h.controllers.includes(controller));
}

/**
 * The directory, relative to the sys root (`fs/cgroup/memory/docker/abc`), of a cgroup path in
 * a hierarchy. Undefined when it cannot be reached from here: a `/..` path from another cgroup
 * namespace, a path outside the mounted subtree, or a mount outside /sys.
 */
export function cgroupSysRel(h: CgroupHierarchy, cgroupPath: string): string | undefined {
  if (cgroupPath.startsWith('/..')) return undefined;
  // a cgroup path names directories under the mount: a `.` or `..` component (a hostile dump's
  // cgroup file, `--cgroup /a/../../tmp`) would walk out of it
  if (!isPlainCgroupPath(cgroupPath) || !h.mountPoint.startsWith('/sys/') || !isPlainCgroupPath(h.mountPoint)) return undefined;
  let rel: string;
  if (h.root === '/') rel = cgroupPath;
  else if (cgroupPath === h.root || cgroupPath.startsWith(`${h.root}/`)) rel = cgroupPath.slice(h.root.length) || '/';
  else return undefined;
  if (!h.mountPoint.startsWith('/sys/')) return undefined;
  const base = h.mountPoint.slice('/sys/'.length);
  const tail = rel.replace(/^\/+/, '').replace(/\/+$/, '');
  return tail === '' ? base : `${base}/${tail}`;
}

/** Absolute, and no `.`/`..` component and no NUL byte: what the kernel prints for a cgroup. */
export function isPlainCgroupPath(p: string): boolean {
  if (!p.startsWith('/') || p.includes('\0')) return false;
  return p.split('/').every((c) => c !== '.' && c !== '..');
}

/**
 * A `/sys/fs/cgroup/...` directory named on the command line, resolved lexically and required to
 * lie inside a mounted cgroup hierarchy (`/sys/../tmp/x` is /tmp/x: refused). Returns the
 * hierarchy and the directory relative to the sys root, or undefined.
 */
export function resolveCgroupDirectory(layout: CgroupLayout, spec: string): { h: CgroupHierarchy; rel: string } | undefined {
  if (!spec.startsWith('/') || spec.includes('\0')) return undefined;
  const p = posix.normalize(spec).replace(/\/+$/, '') || '/';
  for (const h of layout.hierarchies) {
    if (!h.mountPoint.startsWith('/sys/') || !isPlainCgroupPath(h.mountPoint)) continue;
    const mp = h.mountPoint.replace(/\/+$/, '');
    if (p === mp || p.startsWith(`${mp}/`)) return { h, rel: p.slice('/sys/'.length) };
  }
  return undefined;
}

/** Human name of a hierarchy: `memory`, `cpu,cpuacct`, `name=systemd`, `unified`. */
export function hierarchyName(h: CgroupHierarchy): string {
  return h.version === 2 ? 'unified' : h.controllers.join(',');
}
