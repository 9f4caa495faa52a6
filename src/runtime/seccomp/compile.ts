import { Assembler, BPF, BPF_MAXINSNS, SECCOMP_DATA, encodeProgram, type Label } from './bpf.js';
import { SYSCALLS_AARCH64, SYSCALLS_X86_64 } from './syscalls.js';

/**
 * OCI `linux.seccomp` → a classic BPF program for seccomp(SECCOMP_SET_MODE_FILTER), compiled in
 * TypeScript (no libseccomp). What it means, rule by rule, is what runc gives libseccomp:
 *
 * - the arch is checked first (`seccomp_data.arch`); x86_64 also refuses the x32 ABI (syscall
 *   numbers with bit 0x40000000), as libseccomp does when x32 is not in the filter; an arch not
 *   in the filter gets the bad-arch action (kill the process);
 * - a rule whose action equals the default action is dropped (runc does so);
 * - a rule with two conditions on the same argument is split into one rule per condition (runc's
 *   "revert to old behaviour": they are ORed), otherwise conditions are ANDed;
 * - rules for a syscall are tried in profile order, the first that matches decides; none → the
 *   default action;
 * - names this machine's kernel headers do not know are skipped (libseccomp skips names it lacks);
 *   when that leaves a deny rule of an allow-by-default profile without effect, it is a warning;
 * - argument comparisons are unsigned 64-bit, done on the two 32-bit halves;
 * - unless the default action allows, a syscall numbered above every syscall the profile names
 *   gets ENOSYS (runc's patchbpf stub), so a libc newer than the profile falls back.
 */

export type SeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

export type SeccompOp = 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

/** u64 as JSON gives it: a number (exact below 2^53), a bigint, or a decimal string */
export type U64 = number | bigint | string;

/** a name the compiler checks itself (a config reader may hand over any string; unknown ones are errors) */
type Checked<T extends string> = T | (string & Record<never, never>);

export interface SeccompArg {
  index: number;
  value: U64;
  valueTwo?: U64;
  op: Checked<SeccompOp>;
}

export interface SeccompSyscall {
  names: string[];
  action: Checked<SeccompAction>;
  errnoRet?: number;
  args?: SeccompArg[];
}

/** OCI runtime spec `linux.seccomp` */
export interface LinuxSeccomp {
  defaultAction: Checked<SeccompAction>;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: SeccompSyscall[];
}

export type SeccompArch = 'x86_64' | 'aarch64';

export interface CompiledSeccomp {
  /** struct sock_filter[], 8 bytes each, little-endian */
  program: Uint8Array;
  instructions: number;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(2) */
  flags: number;
  /** the arches the filter lets through */
  arches: SeccompArch[];
  warnings: string[];
}

export class SeccompError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeccompError';
  }
}

export const AUDIT_ARCH: Record<SeccompArch, number> = { x86_64: 0xc000003e, aarch64: 0xc00000b7 };
export const SYSCALL_TABLES: Record<SeccompArch, Readonly<Record<string, number>>> = { x86_64: SYSCALLS_X86_64, aarch64: SYSCALLS_AARCH64 };
export const X32_SYSCALL_BIT = 0x40000000;

/** SECCOMP_RET_* (linux/seccomp.h) */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** what an arch the filter does not list gets (libseccomp's default kills only the thread; we kill the process) */
export const BAD_ARCH_RET = SECCOMP_RET.KILL_PROCESS;

export const SECCOMP_FILTER_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

const OCI_ARCHES: Record<string, SeccompArch | null> = {
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_X86: null,
  SCMP_ARCH_X32: null,
  SCMP_ARCH_ARM: null,
  SCMP_ARCH_MIPS: null,
  SCMP_ARCH_MIPS64: null,
  SCMP_ARCH_MIPS64N32: null,
  SCMP_ARCH_MIPSEL: null,
  SCMP_ARCH_MIPSEL64: null,
  SCMP_ARCH_MIPSEL64N32: null,
  SCMP_ARCH_PPC: null,
  SCMP_ARCH_PPC64: null,
  SCMP_ARCH_PPC64LE: null,
  SCMP_ARCH_S390: null,
  SCMP_ARCH_S390X: null,
  SCMP_ARCH_PARISC: null,
  SCMP_ARCH_PARISC64: null,
  SCMP_ARCH_RISCV64: null,
  SCMP_ARCH_LOONGARCH64: null,
  SCMP_ARCH_M68K: null,
  SCMP_ARCH_SH: null,
  SCMP_ARCH_SHEB: null,
};

const OPS = new Set<string>(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);
const EPERM = 1;
const ENOSYS = 38;
const U64_MAX = (1n << 64n) - 1n;

export function nativeArch(): SeccompArch | undefined {
  return process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : undefined;
}

/** The SECCOMP_RET value of an action; `what` names it in errors. */
export function actionValue(action: string, errnoRet: number | undefined, what: string, defaultErrno = EPERM): number {
  const data = (): number => {
    const e = errnoRet ?? defaultErrno;
    if (!Number.isInteger(e) || e < 0 || e > 4095) throw new SeccompError(`${what}: errnoRet ${e} is not an errno (0..4095)`);
    return e;
  };
  if (errnoRet !== undefined && action !== 'SCMP_ACT_ERRNO' && action !== 'SCMP_ACT_TRACE') {
    throw new SeccompError(`${what}: errnoRet is only meaningful with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${action}`);
  }
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET.ERRNO | data()) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET.TRACE | data()) >>> 0;
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
    case 'SCMP_ACT_NOTIFY':
      throw new SeccompError(`${what}: SCMP_ACT_NOTIFY needs a seccomp agent (listenerPath), which is not supported`);
    default:
      throw new SeccompError(`${what}: unknown action ${JSON.stringify(action)}`);
  }
}

