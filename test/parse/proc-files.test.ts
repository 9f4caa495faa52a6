import { describe, expect, it } from 'vitest';
import { parseProcStat, isKernelThread } from '../../src/parse/proc-stat.js';
import { parseProcStatus, parseRangeList, seccompModeName } from '../../src/parse/proc-status.js';
import { parseProcCgroup } from '../../src/parse/proc-cgroup.js';
import { parseMountInfo, propagationText, unescapeOctal } from '../../src/parse/proc-mountinfo.js';
import { isIdentityMap, mapIdOut, parseIdMap, parseSetgroups } from '../../src/parse/proc-id-map.js';
import { parseCmdline, parseComm, parseEnviron } from '../../src/parse/proc-environ.js';
import { entryType, parseNsLink } from '../../src/parse/ns-link.js';
import { decodeBytes } from '../../src/parse/text.js';
import { ParseError } from '../../src/parse/errors.js';

const STATUS_6_18 = `Name:\tsleep
Umask:\t0022
State:\tS (sleeping)
Tgid:\t4329
Ngid:\t0
Pid:\t4329
PPid:\t4326
TracerPid:\t0
Uid:\t0\t1\t2\t3
Gid:\t4\t5\t6\t7
FDSize:\t64
Groups:\t10 27 
NStgid:\t4329\t1
NSpid:\t4329\t1
NSpgid:\t4326\t0
NSsid:\t960\t0
Kthread:\t0
VmPeak:\t    5496 kB
VmRSS:\t     896 kB
RssAnon:\t      92 kB
HugetlbPages:\t       0 kB
CoreDumping:\t0
THP_enabled:\t1
untag_mask:\t0xffffffffffffffff
Threads:\t1
SigQ:\t0/95711
SigPnd:\t0000000000000000
ShdPnd:\t0000000000000000
SigBlk:\t0000000000000000
SigIgn:\t0000000000000000
SigCgt:\t0000000000000000
CapInh:\t0000000000000000
CapPrm:\t000001ffffffffff
CapEff:\t000001ffffffffff
CapBnd:\t000001ffffffffff
CapAmb:\t0000000000000000
NoNewPrivs:\t1
Seccomp:\t2
Seccomp_filters:\t3
Speculation_Store_Bypass:\tthread vulnerable
SpeculationIndirectBranch:\tconditional enabled
Cpus_allowed:\t3
Cpus_allowed_list:\t0-1
Mems_allowed:\t00000000,00000000,00000000,00000001
Mems_allowed_list:\t0
voluntary_ctxt_switches:\t2
nonvoluntary_ctxt_switches:\t1
`;

