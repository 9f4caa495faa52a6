/**
 * `hostscope top` — docker top's default view (`ps -ef` columns: UID PID PPID C STIME TTY TIME CMD)
 * of a container's processes with host pids, from our own model (src/inspect) rather than ps.
 * `renderTop` is pure; `topRows` reads through the ProcSource.
 */
import type { ProcSource } from '../source/source.js';
import { inspectHost } from '../inspect/host.js';
import { escapeControl } from '../render/escape.js';
import { parsePasswd } from '../parse/passwd.js';

export interface TopRow {
  uid: number;
  pid: number;
  ppid: number;
  /** ticks of CPU (user + system) */
  cpuTicks: number;
  /** ticks since boot when it started */
  startTicks: number;
  ttyNr: number;
  cmd: string[];
  comm: string;
}

export const CLK_TCK = 100;

/** the container's processes (by its runtime id), sorted by pid */
export function topRows(src: ProcSource, id: string): TopRow[] | undefined {
  const model = inspectHost(src, { containers: true, files: ['stat', 'status', 'cmdline'] });
  const c = model.containers.find((x) => x.id === id);
  if (!c) return undefined;
  const byPid = new Map(model.snapshot.processes.map((p) => [p.pid, p]));
  const rows: TopRow[] = [];
  for (const pid of [...c.pids].sort((a, b) => a - b)) {
    const p = byPid.get(pid);
    if (!p?.stat) continue;
    rows.push({
      uid: p.ids?.uid.effective ?? -1,
      pid,
      ppid: p.stat.ppid,
      cpuTicks: p.stat.utimeTicks + p.stat.stimeTicks,
      startTicks: p.stat.startTimeTicks,
      ttyNr: p.stat.ttyNr,
      cmd: p.cmdline ?? [],
      comm: p.stat.comm,
    });
  }
  return rows;
}

/** the host's boot time (seconds since the epoch) and uptime in seconds */
export function readClock(src: ProcSource): { btime: number; uptime: number } {
  const stat = src.readProcText('stat');
  const btime = Number(/^btime (\d+)$/m.exec(stat)?.[1] ?? 0);
  const uptime = Number(src.readProcText('uptime').split(' ')[0] ?? 0);
  return { btime, uptime };
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** procps' STIME: HH:MM today, `MonDD` this year, else the year (UTC here: the VM's zone) */
export function stime(startEpoch: number, nowEpoch: number): string {
  const d = new Date(startEpoch * 1000);
  const n = new Date(nowEpoch * 1000);
  if (nowEpoch - startEpoch < 24 * 3600 && d.getUTCDate() === n.getUTCDate()) return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
  if (d.getUTCFullYear() === n.getUTCFullYear()) return `${MONTHS[d.getUTCMonth()]}${two(d.getUTCDate())}`;
  return String(d.getUTCFullYear());
}

/** procps' TIME: [DD-]HH:MM:SS of CPU */
export function cpuTime(ticks: number): string {
  const s = Math.floor(ticks / CLK_TCK);
  const days = Math.floor(s / 86400);
  const hms = `${two(Math.floor((s % 86400) / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
  return days ? `${days}-${hms}` : hms;
}

/** tty_nr → pts/N, ttyN, or ? */
export function ttyName(nr: number): string {
  if (nr === 0) return '?';
  const major = (nr >> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`;
  if (major === 4 && minor < 64) return `tty${minor}`;
  return '?';
}

/** docker top's table: ps -ef's columns through Go's tabwriter (minwidth 20, padding 3), as seed 004 shows it */
export function renderTop(rows: TopRow[], clock: { btime: number; uptime: number }, userName: (uid: number) => string): string {
  const now = clock.btime + clock.uptime;
  const cells = rows.map((r) => {
    const start = clock.btime + r.startTicks / CLK_TCK;
    const elapsed = Math.max(clock.uptime - r.startTicks / CLK_TCK, 0.001);
    const c = Math.floor((r.cpuTicks / CLK_TCK / elapsed) * 100);
    const cmd = r.cmd.length ? r.cmd.join(' ') : `[${r.comm}]`;
    return [userName(r.uid), String(r.pid), String(r.ppid), String(Math.min(c, 99)), stime(Math.floor(start), Math.floor(now)), ttyName(r.ttyNr), cpuTime(r.cpuTicks), escapeControl(cmd)];
  });
  const head = ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'];
  const w = head.map((h, i) => Math.max(20, Math.max(h.length, ...cells.map((c) => c[i]!.length)) + 3));
  const line = (c: string[]) => `${c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(w[i]!))).join('')}\n`;
  return line(head) + cells.map(line).join('');
}

/** uid → name from the host's /etc/passwd (as ps does), else the number */
export function passwdNames(src: ProcSource): (uid: number) => string {
  const names = parsePasswd(src.readEtc('passwd') ?? '');
  return (uid) => (uid < 0 ? '?' : escapeControl(names.get(uid) ?? String(uid)));
}
