import { ParseError } from './errors.js';
import { lines } from './text.js';

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
