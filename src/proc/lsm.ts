import type { ProcSource } from '../source/source.js';
import { isProcError } from '../source/errors.js';
import { parseLsmAttr, type LsmLabels, type LsmState } from '../parse/lsm-attr.js';

/**
 * The LSM labels of a process, read through the source (bounded like every small /proc file).
 * Never throws for a file: each answer is an LsmState. Which files exist is read from the attr
 * directory, so a kernel without AppArmor (no attr/apparmor/) is told from a process that exited.
 */
export function readLsmLabels(src: ProcSource, pid: number): LsmLabels {
  let entries: string[];
  try {
    entries = src.listProc(`${pid}/attr`);
  } catch (e) {
    if (!isProcError(e)) throw e;
    // no attr directory: gone, if the process directory went with it; else a kernel (or dump) without one
    const gone = e.code === 'PROCESS_GONE' && !pidDirExists(src, pid);
    const state: LsmState = gone ? { error: 'PROCESS_GONE' } : e.code === 'PROCESS_GONE' || e.code === 'NOT_FOUND' ? { none: 'absent' } : { error: e.code };
    return { current: state, apparmor: state };
  }
  return {
    current: entries.includes('current') ? readAttr(src, `${pid}/attr/current`) : { none: 'absent' },
    apparmor: entries.includes('apparmor') ? readAttr(src, `${pid}/attr/apparmor/current`) : { none: 'absent' },
  };
}

function pidDirExists(src: ProcSource, pid: number): boolean {
  try {
    src.listProc(String(pid));
    return true;
  } catch {
    return false;
  }
}

function readAttr(src: ProcSource, rel: string): LsmState {
  try {
    const label = parseLsmAttr(src.readProcText(rel));
    return label === '' ? { none: 'absent' } : { label };
  } catch (e) {
    if (!isProcError(e)) throw e;
    // EINVAL: no active LSM keeps this label (this is what a kernel without one answers)
    if (e.errno === 'EINVAL') return { none: 'no-lsm' };
    return { error: e.code };
  }
}
