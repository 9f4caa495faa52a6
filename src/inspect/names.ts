/**
 * Read what container runtimes leave on disk, for src/model/container-names.ts to name
 * containers from (no daemon is asked). Every read goes through the ProcSource: a host dump
 * replays these files from its root/ (readHostFile), bounded and confined to the dump.
 *
 *  - docker: /var/lib/docker/containers/<id>/config.v2.json
 *  - OCI bundles, at the runtimes' known places for the id (containerd v2/v1 task dirs, CRI-O and
 *    podman userdata, runc-ts state) and, for any container, the bundle its shim or monitor names
 *    (`-bundle DIR`, `--bundle DIR`, `-b DIR`) or, for a known shim/monitor, its cwd: a path any
 *    user's process can name, so its config.json counts only when owned by the monitor's uid,
 *    and is never followed through a symlink nor opened when not a regular file (stop 20 B)
 *  - nerdctl's name store: /var/lib/nerdctl/<hash>/names/<namespace>/<name> holds the id
 *
 * A file that is absent is no note; one that cannot be read (too big, not a regular file, a
 * symlink out of the dump) is a note for --debug, and the container keeps its other name.
 */
import type { ProcSource } from '../source/source.js';
import { isProcError } from '../source/errors.js';
import { READ_CAPS } from '../source/bounded.js';
import { withFiles } from '../proc/process.js';
import type { ProcessInfo } from '../model/process.js';
import type { Container } from '../model/containers.js';
import type { NameFiles } from '../model/container-names.js';

export interface NameReadResult {
  files: Map<string, NameFiles>;
  /** why a file was not used (for --debug) */
  notes: string[];
}

const HEX64 = /^[0-9a-f]{64}$/;
/** ids and names we put into a path: no slash, no dot-dot */
const SAFE_SEG = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;
/** a shim or monitor whose cwd is the bundle directory */
const MONITORS = /^(containerd-shim.*|conmon|runc|crun|runc-ts|youki|shim|.*-shim)$/;

export function readNameFiles(src: ProcSource, processes: readonly ProcessInfo[], containers: readonly Container[], opts: { utsHostnames?: ReadonlyMap<string, string> } = {}): NameReadResult {
  const notes: string[] = [];
  const files = new Map<string, NameFiles>();
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  let nerdctl: Map<string, string> | undefined;
  let cdNamespaces: string[] | undefined;

  const read = (path: string, cap: number): string | undefined => {
    try {
      return src.readHostFile(path, cap).toString('utf8');
    } catch (e) {
      if (!isProcError(e)) throw e;
      if (e.code !== 'NOT_FOUND') notes.push(e.message);
      return undefined;
    }
  };
  const firstFile = (paths: string[]): { path: string; text: string } | undefined => {
    for (const path of paths) {
      const text = read(path, READ_CAPS.runtimeConfig);
      if (text !== undefined) return { path, text };
    }
    return undefined;
  };
  /**
   * A config.json at a path the monitor chose (its `--bundle DIR`, its cwd): any user's process
   * can be a container's monitor and name any directory. Believed only when the file is owned by
   * the uid the monitor runs as (root's by a root monitor); opened without following a symlink and
   * without opening a FIFO or device even for a moment (ProcSource.readChosenHostFile). On a dump
   * no owner is kept: the capture (live) made the check.
   */
  const chosenFile = (path: string, monitorUid: number | undefined): { path: string; text: string } | undefined => {
    try {
      return { path, text: src.readChosenHostFile(path, READ_CAPS.runtimeConfig, monitorUid).toString('utf8') };
    } catch (e) {
      if (!isProcError(e)) throw e;
      if (e.code !== 'NOT_FOUND') notes.push(e.message);
      return undefined;
    }
  };

  for (const c of containers) {
    const f: NameFiles = {};
    const id = c.id !== undefined && SAFE_SEG.test(c.id) ? c.id : undefined;
    if (id !== undefined && HEX64.test(id) && (c.runtime === 'docker' || c.runtime === 'kubernetes')) {
      const d = firstFile([`/var/lib/docker/containers/${id}/config.v2.json`]);
      if (d) f.docker = d;
    }
    const monitor = monitorOf(c, byPid);
    const monitorInfo = monitor ? withFiles(src, monitor, ['cmdline']) : undefined;
    if (monitorInfo?.cmdline && monitorInfo.cmdline.length > 0) f.monitorArgs = monitorInfo.cmdline;
    const candidates: string[] = [];
    if (id !== undefined) {
      if (c.runtime === 'hostscope') candidates.push(`/run/runc-ts/${id}/state.json`);
      for (const ns of (cdNamespaces ??= containerdNamespaces(src))) candidates.push(`/run/containerd/io.containerd.runtime.v2.task/${ns}/${id}/config.json`);
      candidates.push(`/run/containerd/io.containerd.runtime.v1.linux/moby/${id}/config.json`);
      candidates.push(`/run/containers/storage/overlay-containers/${id}/userdata/config.json`);
      candidates.push(`/var/lib/containers/storage/overlay-containers/${id}/userdata/config.json`);
    }
    // the runtimes' own places (root's directories, named by the id) first; then the path the
    // monitor chose, which only counts when its owner is the monitor's
    let chosen: string | undefined;
    const bundle = monitorInfo?.cmdline ? bundleArg(monitorInfo.cmdline) ?? hostscopeMonitorDir(monitorInfo.cmdline, id) : undefined;
    if (bundle !== undefined) chosen = `${bundle.replace(/\/+$/, '')}/config.json`;
    else if (monitor && MONITORS.test(monitor.stat?.comm ?? monitor.comm ?? '')) {
      const cwd = readCwd(src, monitor.pid, notes);
      if (cwd !== undefined && cwd !== '/') chosen = `${cwd}/config.json`;
    }
    const oci = firstFile([...new Set(candidates)]) ?? (chosen !== undefined && monitor && !candidates.includes(chosen) ? chosenFile(chosen, ownerUid(src, monitor.pid)) : undefined);
    if (oci) f.oci = oci;
    if (id !== undefined && (c.runtime === 'containerd' || c.runtime === 'kubernetes')) {
      nerdctl ??= readNerdctlNames(src, notes);
      const n = nerdctl.get(id);
      if (n !== undefined) f.nerdctlName = n;
    }
    const uts = opts.utsHostnames?.get(c.key);
    if (uts !== undefined) f.utsHostname = uts;
    if (Object.keys(f).length > 0) files.set(c.key, f);
  }
  return { files, notes };
}

