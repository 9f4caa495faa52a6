/**
 * The container's init as a step list (pure: validated spec + paths + host facts → steps), in
 * runc's order (libcontainer/nsenter/nsexec.c, rootfs_linux.go, standard_init_linux.go,
 * setns_init_linux.go), reimplemented for the native step runner:
 *
 *   non-dumpable · rlimits · oom_score_adj                      (still in the host's user ns)
 *   join namespaces by path (two passes, user namespace between)
 *   unshare(CLONE_NEWUSER) alone · wait for the parent          (cgroup joined, setgroups, uid/gid maps)
 *   setresuid/setresgid(0) in it · unshare the other namespaces · fork into the pid ns · setsid
 *   / rslave (or rootfsPropagation) · bind the rootfs onto itself · open it (register ROOT)
 *   mounts, each destination resolved inside the rootfs (securejoin) and mounted onto an fd opened
 *     with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) from ROOT: a symlink swapped in after the
 *     plan was made fails the open instead of redirecting the mount
 *   default devices (mknod, or bind-mounted from the host in a user namespace; never chowned on
 *     the host) · /dev symlinks · /dev/ptmx → pts/ptmx
 *   pause for createRuntime/prestart hooks, then createContainer hooks
 *   pivot_root(".", ".") as runc does (or MS_MOVE + chroot with --no-pivot) · root propagation
 *   console (pty, sent over --console-socket) · /dev ro · root ro · umask
 *   hostname, domainname, sysctls · read-only paths · masked paths
 *   no_new_privs · seccomp here if no_new_privs is off (it needs CAP_SYS_ADMIN)
 *   chdir(cwd) · bounding set · keepcaps · setgroups · setgid · setuid · keepcaps off · capset · ambient
 *   READY (runc create returns) · block on the exec fifo · startContainer pause · close fds
 *   seccomp here if no_new_privs is on (as late as possible) · exec
 *
 * Errors name the config.json field: `config.json: process.capabilities.bounding[1]: CAP_SYS_RESOURCE is not in the host's bounding set`.
 */
import { NS_CLONE_FLAG } from '../parse/ns-link.js';
import { parseMountInfo, type MountInfo } from '../parse/proc-mountinfo.js';
import { SpecError, CAP_BITS, MOUNT_FLAG_OPTIONS, PROPAGATION_OPTIONS, MS, RLIMITS, cleanPath, type Spec, type Mount, type NamespaceType, type Process, type IdMapping } from './spec.js';
import { secureJoin, SecureJoinError, type NodeKind, type PathView } from './securejoin.js';
import { MAX_STEPS } from '../native/steps.js';
import { O, PR, RESOLVE, MNT_DETACH, S_IFCHR, S_IFBLK, S_IFIFO, type PlanStep, type FdRef } from './plan-steps.js';

export const NS_FLAG: Record<NamespaceType, number> = {
  pid: NS_CLONE_FLAG.pid,
  network: NS_CLONE_FLAG.net,
  mount: NS_CLONE_FLAG.mnt,
  ipc: NS_CLONE_FLAG.ipc,
  uts: NS_CLONE_FLAG.uts,
  user: NS_CLONE_FLAG.user,
  cgroup: NS_CLONE_FLAG.cgroup,
  time: NS_CLONE_FLAG.time,
};

/** runc's join order for namespaces given by path (nsexec.c): user is entered between the two passes */
export const JOIN_ORDER: readonly NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'mount', 'cgroup', 'time'];

/** runc's default devices (libcontainer/specconv AllowedDevices / configs.DefaultDevices) */
export const DEFAULT_DEVICES: readonly { path: string; major: number; minor: number }[] = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/tty', major: 5, minor: 0 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/urandom', major: 1, minor: 9 },
];

/** runc's /dev symlinks (setupDevSymlinks); /dev/core → /proc/kcore only if the host has /proc/kcore */
export const DEV_SYMLINKS: readonly [string, string][] = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
];

/** registers (the native runner has 64) */
export const REG = { ROOT: 0, OLDROOT: 1, A: 2, B: 3, CONSOLE: 4, PTY_MASTER: 5, PTY_SLAVE: 6, FIFO: 7, NS0: 8 } as const;

/** how /sys/fs/cgroup (a `cgroup` mount) is built: a cgroup2 mount, or v1's tmpfs of per-hierarchy binds of the container's own cgroups */
export type CgroupMountPlan = { mode: 'v2' } | { mode: 'v1'; hierarchies: { dir: string; source: string }[] };

export interface HostFacts {
  /** /proc/sys/kernel/cap_last_cap */
  lastCap: number;
  /** the bounding set the init starts with (the runtime's own CapBnd) */
  bounding: bigint;
  /** /proc/kcore exists (runc then adds /dev/core) */
  hasKcore: boolean;
  cgroup: CgroupMountPlan;
  /**
   * The mount the rootfs lives on, as the runtime's /proc/self/mountinfo shows it: its mount point
   * and whether it is shared. pivot_root(2) refuses a new root whose parent mount is shared, so
   * when the root propagation leaves it shared it is made private first (runc's
   * rootfsParentMountPrivate). Absent: not known (no such step).
   */
  rootfsParent?: { mountPoint: string; shared: boolean; unbindable?: boolean };
}

/** the mount `rootfs` lives on (the last, topmost, of the longest mount point above it) and whether it is shared */
export function rootfsParentMount(mountinfo: string, rootfs: string): { mountPoint: string; shared: boolean; unbindable: boolean } | undefined {
  let best: MountInfo | undefined;
  for (const m of parseMountInfo(mountinfo)) {
    const mp = m.mountPoint;
    const above = mp === '/' || rootfs === mp || rootfs.startsWith(`${mp}/`);
    if (above && (!best || mp.length >= best.mountPoint.length)) best = m;
  }
  return best && { mountPoint: best.mountPoint, shared: best.propagation.some((p) => p.kind === 'shared'), unbindable: best.propagation.some((p) => p.kind === 'unbindable') };
}