describe('parseProcStatus (/proc/<pid>/status)', () => {
  it('reads every field of a 6.18 status file', () => {
    const s = parseProcStatus(STATUS_6_18);
    expect(s).toMatchObject({ name: 'sleep', umask: 0o022, state: 'S', stateName: 'sleeping', pid: 4329, ppid: 4326, threads: 1 });
    expect(s.uid).toEqual({ real: 0, effective: 1, saved: 2, fs: 3 });
    expect(s.gid).toEqual({ real: 4, effective: 5, saved: 6, fs: 7 });
    expect(s.nsPid).toEqual([4329, 1]);
    expect(s.nsSid).toEqual([960, 0]);
    expect(s.kthread).toBe(false);
    expect(s.memoryBytes.vmRssBytes).toBe(896 * 1024);
    expect(s.memoryBytes.rssAnonBytes).toBe(92 * 1024);
    expect(s.capEff).toBe(0x1ffffffffffn);
    expect(s.capAmb).toBe(0n);
    expect(s.noNewPrivs).toBe(true);
    expect(s.seccomp).toBe(2);
    expect(s.seccompFilters).toBe(3);
    expect(s.sigQueueLimit).toBe(95711);
    expect(s.cpusAllowedList).toBe('0-1');
  });

  it('E26: keeps keys it does not know (untag_mask, SpeculationIndirectBranch)', () => {
    const s = parseProcStatus(STATUS_6_18);
    expect(s.fields.untag_mask).toBe('0xffffffffffffffff');
    expect(s.fields.SpeculationIndirectBranch).toBe('conditional enabled');
    expect(s.fields.Mems_allowed).toBe('00000000,00000000,00000000,00000001');
  });

  it('E21: Groups with a trailing space gives numbers, an empty Groups gives []', () => {
    expect(parseProcStatus(STATUS_6_18).groups).toEqual([10, 27]);
    expect(parseProcStatus(STATUS_6_18.replace('Groups:\t10 27 ', 'Groups:\t ')).groups).toEqual([]);
  });

  it('E1: Name keeps ":" and tabs, and unescapes \\n and \\\\', () => {
    const s = parseProcStatus(STATUS_6_18.replace('Name:\tsleep', 'Name:\ta:b\\nc d\\\\e\tf)(x'));
    expect(s.name).toBe('a:b\nc d\\e\tf)(x');
    const k = parseProcStatus(STATUS_6_18.replace('Name:\tsleep', 'Name:\tkworker/0:0-events'));
    expect(k.name).toBe('kworker/0:0-events');
  });

  it('E3: a kernel thread has no Vm lines and Kthread: 1', () => {
    const kt = STATUS_6_18.split('\n')
      .filter((l) => !/^(Vm|Rss|HugetlbPages|CoreDumping|THP_enabled|untag_mask)/.test(l))
      .join('\n')
      .replace('Kthread:\t0', 'Kthread:\t1');
    const s = parseProcStatus(kt);
    expect(s.kthread).toBe(true);
    expect(s.memoryBytes).toEqual({});
    expect(s.coreDumping).toBeUndefined();
  });

  it('an old kernel without Kthread, Seccomp_filters and NS* lines still parses', () => {
    const old = STATUS_6_18.split('\n')
      .filter((l) => !/^(Kthread|Seccomp_filters|NS|untag_mask|Ngid)/.test(l))
      .join('\n');
    const s = parseProcStatus(old);
    expect(s.kthread).toBeUndefined();
    expect(s.seccompFilters).toBeUndefined();
    expect(s.nsPid).toBeUndefined();
    expect(s.seccomp).toBe(2);
  });

  it('a zombie: State Z', () => {
    expect(parseProcStatus(STATUS_6_18.replace('S (sleeping)', 'Z (zombie)')).stateName).toBe('zombie');
  });

  it('names the line of a malformed field', () => {
    expect(() => parseProcStatus(STATUS_6_18.replace('CapEff:\t000001ffffffffff', 'CapEff:\tzz'), '42/status')).toThrow(/line 34 of 42\/status: CapEff/);
    expect(() => parseProcStatus('garbage without colon\n', '9/status')).toThrow(ParseError);
  });

  it('seccomp modes by name', () => {
    expect([0, 1, 2, undefined].map(seccompModeName)).toEqual(['disabled', 'strict', 'filter', 'unsupported']);
  });

  it('range lists', () => {
    expect(parseRangeList('0-3,8,10-11')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseRangeList('')).toEqual([]);
    expect(() => parseRangeList('0-')).toThrow(ParseError);
  });
});

describe('parseProcStat (/proc/<pid>/stat)', () => {
  const tail = 'S 4326 4326 960 0 -1 4194560 106 0 0 0 0 0 0 0 20 0 1 0 123456 5627904 224 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0';
  it('E2: comm runs to the LAST ")", through spaces, newlines and parentheses', () => {
    const s = parseProcStat(`15393 (a:b\nc d\\e\tf)(x) ${tail}\n`);
    expect(s.comm).toBe('a:b\nc d\\e\tf)(x');
    expect(s).toMatchObject({ pid: 15393, state: 'S', ppid: 4326, numThreads: 1, startTimeTicks: 123456, rssPages: 224, processor: 1 });
  });
  it('kernel threads carry PF_KTHREAD in flags', () => {
    expect(isKernelThread(parseProcStat(`2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 ${'0 '.repeat(30)}`))).toBe(true);
    expect(isKernelThread(parseProcStat(`1 (x) ${tail}`))).toBe(false);
  });
  it('rejects a line with no comm', () => {
    expect(() => parseProcStat('12 S 1 2 3', '12/stat')).toThrow(/12\/stat/);
  });
});