export function toU64(v: U64 | undefined, what: string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else if (typeof v === 'string' && /^\d+$/.test(v)) b = BigInt(v);
  else throw new SeccompError(`${what}: ${String(v)} is not an unsigned 64-bit integer (past 2^53 give a bigint or a decimal string)`);
  if (b < 0n || b > U64_MAX) throw new SeccompError(`${what}: ${b} is out of the u64 range`);
  return b;
}

/** One condition, normalised. */
export interface Cond {
  index: number;
  op: SeccompOp;
  value: bigint;
  valueTwo: bigint;
}

/** A rule for one syscall number after runc's rewrites: conditions ANDed, first match wins. */
export interface Rule {
  conds: Cond[];
  ret: number;
}

/** Normalised, per arch: syscall number → rules in order; plus what the compiler has to say. */
export interface SeccompPlan {
  defaultRet: number;
  arches: SeccompArch[];
  flags: number;
  rules: Record<SeccompArch, Map<number, Rule[]>>;
  /**
   * per arch, the highest syscall number the profile names (whatever its action): numbers above
   * it get ENOSYS instead of the default, so a libc trying a syscall newer than the profile falls
   * back to the old one (runc's patchbpf stub). Absent when the default allows (ALLOW, LOG).
   */
  enosysAbove: Partial<Record<SeccompArch, number>>;
  warnings: string[];
}

