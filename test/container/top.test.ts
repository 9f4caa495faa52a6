import { describe, expect, it } from 'vitest';
import { cpuTime, renderTop, stime, ttyName, type TopRow } from '../../src/container/top.js';
import { bytesSize } from '../../cli/container.js';

describe('docker top, pure parts', () => {
  it('TIME as procps: HH:MM:SS, days when past 24 h', () => {
    expect(cpuTime(0)).toBe('00:00:00');
    expect(cpuTime(100 * 3725)).toBe('01:02:05');
    expect(cpuTime(100 * (86400 * 2 + 1))).toBe('2-00:00:01');
  });
  it('STIME: HH:MM today, MonDD this year, the year before', () => {
    const now = Date.UTC(2026, 11, 1, 22, 0) / 1000;
    expect(stime(Date.UTC(2026, 11, 1, 9, 5) / 1000, now)).toBe('09:05');
    expect(stime(Date.UTC(2026, 5, 25, 9, 5) / 1000, now)).toBe('Jun25');
    expect(stime(Date.UTC(2025, 5, 25) / 1000, now)).toBe('2025');
  });
  it('TTY from tty_nr: pts (major 136+), tty, none', () => {
    expect(ttyName(0)).toBe('?');
    expect(ttyName((136 << 8) | 3)).toBe('pts/3');
    expect(ttyName((4 << 8) | 1)).toBe('tty1');
  });
  it('the table: tabwriter columns of at least 20, host strings escaped (seed 004 layout)', () => {
    const rows: TopRow[] = [
      { uid: 0, pid: 25533, ppid: 25514, cpuTicks: 0, startTicks: 100 * 1000, ttyNr: 0, cmd: ['/http-server'], comm: 'http-server' },
      { uid: 1000, pid: 25600, ppid: 25533, cpuTicks: 250, startTicks: 100 * 2000, ttyNr: 0, cmd: [], comm: 'k\x1bthread' },
    ];
    const out = renderTop(rows, { btime: Date.UTC(2026, 11, 1, 0, 0) / 1000, uptime: 4000 }, (u) => (u === 0 ? 'root' : String(u)));
    expect(out).toBe(
      'UID                 PID                 PPID                C                   STIME               TTY                 TIME                CMD\n' +
        'root                25533               25514               0                   00:16               ?                   00:00:00            /http-server\n' +
        '1000                25600               25533               0                   00:33               ?                   00:00:02            [k\\x1bthread]\n',
    );
  });
  it('docker stats sizes (units.BytesSize)', () => {
    expect(bytesSize(428 * 1024)).toBe('428KiB');
    expect(bytesSize(32 * 1024 * 1024)).toBe('32MiB');
    expect(bytesSize(1536 * 1024)).toBe('1.5MiB');
    expect(bytesSize(100)).toBe('100B');
  });
});
