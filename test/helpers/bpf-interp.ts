import { BPF, BPF_MAXINSNS, SECCOMP_DATA, decodeProgram, type Insn } from '../../src/runtime/seccomp/bpf.js';

/**
 * A classic-BPF interpreter for seccomp programs, written from linux/filter.h and the kernel's
 * checks (bpf_check_classic, seccomp_check_filter): it refuses what the kernel would refuse — an
 * empty or too long program, a jump out of it, a last instruction that is not a return, a load
 * that is unaligned or outside struct seccomp_data, an opcode outside our subset — and runs the
 * rest on a seccomp_data (nr, arch, args as u64, laid out little-endian).
 */

export interface SeccompData {
  nr: number;
  arch: number;
  ip?: bigint;
  args: bigint[];
}

const KNOWN = new Set<number>(Object.values(BPF));

export function checkProgram(insns: Insn[]): void {
  if (insns.length === 0 || insns.length > BPF_MAXINSNS) throw new Error(`program length ${insns.length}`);
  insns.forEach((ins, pc) => {
    if (!KNOWN.has(ins.code)) throw new Error(`pc ${pc}: opcode 0x${ins.code.toString(16)} not allowed`);
    if (ins.code === BPF.LD_W_ABS && (ins.k % 4 !== 0 || ins.k >= SECCOMP_DATA.size)) throw new Error(`pc ${pc}: load at ${ins.k}`);
    if (ins.code === BPF.JMP_JA && pc + 1 + ins.k >= insns.length) throw new Error(`pc ${pc}: ja out of the program`);
    if ([BPF.JMP_JEQ_K, BPF.JMP_JGT_K, BPF.JMP_JGE_K, BPF.JMP_JSET_K].includes(ins.code as never) && (pc + 1 + ins.jt >= insns.length || pc + 1 + ins.jf >= insns.length)) throw new Error(`pc ${pc}: jump out of the program`);
  });
  if (insns[insns.length - 1]!.code !== BPF.RET_K) throw new Error('last instruction is not a return');
}

function dataWord(d: SeccompData, off: number): number {
  if (off === SECCOMP_DATA.nr) return d.nr >>> 0;
  if (off === SECCOMP_DATA.arch) return d.arch >>> 0;
  const u64 = off < SECCOMP_DATA.args ? (d.ip ?? 0n) : (d.args[(off - SECCOMP_DATA.args) >> 3] ?? 0n);
  const half = (off & 4) === 0 ? u64 & 0xffffffffn : (u64 >> 32n) & 0xffffffffn;
  return Number(half);
}

/** run a program; returns the 32-bit SECCOMP_RET value and how many instructions ran */
export function runSeccomp(program: Uint8Array | Insn[], d: SeccompData): { ret: number; steps: number } {
  const insns = program instanceof Uint8Array ? decodeProgram(program) : program;
  checkProgram(insns);
  let a = 0;
  let pc = 0;
  let steps = 0;
  for (;;) {
    const ins = insns[pc]!;
    steps++;
    switch (ins.code) {
      case BPF.LD_W_ABS:
        a = dataWord(d, ins.k);
        pc++;
        break;
      case BPF.ALU_AND_K:
        a = (a & ins.k) >>> 0;
        pc++;
        break;
      case BPF.JMP_JA:
        pc += 1 + ins.k;
        break;
      case BPF.JMP_JEQ_K:
        pc += 1 + (a === ins.k >>> 0 ? ins.jt : ins.jf);
        break;
      case BPF.JMP_JGT_K:
        pc += 1 + (a > ins.k >>> 0 ? ins.jt : ins.jf);
        break;
      case BPF.JMP_JGE_K:
        pc += 1 + (a >= ins.k >>> 0 ? ins.jt : ins.jf);
        break;
      case BPF.JMP_JSET_K:
        pc += 1 + ((a & ins.k) !== 0 ? ins.jt : ins.jf);
        break;
      case BPF.RET_K:
        return { ret: ins.k >>> 0, steps };
      default:
        throw new Error(`pc ${pc}: opcode ${ins.code}`);
    }
  }
}
