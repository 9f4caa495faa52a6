/**
 * `capdecode --pid P --print`: a process's capability state in the layout of `capsh --print`
 * (libcap 2.66), read from /proc/P/status instead of asked of the running process. Pure.
 *
 * Deliberate differences (docs/capdecode.md): the securebits of another process are shown by no
 * file in /proc, so the "Securebits:" line says they are unknown (keeping capsh's
 * `(no-new-privs=N)`, which status does show) and the four secure-* lines and capsh's "Guessed
 * mode:" (derived from the securebits) are left out; uids, gids and names are the host's view
 * (capsh run inside a user namespace prints the mapped ids and the container's names).
 */
import { capListText, capToText, iabToText } from '../parse/capabilities.js';
import { escapeControl } from './escape.js';

export interface CapshState {
  /** cap_last_cap + 1 of the kernel the process runs on (libcap's cap_max_bits()) */
  maxBits: number;
  effective: bigint;
  inheritable: bigint;
  permitted: bigint;
  bounding: bigint;
  /** undefined: the kernel has no ambient set (before 4.3) */
  ambient: bigint | undefined;
  /** undefined: the kernel does not report it (before 4.10) */
  noNewPrivs: boolean | undefined;
  uid: { real: number; effective: number };
  gid: number;
  groups: number[];
  /** undefined when no passwd/group entry names the id (capsh prints `???`) */
  userName(uid: number): string | undefined;
  groupName(gid: number): string | undefined;
}

export function formatCapshPrint(s: CapshState): string {
  const user = (u: number): string => `${u}(${escapeControl(s.userName(u) ?? '???')})`;
  const group = (g: number): string => `${g}(${escapeControl(s.groupName(g) ?? '???')})`;
  const nnp = s.noNewPrivs === undefined ? '?' : s.noNewPrivs ? '1' : '0';
  return [
    `Current: ${capToText(s, s.maxBits)}`,
    `Bounding set =${capListText(s.bounding, s.maxBits)}`,
    s.ambient === undefined ? 'Ambient set = <unsupported>' : `Ambient set =${capListText(s.ambient, s.maxBits)}`,
    `Current IAB: ${iabToText({ inheritable: s.inheritable, ambient: s.ambient ?? 0n, bounding: s.bounding }, s.maxBits)}`,
    `Securebits: unknown: /proc shows no process's securebits (no-new-privs=${nnp})`,
    `uid=${user(s.uid.real)} euid=${user(s.uid.effective)}`,
    `gid=${group(s.gid)}`,
    `groups=${s.groups.map(group).join(',')}`,
    '',
  ].join('\n');
}

/** The same state as data, for --json. */
export function capshPrintJson(s: CapshState): Record<string, unknown> {
  return {
    current: capToText(s, s.maxBits),
    bounding: capListText(s.bounding, s.maxBits).split(',').filter(Boolean),
    ambient: s.ambient === undefined ? null : capListText(s.ambient, s.maxBits).split(',').filter(Boolean),
    iab: iabToText({ inheritable: s.inheritable, ambient: s.ambient ?? 0n, bounding: s.bounding }, s.maxBits),
    securebits: null,
    noNewPrivs: s.noNewPrivs ?? null,
    uid: s.uid.real,
    euid: s.uid.effective,
    gid: s.gid,
    groups: s.groups,
  };
}
