/**
 * The runtime's plans produce native steps (src/native/steps.ts); this file adds the constants
 * the plans need (open flags, prctl options, mknod types) that the native layer does not export.
 */

export type { Step as PlanStep, FdRef } from '../native/steps.js';
import type { Step as PlanStep } from '../native/steps.js';

/** openat2 RESOLVE_* flags (linux/openat2.h) */
export const RESOLVE = { NO_XDEV: 0x01, NO_MAGICLINKS: 0x02, NO_SYMLINKS: 0x04, BENEATH: 0x08, IN_ROOT: 0x10 } as const;

/** open(2) flags (x86-64/arm64 asm-generic values) */
export const O = {
  RDONLY: 0,
  WRONLY: 0o1,
  RDWR: 0o2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
} as const;

/** prctl options (linux/prctl.h) */
export const PR = { SET_PDEATHSIG: 1, SET_DUMPABLE: 4, SET_KEEPCAPS: 8, CAPBSET_DROP: 24, SET_NO_NEW_PRIVS: 38 } as const;

/** umount2 flags */
export const MNT_DETACH = 2;

/** file type bits for mknod */
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

/** A step's short name for plan listings and goldens: label, else op. */
export function planStepName(s: PlanStep): string {
  return s.label ?? s.op;
}