/** Validate an OCI seccomp object and turn it into per-arch rule lists (pure). */
export function planSeccomp(spec: LinuxSeccomp, opts: { native?: SeccompArch } = {}): SeccompPlan {
  if (typeof spec !== 'object' || spec === null) throw new SeccompError('linux.seccomp: not an object');
  const warnings: string[] = [];
  if (spec.defaultErrnoRet !== undefined && spec.defaultAction !== 'SCMP_ACT_ERRNO' && spec.defaultAction !== 'SCMP_ACT_TRACE') {
    throw new SeccompError(`linux.seccomp.defaultErrnoRet: only meaningful with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${spec.defaultAction}`);
  }
  const defaultRet = actionValue(spec.defaultAction, spec.defaultErrnoRet, 'linux.seccomp.defaultAction');
  if (spec.listenerPath) throw new SeccompError('linux.seccomp.listenerPath: seccomp agents (SCMP_ACT_NOTIFY) are not supported');

  let flags = 0;
  for (const f of spec.flags ?? []) {
    const bit = SECCOMP_FILTER_FLAGS[f];
    if (bit === undefined) throw new SeccompError(`linux.seccomp.flags: unknown or unsupported flag ${JSON.stringify(f)}`);
    flags |= bit;
  }

  const arches: SeccompArch[] = [];
  const native = opts.native ?? nativeArch();
  if (native) arches.push(native);
  for (const a of spec.architectures ?? []) {
    if (!(a in OCI_ARCHES)) throw new SeccompError(`linux.seccomp.architectures: unknown architecture ${JSON.stringify(a)}`);
    const ours = OCI_ARCHES[a];
    if (ours === null || ours === undefined) {
      warnings.push(`architecture ${a} is not supported: its syscalls get the bad-arch action (the process is killed)`);
      continue;
    }
    if (!arches.includes(ours)) arches.push(ours);
  }
  if (arches.length === 0) throw new SeccompError('linux.seccomp: no supported architecture (x86_64 or aarch64)');

  const rules: Record<SeccompArch, Map<number, Rule[]>> = { x86_64: new Map(), aarch64: new Map() };
  const highest: Partial<Record<SeccompArch, number>> = {};
  (spec.syscalls ?? []).forEach((sc, i) => {
    const what = `linux.seccomp.syscalls[${i}]`;
    if (!Array.isArray(sc.names) || sc.names.length === 0) throw new SeccompError(`${what}.names: empty`);
    const ret = actionValue(sc.action, sc.errnoRet, `${what}.action`);
    const conds: Cond[] = (sc.args ?? []).map((a, j) => {
      const w = `${what}.args[${j}]`;
      if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw new SeccompError(`${w}.index: ${a.index} is not 0..5`);
      if (!OPS.has(a.op)) throw new SeccompError(`${w}.op: unknown operator ${JSON.stringify(a.op)}`);
      return { index: a.index, op: a.op as SeccompOp, value: toU64(a.value, `${w}.value`), valueTwo: a.valueTwo === undefined ? 0n : toU64(a.valueTwo, `${w}.valueTwo`) };
    });
    for (const name of sc.names) {
      if (typeof name !== 'string' || name === '') throw new SeccompError(`${what}.names: ${JSON.stringify(name)} is not a syscall name`);
      for (const arch of arches) {
        const nr = SYSCALL_TABLES[arch][name];
        if (nr !== undefined && nr > (highest[arch] ?? -1)) highest[arch] = nr;
      }
    }
    if (ret === defaultRet) return; // runc: a rule doing the default does nothing
    const perIndex = new Map<number, number>();
    for (const c of conds) perIndex.set(c.index, (perIndex.get(c.index) ?? 0) + 1);
    const split = [...perIndex.values()].some((n) => n > 1);
    const variants: Cond[][] = split ? conds.map((c) => [c]) : [conds];
    for (const name of sc.names) {
      const known = Object.values(SYSCALL_TABLES).some((t) => t[name] !== undefined);
      if (!known) {
        if (defaultRet === SECCOMP_RET.ALLOW) warnings.push(`syscall ${JSON.stringify(name)} is unknown to this build's tables: its ${sc.action} rule has no effect`);
        continue;
      }
      for (const arch of arches) {
        const nr = SYSCALL_TABLES[arch][name];
        if (nr === undefined) continue; // not on this arch (open on aarch64): nothing to filter
        const list = rules[arch].get(nr) ?? [];
        // after an unconditional rule nothing else for this syscall can match
        if (list.some((r) => r.conds.length === 0)) continue;
        for (const v of variants) list.push({ conds: v, ret });
        rules[arch].set(nr, list);
      }
    }
  });
  const allowsByDefault = defaultRet === SECCOMP_RET.ALLOW || defaultRet === SECCOMP_RET.LOG;
  return { defaultRet, arches, flags, rules, enosysAbove: allowsByDefault ? {} : highest, warnings };
}

/** Compile an OCI seccomp object to BPF. */
export function compileSeccomp(spec: LinuxSeccomp, opts: { native?: SeccompArch } = {}): CompiledSeccomp {
  const plan = planSeccomp(spec, opts);
  const asm = new Assembler();
  const rets = new Map<number, Label>();
  const retLabel = (k: number): Label => {
    let l = rets.get(k);
    if (l === undefined) {
      l = asm.label();
      rets.set(k, l);
    }
    return l;
  };

  // 1. the arch
  asm.ld(SECCOMP_DATA.arch);
  const archLabels = plan.arches.map(() => asm.label());
  plan.arches.forEach((arch, i) => {
    const next = asm.label();
    asm.jump(BPF.JMP_JEQ_K, AUDIT_ARCH[arch], archLabels[i]!, next);
    asm.bind(next);
  });
  asm.ret(BAD_ARCH_RET);

  // 2. per arch: the syscall number, then the rules of the syscalls that have arguments
  plan.arches.forEach((arch, i) => {
    asm.bind(archLabels[i]!);
    asm.ld(SECCOMP_DATA.nr);
    if (arch === 'x86_64') {
      const ok = asm.label();
      asm.jump(BPF.JMP_JGE_K, X32_SYSCALL_BIT, retLabel(BAD_ARCH_RET), ok);
      asm.bind(ok);
    }
    const above = plan.enosysAbove[arch];
    if (above !== undefined) {
      const ok = asm.label();
      asm.jump(BPF.JMP_JGT_K, above, retLabel((SECCOMP_RET.ERRNO | ENOSYS) >>> 0), ok);
      asm.bind(ok);
    }
    const byNr = plan.rules[arch];
    const targets = new Map<number, Label>();
    const blocks: [Label, Rule[]][] = [];
    for (const [nr, list] of byNr) {
      if (list.length === 1 && list[0]!.conds.length === 0) targets.set(nr, retLabel(list[0]!.ret));
      else {
        const l = asm.label();
        targets.set(nr, l);
        blocks.push([l, list]);
      }
    }
    emitDispatch(asm, [...targets].sort((a, b) => a[0] - b[0]), retLabel(plan.defaultRet));
    for (const [l, list] of blocks) {
      asm.bind(l);
      for (const rule of list) {
        const next = asm.label();
        for (const c of rule.conds) emitCond(asm, c, next);
        asm.ret(rule.ret);
        asm.bind(next);
      }
      asm.ret(plan.defaultRet);
    }
  });

  // 3. the shared returns
  for (const [k, l] of rets) {
    asm.bind(l);
    asm.ret(k);
  }

  const insns = asm.assemble();
  if (insns.length > BPF_MAXINSNS) throw new SeccompError(`linux.seccomp: the program has ${insns.length} instructions, more than the kernel's limit of ${BPF_MAXINSNS} (BPF_MAXINSNS)`);
  return { program: encodeProgram(insns), instructions: insns.length, flags: plan.flags, arches: plan.arches, warnings: plan.warnings };
}

