/**
 * What a read of /proc/<pid> found, as plain data, and the small helpers the model, the renderers
 * and the TUI use on it. No I/O here: src/proc/process.ts fills these in.
 */
import type { ProcErrorCode } from '../source/errors.js';
import type { LsmLabels } from '../parse/lsm-attr.js';
import type { ProcStat } from '../parse/proc-stat.js';
import type { IdQuad, ProcStatus } from '../parse/proc-status.js';
import type { EnvEntry } from '../parse/proc-environ.js';
import { NS_TYPES, type NsEntry, type NsType } from '../parse/ns-link.js';
import type { CgroupMembership } from '../parse/proc-cgroup.js';
import type { MountInfo } from '../parse/proc-mountinfo.js';
import type { IdMapRange } from '../parse/proc-id-map.js';

/** A namespace's identity: (device of nsfs, inode). */
export interface NsId {
  type: NsType;
  inode: number;
  dev: number;
}

export function nsKey(ns: { type: NsType; inode: number; dev: number }): string {
  return `${ns.type}:${ns.dev}:${ns.inode}`;
}

/** What one read of /proc/<pid> found. A field is absent when it was not asked for or failed. */
export interface ProcessInfo {
  pid: number;
  stat?: ProcStat;
  status?: ProcStatus;
  /** Uid/Gid of status alone (file 'ids'); also set when the whole status is read */
  ids?: { uid: IdQuad; gid: IdQuad };
  /**
   * The effective uid and gid alone (file 'owner'): live, the owner of the /proc/<pid> directory,
   * which the kernel makes the process's effective ids, dumpable or not (as lsns reads them); in a
   * dump, from status
   */
  owner?: { uid: number; gid: number };
  cmdline?: string[];
  comm?: string;
  environ?: EnvEntry[];
  /** keyed by entry name (`pid_for_children` kept apart from `pid`) */
  ns?: Partial<Record<NsEntry, NsId>>;
  cgroups?: CgroupMembership[];
  mounts?: MountInfo[];
  uidMap?: IdMapRange[];
  gidMap?: IdMapRange[];
  setgroups?: 'allow' | 'deny';
  /** threads whose namespaces differ from the process's (setns/unshare in one thread) */
  threads?: { tid: number; ns: Partial<Record<NsType, NsId>> }[];
  /** the LSM labels (attr/current, attr/apparmor/current), when read */
  lsm?: LsmLabels;
  /** why a file (or one ns entry: `ns/net`) is missing */
  errors: Partial<Record<string, ProcErrorCode>>;
}

/** The effective uid, from whichever of ids, status and owner was read. */
export function effectiveUid(p: ProcessInfo): number | undefined {
  return p.ids?.uid.effective ?? p.status?.uid.effective ?? p.owner?.uid;
}

/** The namespaces (not the *_for_children entries) of a process, by type. */
export function namespacesOf(p: ProcessInfo): Partial<Record<NsType, NsId>> {
  const out: Partial<Record<NsType, NsId>> = {};
  if (!p.ns) return out;
  for (const t of NS_TYPES) {
    const id = p.ns[t];
    if (id) out[t] = id;
  }
  return out;
}

/** The command line as lsns shows it: argv joined by spaces, or `[comm]`-less comm for kernel threads. */
export function commandOf(p: ProcessInfo): string {
  if (p.cmdline && p.cmdline.length > 0) return p.cmdline.join(' ');
  return p.comm ?? p.stat?.comm ?? p.status?.name ?? '';
}

/** Did the process die between reads (one of its files says gone)? */
export function vanished(p: ProcessInfo): boolean {
  return Object.values(p.errors).includes('PROCESS_GONE');
}
