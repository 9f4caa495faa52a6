import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeCgroupFs } from '../../src/cgroup/fs.js';
import { detectCgroupLayout, type CgroupLayout } from '../../src/cgroup/layout.js';
import { parseMountInfo } from '../../src/parse/proc-mountinfo.js';

/**
 * A temp dir laid out like a host's /sys/fs/cgroup, with a little of the kernel's behaviour so the
 * manager's writes meet the same answers: mkdir makes the control files (names and defaults as
 * this machine's v1 children and a v2 host show them), cgroup.procs appends, cpu.shares clamps,
 * memory limits refuse usage above them and memory > memsw (EBUSY/EINVAL), cgroup.freeze updates
 * cgroup.events, cgroup.kill empties the cgroup, subtree_control merges `+ctrl` and gives children
 * their controllers' files, rmdir of a populated cgroup is EBUSY.
 */

const MAX = '9223372036854771712';

const V1_FILES: Record<string, Record<string, string>> = {
  cpu: { 'cpu.shares': '1024', 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1', 'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n' },
  cpuacct: { 'cpuacct.usage': '0', 'cpuacct.stat': 'user 0\nsystem 0\n' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '' },
  memory: {
    'memory.limit_in_bytes': MAX,
    'memory.memsw.limit_in_bytes': MAX,
    'memory.soft_limit_in_bytes': MAX,
    'memory.usage_in_bytes': '0',
    'memory.stat': 'cache 0\nrss 0\ninactive_file 0\ntotal_inactive_file 0\n',
    'memory.swappiness': '60',
    'memory.kmem.tcp.limit_in_bytes': '9223372036854771712',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
    'memory.failcnt': '0',
  },
  devices: { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm\n' },
  freezer: { 'freezer.state': 'THAWED' },
  blkio: { 'blkio.bfq.weight': '100' },
  pids: { 'pids.max': 'max', 'pids.current': '0' },
  'name=systemd': {},
};

const V2_CONTROLLER_FILES: Record<string, Record<string, string>> = {
  memory: { 'memory.max': 'max', 'memory.swap.max': 'max', 'memory.low': '0', 'memory.current': '0', 'memory.stat': 'anon 0\nfile 0\ninactive_file 0\n', 'memory.events': 'max 0\noom 0\noom_kill 0\n' },
  pids: { 'pids.max': 'max', 'pids.current': '0' },
  cpu: { 'cpu.max': 'max 100000', 'cpu.weight': '100', 'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '' },
  io: { 'io.weight': 'default 100', 'io.stat': '' },
};
const V2_CORE = { 'cgroup.procs': '', 'cgroup.subtree_control': '', 'cgroup.events': 'populated 0\nfrozen 0\n', 'cgroup.freeze': '0', 'cgroup.kill': '', 'cgroup.type': 'domain' };

const V1_MOUNTS = [
  ['cpu', 'cpu'],
  ['cpuacct', 'cpuacct'],
  ['cpuset', 'cpuset'],
  ['memory', 'memory'],
  ['devices', 'devices'],
  ['freezer', 'freezer'],
  ['blkio', 'blkio'],
  ['pids', 'pids'],
  ['systemd', 'name=systemd'],
] as const;

export type SimKind = 'v1' | 'hybrid' | 'v2';

export interface SimHost {
  root: string;
  layout: CgroupLayout;
  fs: SimCgroupFs;
  cleanup(): void;
}

/** this machine's mountinfo shape (v1 with cpu and cpuacct apart, name=systemd, maybe unified), or a pure v2 host */
export function simMountinfo(kind: SimKind): string {
  const lines = ['30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755'];
  if (kind === 'v2') return '26 23 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n';
  V1_MOUNTS.forEach(([dir, opt], i) => lines.push(`${31 + i} 30 0:${28 + i} / /sys/fs/cgroup/${dir} rw,relatime - cgroup cgroup rw,${opt}`));
  if (kind === 'hybrid') lines.push('40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw');
  return `${lines.join('\n')}\n`;
}

export function makeSimHost(kind: SimKind): SimHost {
  const root = mkdtempSync(join(tmpdir(), `hostscope-cgsim-${process.pid}-`));
  mkdirSync(join(root, 'proc'));
  const layout = detectCgroupLayout(parseMountInfo(simMountinfo(kind)));
  const fs = new SimCgroupFs(root, kind);
  for (const h of layout.hierarchies) {
    const dir = join(root, h.mountPoint);
    mkdirSync(dir, { recursive: true });
    if (h.version === 1) {
      writeFileSync(join(dir, 'cgroup.procs'), '');
      const key = h.controllers.join(',');
      // the root cgroup's cpuset spans the machine
      if (key === 'cpuset') {
        writeFileSync(join(dir, 'cpuset.cpus'), '0-1\n');
        writeFileSync(join(dir, 'cpuset.mems'), '0\n');
      }
      if (key === 'cpu') writeFileSync(join(dir, 'cpu.shares'), '1024\n');
    } else {
      for (const [f, v] of Object.entries(V2_CORE)) if (f !== 'cgroup.freeze' && f !== 'cgroup.kill') writeFileSync(join(dir, f), v);
      writeFileSync(join(dir, 'cgroup.controllers'), kind === 'v2' ? 'cpuset cpu io memory hugetlb pids\n' : 'hugetlb\n');
    }
  }
  return { root, layout, fs, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export class SimCgroupFs extends NodeCgroupFs {
  /** make the next N reads of freezer.state say FREEZING after a FROZEN write */
  freezingReads = 0;
  /** memory.usage_in_bytes given to new memory cgroups */
  memoryUsage = 0;
  readonly signals: { pid: number; signal: NodeJS.Signals | number }[] = [];

  constructor(
    root: string,
    readonly kind: SimKind,
  ) {
    super(root);
  }

  private real(path: string): string {
    return this.root + path;
  }

  private hierarchyOf(path: string): string {
    const rest = path.slice('/sys/fs/cgroup/'.length);
    if (this.kind === 'v2') return 'unified';
    const top = rest.split('/')[0]!;
    return top === 'systemd' ? 'name=systemd' : top;
  }

  override mkdir(path: string): void {
    super.mkdir(path);
    const h = this.hierarchyOf(path);
    const files: Record<string, string> = { 'cgroup.procs': '' };
    if (h === 'unified') {
      Object.assign(files, V2_CORE);
      if (this.kind === 'v2') {
        const parentCtl = this.readFile(`${path.slice(0, path.lastIndexOf('/'))}/cgroup.subtree_control`).split(/\s+/).filter(Boolean);
        files['cgroup.controllers'] = parentCtl.join(' ');
        for (const c of parentCtl) Object.assign(files, V2_CONTROLLER_FILES[c] ?? {});
      } else files['cgroup.controllers'] = '';
    } else {
      Object.assign(files, V1_FILES[h] ?? {});
      if (h === 'memory') files['memory.usage_in_bytes'] = String(this.memoryUsage);
    }
    for (const [f, v] of Object.entries(files)) writeFileSync(this.real(`${path}/${f}`), v);
  }

  override rmdir(path: string): void {
    const dir = this.real(path);
    const entries = readdirSync(dir);
    if (entries.some((e) => statSync(join(dir, e)).isDirectory())) throw Object.assign(new Error(`EBUSY: ${path}`), { code: 'EBUSY' });
    if (entries.includes('cgroup.procs') && this.readFile(`${path}/cgroup.procs`).trim() !== '') throw Object.assign(new Error(`EBUSY: ${path}`), { code: 'EBUSY' });
    for (const e of entries) unlinkSync(join(dir, e));
    super.rmdir(path);
  }

  override readFile(path: string): string {
    if (path.endsWith('/freezer.state') && this.freezingReads > 0 && super.readFile(path).trim() === 'FROZEN') {
      this.freezingReads--;
      return 'FREEZING\n';
    }
    return super.readFile(path);
  }

  override writeFile(path: string, data: string): void {
    const file = path.slice(path.lastIndexOf('/') + 1);
    const dir = path.slice(0, path.lastIndexOf('/'));
    if (!this.exists(path)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    const einval = (): never => {
      throw Object.assign(new Error(`EINVAL: ${path}`), { code: 'EINVAL' });
    };
    switch (file) {
      case 'cgroup.procs': {
        if (!/^\d+$/.test(data)) einval();
        const cur = super.readFile(path);
        super.writeFile(path, `${cur}${data}\n`);
        if (this.kind === 'v2' || this.hierarchyOf(path) === 'unified') this.setEvent(dir, 'populated', '1');
        return;
      }
      case 'cpu.shares': {
        const n = Math.min(262144, Math.max(2, Number(data)));
        super.writeFile(path, `${n}\n`);
        return;
      }
      case 'memory.limit_in_bytes': {
        const v = BigInt(data === '-1' ? MAX : data);
        if (v < BigInt(super.readFile(`${dir}/memory.usage_in_bytes`).trim())) throw Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
        if (v > BigInt(super.readFile(`${dir}/memory.memsw.limit_in_bytes`).trim())) einval();
        super.writeFile(path, `${v}\n`);
        return;
      }
      case 'memory.memsw.limit_in_bytes': {
        const v = BigInt(data === '-1' ? MAX : data);
        if (v < BigInt(super.readFile(`${dir}/memory.limit_in_bytes`).trim())) einval();
        super.writeFile(path, `${v}\n`);
        return;
      }
      case 'cgroup.subtree_control': {
        const have = new Set(super.readFile(path).split(/\s+/).filter(Boolean));
        const avail = new Set(super.readFile(`${dir}/cgroup.controllers`).split(/\s+/).filter(Boolean));
        for (const w of data.split(/\s+/).filter(Boolean)) {
          const c = w.slice(1);
          if (!avail.has(c)) einval();
          if (w.startsWith('+')) have.add(c);
          else if (w.startsWith('-')) have.delete(c);
          else einval();
        }
        super.writeFile(path, [...have].join(' '));
        return;
      }
      case 'cgroup.freeze':
        if (data !== '0' && data !== '1') einval();
        super.writeFile(path, data);
        this.setEvent(dir, 'frozen', data);
        return;
      case 'cgroup.kill':
        if (data !== '1') einval();
        for (const pid of super.readFile(`${dir}/cgroup.procs`).split('\n').filter(Boolean)) this.signals.push({ pid: Number(pid), signal: 'SIGKILL' });
        super.writeFile(`${dir}/cgroup.procs`, '');
        this.setEvent(dir, 'populated', '0');
        return;
      default:
        super.writeFile(path, data);
    }
  }

  private setEvent(dir: string, key: string, value: string): void {
    const path = `${dir}/cgroup.events`;
    const lines = super.readFile(path).split('\n').filter(Boolean).map((l) => (l.startsWith(`${key} `) ? `${key} ${value}` : l));
    super.writeFile(path, `${lines.join('\n')}\n`);
  }

  /** the `kill` a manager is given: records, and SIGKILL takes the pid out of every cgroup.procs */
  kill = (pid: number, signal: NodeJS.Signals | number): void => {
    this.signals.push({ pid, signal });
    if (signal !== 'SIGKILL' && signal !== 9) return;
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name === 'cgroup.procs') {
          const left = NodeCgroupFs.prototype.readFile
            .call(this, p.slice(this.root.length))
            .split('\n')
            .filter((l) => l !== '' && Number(l) !== pid);
          NodeCgroupFs.prototype.writeFile.call(this, p.slice(this.root.length), left.map((l) => `${l}\n`).join(''));
        }
      }
    };
    walk(join(this.root, 'sys/fs/cgroup'));
  };

  /** a file's content under the sim root, for assertions */
  content(path: string): string {
    return NodeCgroupFs.prototype.readFile.call(this, path);
  }
}
