import type { ProcSource } from '../source/source.js';
import { isProcError } from '../source/errors.js';
import { lines } from '../parse/text.js';
import { V1_UNLIMITED_THRESHOLD } from '../parse/cgroupfs-format.js';
import { formatBytes } from '../util/units.js';

export interface ControlFile {
  file: string;
  /** the file's lines; empty for an empty file */
  lines: string[];
  /** what the value means, for files whose numbers need it ("unlimited", "512.0 MiB") */
  meaning: string | undefined;
  /** why it could not be read (write-only files like cgroup.kill are skipped) */
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
      out.push({ file, lines: [], meaning: undefined, error: e.errno ?? e.code });
    }
  }
  return out;
}

const BYTE_FILES = /^(memory\.[\w.]*_in_bytes|memory\.(current|max|high|low|min|peak|swap\.current|swap\.max|swap\.peak|zswap\.current|zswap\.max))$/;

/** A short meaning for the values people misread: unlimited markers, bytes, quotas. */
export function explainControlFile(file: string, ls: string[]): string | undefined {
  if (ls.length !== 1) return undefined;
  const v = ls[0]!.trim();
  if (BYTE_FILES.test(file)) {
    if (v === 'max') return 'unlimited';
    const n = Number(v);
    if (!Number.isFinite(n)) return undefined;
    if (n >= V1_UNLIMITED_THRESHOLD) return 'unlimited';
    return formatBytes(n);
  }
  switch (file) {
    case 'pids.max':
      return v === 'max' ? 'unlimited' : undefined;
    case 'cpu.cfs_quota_us':
      return v === '-1' ? 'no quota' : `${Number(v) / 1000} ms per period`;
    case 'cpu.cfs_period_us':
      return `${Number(v) / 1000} ms`;
    case 'cpu.max': {
      const [q, p] = v.split(/\s+/);
      const period = Number(p) / 1000;
      return q === 'max' ? `no quota (period ${period} ms)` : `${(Number(q) / Number(p)).toFixed(2)} CPUs (${Number(q) / 1000} ms per ${period} ms)`;
    }
    case 'cpu.shares':
      return `${(Number(v) / 1024).toFixed(2)}× the default weight`;
    case 'cpu.weight':
      return `${(Number(v) / 100).toFixed(2)}× the default weight`;
    case 'cpuacct.usage':
      return `${(Number(v) / 1e9).toFixed(3)} s of CPU`;
    case 'freezer.state':
    case 'cgroup.freeze':
      return v === '1' ? 'frozen' : v === '0' ? 'thawed' : undefined;
    default:
      return undefined;
  }
}
