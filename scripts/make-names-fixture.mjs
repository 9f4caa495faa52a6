#!/usr/bin/env node
/**
 * Writes fixtures/hosts/v2-runtimes-names: a hand-made cgroup v2 host with one container of each
 * runtime hostscope names without a daemon (issue 10), and the files each runtime leaves on disk
 * under root/ (the dump's view of the host's /var/lib and /run), in the runtimes' real formats:
 * containerd CRI (a pod: pause sandbox + nginx, one shim), CRI-O (conmon), podman (conmon -n),
 * nerdctl (name store), systemd-nspawn (machine-NAME.scope, escaped), LXC (lxc.payload.NAME),
 * hostscope's runtime (runc-ts state.json annotations), docker compose (labels), and hostile
 * docker configs (a name with terminal escapes, invalid JSON, a symlink out of the dump).
 * Host pids 1, 2 and the capturing process are copied from v2-docker-systemd.
 *
 *   node scripts/make-names-fixture.mjs   (rewrites the directory; review the diff)
 */
import { cpSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'hosts');
const OUT = join(ROOT, 'v2-runtimes-names');
const BASE = join(ROOT, 'v2-docker-systemd');
rmSync(OUT, { recursive: true, force: true });
mkdirSync(join(OUT, 'proc'), { recursive: true });
for (const p of ['1', '2', '800', 'sys']) cpSync(join(BASE, 'proc', p), join(OUT, 'proc', p), { recursive: true, verbatimSymlinks: true });
symlinkSync('800', join(OUT, 'proc', 'self'));
cpSync(join(BASE, 'etc'), join(OUT, 'etc'), { recursive: true });
mkdirSync(join(OUT, 'sys', 'fs', 'cgroup'), { recursive: true });
writeFileSync(join(OUT, 'sys', 'fs', 'cgroup', 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
writeFileSync(join(OUT, 'errors.json'), '{}\n');
writeFileSync(
  join(OUT, 'MANIFEST.json'),
  `${JSON.stringify(
    {
      name: 'v2-runtimes-names',
      description: 'hand-made by scripts/make-names-fixture.mjs: one container per runtime named without a daemon (containerd CRI pod, CRI-O, podman, nerdctl, systemd-nspawn, LXC, runc-ts, docker compose) and hostile docker configs, with the files the runtimes leave under root/',
      capturedAt: 'hand-made',
      kernel: '6.8.0',
      cgroupMode: 'v2',
      nsfsDev: 4,
      selfPid: 800,
    },
    null,
    2,
  )}\n`,
);

// the host's namespaces are pid 1's (copied from the base dump): shims, conmon and monitors run in
// them, as on a real host (a typo here once put them in a made-up mnt+net pair of their own, so
// they were grouped into one bogus "containerd-shim" container)
const HOST_NS = Object.fromEntries(
  ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'].map((t) => [t, Number(/\[(\d+)\]$/.exec(readlinkSync(join(BASE, 'proc', '1', 'ns', t)))[1])]),
);
let nextIno = 4026532700;
const fresh = () => nextIno++;
const hex = (seed) => Array.from({ length: 64 }, (_, i) => ((seed * 7 + i * 13) % 16).toString(16)).join('');

function file(rel, text) {
  const path = join(OUT, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** one process dir; ns: the namespaces (types missing are the host's) */
function proc({ pid, ppid, comm, argv, cgroup, ns = {}, nspid, uid = 0, start }) {
  const d = `proc/${pid}`;
  const all = { ...HOST_NS, ...ns };
  mkdirSync(join(OUT, d, 'ns'), { recursive: true });
  for (const [t, ino] of Object.entries(all)) symlinkSync(`${t}:[${ino}]`, join(OUT, d, 'ns', t));
  symlinkSync(`pid:[${all.pid}]`, join(OUT, d, 'ns', 'pid_for_children'));
  symlinkSync(`time:[${all.time}]`, join(OUT, d, 'ns', 'time_for_children'));
  file(`${d}/cmdline`, `${argv.join('\0')}\0`);
  file(`${d}/comm`, `${comm}\n`);
  file(`${d}/cgroup`, `0::${cgroup}\n`);
  file(`${d}/environ`, '');
  file(`${d}/uid_map`, '         0          0 4294967295\n');
  file(`${d}/gid_map`, '         0          0 4294967295\n');
  file(`${d}/setgroups`, 'allow\n');
  file(`${d}/stat`, `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 1 0 ${start ?? pid * 10} 33554432 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n`);
  const nsPid = nspid === undefined ? `${pid}` : `${pid}\t${nspid}`;
  file(
    `${d}/status`,
    [
      `Name:\t${comm}`, 'Umask:\t0022', 'State:\tS (sleeping)', `Tgid:\t${pid}`, 'Ngid:\t0', `Pid:\t${pid}`, `PPid:\t${ppid}`, 'TracerPid:\t0',
      `Uid:\t${uid}\t${uid}\t${uid}\t${uid}`, `Gid:\t${uid}\t${uid}\t${uid}\t${uid}`, 'FDSize:\t64', 'Groups:\t ',
      `NStgid:\t${nsPid}`, `NSpid:\t${nsPid}`, `NSpgid:\t${nsPid}`, `NSsid:\t${nsPid}`, 'Kthread:\t0', 'Threads:\t1',
      'CapInh:\t0000000000000000', 'CapPrm:\t00000000a80425fb', 'CapEff:\t00000000a80425fb', 'CapBnd:\t00000000a80425fb', 'CapAmb:\t0000000000000000',
      'NoNewPrivs:\t0', 'Seccomp:\t2', 'Seccomp_filters:\t1', '',
    ].join('\n'),
  );
}

/** a container's own namespaces */
const own = (types = ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup']) => Object.fromEntries(types.map((t) => [t, fresh()]));
const json = (v) => `${JSON.stringify(v, null, 2)}\n`;
const ociConfig = (annotations, hostname) => json({ ociVersion: '1.1.0', process: { args: ['/bin/sh'], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], cwd: '/' }, root: { path: 'rootfs' }, hostname, annotations, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } });
const dockerConfig = (id, name, image, labels, pid) =>
  json({
    State: { Running: true, Pid: pid, StartedAt: '2026-11-30T08:00:00.000000000Z' },
    ID: id,
    Created: '2026-11-30T07:59:59.000000000Z',
    Path: 'docker-entrypoint.sh',
    Args: [],
    Config: { Hostname: id.slice(0, 12), Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'POSTGRES_PASSWORD=<redacted>'], Image: image, Labels: labels },
    Image: `sha256:${hex(99)}`,
    Name: name,
    Driver: 'overlay2',
    HostnamePath: `/var/lib/docker/containers/${id}/hostname`,
  });

// 1. containerd CRI: pod shop/web-7d9f4 = pause sandbox + nginx, one shim whose cwd is the sandbox bundle
{
  const podUid = '3c5e1a2b_4d6f_4a8b_9c0d_1e2f3a4b5c6d';
  const sandbox = hex(1);
  const app = hex(2);
  const slice = `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${podUid}.slice`;
  const podNs = own(['uts', 'ipc', 'net']);
  proc({ pid: 3000, ppid: 1, comm: 'containerd-shim', argv: ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'k8s.io', '-id', sandbox, '-address', '/run/containerd/containerd.sock'], cgroup: '/system.slice/containerd.service' });
  symlinkSync(`/run/containerd/io.containerd.runtime.v2.task/k8s.io/${sandbox}`, join(OUT, 'proc/3000/cwd'));
  proc({ pid: 3010, ppid: 3000, comm: 'pause', argv: ['/pause'], cgroup: `${slice}/cri-containerd-${sandbox}.scope`, ns: { ...podNs, ...own(['mnt', 'pid', 'cgroup']) }, nspid: 1, uid: 65535 });
  proc({ pid: 3020, ppid: 3000, comm: 'nginx', argv: ['nginx: master process nginx -g daemon off;'], cgroup: `${slice}/cri-containerd-${app}.scope`, ns: { ...podNs, ...own(['mnt', 'pid', 'cgroup']) }, nspid: 1 });
  const base = '/run/containerd/io.containerd.runtime.v2.task/k8s.io';
  const common = { 'io.kubernetes.cri.sandbox-id': sandbox, 'io.kubernetes.cri.sandbox-name': 'web-7d9f4', 'io.kubernetes.cri.sandbox-namespace': 'shop', 'io.kubernetes.cri.sandbox-uid': podUid.replace(/_/g, '-') };
  file(`root${base}/${sandbox}/config.json`, ociConfig({ ...common, 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-log-directory': `/var/log/pods/shop_web-7d9f4_${podUid}` }, 'web-7d9f4'));
  file(`root${base}/${app}/config.json`, ociConfig({ ...common, 'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.container-name': 'nginx', 'io.kubernetes.cri.image-name': 'docker.io/library/nginx:1.27' }));
}

// 2. CRI-O: pod data/cache-0, conmon -b the bundle
{
  const podUid = '8a9b0c1d_2e3f_4a5b_8c7d_9e0f1a2b3c4d';
  const id = hex(3);
  const userdata = `/run/containers/storage/overlay-containers/${id}/userdata`;
  proc({ pid: 3100, ppid: 1, comm: 'conmon', argv: ['/usr/bin/conmon', '-b', userdata, '-c', id, '--exit-dir', '/var/run/crio/exits', '-n', `k8s_redis_cache-0_data_${podUid.replace(/_/g, '-')}_0`, '-r', '/usr/bin/runc'], cgroup: '/system.slice/crio-conmon-' + id + '.scope' });
  proc({ pid: 3110, ppid: 3100, comm: 'redis-server', argv: ['redis-server *:6379'], cgroup: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${podUid}.slice/crio-${id}.scope`, ns: own(), nspid: 1, uid: 999 });
  file(
    `root${userdata}/config.json`,
    ociConfig({ 'io.kubernetes.container.name': 'redis', 'io.kubernetes.pod.name': 'cache-0', 'io.kubernetes.pod.namespace': 'data', 'io.kubernetes.pod.uid': podUid.replace(/_/g, '-'), 'io.kubernetes.cri-o.ContainerType': 'container', 'io.kubernetes.cri-o.ImageName': 'docker.io/library/redis:7.2', 'io.kubernetes.cri-o.Name': `k8s_redis_cache-0_data_${podUid.replace(/_/g, '-')}_0` }),
  );
}

// 3. podman: conmon -n webapp; its bundle says only io.container.manager
{
  const id = hex(4);
  const userdata = `/var/lib/containers/storage/overlay-containers/${id}/userdata`;
  proc({ pid: 3200, ppid: 1, comm: 'conmon', argv: ['/usr/bin/conmon', '--api-version', '1', '-c', id, '-u', id, '-r', '/usr/bin/crun', '-b', userdata, '-p', `/run/containers/storage/overlay-containers/${id}/userdata/pidfile`, '-n', 'webapp', '--exit-dir', '/run/libpod/exits'], cgroup: `/machine.slice/libpod-conmon-${id}.scope` });
  proc({ pid: 3210, ppid: 3200, comm: 'python3', argv: ['python3', '-m', 'http.server', '8080'], cgroup: `/machine.slice/libpod-${id}.scope/container`, ns: own(), nspid: 1 });
  file(`root${userdata}/config.json`, ociConfig({ 'io.container.manager': 'libpod', 'org.opencontainers.image.stopSignal': '15', 'io.podman.annotations.autoremove': 'FALSE' }, 'webapp'));
}

// 4. nerdctl: the name store says proxy; the bundle has no name
{
  const id = hex(5);
  proc({ pid: 3300, ppid: 1, comm: 'containerd-shim', argv: ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'default', '-id', id, '-address', '/run/containerd/containerd.sock'], cgroup: '/system.slice/containerd.service' });
  proc({ pid: 3310, ppid: 3300, comm: 'nginx', argv: ['nginx: master process nginx -g daemon off;'], cgroup: `/default/${id}`, ns: own(), nspid: 1 });
  file(`root/run/containerd/io.containerd.runtime.v2.task/default/${id}/config.json`, ociConfig({}, id.slice(0, 12)));
  file(`root/var/lib/nerdctl/1935db59/names/default/proxy`, id);
  file(`root/var/lib/nerdctl/1935db59/names/default/old-gone`, hex(77));
}

// 5. systemd-nspawn: machine deb-test (systemd escapes '-' as \x2d in the unit name)
{
  proc({ pid: 3400, ppid: 1, comm: 'systemd-nspawn', argv: ['systemd-nspawn', '-D', '/var/lib/machines/deb-test', '-b'], cgroup: '/machine.slice/systemd-nspawn@deb\\x2dtest.service/payload' });
  proc({ pid: 3410, ppid: 3400, comm: 'systemd', argv: ['/lib/systemd/systemd'], cgroup: '/machine.slice/machine-deb\\x2dtest.scope/init.scope', ns: own(), nspid: 1 });
}

// 6. LXC: web1
{
  proc({ pid: 3500, ppid: 1, comm: 'lxc-start', argv: ['[lxc monitor] /var/lib/lxc web1'], cgroup: '/lxc.monitor.web1' });
  proc({ pid: 3510, ppid: 3500, comm: 'systemd', argv: ['/sbin/init'], cgroup: '/lxc.payload.web1/init.scope', ns: own(), nspid: 1 });
}

// 7. hostscope's runtime (runc-ts): state.json carries the config's annotations
{
  proc({ pid: 3600, ppid: 1, comm: 'runc-ts', argv: ['node', '/usr/lib/hostscope/runc-ts.js', 'run', '--bundle', '/srv/bundles/ci', 'ci-42'], cgroup: '/user.slice' });
  proc({ pid: 3610, ppid: 3600, comm: 'sh', argv: ['/bin/sh', '-c', 'make test'], cgroup: '/hostscope/ci-42', ns: own(), nspid: 1 });
  file('root/run/runc-ts/ci-42/state.json', json({ id: 'ci-42', pid: 3610, pidStartTime: 36100, bundle: '/srv/bundles/ci', rootfs: '/srv/bundles/ci/rootfs', created: '2026-11-30T08:00:00.000000000Z', owner: '', annotations: { 'org.hostscope.name': 'builder', 'org.hostscope.image': 'alpine:3.20' }, creating: false, cgroupPaths: { '': '/sys/fs/cgroup/hostscope/ci-42' }, namespaces: ['pid', 'mount', 'uts', 'ipc', 'network'] }));
}

// 8. docker compose: project shop, service db
{
  const id = hex(6);
  proc({ pid: 3700, ppid: 1, comm: 'containerd-shim', argv: ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'moby', '-id', id, '-address', '/run/containerd/containerd.sock'], cgroup: '/system.slice/containerd.service' });
  proc({ pid: 3710, ppid: 3700, comm: 'postgres', argv: ['postgres'], cgroup: `/system.slice/docker-${id}.scope`, ns: own(), nspid: 1, uid: 999 });
  file(`root/var/lib/docker/containers/${id}/config.v2.json`, dockerConfig(id, '/shop-db-1', 'postgres:16', { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'db', 'com.docker.compose.container-number': '1', 'com.docker.compose.version': '2.29.7' }, 3710));
}

// 9–11. hostile docker configs: terminal escapes in the name, invalid JSON, a symlink out of the dump
{
  const evil = hex(7);
  proc({ pid: 3810, ppid: 800, comm: 'sleep', argv: ['sleep', 'infinity'], cgroup: `/system.slice/docker-${evil}.scope`, ns: own(), nspid: 1 });
  file(`root/var/lib/docker/containers/${evil}/config.v2.json`, dockerConfig(evil, '/\u001b]0;pwned\u0007\u001b[31mred', 'busybox\u001b[2J', {}, 3810));
  const broken = hex(8);
  proc({ pid: 3910, ppid: 800, comm: 'sleep', argv: ['sleep', '3600'], cgroup: `/system.slice/docker-${broken}.scope`, ns: own(), nspid: 1 });
  file(`root/var/lib/docker/containers/${broken}/config.v2.json`, '{"ID":"truncated by a full disk","Name":"/half');
  const escape = hex(9);
  proc({ pid: 4010, ppid: 800, comm: 'sleep', argv: ['sleep', '60'], cgroup: `/system.slice/docker-${escape}.scope`, ns: own(), nspid: 1 });
  mkdirSync(join(OUT, `root/var/lib/docker/containers/${escape}`), { recursive: true });
  symlinkSync('/etc/hostname', join(OUT, `root/var/lib/docker/containers/${escape}/config.v2.json`));
}
console.log(`wrote ${OUT}`);
