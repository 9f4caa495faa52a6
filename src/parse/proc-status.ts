import { ParseError } from './errors.js';
import { lines } from './text.js';
import { intField, safeInteger } from './numbers.js';

/**
 * The largest uid or gid the kernel prints: uid_t is 32 bits and (uid_t)-1 is INVALID_UID, never
 * an id (an id with no mapping prints as the overflow uid, 65534). `Uid: 4294967296` is a PARSE error.
 */
export const MAX_KERNEL_ID = 0xfffffffe;

/** The four ids of a `Uid:`/`Gid:` line: real, effective, saved set, filesystem. */
export interface IdQuad {
  real: number;
  effective: number;
  saved: number;
  fs: number;
}

export interface ProcStatus {
  name: string;
  umask: number | undefined;
  /** one letter, e.g. `S` */
  state: string;
  /** the kernel's words for it, e.g. `sleeping` */
  stateName: string;
  tgid: number;
  ngid: number | undefined;
  pid: number;
  ppid: number;
  tracerPid: number;
  uid: IdQuad;
  gid: IdQuad;
  fdSize: number | undefined;
  groups: number[];
  /** outermost pid namespace first */
  nsTgid: number[] | undefined;
  nsPid: number[] | undefined;
  nsPgid: number[] | undefined;
  nsSid: number[] | undefined;
  /** `Kthread:` appeared in 6.x; undefined on older kernels */
  kthread: boolean | undefined;
  /** every Vm*, Rss* and HugetlbPages line, converted from kB to bytes: `VmRSS` → vmRssBytes */
  memoryBytes: Record<string, number>;
  coreDumping: boolean | undefined;
  thpEnabled: boolean | undefined;
  threads: number;
  sigQueued: number | undefined;
  sigQueueLimit: number | undefined;
  sigPnd: bigint | undefined;
  shdPnd: bigint | undefined;
  sigBlk: bigint | undefined;
  sigIgn: bigint | undefined;
  sigCgt: bigint | undefined;
  capInh: bigint;
  capPrm: bigint;
  capEff: bigint;
  capBnd: bigint | undefined;
  capAmb: bigint | undefined;
  noNewPrivs: boolean | undefined;
  /** 0 disabled, 1 strict, 2 filter */
  seccomp: number | undefined;
  seccompFilters: number | undefined;
  cpusAllowedList: string | undefined;
  memsAllowedList: string | undefined;
  voluntaryCtxtSwitches: number | undefined;
  nonvoluntaryCtxtSwitches: number | undefined;
  /** every line, raw, keyed as the kernel names it: unknown keys are kept here (a null-prototype object) */
  fields: Record<string, string>;
}

/**
 * Undo the escaping the kernel applies to `Name:` (fs/proc/array.c proc_task_name):
 * `\n` for newline and `\\` for backslash. Other bytes, tabs included, come raw.
 */
