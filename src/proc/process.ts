import type { ProcSource } from '../source/source.js';
import { ProcError, isProcError } from '../source/errors.js';
import { parseProcStat } from '../parse/proc-stat.js';
import { parseProcStatus, parseStatusIds } from '../parse/proc-status.js';
import { parseCmdline, parseComm, parseEnviron } from '../parse/proc-environ.js';
import { NS_ENTRIES, NS_TYPES, entryType, parseNsLink, type NsEntry, type NsType } from '../parse/ns-link.js';
import { parseProcCgroup } from '../parse/proc-cgroup.js';
import { parseMountInfo } from '../parse/proc-mountinfo.js';
import { parseIdMap, parseSetgroups } from '../parse/proc-id-map.js';
import { namespacesOf, type NsId, type ProcessInfo } from '../model/process.js';
import { parsePidName } from '../parse/numbers.js';
import { readLsmLabels } from './lsm.js';

/** The per-process files a reader can be asked for. */
export const PROC_FILES = [
  'stat',
  'status',
  'ids',
  /** the effective uid and gid alone (ProcessInfo.owner): live, one stat of /proc/<pid> */
  'owner',
  'cmdline',
  'comm',
  'environ',
  'ns',
  'cgroup',
  'mountinfo',
  'uid_map',
  'gid_map',
  'setgroups',
  /** the namespaces of threads other than the main one, where they differ (only with --threads) */
  'tasks',
  /** the LSM labels: attr/current and attr/apparmor/current (src/proc/lsm.ts) */
  'lsm',
] as const;
export type ProcFile = (typeof PROC_FILES)[number];

type Reader = (src: ProcSource, pid: number, info: ProcessInfo) => void;

const READERS: Record<Exclude<ProcFile, 'ns'>, Reader> = {
  stat: (src, pid, info) => {
    info.stat = parseProcStat(src.readProcTextBytes(`${pid}/stat`), `${pid}/stat`);
  },
  status: (src, pid, info) => {
    info.status = parseProcStatus(src.readProcText(`${pid}/status`), `${pid}/status`);
    info.ids = { uid: info.status.uid, gid: info.status.gid };
  },
  ids: (src, pid, info) => {
    info.ids = info.status ? { uid: info.status.uid, gid: info.status.gid } : parseStatusIds(src.readProcText(`${pid}/status`), `${pid}/status`);
  },
  owner: (src, pid, info) => {
    // a dump's directories keep no owner: its status says the same
    const ids = info.ids ?? (src.isLive ? undefined : parseStatusIds(src.readProcText(`${pid}/status`), `${pid}/status`));
    info.owner = ids ? { uid: ids.uid.effective, gid: ids.gid.effective } : src.procOwner(pid);
  },
  cmdline: (src, pid, info) => {
    info.cmdline = parseCmdline(src.readProc(`${pid}/cmdline`));
  },
  comm: (src, pid, info) => {
    info.comm = parseComm(src.readProc(`${pid}/comm`));
  },
  environ: (src, pid, info) => {
    info.environ = parseEnviron(src.readProc(`${pid}/environ`));
  },
  cgroup: (src, pid, info) => {
    info.cgroups = parseProcCgroup(src.readProcTextBytes(`${pid}/cgroup`), `${pid}/cgroup`);
  },
  mountinfo: (src, pid, info) => {
    // by its bytes: a mount point is a path, and `m\xff` is not `m\uFFFD`
    info.mounts = parseMountInfo(src.readProcTextBytes(`${pid}/mountinfo`), `${pid}/mountinfo`);
  },
  uid_map: (src, pid, info) => {
    info.uidMap = parseIdMap(src.readProcText(`${pid}/uid_map`), `${pid}/uid_map`);
  },
  gid_map: (src, pid, info) => {
    info.gidMap = parseIdMap(src.readProcText(`${pid}/gid_map`), `${pid}/gid_map`);
  },
  setgroups: (src, pid, info) => {
    info.setgroups = parseSetgroups(src.readProcText(`${pid}/setgroups`), `${pid}/setgroups`);
  },
  tasks: (src, pid, info) => {
    info.threads = readThreadNamespaces(src, pid, info);
  },
  lsm: (src, pid, info) => {
    info.lsm = readLsmLabels(src, pid);
  },
};

