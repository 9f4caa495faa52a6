/**
 * What nsenter-ts reads of its target, through the source (so it runs on a host dump too, and is
 * tested on fixtures/hosts/*): which container a `--container` names and its init, which
 * namespaces `-a` enters, the files to open for each namespace, root and cwd, the target's
 * environment, the owner for `-S follow`, and the cgroup.procs files to join. Opening the files
 * (live only) is the caller's, through `src.kernel`.
 */
import type { ProcSource } from '../source/source.js';
import { isProcError } from '../source/errors.js';
import { parseNsLink, type NsType } from '../parse/ns-link.js';
import { parseProcCgroup } from '../parse/proc-cgroup.js';
import { parseStatusIds } from '../parse/proc-status.js';
import { cgroupSysRel, hierarchyFor } from '../cgroup/layout.js';
import { inspectHost, readCgroupLayout } from '../inspect/host.js';
import { withUtsNames } from '../inspect/uts.js';
import { findContainer, lookupMessage } from '../model/container-lookup.js';
import { strerror } from '../util/strerror.js';
import { NSENTER_ORDER } from './plan.js';

/** A one-line failure of nsenter-ts (exit 1): the message is util-linux nsenter's where it has one. */
export class TargetError extends Error {}

export interface TargetRequest {
  pid?: number;
  /** --container NAME|ID|ID-PREFIX|MEMBER-PID|CGROUP-PATH */
  container?: string;
  all: boolean;
  /** namespaces asked for one by one, with the file given (`-n/run/netns/x`) or undefined (the target's) */
  ns: ReadonlyMap<NsType, string | undefined>;
  userParent: boolean;
  root?: string | true;
  wd?: string | true;
  /** -e */
  env: boolean;
  /** -S / -G: an id (parsed with parseId when the option is read, as util-linux does) or `follow` */
  setuid?: number | 'follow';
  setgid?: number | 'follow';
  /** -c: join the target's cgroups, every one or fail */
  joinCgroup: boolean;
}

/** a file to open: under the proc root (the target's), or where the user named it */
export type FileRef = { proc: string } | { path: string };

export interface TargetPlan {
  pid: number | undefined;
  /** the namespaces to enter, in nsenter's table order */
  namespaces: { type: NsType; file: FileRef }[];
  root?: FileRef;
  wd?: FileRef;
}

export interface TargetExtras {
  /** -e: the target's environment */
  envp?: string[];
  /** -S / -G resolved (`follow` → the owner of /proc/PID); the user-namespace default is the caller's */
  uid?: number;
  gid?: number;
  /** cgroup.procs files to write our pid into, relative to the sys root (-c, and -a beyond nsenter) */
  cgroupProcs: string[];
}

function errnoText(e: unknown): string {
  return isProcError(e) ? strerror(e.errno) : (e as Error).message;
}

/**
 * --container: the init pid of the one container the host model finds under that name, the
 * containers named as cinf, ctop and the exporter name them (withUtsNames: an unnamed sandbox by
 * the hostname of its uts namespace).
 */
export async function resolveContainerPid(src: ProcSource, query: string): Promise<number> {
  const host = await withUtsNames(src, inspectHost(src, { containers: true, excludeSelf: true }));
  const r = findContainer(host.containers, query);
  if (!r.ok) throw new TargetError(lookupMessage(r));
  return r.container.initPid;
}

/** The request with its --container resolved to that container's init pid (resolveTarget then plans it). */
export async function resolveContainerRequest(src: ProcSource, req: TargetRequest): Promise<TargetRequest> {
  if (req.container === undefined) return req;
  if (req.pid !== undefined) throw new TargetError('--target and --container are mutually exclusive');
  const { container, ...rest } = req;
  return { ...rest, pid: await resolveContainerPid(src, container) };
}

/** `ns:[inode]` of a namespace entry, or the error that reading it gave */
function nsInode(src: ProcSource, rel: string): number {
  return parseNsLink(src.readProcLink(rel), rel).inode;
}

export function resolveTarget(src: ProcSource, req: TargetRequest): TargetPlan {
  if (req.container !== undefined && req.pid !== undefined) throw new TargetError('--target and --container are mutually exclusive');
  if (req.container !== undefined) throw new TargetError('--container is resolved first (resolveContainerRequest)');
  const pid = req.pid;
  const procPath = (rel: string): string => `${src.procRoot}/${rel}`;
  const ns = new Map(req.ns);

  // -a: every namespace of the target the kernel has, skipping those we already share with it
  // (nsenter skips only the user namespace, where setns fails with EINVAL); the mount namespace
  // is entered even when shared, since entering it also sets root and cwd, as nsenter users expect
  if (req.all) {
    if (pid === undefined) throw new TargetError('no target PID specified for --all');
    for (const t of NSENTER_ORDER) {
      if (ns.has(t)) continue;
      let mine: number;
      try {
        mine = nsInode(src, `self/ns/${t}`);
      } catch (e) {
        if (isProcError(e)) continue; // the kernel lacks this type
        throw e;
      }
      let theirs: number | undefined;
      try {
        theirs = nsInode(src, `${pid}/ns/${t}`);
      } catch (e) {
        if (!isProcError(e)) throw e;
        // the reason, as the kernel gave it: EACCES as nobody, ENOENT for a pid that is gone
        if (t === 'user') throw new TargetError(`stat of ${procPath(`${pid}/ns/user`)} failed: ${errnoText(e)}`);
      }
      if (mine === theirs && t !== 'mnt') continue;
      ns.set(t, undefined); // opening it says what is wrong, if anything
    }
  }
  if (req.userParent && !ns.has('user')) ns.set('user', undefined);
  // no namespace at all is not an error: util-linux nsenter (2.38.1) then enters nothing and runs
  // the program ($SHELL or /bin/sh) with only what -r/-w/-S/-G ask, exit 0

  const namespaces: TargetPlan['namespaces'] = [];
  for (const t of NSENTER_ORDER) {
    if (!ns.has(t)) continue;
    const file = ns.get(t);
    if (file === undefined && pid === undefined) throw new TargetError(`neither filename nor target pid supplied for ns/${t}`);
    namespaces.push({ type: t, file: file !== undefined ? { path: file } : { proc: `${pid}/ns/${t}` } });
  }
  const targetFile = (what: string): FileRef => {
    if (pid === undefined) throw new TargetError(`neither filename nor target pid supplied for ${what}`);
    return { proc: `${pid}/${what}` };
  };
  const plan: TargetPlan = { pid, namespaces };
  if (req.root !== undefined) plan.root = req.root === true ? targetFile('root') : { path: req.root };
  if (req.wd !== undefined) plan.wd = req.wd === true ? targetFile('cwd') : { path: req.wd };
  return plan;
}