export function unescapeStatusName(s: string): string {
  return s.replace(/\\(n|\\)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** /proc/<pid>/status, see proc_pid_status(5). Splits each line on its first `:` only. */
export function parseProcStatus(text: string, path = 'status'): ProcStatus {
  // null prototype: a `__proto__:` or `toString:` line is just a key
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  const lineOf: Record<string, number> = Object.create(null) as Record<string, number>;
  lines(text).forEach((line, i) => {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ParseError(path, 'no key', i + 1, line);
    const key = line.slice(0, colon);
    fields[key] = line.slice(colon + 1).replace(/^[\t ]+/, '');
    lineOf[key] = i + 1;
  });

  const bad = (key: string, why: string): ParseError => new ParseError(path, `${key}: ${why}`, lineOf[key], fields[key]);
  const int = (key: string): number | undefined => {
    const v = fields[key];
    if (v === undefined) return undefined;
    const n = safeInteger(v.trim());
    if (n === undefined) throw bad(key, 'not an integer');
    return n;
  };
  const required = (key: string): number => {
    const n = int(key);
    if (n === undefined) throw new ParseError(path, `no ${key} line`);
    return n;
  };
  const list = (key: string): number[] | undefined => {
    const v = fields[key];
    if (v === undefined) return undefined;
    const parts = v.split(/[\t ]+/).filter((p) => p !== '');
    const nums = parts.map(safeInteger);
    if (nums.some((n) => n === undefined)) throw bad(key, 'not a list of integers');
    return nums as number[];
  };
  const quad = (key: string): IdQuad => {
    const l = list(key);
    if (!l || l.length !== 4) throw l ? bad(key, 'expected 4 ids') : new ParseError(path, `no ${key} line`);
    if (l.some((x) => x > MAX_KERNEL_ID)) throw bad(key, `an id above ${MAX_KERNEL_ID} (uid_t is 32 bits and (uid_t)-1 is no id)`);
    return { real: l[0]!, effective: l[1]!, saved: l[2]!, fs: l[3]! };
  };
  const hex = (key: string): bigint | undefined => {
    const v = fields[key];
    if (v === undefined) return undefined;
    if (!/^[0-9a-fA-F]{1,64}$/.test(v.trim())) throw bad(key, 'not a hex mask');
    return BigInt(`0x${v.trim()}`);
  };
  const hexRequired = (key: string): bigint => {
    const v = hex(key);
    if (v === undefined) throw new ParseError(path, `no ${key} line`);
    return v;
  };
  const bool = (key: string): boolean | undefined => {
    const n = int(key);
    return n === undefined ? undefined : n !== 0;
  };

  const memoryBytes: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [key, value] of Object.entries(fields)) {
    if (!/^(Vm|Rss|HugetlbPages)/.test(key)) continue;
    const m = /^(\d{1,15})\s*kB$/.exec(value.trim());
    if (!m) throw bad(key, 'expected "<n> kB"');
    memoryBytes[`${key.charAt(0).toLowerCase()}${key.slice(1)}Bytes`.replace(/^vmRSS/, 'vmRss')] = Number(m[1]) * 1024;
  }

  const stateText = fields.State ?? '';
  const stateMatch = /^(\S)\s*(?:\((.*)\))?/.exec(stateText);
  if (!stateMatch) throw new ParseError(path, 'no State line');
  let sigQ: [number, number] | undefined;
  if (fields.SigQ !== undefined) {
    const m = /^([0-9]{1,15})\/([0-9]{1,15})$/.exec(fields.SigQ.trim());
    if (!m) throw bad('SigQ', 'expected "queued/limit"');
    sigQ = [Number(m[1]), Number(m[2])];
  }
  let umask: number | undefined;
  if (fields.Umask !== undefined) {
    if (!/^[0-7]{1,4}$/.test(fields.Umask.trim())) throw bad('Umask', 'not an octal mode');
    umask = parseInt(fields.Umask.trim(), 8);
  }

  return {
    name: unescapeStatusName(fields.Name ?? ''),
    umask,
    state: stateMatch[1]!,
    stateName: stateMatch[2] ?? '',
    tgid: required('Tgid'),
    ngid: int('Ngid'),
    pid: required('Pid'),
    ppid: required('PPid'),
    tracerPid: int('TracerPid') ?? 0,
    uid: quad('Uid'),
    gid: quad('Gid'),
    fdSize: int('FDSize'),
    groups: list('Groups') ?? [],
    nsTgid: list('NStgid'),
    nsPid: list('NSpid'),
    nsPgid: list('NSpgid'),
    nsSid: list('NSsid'),
    kthread: bool('Kthread'),
    memoryBytes,
    coreDumping: bool('CoreDumping'),
    thpEnabled: bool('THP_enabled'),
    threads: int('Threads') ?? 1,
    sigQueued: sigQ?.[0],
    sigQueueLimit: sigQ?.[1],
    sigPnd: hex('SigPnd'),
    shdPnd: hex('ShdPnd'),
    sigBlk: hex('SigBlk'),
    sigIgn: hex('SigIgn'),
    sigCgt: hex('SigCgt'),
    capInh: hexRequired('CapInh'),
    capPrm: hexRequired('CapPrm'),
    capEff: hexRequired('CapEff'),
    capBnd: hex('CapBnd'),
    capAmb: hex('CapAmb'),
    noNewPrivs: bool('NoNewPrivs'),
    seccomp: int('Seccomp'),
    seccompFilters: int('Seccomp_filters'),
    cpusAllowedList: fields.Cpus_allowed_list,
    memsAllowedList: fields.Mems_allowed_list,
    voluntaryCtxtSwitches: int('voluntary_ctxt_switches'),
    nonvoluntaryCtxtSwitches: int('nonvoluntary_ctxt_switches'),
    fields,
  };
}

/**
 * Only the Uid:/Gid: lines of /proc/<pid>/status, found without splitting the file: list views
 * that show users need nothing else, and thousands of full parses cost more than the reads.
 */
export function parseStatusIds(text: string, path = 'status'): { uid: IdQuad; gid: IdQuad } {
  const quad = (key: string): IdQuad => {
    const at = text.indexOf(`\n${key}:`);
    if (at < 0) throw new ParseError(path, `no ${key} line`);
    const end = text.indexOf('\n', at + 1);
    const f = text.slice(at + key.length + 2, end < 0 ? undefined : end).trim().split('\t');
    const n = f.map(safeInteger);
    if (n.length !== 4 || n.some((x) => x === undefined || x > MAX_KERNEL_ID)) throw new ParseError(path, `${key}: expected 4 ids`, undefined, f.join(' '));
    return { real: n[0]!, effective: n[1]!, saved: n[2]!, fs: n[3]! };
  };
  return { uid: quad('Uid'), gid: quad('Gid') };
}

/** What the exporter shows of a container's init: its effective and bounding sets, seccomp mode, no_new_privs. */
export interface StatusSecurity {
  capEff: bigint;
  capBnd: bigint | undefined;
  noNewPrivs: boolean | undefined;
  seccomp: number | undefined;
}

/**
 * Only the CapEff:, CapBnd:, NoNewPrivs: and Seccomp: lines of /proc/<pid>/status, found without
 * splitting the file (as parseStatusIds): the exporter reads a hundred inits' status every
 * scrape and needs nothing else. The same rules as parseProcStatus for those lines (CapEff
 * required; the others absent on older kernels).
 */
export function parseStatusSecurity(text: string, path = 'status'): StatusSecurity {
  const value = (key: string): string | undefined => {
    const at = text.startsWith(`${key}:`) ? -1 : text.indexOf(`\n${key}:`);
    if (at < 0 && !text.startsWith(`${key}:`)) return undefined;
    const from = at + key.length + 2;
    const end = text.indexOf('\n', from);
    return text.slice(from, end < 0 ? undefined : end).trim();
  };
  const hex = (key: string): bigint | undefined => {
    const v = value(key);
    if (v === undefined) return undefined;
    if (!/^[0-9a-fA-F]{1,64}$/.test(v)) throw new ParseError(path, `${key}: not a hex mask`, undefined, v);
    return BigInt(`0x${v}`);
  };
  const int = (key: string): number | undefined => {
    const v = value(key);
    if (v === undefined) return undefined;
    const n = safeInteger(v);
    if (n === undefined) throw new ParseError(path, `${key}: not an integer`, undefined, v);
    return n;
  };
  const capEff = hex('CapEff');
  if (capEff === undefined) throw new ParseError(path, 'no CapEff line');
  const nnp = int('NoNewPrivs');
  return { capEff, capBnd: hex('CapBnd'), noNewPrivs: nnp === undefined ? undefined : nnp !== 0, seccomp: int('Seccomp') };
}

export const SECCOMP_MODES = ['disabled', 'strict', 'filter'] as const;

export function seccompModeName(mode: number | undefined): string {
  if (mode === undefined) return 'unsupported';
  return SECCOMP_MODES[mode] ?? `mode ${mode}`;
}

/**
 * Largest CPU or memory-node number a range list may name: the kernel's NR_CPUS is at most 8192
 * (x86 MAXSMP) and MAX_NUMNODES 1024; 65535 leaves room and keeps the expansion small.
 */
export const RANGE_LIST_MAX_ID = 65535;

/**
 * A Cpus_allowed_list / Mems_allowed_list range list, `0-3,8,10-11` → [0,1,2,3,8,10,11]. Bounded:
 * an id above RANGE_LIST_MAX_ID or a range whose end is below its start is a ParseError.
 */
export function parseRangeList(text: string, path = 'list'): number[] {
  const out: number[] = [];
  const t = text.trim();
  if (t === '') return out;
  for (const part of t.split(',')) {
    const m = /^(\d{1,6})(?:-(\d{1,6}))?$/.exec(part);
    if (!m) throw new ParseError(path, `bad range ${JSON.stringify(part.slice(0, 40))}`);
    const a = intField(m[1]!, path, 'range start', { max: RANGE_LIST_MAX_ID });
    const b = m[2] === undefined ? a : intField(m[2], path, 'range end', { max: RANGE_LIST_MAX_ID });
    if (b < a) throw new ParseError(path, `bad range ${JSON.stringify(part)}: end below start`);
    if (out.length + (b - a + 1) > RANGE_LIST_MAX_ID + 1) throw new ParseError(path, 'range list names more ids than there can be');
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}