/**
 * /proc/<pid>/task/<tid>/ns/*: lsns and cinf see only the main thread's. A thread that called
 * setns() or unshare() alone is in namespaces its process is not; those threads are kept.
 */
function readThreadNamespaces(src: ProcSource, pid: number, info: ProcessInfo): { tid: number; ns: Partial<Record<NsType, NsId>> }[] {
  const dev = src.nsfsDevice();
  const own = namespacesOf(info);
  const out: { tid: number; ns: Partial<Record<NsType, NsId>> }[] = [];
  let tids: string[];
  try {
    tids = src.listProc(`${pid}/task`);
  } catch (e) {
    // a dump without task/ directories did not capture threads; live, the process is gone
    if (isProcError(e) && !src.isLive && e.errno === 'ENOENT') return [];
    throw e;
  }
  for (const name of tids) {
    const tid = parsePidName(name);
    if (tid === undefined || tid === pid) continue;
    const ns: Partial<Record<NsType, NsId>> = {};
    let differs = false;
    for (const t of NS_TYPES) {
      try {
        const link = parseNsLink(src.readProcLink(`${pid}/task/${tid}/ns/${t}`), `${pid}/task/${tid}/ns/${t}`);
        ns[t] = { type: link.type, inode: link.inode, dev };
        if (own[t] && own[t].inode !== link.inode) differs = true;
      } catch (e) {
        if (!isProcError(e)) throw e; // a thread that exits meanwhile: skip what is gone
      }
    }
    if (differs) out.push({ tid, ns });
  }
  return out;
}

export interface ReadOptions {
  /** which ns entries to read; default all ten */
  nsEntries?: readonly NsEntry[];
  /**
   * Read stat again after the other files: if its start time changed, the pid was reused by a
   * new process while we read, and what we have mixes two processes (treated as gone).
   */
  verifyIdentity?: boolean;
}

/**
 * Read the asked-for files of one process. Never throws for a file: each failure is recorded
 * in `errors` (the process may vanish between two files). Returns undefined only when the
 * process is gone before its first file could be read. The result is frozen: read more with
 * withFiles(), which returns a new object.
 */
export function readProcess(src: ProcSource, pid: number, files: readonly ProcFile[], opts: ReadOptions = {}): ProcessInfo | undefined {
  const info: ProcessInfo = { pid, errors: {} };
  const ordered = opts.verifyIdentity ? ['stat' as const, ...files.filter((f) => f !== 'stat')] : files;
  const readAny = readInto(src, info, ordered, opts);
  if (!readAny && Object.values(info.errors).every((c) => c === 'PROCESS_GONE')) return undefined;
  if (opts.verifyIdentity && info.stat) {
    try {
      const again = parseProcStat(src.readProcTextBytes(`${pid}/stat`), `${pid}/stat`);
      if (again.startTimeTicks !== info.stat.startTimeTicks) return undefined;
    } catch (e) {
      if (!isProcError(e)) throw e;
      if (e.code === 'PROCESS_GONE' && info.stat.state !== 'Z') return undefined;
    }
  }
  return sealProcess(info);
}

/**
 * Read `files` into a process object still being built (never one already handed out: those are
 * frozen; use withFiles). The native scan uses it for the files it does not read itself.
 */
export function readInto(src: ProcSource, info: ProcessInfo, files: readonly ProcFile[], opts: ReadOptions = {}): boolean {
  const pid = info.pid;
  let readAny = false;
  for (const file of files) {
    if (file === 'ns') {
      readNamespaces(src, pid, info, opts.nsEntries ?? NS_ENTRIES);
      readAny ||= info.ns !== undefined && Object.keys(info.ns).length > 0;
      continue;
    }
    try {
      READERS[file](src, pid, info);
      readAny = true;
    } catch (e) {
      if (!isProcError(e)) throw e;
      info.errors[file] = e.code;
    }
  }
  return readAny;
}