/**
 * What is read of the target after its files are opened (so errors come in nsenter's order):
 * the environment (-e), the owner for -S/-G follow, the cgroups to join (-c, -a).
 */
export function readTargetExtras(src: ProcSource, pid: number | undefined, req: TargetRequest): TargetExtras {
  const plan: TargetExtras = { cgroupProcs: [] };
  if (req.env) {
    if (pid === undefined) throw new TargetError('neither filename nor target pid supplied for environ');
    plan.envp = readEnviron(src, pid);
  }
  if (req.setuid !== undefined || req.setgid !== undefined) {
    const owner = req.setuid === 'follow' || req.setgid === 'follow' ? ownerOf(src, pid) : undefined;
    if (req.setuid !== undefined) plan.uid = req.setuid === 'follow' ? owner!.uid : req.setuid;
    if (req.setgid !== undefined) plan.gid = req.setgid === 'follow' ? owner!.gid : req.setgid;
  }
  if (req.joinCgroup || req.all) plan.cgroupProcs = cgroupProcsOf(src, pid, req.joinCgroup);
  return plan;
}

/**
 * the target's environment, entry by entry, byte for byte (decodeBytes: a byte that is not UTF-8
 * is kept as a lone surrogate, which the native runner hands on as that byte: nsenter --env copies
 * the bytes)
 */
function readEnviron(src: ProcSource, pid: number): string[] {
  try {
    return src.readProcTextBytes(`${pid}/environ`).split('\0').filter((e) => e !== '');
  } catch (e) {
    if (!isProcError(e)) throw e;
    throw new TargetError(`cannot open ${src.procRoot}/${pid}/environ: ${errnoText(e)}`);
  }
}

/**
 * -S follow / -G follow: the owner of /proc/PID, as nsenter stat()s it (the effective ids of a
 * dumpable process). A dump has no live inode to stat: the effective ids of its status instead.
 */
function ownerOf(src: ProcSource, pid: number | undefined): { uid: number; gid: number } {
  if (pid === undefined) throw new TargetError('neither filename nor target pid supplied for follow');
  try {
    if (src.isLive) return src.kernel.procOwner(String(pid));
    const ids = parseStatusIds(src.readProcText(`${pid}/status`), `${pid}/status`);
    return { uid: ids.uid.effective, gid: ids.gid.effective };
  } catch (e) {
    if (!isProcError(e)) throw e;
    throw new TargetError(`stat of ${src.procRoot}/${pid} failed: ${errnoText(e)}`);
  }
}

/**
 * The cgroup.procs files of the target's cgroups, for every hierarchy mounted here (v2, v1 and
 * hybrid: nsenter -c is v2-only and takes the path after the last ':' of the first line). A
 * hierarchy where we already share the target's cgroup is skipped. `strict` (-c): a cgroup that
 * cannot be reached is an error; for -a it is skipped.
 */
export function cgroupProcsOf(src: ProcSource, pid: number | undefined, strict: boolean): string[] {
  if (pid === undefined) throw new TargetError('no target PID specified for --join-cgroup');
  let theirs, mine;
  try {
    theirs = parseProcCgroup(src.readProcTextBytes(`${pid}/cgroup`), `${pid}/cgroup`);
    mine = parseProcCgroup(src.readProcTextBytes('self/cgroup'), 'self/cgroup');
  } catch (e) {
    if (!isProcError(e)) throw e;
    throw new TargetError(e.code === 'PARSE' ? e.message : `cannot read ${src.procRoot}/${pid}/cgroup: ${errnoText(e)}`);
  }
  const layout = readCgroupLayout(src);
  const out: string[] = [];
  for (const line of theirs) {
    const same = mine.find((m) => m.hierarchyId === line.hierarchyId && m.controllers.join(',') === line.controllers.join(','));
    if (same && same.path === line.path) continue;
    const h = hierarchyFor(layout, line);
    const rel = h ? cgroupSysRel(h, line.path) : undefined;
    if (!h || rel === undefined) {
      if (strict) throw new TargetError(`cgroup ${line.path} (${line.controllers.join(',') || 'unified'}) of pid ${pid} is not reachable from here`);
      continue;
    }
    out.push(`${rel}/cgroup.procs`);
  }
  return out;
}