describe('parseProcCgroup (/proc/<pid>/cgroup)', () => {
  it('E17: v1 multi-controller, named, and v2 lines; split at the first two ":" only', () => {
    const lines = parseProcCgroup('9:name=systemd:/\n2:cpu,cpuacct:/docker/abc\n0::/kubepods/pod1/cri:containerd:x\n');
    expect(lines).toEqual([
      { hierarchyId: 9, controllers: ['name=systemd'], path: '/' },
      { hierarchyId: 2, controllers: ['cpu', 'cpuacct'], path: '/docker/abc' },
      { hierarchyId: 0, controllers: [], path: '/kubepods/pod1/cri:containerd:x' },
    ]);
  });
  it('E18: paths from another cgroup namespace start with /..', () => {
    expect(parseProcCgroup('4:memory:/../..\n')[0]!.path).toBe('/../..');
  });
  it('rejects lines without two colons', () => {
    expect(() => parseProcCgroup('0:/x\n', '7/cgroup')).toThrow(/line 1 of 7\/cgroup/);
  });
});

describe('parseMountInfo (/proc/<pid>/mountinfo)', () => {
  it('E12/E13: octal escapes and optional propagation fields', () => {
    const [m] = parseMountInfo('312 25 0:54 /a\\011tab /tmp/mnt\\040test shared:1 master:2 rw,relatime - tmpfs my\\040src\\043x,y=z rw,size=1024k\n'.replace(' shared:1 master:2 rw,relatime', ' rw,relatime shared:1 master:2'));
    expect(m).toMatchObject({ mountId: 312, parentId: 25, major: 0, minor: 54, root: '/a\ttab', mountPoint: '/tmp/mnt test', fsType: 'tmpfs', source: 'my src#x,y=z' });
    expect(m!.propagation).toEqual([
      { kind: 'shared', peerGroup: 1 },
      { kind: 'master', peerGroup: 2 },
    ]);
    expect(m!.superOptions).toEqual(['rw', 'size=1024k']);
    expect(propagationText(m!.propagation)).toBe('shared:1 master:2');
  });
  it('E13: no optional fields is private; unbindable and propagate_from', () => {
    const ms = parseMountInfo('1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 0:5 / /x rw unbindable - tmpfs t rw\n3 1 0:6 / /y rw master:3 propagate_from:1 - tmpfs t rw\n');
    expect(propagationText(ms[0]!.propagation)).toBe('private');
    expect(ms[1]!.propagation).toEqual([{ kind: 'unbindable' }]);
    expect(ms[2]!.propagation[1]).toEqual({ kind: 'propagate_from', peerGroup: 1 });
  });
  it('E14: an empty source leaves two spaces', () => {
    const [m] = parseMountInfo('40 30 0:50 / /run/pasta rw,relatime - tmpfs  ro,size=4k\n');
    expect(m!.source).toBe('');
    expect(m!.superOptions).toEqual(['ro', 'size=4k']);
  });
  it('E15: no size cap (a 1.5 MiB table)', () => {
    const line = '100 25 0:99 / /var/lib/kubelet/pods/0123456789abcdef/volumes/kubernetes.io~projected/kube-api-access-x rw,relatime - tmpfs tmpfs rw,size=1024k\n';
    const text = line.repeat(Math.ceil((1.5 * 1024 * 1024) / line.length));
    expect(parseMountInfo(text)).toHaveLength(text.length / line.length);
  });
  it('major numbers above 255 are kept (259:1)', () => {
    expect(parseMountInfo('1 0 259:1 / / rw - ext4 /dev/nvme0n1p1 rw\n')[0]).toMatchObject({ major: 259, minor: 1 });
  });
  it('unescapeOctal leaves other backslashes', () => {
    expect(unescapeOctal('a\\134b\\012c')).toBe('a\\b\nc');
  });
  it('rejects a line without the separator', () => {
    expect(() => parseMountInfo('1 0 8:1 / / rw ext4 /dev/sda1 rw\n', 'self/mountinfo')).toThrow(/line 1 of self\/mountinfo/);
  });
});

