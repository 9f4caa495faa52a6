/**
 * Linux capabilities, see capabilities(7) and include/uapi/linux/capability.h. Masks are BigInt:
 * 64 bits do not fit a JS number.
 */

export interface CapabilityInfo {
  bit: number;
  name: string;
  summary: string;
}

export const CAPABILITIES: readonly CapabilityInfo[] = [
  { bit: 0, name: 'cap_chown', summary: 'change file owner and group (chown)' },
  { bit: 1, name: 'cap_dac_override', summary: 'bypass file read, write and execute permission checks' },
  { bit: 2, name: 'cap_dac_read_search', summary: 'bypass file read and directory search checks; open_by_handle_at' },
  { bit: 3, name: 'cap_fowner', summary: 'bypass checks that need the caller to own the file (chmod, utime)' },
  { bit: 4, name: 'cap_fsetid', summary: 'keep set-user-ID and set-group-ID bits when a file is modified' },
  { bit: 5, name: 'cap_kill', summary: 'send signals to any process' },
  { bit: 6, name: 'cap_setgid', summary: 'change gids, set supplementary groups, write gid maps' },
  { bit: 7, name: 'cap_setuid', summary: 'change uids, write uid maps' },
  { bit: 8, name: 'cap_setpcap', summary: 'change capability sets and the bounding set; set securebits' },
  { bit: 9, name: 'cap_linux_immutable', summary: 'set the immutable and append-only file attributes' },
  { bit: 10, name: 'cap_net_bind_service', summary: 'bind sockets to ports below 1024' },
  { bit: 11, name: 'cap_net_broadcast', summary: 'socket broadcasting and multicast listening' },
  { bit: 12, name: 'cap_net_admin', summary: 'network administration: interfaces, routes, firewall' },
  { bit: 13, name: 'cap_net_raw', summary: 'use RAW and PACKET sockets (ping)' },
  { bit: 14, name: 'cap_ipc_lock', summary: 'lock memory (mlock, mlockall, SHM_LOCK)' },
  { bit: 15, name: 'cap_ipc_owner', summary: 'bypass permission checks on System V IPC objects' },
  { bit: 16, name: 'cap_sys_module', summary: 'load and unload kernel modules' },
  { bit: 17, name: 'cap_sys_rawio', summary: 'raw I/O: ioperm, iopl, /dev/mem' },
  { bit: 18, name: 'cap_sys_chroot', summary: 'use chroot; change mount namespaces with setns' },
  { bit: 19, name: 'cap_sys_ptrace', summary: 'trace and inspect any process (ptrace, process_vm_readv)' },
  { bit: 20, name: 'cap_sys_pacct', summary: 'use acct (process accounting)' },
  { bit: 21, name: 'cap_sys_admin', summary: 'system administration: mount, sethostname, setns, and much more' },
  { bit: 22, name: 'cap_sys_boot', summary: 'reboot and kexec_load' },
  { bit: 23, name: 'cap_sys_nice', summary: 'raise priority, set real-time scheduling and CPU affinity of any process' },
  { bit: 24, name: 'cap_sys_resource', summary: 'override resource limits, quotas and reserved space' },
  { bit: 25, name: 'cap_sys_time', summary: 'set the system clock' },
  { bit: 26, name: 'cap_sys_tty_config', summary: 'vhangup and privileged terminal ioctls' },
  { bit: 27, name: 'cap_mknod', summary: 'create device special files (mknod)' },
  { bit: 28, name: 'cap_lease', summary: 'take file leases on any file' },
  { bit: 29, name: 'cap_audit_write', summary: 'write records to the kernel audit log' },
  { bit: 30, name: 'cap_audit_control', summary: 'configure kernel auditing' },
  { bit: 31, name: 'cap_setfcap', summary: 'set file capabilities; map uid 0 in a user namespace' },
  { bit: 32, name: 'cap_mac_override', summary: 'override mandatory access control (Smack)' },
  { bit: 33, name: 'cap_mac_admin', summary: 'configure mandatory access control (Smack)' },
  { bit: 34, name: 'cap_syslog', summary: 'privileged syslog operations; see kernel addresses' },
  { bit: 35, name: 'cap_wake_alarm', summary: 'set alarms that wake the system' },
  { bit: 36, name: 'cap_block_suspend', summary: 'block system suspend (epoll wakeups)' },
  { bit: 37, name: 'cap_audit_read', summary: 'read the audit log over multicast netlink' },
  { bit: 38, name: 'cap_perfmon', summary: 'privileged performance monitoring (perf_event_open)' },
  { bit: 39, name: 'cap_bpf', summary: 'privileged BPF operations' },
  { bit: 40, name: 'cap_checkpoint_restore', summary: 'checkpoint/restore: set_tid, ns_last_pid' },
];

