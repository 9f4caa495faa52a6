/**
 * Hand-made host dumps for layouts this VM cannot show: a cgroup v2 (unified) systemd host with
 * docker, podman and kubernetes containers, and the docker-on-cgroup-v1 host the seed articles
 * explore (CentOS 7, kernel 3.10: no cgroup or time namespaces). Every file has the exact format
 * the kernel writes (checked against this VM's own files and the seeds' listings); the numbers are
 * the seeds' where they give them. Run once; the output is committed under fixtures/hosts/.
 *
 *   node dist/scripts/synth-fixtures.js fixtures/hosts
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string[];
  state?: string;
  uid?: number;
  threads?: number;
  kthread?: boolean;
  ns: Record<string, number | undefined>;
  cgroup: string;
  environ?: string[];
  capInh?: string;
  capPrm?: string;
  capEff?: string;
  capBnd?: string;
  seccomp?: number;
  seccompFilters?: number;
  nnp?: number;
  nspid?: number[];
  uidMap?: string;
  gidMap?: string;
  setgroups?: string;
  mountinfo?: string;
  rssKb?: number;
}

const STATE_NAMES: Record<string, string> = { S: 'sleeping', R: 'running', Z: 'zombie', I: 'idle', D: 'disk sleep' };

function write(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

function statusText(p: Proc, modern: boolean): string {
  const st = p.state ?? 'S';
  const uid = p.uid ?? 0;
  const lines = [
    `Name:\t${p.comm.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`,
    'Umask:\t0022',
    `State:\t${st} (${STATE_NAMES[st]})`,
    `Tgid:\t${p.pid}`,
    'Ngid:\t0',
    `Pid:\t${p.pid}`,
    `PPid:\t${p.ppid}`,
    'TracerPid:\t0',
    `Uid:\t${uid}\t${uid}\t${uid}\t${uid}`,
    `Gid:\t${uid}\t${uid}\t${uid}\t${uid}`,
    'FDSize:\t64',
    'Groups:\t ',
    `NStgid:\t${(p.nspid ?? [p.pid]).join('\t')}`,
    `NSpid:\t${(p.nspid ?? [p.pid]).join('\t')}`,
    `NSpgid:\t${(p.nspid ?? [p.pid]).join('\t')}`,
    `NSsid:\t${(p.nspid ?? [p.pid]).join('\t')}`,
  ];
  if (modern) lines.push(`Kthread:\t${p.kthread ? 1 : 0}`);
  if (!p.kthread) {
    const rss = p.rssKb ?? 4096;
    lines.push(`VmPeak:\t  ${rss * 4} kB`, `VmSize:\t  ${rss * 4} kB`, 'VmLck:\t       0 kB', 'VmPin:\t       0 kB', `VmHWM:\t  ${rss} kB`, `VmRSS:\t  ${rss} kB`, `RssAnon:\t  ${rss / 2} kB`, `RssFile:\t  ${rss / 2} kB`, 'RssShmem:\t       0 kB', `VmData:\t  ${rss} kB`, 'VmStk:\t     132 kB', 'VmExe:\t    1024 kB', 'VmLib:\t    2048 kB', 'VmPTE:\t      64 kB', 'VmSwap:\t       0 kB', 'HugetlbPages:\t       0 kB', 'CoreDumping:\t0', 'THP_enabled:\t1');
  }
  lines.push(
    `Threads:\t${p.threads ?? 1}`,
    'SigQ:\t0/95711',
    'SigPnd:\t0000000000000000',
    'ShdPnd:\t0000000000000000',
    'SigBlk:\t0000000000000000',
    'SigIgn:\t0000000000001000',
    'SigCgt:\t0000000180004002',
    `CapInh:\t${p.capInh ?? '0000000000000000'}`,
    `CapPrm:\t${p.capPrm ?? (uid === 0 ? '000001ffffffffff' : '0000000000000000')}`,
    `CapEff:\t${p.capEff ?? (uid === 0 ? '000001ffffffffff' : '0000000000000000')}`,
    `CapBnd:\t${p.capBnd ?? '000001ffffffffff'}`,
    'CapAmb:\t0000000000000000',
    `NoNewPrivs:\t${p.nnp ?? 0}`,
    `Seccomp:\t${p.seccomp ?? 0}`,
  );
  if (modern) lines.push(`Seccomp_filters:\t${p.seccompFilters ?? 0}`);
  lines.push('Speculation_Store_Bypass:\tthread vulnerable', 'Cpus_allowed:\tf', 'Cpus_allowed_list:\t0-3', 'Mems_allowed:\t00000000,00000001', 'Mems_allowed_list:\t0', 'voluntary_ctxt_switches:\t150', 'nonvoluntary_ctxt_switches:\t7');
  return `${lines.join('\n')}\n`;
}

function statText(p: Proc): string {
  const flags = p.kthread ? 0x00208040 : 0x00400100;
  const f = [p.state ?? 'S', p.ppid, p.pid, p.pid, 0, -1, flags, 100, 0, 0, 0, 10, 5, 0, 0, 20, 0, p.threads ?? 1, 0, 1000 + p.pid, (p.rssKb ?? 0) * 4096, (p.rssKb ?? 0) / 4];
  return `${p.pid} (${p.comm}) ${f.join(' ')} 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n`;
}

function writeHost(dir: string, manifest: object, procs: Proc[], selfPid: number, sys: Record<string, string>, modern: boolean, absentNs: string[]): void {
  rmSync(dir, { recursive: true, force: true });
  const errors: Record<string, string> = {};
  for (const p of procs) {
    const base = join(dir, 'proc', String(p.pid));
    write(join(base, 'stat'), statText(p));
    write(join(base, 'status'), statusText(p, modern));
    write(join(base, 'comm'), `${p.comm}\n`);
    write(join(base, 'cmdline'), p.cmdline.length ? `${p.cmdline.join('\0')}\0` : '');
    if (p.kthread) errors[`proc/${p.pid}/environ`] = 'ESRCH';
    else write(join(base, 'environ'), p.environ?.length ? `${p.environ.join('\0')}\0` : '');
    write(join(base, 'cgroup'), p.cgroup);
    write(join(base, 'uid_map'), p.uidMap ?? '         0          0 4294967295\n');
    write(join(base, 'gid_map'), p.gidMap ?? '         0          0 4294967295\n');
    write(join(base, 'setgroups'), `${p.setgroups ?? 'allow'}\n`);
    if (p.mountinfo) write(join(base, 'mountinfo'), p.mountinfo);
    mkdirSync(join(base, 'ns'), { recursive: true });
    for (const [entry, inode] of Object.entries(p.ns)) {
      if (inode === undefined || absentNs.includes(entry)) continue;
      const type = entry === 'pid_for_children' ? 'pid' : entry === 'time_for_children' ? 'time' : entry;
      symlinkSync(`${type}:[${inode}]`, join(base, 'ns', entry));
    }
  }
  symlinkSync(String(selfPid), join(dir, 'proc', 'self'));
  write(join(dir, 'proc/sys/kernel/cap_last_cap'), modern ? '40\n' : '36\n');
  for (const [rel, text] of Object.entries(sys)) write(join(dir, 'sys', rel), text);
  write(join(dir, 'etc/passwd'), 'root:x:0:0:::\nsystemd-network:x:100:102:::\nredis:x:999:1000:::\nalice:x:1000:1000:::\nnobody:x:65534:65534:::\n');
  write(join(dir, 'MANIFEST.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  write(join(dir, 'errors.json'), `${JSON.stringify(errors, null, 2)}\n`);
}

const HOST_NS = { mnt: 4026531840, uts: 4026531838, ipc: 4026531839, pid: 4026531836, pid_for_children: 4026531836, net: 4026531992, user: 4026531837, cgroup: 4026531835, time: 4026531834, time_for_children: 4026531834 };

function nsOf(over: Partial<typeof HOST_NS>): Record<string, number> {
  const ns = { ...HOST_NS, ...over };
  if (over.pid !== undefined && over.pid_for_children === undefined) ns.pid_for_children = over.pid;
  return ns;
}

// ---------------------------------------------------------------- cgroup v2, systemd, docker/podman/k8s
function v2Host(dir: string): void {
  const redisId = '0a5ceea3df52e200d45772c4507b20d7c95a97dcd3939cb33a8d5bc1b842e334';
  const webId = '5fba1658e4ce7b6f1a1b8e3c0b7a1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c';
  const podId = '9d72cb96129c8b0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1';
  const kubeId = '246cf9479cdf0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9';
  const podUid = '6b3f7c2a_1d4e_4f5a_8b9c_0d1e2f3a4b5c';
  const redisCg = `/system.slice/docker-${redisId}.scope`;
  const webCg = `/system.slice/docker-${webId}.scope`;
  const podCg = `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${podId}.scope`;
  const kubeCg = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${podUid}.slice/cri-containerd-${kubeId}.scope`;
  const mountinfo = [
    '22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro',
    '23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
    '24 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw',
    '26 23 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot',
    '30 22 0:26 / /run rw,nosuid,nodev,noexec,relatime shared:12 - tmpfs tmpfs rw,size=811464k,mode=755',
    '412 30 0:4 net:[4026532410] /run/docker/netns/a1b2c3d4e5f6 rw shared:200 - nsfs nsfs rw',
    '530 30 0:4 net:[4026532900] /run/netns/blue rw shared:230 - nsfs nsfs rw',
    '',
  ].join('\n');
  const procs: Proc[] = [
    { pid: 1, ppid: 0, comm: 'systemd', cmdline: ['/sbin/init', 'splash'], ns: nsOf({}), cgroup: '0::/init.scope\n', mountinfo, threads: 1 },
    { pid: 2, ppid: 0, comm: 'kthreadd', cmdline: [], kthread: true, ns: nsOf({}), cgroup: '0::/\n' },
    { pid: 14, ppid: 2, comm: 'kworker/0:1-events', cmdline: [], kthread: true, state: 'I', ns: nsOf({}), cgroup: '0::/\n' },
    { pid: 700, ppid: 1, comm: 'containerd', cmdline: ['/usr/bin/containerd'], threads: 12, ns: nsOf({}), cgroup: '0::/system.slice/containerd.service\n', mountinfo },
    { pid: 800, ppid: 1, comm: 'dockerd', cmdline: ['/usr/bin/dockerd', '-H', 'fd://', '--containerd=/run/containerd/containerd.sock'], threads: 14, ns: nsOf({}), cgroup: '0::/system.slice/docker.service\n', mountinfo },
    { pid: 1200, ppid: 1, comm: 'containerd-shim', cmdline: ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'moby', '-id', redisId, '-address', '/run/containerd/containerd.sock'], threads: 10, ns: nsOf({}), cgroup: '0::/system.slice/containerd.service\n' },
    {
      pid: 1234, ppid: 1200, comm: 'redis-server', cmdline: ['redis-server *:6379'], uid: 999, threads: 5, rssKb: 8192,
      ns: nsOf({ mnt: 4026532407, uts: 4026532408, ipc: 4026532409, pid: 4026532411, net: 4026532410, cgroup: 4026532412 }),
      cgroup: `0::${redisCg}\n`, nspid: [1234, 1],
      environ: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=0a5ceea3df52', 'REDIS_VERSION=7.2.4', 'HOME=/data'],
      capInh: '0000000000000000', capPrm: '0000000000000000', capEff: '0000000000000000', capBnd: '00000000a80425fb', seccomp: 2, seccompFilters: 1,
    },
    { pid: 1290, ppid: 1, comm: 'containerd-shim', cmdline: ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'moby', '-id', webId], threads: 10, ns: nsOf({}), cgroup: '0::/system.slice/containerd.service\n' },
    {
      pid: 1300, ppid: 1290, comm: 'nginx', cmdline: ['nginx: master process nginx -g daemon off;'], threads: 1,
      ns: nsOf({ mnt: 4026532501, uts: 4026532502, ipc: 4026532503, pid: 4026532504, net: 4026532410, cgroup: 4026532505 }),
      cgroup: `0::${webCg}\n`, nspid: [1300, 1], environ: ['HOSTNAME=5fba1658e4ce', 'NGINX_VERSION=1.25.3'],
      capBnd: '00000000a80425fb', capPrm: '00000000a80425fb', capEff: '00000000a80425fb', seccomp: 2, seccompFilters: 1,
    },
    {
      pid: 1301, ppid: 1300, comm: 'nginx', cmdline: ['nginx: worker process'], uid: 101, threads: 1,
      ns: nsOf({ mnt: 4026532501, uts: 4026532502, ipc: 4026532503, pid: 4026532504, net: 4026532410, cgroup: 4026532505 }),
      cgroup: `0::${webCg}\n`, nspid: [1301, 29], capBnd: '00000000a80425fb', seccomp: 2, seccompFilters: 1,
    },
    { pid: 1390, ppid: 1, comm: 'conmon', cmdline: ['/usr/bin/conmon', '--api-version', '1', '-c', podId], uid: 1000, ns: nsOf({}), cgroup: `0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-${podId}.scope\n` },
    {
      pid: 1400, ppid: 1390, comm: 'sleep', cmdline: ['sleep', 'infinity'], uid: 1000, threads: 1,
      ns: nsOf({ user: 4026532600, mnt: 4026532601, uts: 4026532602, ipc: 4026532603, pid: 4026532604, net: 4026532605, cgroup: 4026532606 }),
      cgroup: `0::${podCg}\n`, nspid: [1400, 1], environ: ['HOSTNAME=rootless-pod', 'container=podman'],
      capBnd: '00000000800405fb', capPrm: '00000000800405fb', capEff: '00000000800405fb', seccomp: 2, seccompFilters: 1, nnp: 0,
      uidMap: '         0       1000          1\n         1     100000      65536\n', gidMap: '         0       1000          1\n         1     100000      65536\n', setgroups: 'allow',
    },
    {
      pid: 1500, ppid: 700, comm: 'pause', cmdline: ['/pause'], uid: 65535, threads: 1,
      ns: nsOf({ mnt: 4026532700, uts: 4026532701, ipc: 4026532702, pid: 4026532703, net: 4026532704, cgroup: 4026532705 }),
      cgroup: `0::${kubeCg}\n`, nspid: [1500, 1], capBnd: '00000000a80425fb', seccomp: 2, seccompFilters: 1, nnp: 1,
    },
  ];
  const v2 = (cg: string, files: Record<string, string>): Record<string, string> =>
    Object.fromEntries(Object.entries(files).map(([k, v]) => [`fs/cgroup${cg}/${k}`, v]));
  const container = (current: number, max: string, inactive: number, cpuUsec: number, throttled: number, cpuMax: string, pids: number, pidsMax: string, oomKill: number) => ({
    'cgroup.procs': '',
    'cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
    'memory.current': `${current}\n`,
    'memory.max': `${max}\n`,
    'memory.high': 'max\n',
    'memory.stat': `anon ${current - inactive - 4096}\nfile ${inactive + 4096}\nkernel 0\nactive_anon 0\ninactive_anon ${current - inactive - 4096}\nactive_file 4096\ninactive_file ${inactive}\n`,
    'memory.events': `low 0\nhigh 0\nmax ${oomKill * 12}\noom ${oomKill}\noom_kill ${oomKill}\noom_group_kill 0\n`,
    'memory.swap.current': '0\n',
    'cpu.stat': `usage_usec ${cpuUsec}\nuser_usec ${Math.round(cpuUsec * 0.7)}\nsystem_usec ${Math.round(cpuUsec * 0.3)}\nnr_periods ${throttled * 10}\nnr_throttled ${throttled}\nthrottled_usec ${throttled * 2500}\nnr_bursts 0\nburst_usec 0\n`,
    'cpu.max': `${cpuMax}\n`,
    'cpu.weight': '100\n',
    'pids.current': `${pids}\n`,
    'pids.max': `${pidsMax}\n`,
    'io.stat': '253:0 rbytes=1228800 wbytes=4096 rios=300 wios=1 dbytes=0 dios=0\n8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n',
  });
  const sys = {
    'fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
    'fs/cgroup/cgroup.subtree_control': 'cpuset cpu io memory pids\n',
    'fs/cgroup/cpu.stat': 'usage_usec 912345678\nuser_usec 600000000\nsystem_usec 312345678\n',
    ...v2(redisCg, container(12_582_912, '536870912', 4_194_304, 3_456_789, 0, 'max 100000', 5, '4096', 0)),
    ...v2(webCg, container(6_291_456, 'max', 1_048_576, 123_456, 42, '50000 100000', 2, 'max', 0)),
    ...v2(podCg, container(2_097_152, '268435456', 0, 1_000, 0, 'max 100000', 1, '2048', 1)),
    ...v2(kubeCg, container(1_048_576, '134217728', 0, 20_000, 7, '20000 100000', 1, '1024', 0)),
  };
  writeHost(dir, { name: 'v2-docker-systemd', description: 'hand-made: cgroup v2 (unified) systemd host, kernel 6.x, docker (redis, and nginx sharing its network namespace like --net=container:db), rootless podman with a user namespace, a kubernetes pod (cri-containerd), and a network namespace with no process kept by ip netns (/run/netns/blue)', capturedAt: 'hand-made', kernel: '6.8.0', cgroupMode: 'v2', nsfsDev: 4, selfPid: 800 }, procs, 800, sys, true, []);
}

// ---------------------------------------------------------------- cgroup v1, docker, the seeds' host
function v1DockerSeed(dir: string): void {
  const id = 'd3973eb73bec5e62bf47710d8607a87ce27973c3dcd653b39eae41da25564d4d';
  const dbId = 'f3b9624ce46c0d8a4e0e0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f';
  const hier = ['11:cpuset', '10:hugetlb', '9:perf_event', '8:pids', '7:freezer', '6:memory', '5:net_prio,net_cls', '4:devices', '3:blkio', '2:cpuacct,cpu', '1:name=systemd'];
  const cg = (path: string): string => `${hier.map((h) => `${h}:${path}`).join('\n')}\n`;
  const mounts = ['cpuset', 'hugetlb', 'perf_event', 'pids', 'freezer', 'memory', 'net_cls,net_prio', 'devices', 'blkio', 'cpu,cpuacct'];
  const mountinfo = [
    '18 60 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw',
    '19 60 0:3 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw',
    '24 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:7 - tmpfs tmpfs ro,mode=755',
    '25 24 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd',
    ...mounts.map((m, i) => `${27 + i} 24 0:${23 + i} / /sys/fs/cgroup/${m} rw,nosuid,nodev,noexec,relatime shared:${9 + i} - cgroup cgroup rw,${m}`),
    '60 1 253:0 / / rw,relatime shared:1 - xfs /dev/mapper/centos-root rw,attr2,inode64,noquota',
    '',
  ].join('\n');
  // kernel 3.10: no cgroup or time namespaces, no Kthread/Seccomp_filters lines
  const hostNs = { mnt: 4026531840, uts: 4026531838, ipc: 4026531839, pid: 4026531836, net: 4026531956, user: 4026531837 };
  const procs: Proc[] = [
    { pid: 1, ppid: 0, comm: 'systemd', cmdline: ['/usr/lib/systemd/systemd', '--switched-root', '--system', '--deserialize', '22'], ns: hostNs, cgroup: cg('/'), mountinfo },
    { pid: 2, ppid: 0, comm: 'kthreadd', cmdline: [], kthread: true, ns: hostNs, cgroup: cg('/') },
    { pid: 1046, ppid: 1, comm: 'dockerd', cmdline: ['/usr/bin/dockerd', '-H', 'fd://'], threads: 20, ns: hostNs, cgroup: cg('/system.slice/docker.service'), mountinfo },
    { pid: 25514, ppid: 1046, comm: 'containerd-shim', cmdline: ['containerd-shim', '-namespace', 'moby', '-workdir', `/var/lib/containerd/io.containerd.runtime.v1.linux/moby/${id}`], threads: 9, ns: hostNs, cgroup: cg('/system.slice/docker.service') },
    {
      pid: 25533, ppid: 25514, comm: 'http-server', cmdline: ['/http-server'], threads: 6, rssKb: 2564,
      ns: { ipc: 4026532462, mnt: 4026532460, net: 4026532524, pid: 4026532463, user: 4026531837, uts: 4026532461 },
      cgroup: cg(`/docker/${id}`), environ: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=d3973eb73bec'],
      capBnd: '00000000a80425fb', capPrm: '00000000a80425fb', capEff: '00000000a80425fb', seccomp: 2, nspid: [25533, 1],
    },
    { pid: 20890, ppid: 1046, comm: 'containerd-shim', cmdline: ['containerd-shim', '-namespace', 'moby'], threads: 9, ns: hostNs, cgroup: cg('/system.slice/docker.service') },
    {
      pid: 20892, ppid: 20890, comm: 'redis-server', cmdline: ['redis-server *:6379'], uid: 999, threads: 4,
      ns: { ipc: 4026532225, mnt: 4026532223, net: 4026532160, pid: 4026532226, user: 4026531837, uts: 4026532224 },
      cgroup: cg(`/docker/${dbId}`),
      environ: ['HOSTNAME=f3b9624ce46c', 'SHLVL=2', 'REDIS_DOWNLOAD_SHA=61db74eabf6801f057fd24b590232f2f337d422280fd19486eca03be87d3a82b', 'HOME=/home/redis', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'REDIS_DOWNLOAD_URL=http://download.redis.io/releases/redis-5.0.7.tar.gz', 'REDIS_VERSION=5.0.7', 'PWD=/data'],
      capInh: '00000000a80425fb', capPrm: '0000000000000000', capEff: '0000000000000000', capBnd: '00000000a80425fb', seccomp: 2, nspid: [20892, 1],
    },
  ];
  const at = (ctrl: string, path: string, files: Record<string, string>): Record<string, string> =>
    Object.fromEntries(Object.entries(files).map(([k, v]) => [`fs/cgroup/${ctrl}${path}/${k}`, v]));
  const v1 = (path: string, limit: string, usage: number, inactive: number, cpuNs: number, quota: string, pids: number, failcnt: number) => ({
    ...at('memory', path, {
      'memory.limit_in_bytes': `${limit}\n`,
      'memory.usage_in_bytes': `${usage}\n`,
      'memory.max_usage_in_bytes': `${usage + 409600}\n`,
      'memory.failcnt': `${failcnt}\n`,
      'memory.stat': `cache ${inactive + 8192}\nrss ${usage - inactive - 8192}\nmapped_file 0\ninactive_file ${inactive}\nactive_file 8192\nhierarchical_memory_limit ${limit}\ntotal_cache ${inactive + 8192}\ntotal_rss ${usage - inactive - 8192}\ntotal_inactive_file ${inactive}\ntotal_active_file 8192\n`,
      'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\n',
    }),
    ...at('cpu,cpuacct', path, {
      'cpuacct.usage': `${cpuNs}\n`,
      'cpuacct.stat': `user ${Math.round(cpuNs / 1e7 * 0.6)}\nsystem ${Math.round(cpuNs / 1e7 * 0.4)}\n`,
      'cpu.shares': '1024\n',
      'cpu.cfs_quota_us': `${quota}\n`,
      'cpu.cfs_period_us': '100000\n',
      'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n',
    }),
    ...at('pids', path, { 'pids.current': `${pids}\n`, 'pids.max': 'max\n' }),
    ...at('blkio', path, { 'blkio.throttle.io_service_bytes': '253:0 Read 1228800\n253:0 Write 0\n253:0 Sync 1228800\n253:0 Async 0\n253:0 Total 1228800\nTotal 1228800\n', 'blkio.throttle.io_serviced': '253:0 Read 300\n253:0 Write 0\n253:0 Sync 300\n253:0 Async 0\n253:0 Total 300\nTotal 300\n' }),
  });
  const sys = {
    ...v1(`/docker/${id}`, '9223372036854771712', 5_255_168, 1_048_576, 212_152_480_998, '-1', 6, 0),
    ...v1(`/docker/${dbId}`, '8000000', 7_958_528, 12_288, 3_141_592_653, '-1', 4, 17),
  };
  writeHost(dir, { name: 'v1-docker-seed', description: "hand-made from the seed articles: CentOS 7 style docker host, cgroup v1 only (11 hierarchies, cpu,cpuacct and net_cls,net_prio co-mounted), kernel 3.10 (no cgroup/time namespaces); the http-server container (docker top 25533) and the redis 'db' with the 8000000-byte limit the article sets", capturedAt: 'hand-made', kernel: '3.10.0-957.el7.x86_64', cgroupMode: 'v1', nsfsDev: 3, selfPid: 1046 }, procs, 1046, sys, false, []);
}

const out = process.argv[2] ?? 'fixtures/hosts';
v2Host(join(out, 'v2-docker-systemd'));
v1DockerSeed(join(out, 'v1-docker-seed'));
