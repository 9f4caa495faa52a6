import type { ProcErrorCode } from '../source/errors.js';

/**
 * /proc/<pid>/attr/current and /proc/<pid>/attr/apparmor/current, see proc(5) and the LSM docs:
 * the label the Linux Security Module confines the process with. AppArmor writes the profile and
 * its mode with a newline (`docker-default (enforce)\n`, `unconfined\n`); SELinux the context
 * with a trailing NUL (`system_u:system_r:container_t:s0:c1,c2\0`); Smack the label.
 */
export function parseLsmAttr(text: string): string {
  return text.replace(/[\0\n]+$/, '');
}

/**
 * What one attr file says: a label; `no-lsm` when the kernel answers EINVAL (no LSM that keeps a
 * label for this file is active: the read fails, it is not an error of ours); `absent` when the
 * file is not there (a kernel without that LSM, a dump that did not capture it) or empty; else
 * why it could not be read.
 */
export type LsmState = { label: string } | { none: 'no-lsm' | 'absent' } | { error: ProcErrorCode };

export interface LsmLabels {
  /** attr/current: the label of the first LSM that has one (SELinux, AppArmor, Smack) */
  current: LsmState;
  /** attr/apparmor/current: AppArmor's own, whichever LSM answers attr/current */
  apparmor: LsmState;
}

/** The label to show for a process: attr/current's, else AppArmor's; undefined when there is none. */
export function lsmLabelOf(l: LsmLabels | undefined): string | undefined {
  if (!l) return undefined;
  if ('label' in l.current) return l.current.label;
  if ('label' in l.apparmor) return l.apparmor.label;
  return undefined;
}