/**
 * A binary search over the sorted syscall numbers (A holds nr): a few comparisons instead of one
 * per syscall; leaves of up to 4 numbers are tested one by one.
 */
function emitDispatch(asm: Assembler, sorted: [number, Label][], fallback: Label): void {
  if (sorted.length <= 4) {
    for (const [nr, target] of sorted) {
      const next = asm.label();
      asm.jump(BPF.JMP_JEQ_K, nr, target, next);
      asm.bind(next);
    }
    asm.ja(fallback);
    return;
  }
  const mid = sorted.length >> 1;
  const right = asm.label();
  const left = asm.label();
  asm.jump(BPF.JMP_JGE_K, sorted[mid]![0], right, left);
  asm.bind(left);
  emitDispatch(asm, sorted.slice(0, mid), fallback);
  asm.bind(right);
  emitDispatch(asm, sorted.slice(mid), fallback);
}

const hi32 = (v: bigint): number => Number((v >> 32n) & 0xffffffffn);
const lo32 = (v: bigint): number => Number(v & 0xffffffffn);

/** One condition on a 64-bit argument, compared unsigned on its halves; falls through when it holds, jumps to `fail` when not. */
function emitCond(asm: Assembler, c: Cond, fail: Label): void {
  const hiOff = SECCOMP_DATA.args + 8 * c.index + 4; // little-endian: the high half is the second word
  const loOff = SECCOMP_DATA.args + 8 * c.index;
  const pass = asm.label();
  const l1 = asm.label();
  const l2 = asm.label();
  const vh = hi32(c.value);
  const vl = lo32(c.value);
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      asm.ld(hiOff);
      asm.jump(BPF.JMP_JEQ_K, vh, l1, fail);
      asm.bind(l1);
      asm.ld(loOff);
      asm.jump(BPF.JMP_JEQ_K, vl, pass, fail);
      break;
    case 'SCMP_CMP_NE':
      asm.ld(hiOff);
      asm.jump(BPF.JMP_JEQ_K, vh, l1, pass);
      asm.bind(l1);
      asm.ld(loOff);
      asm.jump(BPF.JMP_JEQ_K, vl, fail, pass);
      break;
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
      // hi > vh, or hi == vh and lo >(=) vl
      asm.ld(hiOff);
      asm.jump(BPF.JMP_JGT_K, vh, pass, l1);
      asm.bind(l1);
      asm.jump(BPF.JMP_JEQ_K, vh, l2, fail);
      asm.bind(l2);
      asm.ld(loOff);
      asm.jump(c.op === 'SCMP_CMP_GT' ? BPF.JMP_JGT_K : BPF.JMP_JGE_K, vl, pass, fail);
      break;
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE':
      // not (a >= v) / not (a > v)
      asm.ld(hiOff);
      asm.jump(BPF.JMP_JGT_K, vh, fail, l1);
      asm.bind(l1);
      asm.jump(BPF.JMP_JEQ_K, vh, l2, pass);
      asm.bind(l2);
      asm.ld(loOff);
      asm.jump(c.op === 'SCMP_CMP_LT' ? BPF.JMP_JGE_K : BPF.JMP_JGT_K, vl, fail, pass);
      break;
    case 'SCMP_CMP_MASKED_EQ':
      // (a & value) == valueTwo
      asm.ld(hiOff);
      asm.and(vh);
      asm.jump(BPF.JMP_JEQ_K, hi32(c.valueTwo), l1, fail);
      asm.bind(l1);
      asm.ld(loOff);
      asm.and(vl);
      asm.jump(BPF.JMP_JEQ_K, lo32(c.valueTwo), pass, fail);
      break;
  }
  asm.bind(pass);
  // labels made for shapes that did not use them stay unbound and unreferenced
}