/** The container's shim or monitor: the first ancestor of its init that is not a member. */
export function monitorOf(c: Container, byPid: ReadonlyMap<number, ProcessInfo>): ProcessInfo | undefined {
  const members = new Set(c.pids);
  let p = byPid.get(c.initPid);
  for (let hops = 0; p && hops < 64; hops++) {
    const ppid = p.stat?.ppid ?? p.status?.ppid;
    if (ppid === undefined || ppid === 0) return undefined;
    const parent = byPid.get(ppid);
    if (!parent) return undefined;
    if (!members.has(parent.pid)) return parent.pid === 1 || parent.pid === 2 ? undefined : parent;
    p = parent;
  }
  return undefined;
}

/** `-bundle DIR`, `--bundle DIR`, `--bundle=DIR`, `-b DIR` of a shim/monitor command line (absolute only). */
export function bundleArg(argv: readonly string[]): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    let v: string | undefined;
    if (a === '-bundle' || a === '--bundle' || a === '-b') v = argv[i + 1];
    else if (a.startsWith('--bundle=')) v = a.slice(9);
    else if (a.startsWith('-bundle=')) v = a.slice(8);
    if (v !== undefined && v.startsWith('/') && !v.includes('\0')) return v;
  }
  return undefined;
}

/**
 * hostscope run's native monitor: `hostscope-monitor [-i] [-t RxC] [-k ARG]… [-x ARG]… DIR ID --
 * RUNTIME…`, DIR being the container's directory that holds its config.json (the bundle runc-ts
 * was given). Only when ID is this container's id, so another monitor's arguments name nothing.
 */
export function hostscopeMonitorDir(argv: readonly string[], id: string | undefined): string | undefined {
  if (id === undefined || !/(^|\/)hostscope-monitor$/.test(argv[0] ?? '')) return undefined;
  let i = 1;
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--') i += argv[i] === '-i' ? 1 : 2;
  const dir = argv[i];
  if (dir === undefined || argv[i + 1] !== id || argv[i + 2] !== '--') return undefined;
  return dir.startsWith('/') && !dir.includes('\0') ? dir : undefined;
}

/** the uid a process runs as (the owner of /proc/PID: its euid); undefined when gone or on a dump */
function ownerUid(src: ProcSource, pid: number): number | undefined {
  try {
    return src.procOwner(pid).uid;
  } catch (e) {
    if (!isProcError(e)) throw e;
    return undefined;
  }
}

function readCwd(src: ProcSource, pid: number, notes: string[]): string | undefined {
  try {
    const cwd = src.readProcLink(`${pid}/cwd`);
    return cwd.startsWith('/') && !cwd.endsWith(' (deleted)') ? cwd.replace(/\/+$/, '') || '/' : undefined;
  } catch (e) {
    if (!isProcError(e)) throw e;
    if (e.code !== 'NOT_FOUND' && e.code !== 'PROCESS_GONE') notes.push(e.message);
    return undefined;
  }
}

/** containerd's namespaces that have v2 task dirs (moby, k8s.io, default, …) */
function containerdNamespaces(src: ProcSource): string[] {
  return src.listHostDir('/run/containerd/io.containerd.runtime.v2.task').filter((n) => SAFE_SEG.test(n));
}

/** id → name from every nerdctl data store's names/<namespace>/<name> files. */
export function readNerdctlNames(src: ProcSource, notes: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const store of src.listHostDir('/var/lib/nerdctl').filter((n) => SAFE_SEG.test(n))) {
    for (const ns of src.listHostDir(`/var/lib/nerdctl/${store}/names`).filter((n) => SAFE_SEG.test(n))) {
      for (const name of src.listHostDir(`/var/lib/nerdctl/${store}/names/${ns}`).filter((n) => SAFE_SEG.test(n))) {
        try {
          const id = src.readHostFile(`/var/lib/nerdctl/${store}/names/${ns}/${name}`, READ_CAPS.runtimeSmall).toString('utf8').trim();
          if (SAFE_SEG.test(id) && !out.has(id)) out.set(id, name);
        } catch (e) {
          if (!isProcError(e)) throw e;
          notes.push(e.message);
        }
      }
    }
  }
  return out;
}
