/**
 * Classic BPF as seccomp runs it (linux/filter.h, linux/bpf_common.h, seccomp(2)): a program is an
 * array of `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }`, 8 bytes each, in the host's
 * byte order (little-endian on x86_64 and aarch64). Conditional jumps reach at most 255
 * instructions forward; longer jumps go through `ja`, whose 32-bit offset reaches anywhere.
 */

export const BPF = {
  LD_W_ABS: 0x20, // A = *(u32 *)(seccomp_data + k)
  ALU_AND_K: 0x54, // A &= k
  JMP_JA: 0x05, // pc += k
  JMP_JEQ_K: 0x15, // pc += (A == k) ? jt : jf
  JMP_JGT_K: 0x25, // A > k (unsigned)
  JMP_JGE_K: 0x35, // A >= k (unsigned)
  JMP_JSET_K: 0x45, // A & k
  RET_K: 0x06, // return k
} as const;

/** BPF_MAXINSNS: the kernel refuses longer programs (EINVAL) */
export const BPF_MAXINSNS = 4096;

/** struct seccomp_data: nr, arch, instruction_pointer, args[6] (u64 each) */
export const SECCOMP_DATA = { nr: 0, arch: 4, ip: 8, args: 16, size: 64 } as const;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Program bytes: 8 per instruction, little-endian. */
export function encodeProgram(insns: Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const view = new DataView(out.buffer);
  insns.forEach((ins, i) => {
    view.setUint16(i * 8, ins.code, true);
    view.setUint8(i * 8 + 2, ins.jt);
    view.setUint8(i * 8 + 3, ins.jf);
    view.setUint32(i * 8 + 4, ins.k >>> 0, true);
  });
  return out;
}

export function decodeProgram(bytes: Uint8Array): Insn[] {
  if (bytes.length % 8 !== 0) throw new Error(`a BPF program is a multiple of 8 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let i = 0; i < bytes.length; i += 8) out.push({ code: view.getUint16(i, true), jt: view.getUint8(i + 2), jf: view.getUint8(i + 3), k: view.getUint32(i + 4, true) });
  return out;
}

export type Label = number;

interface Node {
  code: number;
  k: number;
  /** conditional jumps: targets when true/false; `ja`: jt is the target */
  jt?: Label;
  jf?: Label;
}

/**
 * An assembler with symbolic labels. Every jump is forward. `assemble()` places a `ja` trampoline
 * right after any conditional jump whose target is more than 255 instructions away, repeating
 * until every jump fits (an inserted trampoline can push another jump past 255).
 */
export class Assembler {
  private nodes: Node[] = [];
  /** label → index of the instruction it is bound to */
  private bound = new Map<Label, number>();
  private nextLabel = 0;

  label(): Label {
    return this.nextLabel++;
  }

  /** bind a label to the next instruction emitted */
  bind(l: Label): void {
    if (this.bound.has(l)) throw new Error(`label ${l} bound twice`);
    this.bound.set(l, this.nodes.length);
  }

  get length(): number {
    return this.nodes.length;
  }

  ld(offset: number): void {
    this.nodes.push({ code: BPF.LD_W_ABS, k: offset });
  }

  and(k: number): void {
    this.nodes.push({ code: BPF.ALU_AND_K, k });
  }

  ret(k: number): void {
    this.nodes.push({ code: BPF.RET_K, k });
  }

  ja(target: Label): void {
    this.nodes.push({ code: BPF.JMP_JA, k: 0, jt: target });
  }

  jump(code: number, k: number, jt: Label, jf: Label): void {
    this.nodes.push({ code, k, jt, jf });
  }

  assemble(): Insn[] {
    const at = (l: Label): number => {
      const i = this.bound.get(l);
      if (i === undefined) throw new Error(`label ${l} never bound`);
      return i;
    };
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i]!;
      if (n.code === BPF.JMP_JA || n.jt === undefined) continue;
      const far: ('jt' | 'jf')[] = [];
      for (const side of ['jt', 'jf'] as const) {
        const off = at(n[side]!) - i - 1;
        if (off < 0) throw new Error(`backward jump at ${i}`);
        if (off > 255) far.push(side);
      }
      if (far.length === 0) continue;
      // insert the trampolines after i: everything bound after i moves down
      for (const [l, idx] of this.bound) if (idx > i) this.bound.set(l, idx + far.length);
      const tramps: Node[] = far.map((side) => {
        const t = this.label();
        return { node: { code: BPF.JMP_JA, k: 0, jt: n[side]! }, side, t };
      }).map(({ node, side, t }, j) => {
        this.bound.set(t, i + 1 + j);
        n[side] = t;
        return node;
      });
      this.nodes.splice(i + 1, 0, ...tramps);
      // jumps before i may now reach too far: start over (programs are small, this converges)
      i = -1;
    }
    return this.nodes.map((n, i) => {
      if (n.code === BPF.JMP_JA) return { code: n.code, jt: 0, jf: 0, k: at(n.jt!) - i - 1 };
      if (n.jt !== undefined) return { code: n.code, jt: at(n.jt) - i - 1, jf: at(n.jf!) - i - 1, k: n.k >>> 0 };
      return { code: n.code, jt: 0, jf: 0, k: n.k >>> 0 };
    });
  }
}
