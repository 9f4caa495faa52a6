/**
 * The live half of status: what /proc and the cgroup say about a container's init right now.
 * Bounded reads only; a vanished process is an answer ("stopped"), not an error.
 */
import * as fs from 'node:fs';
import { parseProcStat } from '../parse/proc-stat.js';
import type { InitProbe, SavedState } from './state.js';

function readSmall(path: string, max = 64 * 1024): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(max);
    let n = 0;
    for (;;) {
      const r = fs.readSync(fd, buf, n, max - n, null);
      if (r === 0 || n + r >= max) {
        n += r;
        break;
      }
      n += r;
    }
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** start time and state letter of a pid, or undefined if it is gone */
export function readPidStat(pid: number, procRoot = '/proc'): { startTime: number; state: string } | undefined {
  const text = readSmall(`${procRoot}/${pid}/stat`);
  if (text === undefined) return undefined;
  try {
    const st = parseProcStat(text, `${pid}/stat`);
    return { startTime: st.startTimeTicks, state: st.state };
  } catch {
    return undefined;
  }
}

/** frozen: v1 freezer.state FROZEN/FREEZING, v2 cgroup.events "frozen 1" */
export function isFrozen(cgroupPaths: Record<string, string>): boolean {
  const v1 = cgroupPaths.freezer;
  if (v1) {
    const s = readSmall(`${v1}/freezer.state`)?.trim();
    return s === 'FROZEN' || s === 'FREEZING';
  }
  const v2 = cgroupPaths[''];
  if (v2) return /^frozen 1$/m.test(readSmall(`${v2}/cgroup.events`) ?? '');
  return false;
}

export function probeInit(s: SavedState, fifoPath: string): InitProbe {
  const st = s.pid > 0 ? readPidStat(s.pid) : undefined;
  let fifoExists = false;
  try {
    fifoExists = fs.lstatSync(fifoPath).isFIFO();
  } catch {
    /* gone: started */
  }
  return { exists: st !== undefined, ...(st ? { startTime: st.startTime, stateLetter: st.state } : {}), frozen: st ? isFrozen(s.cgroupPaths) : false, fifoExists };
}
