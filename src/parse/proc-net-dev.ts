import { ParseError } from './errors.js';
import { lines } from './text.js';
import { bigDecimal } from './numbers.js';

/** One interface's counters from /proc/<pid>/net/dev (the network namespace of that process). */
export interface NetDevCounters {
  interface: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

/**
 * /proc/<pid>/net/dev, see proc(5) (net/core/net-procfs.c dev_seq_printf_stats): two header lines,
 * then `name: ` and 16 unsigned 64-bit counters — 8 receive (bytes packets errs drop fifo frame
 * compressed multicast), 8 transmit (bytes packets errs drop fifo colls carrier compressed).
 * The name is right-aligned to 6 columns and may itself be longer (up to IFNAMSIZ − 1 = 15
 * characters); a name may hold `:` (alias-like names are legal), so split on the LAST `:` before
 * the numbers. Counters are u64: read exactly, given as the nearest double (Prometheus keeps
 * doubles anyway).
 */
export function parseProcNetDev(text: string, path = 'net/dev'): NetDevCounters[] {
  const all = lines(text);
  if (all.length < 2 || !all[0]!.includes('|') || !all[1]!.includes('|')) throw new ParseError(path, 'missing the two header lines', 1, all[0]);
  const out: NetDevCounters[] = [];
  const seen = new Set<string>();
  for (let i = 2; i < all.length; i++) {
    const line = all[i]!;
    if (line.trim() === '') continue;
    // the numbers never contain ':', the name may: the separator is the last ':'
    const colon = line.lastIndexOf(':');
    if (colon < 0) throw new ParseError(path, 'no interface name', i + 1, line);
    const name = line.slice(0, colon).trim();
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    if (name === '' || name.length > 15 || /\s/.test(name)) throw new ParseError(path, 'bad interface name', i + 1, line);
    if (fields.length !== 16) throw new ParseError(path, `expected 16 counters, found ${fields.length}`, i + 1, line);
    const n = fields.map((f) => {
      const v = bigDecimal(f);
      if (v === undefined || v < 0n || v > 0xffffffffffffffffn) throw new ParseError(path, `counter ${f.slice(0, 24)} is not a u64`, i + 1, line);
      return Number(v);
    });
    if (seen.has(name)) throw new ParseError(path, `interface ${name} listed twice`, i + 1, line);
    seen.add(name);
    out.push({
      interface: name,
      rxBytes: n[0]!,
      rxPackets: n[1]!,
      rxErrors: n[2]!,
      rxDropped: n[3]!,
      txBytes: n[8]!,
      txPackets: n[9]!,
      txErrors: n[10]!,
      txDropped: n[11]!,
    });
  }
  return out;
}

/** ctop's name for the same parser. */
export const parseNetDev = parseProcNetDev;

/** Received and sent bytes of a namespace, loopback left out (as `docker stats` NET I/O). */
export function netTotals(ifaces: NetDevCounters[]): { rxBytes: number; txBytes: number } {
  let rxBytes = 0;
  let txBytes = 0;
  for (const i of ifaces) {
    if (i.interface === 'lo') continue;
    rxBytes += i.rxBytes;
    txBytes += i.txBytes;
  }
  return { rxBytes, txBytes };
}