describe('id maps (/proc/<pid>/uid_map, gid_map, setgroups)', () => {
  it('E20: right-aligned columns, several ranges, identity map', () => {
    const m = parseIdMap('         0       1000          1\n         1     100000      65536\n');
    expect(m).toEqual([
      { inside: 0, outside: 1000, count: 1 },
      { inside: 1, outside: 100000, count: 65536 },
    ]);
    expect(mapIdOut(m, 0)).toBe(1000);
    expect(mapIdOut(m, 1000)).toBe(100999);
    expect(mapIdOut(m, 70000)).toBeUndefined();
    expect(isIdentityMap(parseIdMap('         0          0 4294967295\n'))).toBe(true);
  });
  it('an empty map is a fresh user namespace', () => {
    expect(parseIdMap('')).toEqual([]);
  });
  it('rejects two columns', () => {
    expect(() => parseIdMap('0 1000\n')).toThrow(ParseError);
  });
  it('setgroups', () => {
    expect(parseSetgroups('deny\n')).toBe('deny');
    expect(() => parseSetgroups('maybe\n')).toThrow(ParseError);
  });
});

describe('environ, cmdline, comm', () => {
  it('E24: last entry without NUL kept; no "="; duplicates kept in order', () => {
    expect(parseEnviron(Buffer.from('A=1\0NOEQUALS\0A=2\0B=2'))).toEqual([
      { key: 'A', value: '1' },
      { key: 'NOEQUALS', value: undefined },
      { key: 'A', value: '2' },
      { key: 'B', value: '2' },
    ]);
    expect(parseEnviron(Buffer.from('K=a=b\0'))).toEqual([{ key: 'K', value: 'a=b' }]);
  });
  it('E24: cmdline keeps empty arguments and non-UTF-8 bytes', () => {
    expect(parseCmdline(Buffer.from('sh\0\0-c\0x\0'))).toEqual(['sh', '', '-c', 'x']);
    const [a] = parseCmdline(Buffer.from([0x61, 0xff, 0x62, 0]));
    expect(a).toBe('a\udcffb');
    expect(parseCmdline(Buffer.alloc(0))).toEqual([]);
  });
  it('decodeBytes keeps valid UTF-8 (and a real U+FFFD) as it is', () => {
    expect(decodeBytes(Buffer.from('héllo \uFFFD', 'utf8'))).toBe('héllo \uFFFD');
  });
  it('comm drops its newline', () => {
    expect(parseComm(Buffer.from('kworker/0:1\n'))).toBe('kworker/0:1');
  });
});

describe('namespace links (/proc/<pid>/ns/*)', () => {
  it('parses type and inode', () => {
    expect(parseNsLink('net:[4026531840]')).toEqual({ type: 'net', inode: 4026531840 });
    expect(parseNsLink('time:[4026531834]')).toEqual({ type: 'time', inode: 4026531834 });
  });
  it('E8: 64-bit-sized inodes are kept exactly (no uint32 truncation)', () => {
    expect(parseNsLink('mnt:[8589934593]').inode).toBe(8589934593);
  });
  it('E9: *_for_children entries name their type', () => {
    expect(entryType('pid_for_children')).toBe('pid');
    expect(entryType('time_for_children')).toBe('time');
  });
  it('rejects what is not a namespace link', () => {
    expect(() => parseNsLink('socket:[123]')).toThrow(ParseError);
    expect(() => parseNsLink('/dev/null')).toThrow(ParseError);
  });
});