/**
 * Must the rootfs's parent mount be made private before the rootfs bind, once `mount("", "/", rp)`
 * has been applied? When it is shared (pivot_root refuses it: runc's rootfsParentMountPrivate) or
 * unbindable (the rbind of the rootfs fails with EINVAL — runc 1.1 fails so; rootfsPropagation
 * "unbindable" is then applied to the new root after pivot_root).
 */
export function rootfsParentNeedsPrivate(rp: number, parent: { mountPoint: string; shared: boolean; unbindable?: boolean }): boolean {
  if (parent.mountPoint === '/' || rp & MS.REC) return (rp & (MS.SHARED | MS.UNBINDABLE)) !== 0;
  return parent.shared || parent.unbindable === true;
}

/** fds the orchestrator opened (O_PATH) and the child inherits across fork; reopened through /proc/self/fd/N */
export interface PauseFds {
  /** the child opens `reached` for writing: the parent's read open returns, so it knows the child is there */
  reached: number;
  /** then `go` for writing: it blocks until the parent, its hooks done, opens `go` for reading */
  go: number;
}

export interface InitInput {
  spec: Spec;
  /** absolute, checked not to be a symlink */
  rootfs: string;
  bundle: string;
  /** the host's filesystem for plan-time resolution (fsPathView(fs) in production) */
  view: PathView;
  host: HostFacts;
  noPivot?: boolean;
  /** --console-socket (a host path, connected before pivot_root), or an fd the init inherits (run's own socket pair) */
  consoleSocket?: string | { fd: number };
  /** O_PATH fd of <state dir>/exec.fifo: the init blocks writing it until `start` reads */
  execFifoFd?: number;
  /** one pair per hook point that has hooks: createRuntime (with prestart), createContainer, startContainer */
  hookPauses?: Partial<Record<'createRuntime' | 'createContainer' | 'startContainer', PauseFds>>;
  /** the seccomp program compiled from spec.linux.seccomp (src/runtime/seccomp/) */
  seccomp?: { program: Uint8Array; flags: number };
  /** the runtime is not root in its user namespace: setgroups must be denied before gid_map */
  rootless?: boolean;
  /** fds 3..3+N-1 are kept open for the program (--preserve-fds) */
  preserveFds?: number;
}

/** the parent's part while the child waits (native ParentWork without the cgroup files, which the cgroup manager knows) */
export interface ParentPlan {
  joinCgroup: true;
  setgroups?: 'deny';
  uidMap?: { inside: number; outside: number; count: number }[];
  gidMap?: { inside: number; outside: number; count: number }[];
}

export interface InitPlan {
  steps: PlanStep[];
  parent: ParentPlan;
  /** pauses in the order the child reaches them (each a PauseFds pair or the exec fifo) */
  pauses: ('createRuntime' | 'createContainer' | 'ready' | 'execFifo' | 'startContainer')[];
  warnings: string[];
}

export class PlanError extends SpecError {}

// ---------------------------------------------------------------------------------------------

/** mount options → flags, data, propagation (runc's parseMountOptions) */
export function parseMountOptions(options: readonly string[]): { flags: number; clear: number; propagation: number[]; data: string[] } {
  let flags = 0;
  let clear = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  for (const o of options) {
    const f = MOUNT_FLAG_OPTIONS[o];
    if (f) {
      if (f.clear) {
        flags &= ~f.flag;
        clear |= f.flag;
      } else flags |= f.flag;
      continue;
    }
    const p = PROPAGATION_OPTIONS[o];
    if (p !== undefined) {
      propagation.push(p);
      continue;
    }
    data.push(o);
  }
  return { flags, clear, propagation, data };
}

export function isBindMount(m: Mount): boolean {
  return m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind');
}

/** capability names → mask, each checked against the host */
function capMask(names: string[], set: string, host: HostFacts): bigint {
  let mask = 0n;
  names.forEach((n, i) => {
    const bit = CAP_BITS.get(n)!;
    const path = `process.capabilities.${set}[${i}]`;
    if (bit > host.lastCap) throw new PlanError(path, `${n} is not known to this kernel (cap_last_cap ${host.lastCap})`);
    if (!((host.bounding >> BigInt(bit)) & 1n)) throw new PlanError(path, `${n} is not in the host's bounding set`);
    mask |= 1n << BigInt(bit);
  });
  return mask;
}

/**
 * A view of the rootfs as it will be at mount time: the host's files, except below earlier mount
 * destinations (a fresh tmpfs/proc/sysfs: empty but for what the plan creates; a bind: its
 * source's files), plus what the plan itself created.
 */
class PlanView implements PathView {
  private covers: { at: string; source: string | null }[] = [];
  private made = new Map<string, NodeKind>();
  constructor(private readonly host: PathView) {}
  cover(at: string, source: string | null): void {
    this.covers.push({ at, source });
    for (const k of [...this.made.keys()]) if (k === at || k.startsWith(`${at}/`)) this.made.delete(k);
  }
  make(path: string, kind: NodeKind): void {
    this.made.set(path, kind);
  }
  private map(path: string): { fresh: boolean; p: string; at: string } {
    for (let i = this.covers.length - 1; i >= 0; i--) {
      const c = this.covers[i]!;
      if (path === c.at || path.startsWith(`${c.at}/`)) {
        if (c.source === null) return { fresh: true, p: path, at: c.at };
        return { fresh: false, p: c.source + path.slice(c.at.length), at: c.at };
      }
    }
    return { fresh: false, p: path, at: '' };
  }
  lstat(path: string): NodeKind {
    const m = this.made.get(path);
    if (m) return m;
    const { fresh, p, at } = this.map(path);
    if (fresh) return path === at ? 'dir' : 'missing';
    return this.host.lstat(p);
  }
  readlink(path: string): string {
    return this.host.readlink(this.map(path).p);
  }
}

function resolveIn(rootfs: string, dest: string, view: PathView, field: string): string {
  try {
    return secureJoin(rootfs, dest, view);
  } catch (e) {
    if (e instanceof SecureJoinError) throw new PlanError(field, `${JSON.stringify(dest)}: ${e.message}`);
    throw e;
  }
}

