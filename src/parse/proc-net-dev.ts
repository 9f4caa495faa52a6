import { ParseError } from './errors.js';
import { lines } from './text.js';
import { bigDecimal } from './numbers.js';

/** One interface's counters from /proc/<pid>/net/dev. */
export interface NetDevCounters {
  iface: string;
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

/**
 * /proc/<pid>/net/dev, see proc(5): two header lines, then `iface: 8 receive and 8 transmit
 * counters`. The interface list is that of the process's network namespace. Names may hold
 * anything but `:` and spaces; the colon may touch the first number (`eth0:123`).
 */
export function parseNetDev(text: string, path = 'net/dev'): NetDevCounters[] {
  const out: NetDevCounters[] = [];
  lines(text).forEach((line, i) => {
    if (i < 2 || line.trim() === '') return;
    const colon = line.indexOf(':');
    if (colon < 0) throw new ParseError(path, 'expected "iface: counters"', i + 1, line);
    const iface = line.slice(0, colon).trim();
    const nums = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (iface === '' || nums.length < 16 || nums.some((n) => !Number.isFinite(n))) throw new ParseError(path, 'expected 16 counters', i + 1, line);
    out.push({ iface, rxBytes: nums[0]!, rxPackets: nums[1]!, txBytes: nums[8]!, txPackets: nums[9]! });
  });
  return out;
}

/** Received and sent bytes of a namespace, loopback left out (as `docker stats` NET I/O). */
export function netTotals(ifaces: NetDevCounters[]): { rxBytes: number; txBytes: number } {
  let rxBytes = 0;
  let txBytes = 0;
  for (const i of ifaces) {
    if (i.iface === 'lo') continue;
    rxBytes += i.rxBytes;
    txBytes += i.txBytes;
  }
  return { rxBytes, txBytes };
}

/** Every counter the exporter reports (cAdvisor's network series), per interface. */
export interface NetDevDetail extends NetDevCounters {
  rxErrors: number;
  rxDropped: number;
  txErrors: number;
  txDropped: number;
}

/**
 * parseNetDev's strict sibling for the exporter: exactly 16 counters, each an unsigned 64-bit
 * decimal read exactly (kept as the nearest double: Prometheus holds doubles), a name of at most
 * IFNAMSIZ − 1 = 15 characters, no interface listed twice; receive errs/drop and transmit
 * errs/drop as well (net/core/net-procfs.c dev_seq_printf_stats).
 */
export function parseNetDevDetail(text: string, path = 'net/dev'): NetDevDetail[] {
  const out: NetDevDetail[] = [];
  const seen = new Set<string>();
  lines(text).forEach((line, i) => {
    if (i < 2 || line.trim() === '') return;
    const colon = line.indexOf(':');
    if (colon < 0) throw new ParseError(path, 'expected "iface: counters"', i + 1, line);
    const iface = line.slice(0, colon).trim();
    if (iface === '' || iface.length > 15 || /\s/.test(iface)) throw new ParseError(path, 'bad interface name', i + 1, line);
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    if (fields.length !== 16) throw new ParseError(path, `expected 16 counters, found ${fields.length}`, i + 1, line);
    const n = fields.map((f) => {
      const v = bigDecimal(f);
      if (v === undefined || v < 0n || v > 0xffffffffffffffffn) throw new ParseError(path, `counter ${f.slice(0, 24)} is not a u64`, i + 1, line);
      return Number(v);
    });
    if (seen.has(iface)) throw new ParseError(path, `interface ${iface} listed twice`, i + 1, line);
    seen.add(iface);
    out.push({ iface, rxBytes: n[0]!, rxPackets: n[1]!, rxErrors: n[2]!, rxDropped: n[3]!, txBytes: n[8]!, txPackets: n[9]!, txErrors: n[10]!, txDropped: n[11]! });
  });
  return out;
}
