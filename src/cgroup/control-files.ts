import type { ProcSource } from '../source/source.js';
import { isProcError } from '../source/errors.js';
import { lines } from '../parse/text.js';
import { V1_UNLIMITED_THRESHOLD } from '../parse/cgroupfs-format.js';
import { formatBytes } from '../util/units.js';
import { exactInteger } from '../parse/numbers.js';

export interface ControlFile {
  file: string;
  /** the file's lines; empty for an empty file */
  lines: string[];
  /** what the value means, for files whose numbers need it ("unlimited", "512.0 MiB") */
  meaning: string | undefined;
  /**
   * why it could not be read (write-only files like cgroup.kill are skipped): the errno, or for a
   * file refused by the source the reason (`larger than its 4 MiB cap`, `not a regular file (a FIFO)`)
   */
  error: string | undefined;
}

const WRITE_ONLY = new Set(['cgroup.kill', 'cgroup.event_control', 'memory.force_empty', 'memory.reclaim', 'cgroup.procs.writeonly']);

/** Every readable control file of a cgroup directory, sorted by name, each read whole. */
export function readControlFiles(src: ProcSource, dir: string): ControlFile[] {
  const out: ControlFile[] = [];
  const entries = src.listSys(dir).filter((e) => !e.isDir && !WRITE_ONLY.has(e.name)).map((e) => e.name).sort();
  for (const file of entries) {
    try {
      const text = src.readSysText(`${dir}/${file}`);
      const ls = lines(text);
      out.push({ file, lines: ls, meaning: explainControlFile(file, ls), error: undefined });
    } catch (e) {
      if (!isProcError(e)) throw e;
      out.push({ file, lines: [], meaning: undefined, error: e.code === 'TOO_BIG' || e.code === 'UNSAFE' ? refusal(e.message) : e.errno ?? e.code });
    }
  }
  return out;
}

/** `cannot read /x/y: not a regular file (a FIFO)` → `not a regular file (a FIFO)` */
function refusal(message: string): string {
  const m = /: ((?:larger than|not a regular|would block|it leads outside|refusing)[^]*)$/.exec(message);
  return m ? m[1]!.replace(/ \(to .*\)$/, '') : message;
}

const BYTE_FILES = /^(memory\.[\w.]*_in_bytes|memory\.(current|max|high|low|min|peak|swap\.current|swap\.max|swap\.peak|zswap\.current|zswap\.max))$/;

/** A short meaning for the values people misread: unlimited markers, bytes, quotas. */
export function explainControlFile(file: string, ls: string[]): string | undefined {
  if (ls.length !== 1) return undefined;
  const v = ls[0]!.trim();
  // junk explains nothing: never `NaN ms`
  const int = (t: string | undefined): number | undefined => (t === undefined ? undefined : exactInteger(t));
  const n = int(v);
  if (BYTE_FILES.test(file)) {
    if (v === 'max') return 'unlimited';
    if (n === undefined || n < 0) return undefined;
    if (n >= V1_UNLIMITED_THRESHOLD) return 'unlimited';
    return formatBytes(n);
  }
  switch (file) {
    case 'pids.max':
      return v === 'max' ? 'unlimited' : undefined;
    case 'cpu.cfs_quota_us':
      return v === '-1' ? 'no quota' : n === undefined || n < 0 ? undefined : `${n / 1000} ms per period`;
    case 'cpu.cfs_period_us':
      return n === undefined || n <= 0 ? undefined : `${n / 1000} ms`;
    case 'cpu.max': {
      const [qt, pt, extra] = v.split(/\s+/);
      const q = qt === 'max' ? null : int(qt);
      const p = int(pt);
      if (q === undefined || p === undefined || p <= 0 || extra !== undefined) return undefined;
      return q === null ? `no quota (period ${p / 1000} ms)` : `${(q / p).toFixed(2)} CPUs (${q / 1000} ms per ${p / 1000} ms)`;
    }
    case 'cpu.shares':
      return n === undefined || n < 0 ? undefined : `${(n / 1024).toFixed(2)}× the default weight`;
    case 'cpu.weight':
      return n === undefined || n < 0 ? undefined : `${(n / 100).toFixed(2)}× the default weight`;
    case 'cpuacct.usage':
      return /^[0-9]{1,20}$/.test(v) ? `${(Number(BigInt(v) / 1_000_000n) / 1000).toFixed(3)} s of CPU` : undefined;
    case 'freezer.state':
    case 'cgroup.freeze':
      return v === '1' ? 'frozen' : v === '0' ? 'thawed' : undefined;
    default:
      return undefined;
  }
}
