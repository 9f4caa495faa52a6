import { describe, expect, it } from 'vitest';
import { netTotals, parseNetDev } from '../../src/parse/proc-net-dev.js';
import { parsePressure } from '../../src/parse/pressure.js';

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0
  eth0:1234567890   100    0    0    0     0          0         0    42       1    0    0    0     0       0          0
veth-a:  10 1 0 0 0 0 0 0  20 2 0 0 0 0 0 0
`;

describe('/proc/<pid>/net/dev', () => {
  it("parses every interface, the colon touching the first counter (eth0:1234…; names cannot hold ':', see dev_valid_name)", () => {
    const r = parseNetDev(NET_DEV);
    expect(r.map((i) => i.interface)).toEqual(['lo', 'eth0', 'veth-a']);
    expect(r[1]).toEqual({ interface: 'eth0', rxBytes: 1234567890, rxPackets: 100, rxErrors: 0, rxDropped: 0, txBytes: 42, txPackets: 1, txErrors: 0, txDropped: 0 });
  });
  it('totals leave the loopback out, as docker stats does', () => {
    expect(netTotals(parseNetDev(NET_DEV))).toEqual({ rxBytes: 1234567900, txBytes: 62 });
  });
  it('a namespace with only lo (a fresh netns) totals zero', () => {
    expect(netTotals(parseNetDev(NET_DEV.split('\n').slice(0, 3).join('\n')))).toEqual({ rxBytes: 0, txBytes: 0 });
  });
  it('a short line is a parse error naming the line', () => {
    expect(() => parseNetDev('h|\nh|\n eth0: 1 2 3\n', '7/net/dev')).toThrow(/line 3 of 7\/net\/dev/);
  });
});

describe('PSI files', () => {
  it('parses some and full', () => {
    const p = parsePressure('some avg10=1.50 avg60=0.20 avg300=0.00 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
    expect(p.some).toEqual({ avg10: 1.5, avg60: 0.2, avg300: 0, totalUsec: 12345 });
    expect(p.full?.totalUsec).toBe(0);
  });
  it('cpu.pressure before 5.13 has no full line', () => {
    expect(parsePressure('some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n').full).toBeUndefined();
  });
  it('rejects a line that is neither some nor full', () => {
    expect(() => parsePressure('most avg10=1\n', 'cpu.pressure')).toThrow(/cpu.pressure/);
  });
});