/** CAP_LAST_CAP of the headers this table was written from. */
export const LAST_KNOWN_CAP = CAPABILITIES.length - 1;

const BY_NAME = new Map(CAPABILITIES.map((c) => [c.name, c.bit]));

/** Every bit 0..last set: the "full" mask (0x000001ffffffffff for 41 capabilities). */
export function fullMask(lastCap = LAST_KNOWN_CAP): bigint {
  return (1n << BigInt(lastCap + 1)) - 1n;
}

/** Names of the set bits, lowest first; bits with no name are given as their number. */
export function capNames(mask: bigint): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((mask >> BigInt(bit)) & 1n) out.push(CAPABILITIES[bit]?.name ?? String(bit));
  }
  return out;
}

/** Exactly what `capsh --decode=HEX` prints (libcap 2.66): `0x%016llx=name,name,41`. */
export function formatCapshDecode(mask: bigint): string {
  return `0x${mask.toString(16).padStart(16, '0')}=${capNames(mask).join(',')}`;
}

export function formatMaskHex(mask: bigint): string {
  return mask.toString(16).padStart(16, '0');
}

/**
 * A capability mask as capsh takes it, but strict: optional `0x`, 1 to 16 hex digits. capsh reads
 * `zz` as 0 and ignores trailing garbage; we refuse both. Returns undefined when invalid.
 */