const rel = (rootfs: string, p: string) => (p === rootfs ? '.' : p.slice(rootfs.length + 1));

export function buildInitPlan(inp: InitInput): InitPlan {
  const { spec, rootfs, host } = inp;
  const proc = spec.process;
  if (!proc) throw new PlanError('process', 'required to create a container');
  const steps: PlanStep[] = [];
  const warnings: string[] = [];
  const pauses: InitPlan['pauses'] = [];
  const add = (s: PlanStep): number => steps.push(s) - 1;
  const ns = spec.linux.namespaces;
  const nsNew = (t: NamespaceType) => ns.some((n) => n.type === t && n.path === undefined);
  const nsJoin = ns.filter((n) => n.path !== undefined);
  const userNew = nsNew('user');
  const inUserns = ns.some((n) => n.type === 'user');

  if (!ns.some((n) => n.type === 'mount')) throw new PlanError('linux.namespaces', 'runc-ts needs a mount namespace for the rootfs');
  // a mount namespace joined by path: the rootfs is set up in it, as runc does (its other members see the mounts and the pivot)
  const rootKind = inp.view.lstat(rootfs);
  if (rootKind !== 'dir') throw new PlanError('root.path', `${JSON.stringify(rootfs)} is ${rootKind === 'symlink' ? 'a symlink' : rootKind === 'missing' ? 'missing' : 'not a directory'}`);

  // capabilities first: an error here should come before anything runs
  const caps = proc.capabilities ?? { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
  const capSets = {
    bounding: capMask(caps.bounding, 'bounding', host),
    effective: capMask(caps.effective, 'effective', host),
    inheritable: capMask(caps.inheritable, 'inheritable', host),
    permitted: capMask(caps.permitted, 'permitted', host),
    ambient: capMask(caps.ambient, 'ambient', host),
  };
  // only what is both permitted and inheritable can be ambient (capabilities(7)); the rest is left
  // out without a word, as runc 1.1 does (gocapability ignores each failed PR_CAP_AMBIENT_RAISE;
  // runc 1.3 warns `can't raise ambient capability …`). runc's own default spec asks for three.
  const ambient = capSets.ambient & capSets.permitted & capSets.inheritable;
  if (spec.linux.seccomp && !inp.seccomp) throw new PlanError('linux.seccomp', 'no compiled program given to the plan');

  // ---- still in the host's user namespace
  add({ op: 'prctl', option: PR.SET_DUMPABLE, arg: 0, label: 'prctl(PR_SET_DUMPABLE, 0)' });
  for (const r of proc.rlimits) add({ op: 'setrlimit', resource: RLIMITS[r.type], soft: r.soft, hard: r.hard, label: `setrlimit(${r.type})` });
  if (proc.oomScoreAdj !== undefined) add({ op: 'writeFile', path: '/proc/self/oom_score_adj', data: String(proc.oomScoreAdj), label: 'write(oom_score_adj)' });

  // ---- namespaces given by path: open all first, then non-user (errors ignored), user, retry
  const regOf = new Map<NamespaceType, number>();
  nsJoin.forEach((n, i) => {
    const reg = REG.NS0 + i;
    regOf.set(n.type, reg);
    // O_NONBLOCK: a FIFO swapped in after launch's check opens at once (and setns refuses it) instead of blocking the init
    add({ op: 'open', path: n.path!, flags: O.RDONLY | O.NONBLOCK, reg, label: `open(${n.path})` });
  });
  const joinOrder = JOIN_ORDER.filter((t) => regOf.has(t));
  const firstTry = new Map<NamespaceType, number>();
  for (const t of joinOrder) if (t !== 'user') firstTry.set(t, add({ op: 'setns', fd: { reg: regOf.get(t)! }, nstype: NS_FLAG[t], ignoreError: true, label: `setns(${t})` }));
  for (const t of joinOrder) {
    const tried = firstTry.get(t);
    add({ op: 'setns', fd: { reg: regOf.get(t)! }, nstype: NS_FLAG[t], label: `setns(${t})`, ...(tried !== undefined ? { when: { step: tried, ok: false } } : {}) });
  }
  for (const t of joinOrder) add({ op: 'close', fd: { reg: regOf.get(t)! }, label: `close(${t})` });

  // ---- a new user namespace alone, then the parent: cgroup, setgroups, maps
  const parent: ParentPlan = { joinCgroup: true };
  if (userNew) {
    // /proc/PID/uid_map of a non-dumpable process belongs to root: runc turns dumpable on around the mapping
    add({ op: 'prctl', option: PR.SET_DUMPABLE, arg: 1, label: 'prctl(PR_SET_DUMPABLE, 1)' });
    add({ op: 'unshare', flags: NS_FLAG.user, label: 'unshare(user)' });
    if (inp.rootless) parent.setgroups = 'deny';
    parent.uidMap = spec.linux.uidMappings.map(toMap);
    parent.gidMap = spec.linux.gidMappings.map(toMap);
  }
  add({ op: 'waitParent', label: userNew ? 'wait for parent (cgroup, uid/gid maps)' : 'wait for parent (cgroup)' });
  if (userNew) {
    add({ op: 'prctl', option: PR.SET_DUMPABLE, arg: 0, label: 'prctl(PR_SET_DUMPABLE, 0)' });
    const rootMapped = (m: IdMapping[]) => m.some((x) => x.containerID === 0);
    if (rootMapped(spec.linux.uidMappings) && rootMapped(spec.linux.gidMappings)) {
      add({ op: 'setresgid', rgid: 0, egid: 0, sgid: 0, label: 'setresgid(0)' });
      add({ op: 'setresuid', ruid: 0, euid: 0, suid: 0, label: 'setresuid(0)' });
    }
  }
  // every other new namespace in one call; the cgroup namespace after the cgroup join (done above)
  let rest = 0;
  const restNames: string[] = [];
  for (const t of ['mount', 'uts', 'ipc', 'network', 'pid', 'cgroup', 'time'] as const)
    if (nsNew(t)) {
      rest |= NS_FLAG[t];
      restNames.push(t);
    }
  if (rest) add({ op: 'unshare', flags: rest, label: `unshare(${restNames.join(',')})` });
  // a pid namespace (new or joined) applies to children: fork the init into it (CLONE_PARENT)
  if (ns.some((n) => n.type === 'pid')) add({ op: 'fork', label: 'fork (init)' });
  add({ op: 'setsid' });
  if (typeof inp.consoleSocket === 'string') add({ op: 'connect', path: inp.consoleSocket, reg: REG.CONSOLE, label: 'connect(console socket)' });

  // ---- rootfs (prepareRoot)
  const rp = spec.linux.rootfsPropagation ? PROPAGATION_OPTIONS[spec.linux.rootfsPropagation]! : MS.SLAVE | MS.REC;
  add({ op: 'mount', source: null, target: '/', fstype: null, flags: rp, data: null, label: `mount(/, ${spec.linux.rootfsPropagation || 'rslave'})` });
  const parentMount = inp.host.rootfsParent;
  if (!inp.noPivot && parentMount && rootfsParentNeedsPrivate(rp, parentMount))
    add({ op: 'mount', source: null, target: parentMount.mountPoint, fstype: null, flags: MS.PRIVATE, data: null, label: `mount(${parentMount.mountPoint}, private): the rootfs's parent mount, shared or unbindable, would fail pivot_root or the bind` });
  add({ op: 'mount', source: rootfs, target: rootfs, fstype: null, flags: MS.BIND | MS.REC, data: null, label: 'mount(rootfs, rootfs, rbind)' });
  add({ op: 'open', path: rootfs, flags: O.PATH | O.DIRECTORY, reg: REG.ROOT, label: 'open(rootfs)' });

  const view = new PlanView(inp.view);
  const deferredRo: string[] = [];
  const mountAt = (field: string, m: Mount, dest: string) => {
    const bind = isBindMount(m);
    const o = parseMountOptions(m.options);
    const r = rel(rootfs, dest);
    const openDest = (label: string) =>
      add({ op: 'open', path: r, flags: O.PATH, reg: REG.A, dirfd: { reg: REG.ROOT }, resolve: RESOLVE.BENEATH | RESOLVE.NO_SYMLINKS, label });
    const clean = cleanPath(m.destination);
    openDest(`open(${clean})`);
    if (bind) {
      add({ op: 'mount', source: m.source!, target: { fd: { reg: REG.A } }, fstype: null, flags: MS.BIND | (o.flags & MS.REC), data: null, label: `mount(${clean}, bind)` });
    } else {
      let flags = o.flags;
      // /dev stays writable until the devices are made (runc: finalizeRootfs remounts it)
      if (clean === '/dev' && flags & MS.RDONLY) {
        flags &= ~MS.RDONLY;
        deferredRo.push(r);
      }
      add({ op: 'mount', source: m.source ?? m.type ?? 'none', target: { fd: { reg: REG.A } }, fstype: m.type ?? null, flags, data: o.data.length ? o.data.join(',') : null, label: `mount(${clean}, ${m.type})` });
    }
    add({ op: 'close', fd: { reg: REG.A } });
    const remount = bind && o.flags & ~(MS.BIND | MS.REC);
    if (remount || o.propagation.length) {
      // the fd must be opened again: the one above is the directory under the new mount
      openDest(`open(${clean}) again`);
      if (remount) add({ op: 'mount', source: null, target: { fd: { reg: REG.A } }, fstype: null, flags: (o.flags & ~MS.REC) | MS.BIND | MS.REMOUNT, data: null, label: `remount(${clean})` });
      for (const p of o.propagation) add({ op: 'mount', source: null, target: { fd: { reg: REG.A } }, fstype: null, flags: p, data: null, label: `mount(${clean}, propagation)` });
      add({ op: 'close', fd: { reg: REG.A } });
    }
    void field;
  };
  const makeDir = (dest: string) => {
    if (view.lstat(dest) === 'dir') return;
    add({ op: 'mkdir', path: dest, mode: 0o755, parents: true, label: `mkdir(${dest.slice(rootfs.length) || '/'})` });
    for (let p = dest; p.length > rootfs.length; p = p.slice(0, p.lastIndexOf('/'))) if (view.lstat(p) === 'missing') view.make(p, 'dir');
  };
  const makeFile = (dest: string) => {
    const k = view.lstat(dest);
    if (k === 'file' || k === 'other') return;
    makeDir(dest.slice(0, dest.lastIndexOf('/')));
    add({ op: 'open', path: dest, flags: O.CREAT | O.WRONLY | O.NOFOLLOW, mode: 0o644, reg: REG.B, label: `create(${dest.slice(rootfs.length)})` });
    add({ op: 'close', fd: { reg: REG.B } });
    view.make(dest, 'file');
  };

  spec.mounts.forEach((m, i) => {
    const field = `mounts[${i}].destination`;
    const dest = resolveIn(rootfs, m.destination, view, field);
    const clean = cleanPath(m.destination);
    // proc and sysfs only on a real directory at their own path (runc: "must be mounted on ordinary directory")
    if ((m.type === 'proc' || m.type === 'sysfs') && dest !== rootfs + clean) throw new PlanError(field, `${m.type} must be mounted on an ordinary directory, and ${JSON.stringify(m.destination)} goes through a symlink`);
    if (m.type === 'cgroup') {
      mountCgroup(m, dest);
      return;
    }
    const bind = isBindMount(m);
    if (bind) {
      let source = m.source!;
      if (!source.startsWith('/')) source = cleanPath(`${inp.bundle}/${source}`);
      const real = resolveIn('/', source, inp.view, `mounts[${i}].source`);
      const k = inp.view.lstat(real);
      if (k === 'missing') throw new PlanError(`mounts[${i}].source`, `${JSON.stringify(source)} does not exist`);
      if (k === 'dir') makeDir(dest);
      else makeFile(dest);
      mountAt(field, { ...m, source }, dest);
      view.cover(dest, real);
    } else {
      makeDir(dest);
      mountAt(field, m, dest);
      view.cover(dest, null);
    }
  });

  function mountCgroup(m: Mount, dest: string) {
    const o = parseMountOptions(m.options);
    const clean = cleanPath(m.destination);
    makeDir(dest);
    if (host.cgroup.mode === 'v2') {
      mountAt('', { destination: m.destination, type: 'cgroup2', source: 'cgroup2', options: m.options }, dest);
      view.cover(dest, null);
      return;
    }
    // v1: a tmpfs, then each hierarchy's own cgroup of the container bound in, read-only as asked
    mountAt('', { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=755'] }, dest);
    view.cover(dest, null);
    for (const h of host.cgroup.hierarchies) {
      const sub = `${dest}/${h.dir}`;
      makeDir(sub);
      const opts = ['rbind', ...m.options.filter((x) => MOUNT_FLAG_OPTIONS[x] && x !== 'bind' && x !== 'rbind')];
      mountAt('', { destination: `${clean}/${h.dir}`, type: 'bind', source: h.source, options: opts }, sub);
      view.cover(sub, h.source);
    }
    if (o.flags & MS.RDONLY) deferredRo.push(rel(rootfs, dest));
  }

  // ---- devices: unless /dev is a bind mount (runc's needsSetupDev)
  const devBind = spec.mounts.some((m) => cleanPath(m.destination) === '/dev' && isBindMount(m));
  if (!devBind) {
    const devices = [
      ...DEFAULT_DEVICES.map((d) => ({ type: 'c' as const, path: d.path, major: d.major, minor: d.minor, fileMode: 0o666, uid: 0, gid: 0 })),
      ...spec.linux.devices,
    ].filter((d, i, all) => all.findIndex((x) => x.path === d.path) === i);
    spec.linux.devices.forEach((d, i) => {
      if (DEFAULT_DEVICES.some((x) => x.path === d.path)) warnings.push(`linux.devices[${i}]: ${d.path} is one of the default devices; the default is kept`);
    });
    // the umask must not trim a device's fileMode (runc's createDevices sets it to 0 too); the
    // process's own umask is set later (finalizeRootfs)
    if (!inUserns) add({ op: 'umask', mask: 0, label: 'umask(0) for the device nodes' });
    devices.forEach((d) => {
      const dest = resolveIn(rootfs, d.path, view, 'linux.devices');
      if (inUserns) {
        // mknod is refused in a user namespace: bind the host's node onto an empty file (never chown it)
        makeFile(dest);
        add({ op: 'open', path: rel(rootfs, dest), flags: O.PATH, reg: REG.A, dirfd: { reg: REG.ROOT }, resolve: RESOLVE.BENEATH | RESOLVE.NO_SYMLINKS, label: `open(${d.path})` });
        add({ op: 'mount', source: d.path, target: { fd: { reg: REG.A } }, fstype: null, flags: MS.BIND, data: null, label: `mount(${d.path}, bind)` });
        add({ op: 'close', fd: { reg: REG.A } });
      } else {
        // a node the image already has is kept, as runc ignores EEXIST
        if (view.lstat(dest) !== 'missing') return;
        makeDir(dest.slice(0, dest.lastIndexOf('/')));
        const type = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
        add({ op: 'mknod', path: dest, mode: type | (d.fileMode ?? 0o666), major: d.major, minor: d.minor, label: `mknod(${d.path})` });
        // inside the container's /dev (a tmpfs of its own): the node was just made, so this is never a host file
        add({ op: 'chown', path: dest, uid: d.uid ?? 0, gid: d.gid ?? 0, noFollow: true, label: `chown(${d.path})` });
        view.make(dest, 'other');
      }
    });
    const links = [...DEV_SYMLINKS, ...(host.hasKcore ? [['/proc/kcore', '/dev/core'] as [string, string]] : [])];
    for (const [target, link] of links) add({ op: 'symlink', target, path: `${rootfs}${link}`, ignoreError: true, label: `symlink(${link})` });
    // /dev/ptmx → pts/ptmx: the container's own devpts instance (runc setupPtmx)
    add({ op: 'symlink', target: 'pts/ptmx', path: `${rootfs}/dev/ptmx`, label: 'symlink(/dev/ptmx)' });
  }

  // ---- hooks before pivot: prestart + createRuntime (host), createContainer (container mount ns)
  const pause = (name: 'createRuntime' | 'createContainer' | 'startContainer') => {
    const p = inp.hookPauses?.[name];
    if (!p) return;
    pauses.push(name);
    // `reached` gets a byte: the parent reads it O_NONBLOCK and never blocks on an init that died
    add({ op: 'open', path: `/proc/self/fd/${p.reached}`, flags: O.WRONLY, reg: REG.B, label: `open(${name} reached)` });
    add({ op: 'writeFd', fd: { reg: REG.B }, data: '1', label: `write(${name} reached)` });
    add({ op: 'close', fd: { reg: REG.B } });
    // a blocking open for writing: returns once the parent, its hooks done, opens `go` for reading
    add({ op: 'open', path: `/proc/self/fd/${p.go}`, flags: O.WRONLY, reg: REG.B, label: `open(${name} go)` });
    add({ op: 'close', fd: { reg: REG.B } });
  };
  const hooks = spec.hooks;
  if ((hooks.prestart?.length || hooks.createRuntime?.length) && !inp.hookPauses?.createRuntime) throw new PlanError('hooks.createRuntime', 'hooks given but no pause for them');
  if (hooks.createContainer?.length && !inp.hookPauses?.createContainer) throw new PlanError('hooks.createContainer', 'hooks given but no pause for them');
  // startContainer: a pause of its own, or the exec fifo (start runs them while the init is parked on it)
  if (hooks.startContainer?.length && !inp.hookPauses?.startContainer && inp.execFifoFd === undefined) throw new PlanError('hooks.startContainer', 'hooks given but no pause for them');
  pause('createRuntime');
  pause('createContainer');

  // ---- pivot_root(".", ".") (runc pivotRoot), or MS_MOVE + chroot
  if (inp.noPivot) {
    add({ op: 'fchdir', fd: { reg: REG.ROOT }, label: 'fchdir(rootfs)' });
    add({ op: 'mount', source: rootfs, target: '/', fstype: null, flags: MS.MOVE, data: null, label: 'mount(rootfs, /, MS_MOVE)' });
    add({ op: 'chroot', path: '.' });
    add({ op: 'chdir', path: '/' });
  } else {
    add({ op: 'open', path: '/', flags: O.PATH | O.DIRECTORY, reg: REG.OLDROOT, label: 'open(old root)' });
    add({ op: 'fchdir', fd: { reg: REG.ROOT }, label: 'fchdir(rootfs)' });
    add({ op: 'pivotRoot', newRoot: '.', putOld: '.' });
    add({ op: 'fchdir', fd: { reg: REG.OLDROOT }, label: 'fchdir(old root)' });
    // the old root must not propagate its unmount to the host
    add({ op: 'mount', source: null, target: '.', fstype: null, flags: MS.SLAVE | MS.REC, data: null, label: 'mount(old root, rslave)' });
    add({ op: 'umount2', target: '.', flags: MNT_DETACH, label: 'umount2(old root, MNT_DETACH)' });
    add({ op: 'chdir', path: '/' });
    add({ op: 'close', fd: { reg: REG.OLDROOT } });
  }
  add({ op: 'close', fd: { reg: REG.ROOT } });
  if (spec.linux.rootfsPropagation) add({ op: 'mount', source: null, target: '/', fstype: null, flags: rp, data: null, label: `mount(/, ${spec.linux.rootfsPropagation})` });

  // the working directory, made if missing (resolved inside the root)
  const cwdHost = resolveIn(rootfs, proc.cwd, view, 'process.cwd');
  const cwd = cwdHost === rootfs ? '/' : cwdHost.slice(rootfs.length);
  if (view.lstat(cwdHost) === 'missing') add({ op: 'mkdir', path: cwd, mode: 0o755, parents: true, label: `mkdir(${cwd})` });

  // ---- console: a pty from the container's devpts, its master sent over the socket
  if (proc.terminal) {
    if (inp.consoleSocket === undefined) throw new PlanError('process.terminal', 'true needs --console-socket');
    add({ op: 'openPty', master: REG.PTY_MASTER, slave: REG.PTY_SLAVE, ptmx: '/dev/ptmx', ...ptySize(proc) });
    add({ op: 'open', path: '/dev/console', flags: O.CREAT | O.WRONLY | O.NOFOLLOW, mode: 0o600, reg: REG.B, label: 'create(/dev/console)' });
    add({ op: 'close', fd: { reg: REG.B } });
    add({ op: 'mount', source: { fd: { reg: REG.PTY_SLAVE } }, target: '/dev/console', fstype: null, flags: MS.BIND, data: null, label: 'mount(/dev/console, bind)' });
    addConsole(steps, proc, consoleSocketRef(inp.consoleSocket));
  }
  if (typeof inp.consoleSocket === 'string') add({ op: 'close', fd: { reg: REG.CONSOLE } });

  // ---- finalizeRootfs: deferred read-only mounts, the root read-only, umask
  for (const r of deferredRo) add({ op: 'mount', source: null, target: `/${r}`, fstype: null, flags: MS.REMOUNT | MS.BIND | MS.RDONLY, data: null, label: `remount(/${r}, ro)` });
  if (spec.root.readonly) add({ op: 'mount', source: null, target: '/', fstype: null, flags: MS.BIND | MS.REMOUNT | MS.RDONLY, data: null, label: 'remount(/, ro)' });
  add({ op: 'umask', mask: proc.user.umask ?? 0o022 });

  // ---- hostname, domainname, sysctls
  if (spec.hostname) add({ op: 'sethostname', name: spec.hostname });
  if (spec.domainname) add({ op: 'setdomainname', name: spec.domainname });
  for (const [k, v] of Object.entries(spec.linux.sysctl)) add({ op: 'writeFile', path: `/proc/sys/${k.replace(/\./g, '/')}`, data: v, label: `sysctl(${k})` });

  // ---- read-only paths: bind onto itself, remount read-only keeping the covering mount's locked flags; absent ones skipped
  const lockedFlags = (p: string): number => {
    let best: Mount | undefined;
    for (const m of spec.mounts) {
      const d = cleanPath(m.destination);
      if ((p === d || p.startsWith(`${d}/`)) && (!best || d.length > cleanPath(best.destination).length)) best = m;
    }
    return best ? parseMountOptions(best.options).flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC) : 0;
  };
  for (const p of spec.linux.readonlyPaths) {
    const o = add({ op: 'open', path: p, flags: O.PATH, reg: REG.A, ignoreError: true, label: `open(${p})` });
    const when = { step: o, ok: true };
    add({ op: 'mount', source: { fd: { reg: REG.A } }, target: { fd: { reg: REG.A } }, fstype: null, flags: MS.BIND | MS.REC, data: null, when, label: `mount(${p}, bind)` });
    add({ op: 'close', fd: { reg: REG.A }, when });
    add({ op: 'open', path: p, flags: O.PATH, reg: REG.A, when, label: `open(${p}) again` });
    add({ op: 'mount', source: null, target: { fd: { reg: REG.A } }, fstype: null, flags: MS.BIND | MS.REMOUNT | MS.RDONLY | lockedFlags(cleanPath(p)), data: null, when, label: `remount(${p}, ro)` });
    add({ op: 'close', fd: { reg: REG.A }, when });
  }
  // ---- masked paths: a read-only tmpfs over a directory, /dev/null over anything else; absent ones skipped
  for (const p of spec.linux.maskedPaths) {
    const d = add({ op: 'open', path: p, flags: O.PATH | O.DIRECTORY, reg: REG.A, ignoreError: true, label: `open(${p}, dir)` });
    add({ op: 'mount', source: 'tmpfs', target: { fd: { reg: REG.A } }, fstype: 'tmpfs', flags: MS.RDONLY, data: null, when: { step: d, ok: true }, label: `mount(${p}, tmpfs ro)` });
    add({ op: 'close', fd: { reg: REG.A }, when: { step: d, ok: true } });
    const f = add({ op: 'open', path: p, flags: O.PATH, reg: REG.A, ignoreError: true, when: { step: d, ok: false }, label: `open(${p})` });
    add({ op: 'mount', source: '/dev/null', target: { fd: { reg: REG.A } }, fstype: null, flags: MS.BIND, data: null, when: { step: f, ok: true }, label: `mount(${p}, /dev/null)` });
    add({ op: 'close', fd: { reg: REG.A }, when: { step: f, ok: true } });
  }

  // ---- security: no_new_privs, early seccomp, user and capabilities (finalizeNamespace)
  if (proc.noNewPrivileges) add({ op: 'prctl', option: PR.SET_NO_NEW_PRIVS, arg: 1, label: 'prctl(PR_SET_NO_NEW_PRIVS)' });
  if (inp.seccomp && !proc.noNewPrivileges) add({ op: 'seccomp', program: inp.seccomp.program, flags: inp.seccomp.flags, label: 'seccomp (before dropping CAP_SYS_ADMIN)' });
  add({ op: 'chdir', path: proc.cwd, label: `chdir(${proc.cwd})` });
  addUserAndCaps(steps, proc, capSets, ambient, { setgroupsDenied: userNew && !!inp.rootless });
  // runc's exec.LookPath as the process's user, before create returns: a command that cannot be run is create's error
  add(lookPathStep(proc));

  // ---- parked until start: READY, then block writing the exec fifo
  if (inp.execFifoFd !== undefined) {
    add({ op: 'ready' });
    pauses.push('ready');
    add({ op: 'open', path: `/proc/self/fd/${inp.execFifoFd}`, flags: O.WRONLY, reg: REG.FIFO, label: 'open(exec.fifo)' });
    pauses.push('execFifo');
    add({ op: 'writeFd', fd: { reg: REG.FIFO }, data: '0', label: 'write(exec.fifo)' });
    add({ op: 'close', fd: { reg: REG.FIFO } });
  }
  pause('startContainer');
  // CVE-2024-21626: no fd of ours (a host directory, the fifo) may reach the program
  add({ op: 'closeRange', first: 3 + (inp.preserveFds ?? 0), last: 0xffffffff, cloexec: true });
  if (inp.seccomp && proc.noNewPrivileges) add({ op: 'seccomp', program: inp.seccomp.program, flags: inp.seccomp.flags, label: 'seccomp' });
  add(execStep(proc));
  // the runner's limit, said as a config error (validateSpec's caps keep a config under it; this
  // catches a sum of them past it). The plan is built after the cgroup and the state directory are
  // made: launch's cleanup removes them, as for any failure of the run
  if (steps.length > MAX_STEPS) throw new PlanError('mounts', `the container needs ${steps.length} setup steps (mounts, masked and read-only paths, devices); the native runner takes at most ${MAX_STEPS}`);
  return { steps, parent, pauses, warnings };
}

/** the socket the master goes over: a connected register (a path given) or an inherited fd (a socket pair) */
function consoleSocketRef(c: string | { fd: number }): FdRef {
  return typeof c === 'string' ? { reg: REG.CONSOLE } : c.fd;
}

function ptySize(proc: Process): { rows?: number; cols?: number } {
  const c = proc.consoleSize;
  return c && c.height > 0 && c.width > 0 ? { rows: c.height, cols: c.width } : {};
}

/**
 * The pty's slave becomes stdio and the controlling terminal, owned by the process's user (runc
 * fixStdioPermissions: a non-root process must be able to reopen its own /dev/pts/N), and the
 * master goes over the console socket with the message "/dev/ptmx" (runc's SendRawFd(pty.Name())).
 */
function addConsole(steps: PlanStep[], proc: Process, socket: FdRef): void {
  for (const fd of [0, 1, 2]) steps.push({ op: 'dup2', from: { reg: REG.PTY_SLAVE }, to: fd });
  steps.push({ op: 'tiocsctty', fd: 0 });
  if (proc.user.uid !== 0 || proc.user.gid !== 0) steps.push({ op: 'chown', path: '/proc/self/fd/0', uid: proc.user.uid, gid: proc.user.gid, label: 'chown(console)' });
  steps.push({ op: 'sendFd', socket, fd: { reg: REG.PTY_MASTER }, label: 'sendmsg(console socket)' });
  steps.push({ op: 'close', fd: { reg: REG.PTY_MASTER } });
  steps.push({ op: 'close', fd: { reg: REG.PTY_SLAVE } });
}

function toMap(m: IdMapping) {
  return { inside: m.containerID, outside: m.hostID, count: m.size };
}

function execStep(proc: Process): PlanStep {
  const file = proc.args[0]!;
  // the file the lookPath step before it found, not a second search of PATH (a file that appeared
  // in an earlier PATH directory between create and start would otherwise run instead)
  return { op: 'exec', file, argv: proc.args, envp: proc.env, search: !file.includes('/'), looked: true };
}

function lookPathStep(proc: Process): PlanStep {
  const file = proc.args[0]!;
  return { op: 'lookPath', file, envp: proc.env, search: !file.includes('/'), label: 'lookpath' };
}

/**
 * A failed lookPath step as runc (Go's exec.LookPath) says it, the text docker maps to its
 * statuses: `exec: "nosuchcmd": executable file not found in $PATH` (127),
 * `exec: "/x": stat /x: no such file or directory` (127), `exec: "/etc": permission denied` (126).
 */
export function lookPathMessage(file: string, code: string, errText: string): string {
  const q = JSON.stringify(file);
  if (!file.includes('/') && code === 'ENOENT') return `exec: ${q}: executable file not found in $PATH`;
  const text = errText.charAt(0).toLowerCase() + errText.slice(1);
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'ENAMETOOLONG') return `exec: ${q}: stat ${file}: ${text}`;
  return `exec: ${q}: ${text}`;
}

/** runc's finalizeNamespace order: bounding set, keepcaps, groups, gid, uid, keepcaps off, capset, ambient */
function addUserAndCaps(
  steps: PlanStep[],
  proc: Process,
  caps: { bounding: bigint; effective: bigint; inheritable: bigint; permitted: bigint },
  ambient: bigint,
  o: { setgroupsDenied: boolean },
): void {
  const u = proc.user;
  steps.push({ op: 'boundingSet', keep: caps.bounding, label: 'drop bounding set' });
  steps.push({ op: 'prctl', option: PR.SET_KEEPCAPS, arg: 1, label: 'prctl(PR_SET_KEEPCAPS, 1)' });
  if (o.setgroupsDenied) {
    if (u.additionalGids.length) throw new PlanError('process.user.additionalGids', 'cannot be set: setgroups is denied in a rootless user namespace');
  } else steps.push({ op: 'setgroups', gids: u.additionalGids });
  steps.push({ op: 'setresgid', rgid: u.gid, egid: u.gid, sgid: u.gid, label: `setgid(${u.gid})` });
  steps.push({ op: 'setresuid', ruid: u.uid, euid: u.uid, suid: u.uid, label: `setuid(${u.uid})` });
  steps.push({ op: 'prctl', option: PR.SET_KEEPCAPS, arg: 0, label: 'prctl(PR_SET_KEEPCAPS, 0)' });
  steps.push({ op: 'capset', effective: caps.effective, permitted: caps.permitted, inheritable: caps.inheritable });
  if (ambient) steps.push({ op: 'ambientRaise', mask: ambient, label: 'prctl(PR_CAP_AMBIENT_RAISE)' });
}

// ---------------------------------------------------------------------------------------------
// runc exec

export interface ExecInput {
  /** the process to run: config.json's process with the exec command line's overrides */
  process: Process;
  /** the container's namespaces (types from its config) */
  namespaces: NamespaceType[];
  /** pidfd of the container's init, opened after checking its start time (no pid reuse) */
  initPidfd: number;
  host: HostFacts;
  consoleSocket?: string | { fd: number };
  seccomp?: { program: Uint8Array; flags: number };
  preserveFds?: number;
  /** the container's user namespace was made rootless (setgroups denied) */
  setgroupsDenied?: boolean;
}

/**
 * `runc exec` (setnsProcess + linuxSetnsInit): non-dumpable from the start (CVE-2019-5736: the
 * joining process is a fork of Node, whose /proc/PID/exe is the host's node binary), rlimits,
 * the cgroup joined by the parent before entering, every namespace of the init at once through
 * its pidfd, fork into the pid namespace, session, console, no_new_privs, seccomp, cwd,
 * user and capabilities, close fds, exec. No mounts, no pivot, no hooks.
 */
export function buildExecPlan(inp: ExecInput): { steps: PlanStep[]; parent: ParentPlan; warnings: string[] } {
  const proc = inp.process;
  const steps: PlanStep[] = [];
  const warnings: string[] = [];
  const add = (s: PlanStep): number => steps.push(s) - 1;
  const caps = proc.capabilities ?? { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
  const capSets = {
    bounding: capMask(caps.bounding, 'bounding', inp.host),
    effective: capMask(caps.effective, 'effective', inp.host),
    inheritable: capMask(caps.inheritable, 'inheritable', inp.host),
    permitted: capMask(caps.permitted, 'permitted', inp.host),
  };
  const ambientAsked = capMask(caps.ambient, 'ambient', inp.host);
  // as in buildInitPlan: the rest is left out silently, as runc 1.1 does
  const ambient = ambientAsked & capSets.permitted & capSets.inheritable;
  if (proc.terminal && inp.consoleSocket === undefined) throw new PlanError('process.terminal', 'true needs --console-socket');

  add({ op: 'prctl', option: PR.SET_DUMPABLE, arg: 0, label: 'prctl(PR_SET_DUMPABLE, 0)' });
  for (const r of proc.rlimits) add({ op: 'setrlimit', resource: RLIMITS[r.type], soft: r.soft, hard: r.hard, label: `setrlimit(${r.type})` });
  if (typeof inp.consoleSocket === 'string') add({ op: 'connect', path: inp.consoleSocket, reg: REG.CONSOLE, label: 'connect(console socket)' });
  add({ op: 'waitParent', label: 'wait for parent (cgroup)' });
  let mask = 0;
  for (const t of inp.namespaces) mask |= NS_FLAG[t];
  if (mask) add({ op: 'setnsPidfd', pidfd: inp.initPidfd, mask, label: `setns(${inp.namespaces.join(',')})` });
  if (inp.namespaces.includes('pid')) add({ op: 'fork', label: 'fork (into the pid namespace)' });
  add({ op: 'setsid' });
  if (proc.terminal) {
    add({ op: 'openPty', master: REG.PTY_MASTER, slave: REG.PTY_SLAVE, ptmx: '/dev/ptmx', ...ptySize(proc) });
    addConsole(steps, proc, consoleSocketRef(inp.consoleSocket!));
  }
  if (typeof inp.consoleSocket === 'string') add({ op: 'close', fd: { reg: REG.CONSOLE } });
  if (proc.noNewPrivileges) add({ op: 'prctl', option: PR.SET_NO_NEW_PRIVS, arg: 1, label: 'prctl(PR_SET_NO_NEW_PRIVS)' });
  if (inp.seccomp && !proc.noNewPrivileges) add({ op: 'seccomp', program: inp.seccomp.program, flags: inp.seccomp.flags, label: 'seccomp (before dropping CAP_SYS_ADMIN)' });
  add({ op: 'chdir', path: proc.cwd, label: `chdir(${proc.cwd})` });
  addUserAndCaps(steps, proc, capSets, ambient, { setgroupsDenied: !!inp.setgroupsDenied });
  add(lookPathStep(proc));
  add({ op: 'closeRange', first: 3 + (inp.preserveFds ?? 0), last: 0xffffffff, cloexec: true });
  if (inp.seccomp && proc.noNewPrivileges) add({ op: 'seccomp', program: inp.seccomp.program, flags: inp.seccomp.flags, label: 'seccomp' });
  add(execStep(proc));
  return { steps, parent: { joinCgroup: true }, warnings };
}
