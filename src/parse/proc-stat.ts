import { ParseError } from './errors.js';
import { exactInteger, safeInteger } from './numbers.js';

/** /proc/<pid>/stat, see proc_pid_stat(5). Times are in clock ticks (USER_HZ). */
export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  ttyNr: number;
  tpgid: number;
  flags: number;
  minflt: number;
  majflt: number;
  utimeTicks: number;
  stimeTicks: number;
  priority: number;
  nice: number;
  numThreads: number;
  startTimeTicks: number;
  vsizeBytes: number;
  rssPages: number;
  processor: number | undefined;
}

/**
 * comm sits between the first `(` and the LAST `)`: it may itself hold spaces, `)` and
 * newlines (`15393 (a:b\nc d\e\tf)(x) S …`).
 */
/** PF_KTHREAD in the flags field (include/linux/sched.h): a kernel thread. */
export const PF_KTHREAD = 0x00200000;

export function isKernelThread(st: ProcStat): boolean {
  return (st.flags & PF_KTHREAD) !== 0;
}

export function parseProcStat(text: string, path = 'stat'): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new ParseError(path, 'no (comm) field', 1, text.slice(0, 80));
  const pid = safeInteger(text.slice(0, open).trim()) ?? NaN;
  const rest = text.slice(close + 2).trimEnd().split(' ');
  // rest[0] is field 3 (state): field n is rest[n - 3]
  const f = (n: number): number => {
    const v = rest[n - 3];
    if (v === undefined) throw new ParseError(path, `missing field ${n}`, 1, text.slice(0, 80));
    // exact: 64-bit fields (flags, kstkeip, wchan) may pass 2^53 only where exactly representable
    const num = exactInteger(v);
    if (num === undefined) throw new ParseError(path, `field ${n} is not an exact integer: ${v.slice(0, 40)}`, 1);
    return num;
  };
  if (!Number.isInteger(pid) || pid < 0 || rest.length < 22) throw new ParseError(path, 'too few fields', 1, text.slice(0, 80));
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0]!,
    ppid: f(4),
    pgrp: f(5),
    session: f(6),
    ttyNr: f(7),
    tpgid: f(8),
    flags: f(9),
    minflt: f(10),
    majflt: f(12),
    utimeTicks: f(14),
    stimeTicks: f(15),
    priority: f(18),
    nice: f(19),
    numThreads: f(20),
    startTimeTicks: f(22),
    vsizeBytes: f(23),
    rssPages: f(24),
    processor: rest.length >= 37 ? f(39) : undefined,
  };
}