/**
 * /proc/<pid>/ns/*: readlink each entry. A type the kernel lacks (ENOENT while the process is
 * alive), a zombie's released entries (ENOENT) and `pid_for_children` before its first fork
 * (ENOENT) are all just absent; EACCES is recorded per entry.
 */
function readNamespaces(src: ProcSource, pid: number, info: ProcessInfo, entries: readonly NsEntry[] = NS_ENTRIES): void {
  const dev = src.nsfsDevice();
  const ns: Partial<Record<NsEntry, NsId>> = {};
  for (const entry of entries) {
    try {
      const link = parseNsLink(src.readProcLink(`${pid}/ns/${entry}`), `${pid}/ns/${entry}`);
      if (link.type !== entryType(entry)) throw new ProcError('PARSE', `${pid}/ns/${entry}`, `ns/${entry} points at ${link.type}`);
      ns[entry] = { type: link.type, inode: link.inode, dev };
    } catch (e) {
      if (!isProcError(e)) throw e;
      // ENOENT for one entry is normal (see above): it is "not there", not "process gone"
      info.errors[`ns/${entry}`] = e.code === 'PROCESS_GONE' && e.errno === 'ENOENT' ? 'NOT_FOUND' : e.code;
    }
  }
  if (Object.keys(ns).length === 0 && entries.every((e) => info.errors[`ns/${e}`] === 'NOT_FOUND' || info.errors[`ns/${e}`] === 'PROCESS_GONE')) {
    // not one entry left: the whole directory is gone, so is the process
    info.errors.ns = 'PROCESS_GONE';
    return;
  }
  info.ns = ns;
}

const FIELD_OF: Record<ProcFile, keyof ProcessInfo> = {
  stat: 'stat',
  status: 'status',
  ids: 'ids',
  owner: 'owner',
  cmdline: 'cmdline',
  comm: 'comm',
  environ: 'environ',
  ns: 'ns',
  cgroup: 'cgroups',
  mountinfo: 'mounts',
  uid_map: 'uidMap',
  gid_map: 'gidMap',
  setgroups: 'setgroups',
  tasks: 'threads',
  lsm: 'lsm',
};

/** Make a built process read-only: snapshots are values (a second look is a new object). */
export function sealProcess(info: ProcessInfo): ProcessInfo {
  Object.freeze(info.errors);
  return Object.freeze(info);
}

/**
 * The process with those of `files` not read (nor failed) yet read too: a new object when
 * anything was missing, the same one otherwise. The given process is never changed.
 */
export function withFiles(src: ProcSource, info: ProcessInfo, files: readonly ProcFile[]): ProcessInfo {
  const missing = files.filter((f) => info[FIELD_OF[f]] === undefined && info.errors[f] === undefined);
  if (missing.length === 0) return info;
  const copy: ProcessInfo = { ...info, errors: { ...info.errors } };
  readInto(src, copy, missing);
  return sealProcess(copy);
}

/** The process with commandOf() answerable: cmdline, and comm when the cmdline is empty (kernel threads). */
export function withCommand(src: ProcSource, info: ProcessInfo): ProcessInfo {
  const p = withFiles(src, info, ['cmdline']);
  return !p.cmdline || p.cmdline.length === 0 ? withFiles(src, p, ['comm']) : p;
}

/** withFiles, where asking for cmdline means "the command" (comm too when cmdline is empty). */
export function withRowFiles(src: ProcSource, info: ProcessInfo, files: readonly ProcFile[]): ProcessInfo {
  const p = withFiles(src, info, files);
  return files.includes('cmdline') ? withCommand(src, p) : p;
}

/**
 * The pids in /proc, numerically sorted. Only canonical names count: `04338`, `4338.0`, `4338e0`
 * (a dump's junk) would read as 4338 twice, and `0` is no process (issue 6 #18).
 */
export function listPids(src: ProcSource): number[] {
  const pids: number[] = [];
  for (const name of src.listProc()) {
    const c = name.charCodeAt(0);
    if (c < 49 || c > 57) continue;
    const n = parsePidName(name);
    if (n !== undefined) pids.push(n);
  }
  return pids.sort((a, b) => a - b);
}

