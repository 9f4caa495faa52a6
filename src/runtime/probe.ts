/**
 * The live half of status: what /proc and the cgroup say about a container's init right now,
 * read through the one door (ProcSource). A vanished process is an answer ("stopped"), not an error.
 */
import { parseProcStat } from '../parse/proc-stat.js';
import type { ProcSource } from '../source/source.js';
import type { InitProbe, SavedState } from './state.js';

function tryRead(f: () => string): string | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** start time and state letter of a pid, or undefined if it is gone */
export function readPidStat(src: ProcSource, pid: number): { startTime: number; state: string } | undefined {
  const text = tryRead(() => src.readProcText(`${pid}/stat`));
  if (text === undefined) return undefined;
  try {
    const st = parseProcStat(text, `${pid}/stat`);
    return { startTime: st.startTimeTicks, state: st.state };
  } catch {
    return undefined;
  }
}

/** a cgroup directory under /sys as ProcSource's sys-relative path */
function sysRel(dir: string): string | undefined {
  return dir.startsWith('/sys/') ? dir.slice('/sys/'.length) : undefined;
}

/** frozen: v1 freezer.state FROZEN/FREEZING, v2 cgroup.events "frozen 1" */
export function isFrozen(src: ProcSource, cgroupPaths: Record<string, string>): boolean {
  const v1 = cgroupPaths.freezer && sysRel(cgroupPaths.freezer);
  if (v1) {
    const s = tryRead(() => src.readSysText(`${v1}/freezer.state`))?.trim();
    return s === 'FROZEN' || s === 'FREEZING';
  }
  const v2 = cgroupPaths[''] && sysRel(cgroupPaths['']);
  if (v2) return /^frozen 1$/m.test(tryRead(() => src.readSysText(`${v2}/cgroup.events`)) ?? '');
  return false;
}

export function probeInit(src: ProcSource, s: SavedState, fifoExists: boolean): InitProbe {
  const st = s.pid > 0 ? readPidStat(src, s.pid) : undefined;
  return { exists: st !== undefined, ...(st ? { startTime: st.startTime, stateLetter: st.state } : {}), frozen: st ? isFrozen(src, s.cgroupPaths) : false, fifoExists };
}
