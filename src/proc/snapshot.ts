import type { ProcSource } from '../source/source.js';
import type { ProcErrorCode } from '../source/errors.js';
import { listPids, readProcess, type ProcFile, type ReadOptions } from './process.js';
import type { ProcessInfo } from '../model/process.js';

/**
 * Every process of a host at one moment, with what could not be read counted, never fatal.
 * A value: nothing changes it or its processes once taken (views that read more make new objects).
 */
export interface Snapshot {
  readonly processes: readonly ProcessInfo[];
  /** processes that were listed but had exited before (or while) they were read */
  vanished: number;
  /** processes with at least one file denied to us */
  denied: number;
  /** pid of the reader itself when it is in this /proc (so views can leave it out) */
  selfPid: number | undefined;
  /** wall-clock time (Date.now()) when the scan ended: for display only, it can jump */
  takenAtMs: number;
  /** monotonic clock (performance.now(), ms) when the scan began and ended: rates use these */
  monoStartMs: number;
  monoEndMs: number;
}

/** The monotonic moment a snapshot stands for: the middle of its scan. */
export function snapshotMidMs(s: Pick<Snapshot, 'monoStartMs' | 'monoEndMs'>): number {
  return (s.monoStartMs + s.monoEndMs) / 2;
}

export interface SnapshotOptions extends ReadOptions {
  files: readonly ProcFile[];
  /** only these pids (e.g. `--pid`); default every pid */
  pids?: readonly number[];
}

export function takeSnapshot(src: ProcSource, opts: SnapshotOptions): Snapshot {
  const monoStartMs = performance.now();
  const pids = opts.pids ?? listPids(src);
  const processes: ProcessInfo[] = [];
  let vanished = 0;
  let denied = 0;
  for (const pid of pids) {
    const info = readProcess(src, pid, opts.files, opts);
    if (!info) {
      vanished++;
      continue;
    }
    const codes = Object.values(info.errors) as ProcErrorCode[];
    // gone between two of its files: skip it whole (a zombie is partial by nature: keep it)
    const state = info.status?.state ?? info.stat?.state;
    if (codes.includes('PROCESS_GONE') && state !== 'Z' && state !== 'X') {
      vanished++;
      continue;
    }
    if (codes.includes('PERMISSION_DENIED')) denied++;
    processes.push(info);
  }
  const selfPid = src.isLive ? process.pid : src.selfPid();
  return { processes, vanished, denied, selfPid, takenAtMs: Date.now(), monoStartMs, monoEndMs: performance.now() };
}
