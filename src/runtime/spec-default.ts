/**
 * The starter config.json of `runc spec` and `runc spec --rootless` (runc 1.1.x,
 * libcontainer/specconv/example.go Example() and ToRootless()), and runc's defaults for masked
 * paths, read-only paths and capabilities. Pure: the rootless mapping takes the caller's euid and
 * egid. `renderSpecJson` writes it byte for byte as runc does (Go's json.MarshalIndent with a tab,
 * no final newline): the keys are built here in the Go structs' field order.
 */

/** OCI version runc 1.1.x writes */
export const RUNC_SPEC_VERSION = '1.0.2-dev';

/** runc's default capabilities: the same list for all four sets it fills (no inheritable) */
export const DEFAULT_CAPABILITIES: readonly string[] = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** runc spec's linux.maskedPaths, in its order */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
];

/** runc spec's linux.readonlyPaths */
export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Example() of runc 1.1.x */
export function exampleSpec(): { [k: string]: Json } {
  const caps = () => [...DEFAULT_CAPABILITIES];
  return {
    ociVersion: RUNC_SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps(), effective: caps(), permitted: caps(), ambient: caps() },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
}

/** ToRootless() of runc 1.1.x applied to Example(): no network namespace, a user namespace mapping 0 to the caller, /sys as an rbind, no uid=/gid= mount options, no resources */
export function rootlessSpec(euid: number, egid: number): { [k: string]: Json } {
  const spec = exampleSpec();
  const linux = spec.linux as { [k: string]: Json };
  const namespaces = (linux.namespaces as { type: string }[]).filter((n) => n.type !== 'network' && n.type !== 'user');
  namespaces.push({ type: 'user' });
  const mounts = (spec.mounts as { destination: string; options?: string[] }[]).map((m) => {
    if (m.destination === '/sys') return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
    if (!m.options) return m;
    return { ...m, options: m.options.filter((o) => !o.startsWith('gid=') && !o.startsWith('uid=')) };
  });
  // field order of specs.Linux: uidMappings, gidMappings, sysctl, resources, cgroupsPath, namespaces, …
  const newLinux: { [k: string]: Json } = {
    uidMappings: [{ containerID: 0, hostID: euid, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: egid, size: 1 }],
    namespaces,
    maskedPaths: linux.maskedPaths!,
    readonlyPaths: linux.readonlyPaths!,
  };
  return { ...spec, mounts, linux: newLinux };
}

/** Go's json.MarshalIndent(v, "", "\t"), which also escapes <, > and & in strings */
export function renderSpecJson(spec: unknown): string {
  return JSON.stringify(spec, null, '\t').replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