export function parseCapMask(text: string): bigint | undefined {
  const m = /^(?:0[xX])?([0-9a-fA-F]{1,16})$/.exec(text.trim());
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

/**
 * Names (with or without `cap_`, any case, blanks around a name ignored) or bit numbers → mask.
 * Returns the names it did not know instead of a mask when any is unknown, and `empty` when an
 * item is empty or blank (`''`, `,,,`, `cap_chown,`, `,cap_chown`, `a,,b`): libcap's
 * cap_from_text (capsh --inh, --caps) refuses those too; a list with a hole is a typo or an unset
 * variable, not the empty set (docs/capdecode.md).
 */
export function encodeCaps(names: string[]): { mask: bigint } | { unknown: string[] } | { empty: true } {
  let mask = 0n;
  const unknown: string[] = [];
  for (const raw of names) {
    const n = raw.trim().toLowerCase();
    if (n === '') return { empty: true };
    if (n === 'all') {
      mask |= fullMask();
      continue;
    }
    const bit = /^\d+$/.test(n) ? Number(n) : BY_NAME.get(n.startsWith('cap_') ? n : `cap_${n}`);
    if (bit === undefined || bit > 63) unknown.push(raw);
    else mask |= 1n << BigInt(bit);
  }
  return unknown.length > 0 ? { unknown } : { mask };
}

/** Set names of /proc/<pid>/status, in the order the kernel prints them. */
export const CAP_SETS = ['inheritable', 'permitted', 'effective', 'bounding', 'ambient'] as const;
export type CapSet = (typeof CAP_SETS)[number];

/** libcap's name of a capability bit: its name when libcap 2.66 knows it (bits 0..40), else the number. */
function libcapName(bit: number): string {
  return CAPABILITIES[bit]?.name ?? String(bit);
}

const EFF = 1;
const INH = 2;
const PER = 4;

function flagLetters(f: number): string {
  return `${f & EFF ? 'e' : ''}${f & INH ? 'i' : ''}${f & PER ? 'p' : ''}`;
}

/**
 * A process's effective, inheritable and permitted sets as libcap's cap_to_text() (2.66) writes
 * them, the text of `capsh --print`'s "Current:" line: the most common combination of set flags
 * over the kernel's capabilities (`maxBits` = cap_last_cap + 1) becomes the `=…` default, every
 * other combination lists its names with `+`/`-` flags, `= a,b+ep` is shortened to `a,b=ep`, and
 * bits above the kernel's are given by number with `+`.
 */
export function capToText(sets: { effective: bigint; inheritable: bigint; permitted: bigint }, maxBits: number): string {
  const flags = (n: number): number => {
    const b = BigInt(n);
    return ((sets.effective >> b) & 1n ? EFF : 0) | ((sets.inheritable >> b) & 1n ? INH : 0) | ((sets.permitted >> b) & 1n ? PER : 0);
  };
  const cmb = Math.max(0, Math.min(64, maxBits));
  const histo = new Array<number>(8).fill(0);
  for (let n = 0; n < cmb; n++) histo[flags(n)]!++;
  // the prevailing state: ties go to the lower combination (libcap's >= bias towards "not set")
  let m = 7;
  for (let t = 6; t >= 0; t--) if (histo[t]! >= histo[m]!) m = t;
  let buf = `=${flagLetters(m)}`;
  let base = 0;
  for (let t = 7; t >= 0; t--) {
    if (t === m || histo[t] === 0) continue;
    const names: string[] = [];
    for (let n = 0; n < cmb; n++) if (flags(n) === t) names.push(libcapName(n));
    buf += ` ${names.join(',')}`;
    const raise = t & ~m;
    if (raise) {
      let op = '+';
      if (buf[base] === '=' && buf[base + 1] === ' ') {
        // "= foo,...+eip" is written "foo,...=eip"
        base += 2;
        op = '=';
      }
      buf += `${op}${flagLetters(raise)}`;
    }
    const lower = ~t & m & 7;
    if (lower) buf += `-${flagLetters(lower)}`;
  }
  const rest = new Array<number>(8).fill(0);
  for (let n = cmb; n < 64; n++) rest[flags(n)]!++;
  for (let t = 7; t >= 1; t--) {
    if (rest[t] === 0) continue;
    const names: string[] = [];
    for (let n = cmb; n < 64; n++) if (flags(n) === t) names.push(libcapName(n));
    buf += ` ${names.join(',')}+${flagLetters(t)}`;
  }
  return buf.slice(base);
}

/**
 * The IAB tuple as libcap's cap_iab_to_text() (2.66) writes it, `capsh --print`'s "Current IAB:"
 * line: per capability below `maxBits`, `!` when dropped from the bounding set, `^` when ambient
 * (which implies inheritable), `%` when inheritable but not in the bounding set, the bare name
 * when only inheritable; comma-separated, empty when nothing is set.
 */
export function iabToText(sets: { inheritable: bigint; ambient: bigint; bounding: bigint }, maxBits: number): string {
  const out: string[] = [];
  for (let c = 0; c < Math.min(64, maxBits); c++) {
    const b = BigInt(c);
    const ib = ((sets.inheritable >> b) & 1n) === 1n;
    const ab = ((sets.ambient >> b) & 1n) === 1n;
    const nbb = ((sets.bounding >> b) & 1n) === 0n;
    if (!(nbb || ab || ib)) continue;
    out.push(`${nbb ? '!' : ''}${ab ? '^' : nbb && ib ? '%' : ''}${libcapName(c)}`);
  }
  return out.join(',');
}

/** The names of a set's bits below `maxBits`, comma-separated: capsh's "Bounding set =…" list. */
export function capListText(mask: bigint, maxBits: number): string {
  const out: string[] = [];
  for (let c = 0; c < Math.min(64, maxBits); c++) if ((mask >> BigInt(c)) & 1n) out.push(libcapName(c));
  return out.join(',');
}
