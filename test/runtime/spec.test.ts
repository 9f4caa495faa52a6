import { describe, expect, it } from 'vitest';
import { parseSpecText, SpecError, validateSpec, MAX_CONFIG_BYTES } from '../../src/runtime/spec.js';
import { exampleSpec, rootlessSpec } from '../../src/runtime/spec-default.js';

const host = { apparmor: false, selinux: false };
type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const base = (): J => JSON.parse(JSON.stringify(exampleSpec()));
function errOf(mut: (c: J) => void, h = host, start = base): string {
  const c = start();
  mut(c);
  try {
    validateSpec(c, h);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    const msg = (e as Error).message;
    expect(msg.includes('\n')).toBe(false);
    return msg;
  }
  return 'ok';
}

describe('config.json validation: one line naming the JSON path', () => {
  const cases: [string, (c: J) => void, string][] = [
    ['ociVersion missing', (c) => delete c.ociVersion, 'config.json: ociVersion: must be a string, not a undefined'],
    ['ociVersion 2.x', (c) => (c.ociVersion = '2.0.0'), 'config.json: ociVersion: "2.0.0" is not a 1.x version'],
    ['root missing', (c) => delete c.root, 'config.json: root: must be an object, not a undefined'],
    ['cwd relative', (c) => (c.process.cwd = 'tmp'), 'config.json: process.cwd: "tmp" must be an absolute path'],
    ['args empty', (c) => (c.process.args = []), 'config.json: process.args: must not be empty'],
    ['env without =', (c) => c.process.env.push('FOO'), 'config.json: process.env[2]: "FOO" is not NAME=VALUE'],
    ['uid beyond 32 bits', (c) => (c.process.user.uid = 4294967296), 'config.json: process.user.uid: 4294967296 is out of range 0..4294967294'],
    // (uid_t)-1 is "leave unchanged" to setresuid and chown: it used to pass here and end the run in "internal error"
    ['uid 4294967295 (the kernel\'s "no id")', (c) => (c.process.user.uid = 4294967295), 'config.json: process.user.uid: 4294967295 is out of range 0..4294967294'],
    ['gid 4294967295', (c) => (c.process.user.gid = 4294967295), 'config.json: process.user.gid: 4294967295 is out of range 0..4294967294'],
    ['additional gid 4294967295', (c) => (c.process.user.additionalGids = [5, 4294967295]), 'config.json: process.user.additionalGids[1]: 4294967295 is out of range 0..4294967294'],
    ['device owner 4294967295', (c) => (c.linux.devices = [{ type: 'c', path: '/dev/x', major: 1, minor: 3, uid: 4294967295 }]), 'config.json: linux.devices[0].uid: 4294967295 is out of range 0..4294967294'],
    // past the native runner's step list: used to fail after the cgroups and state were made, as "internal error"
    ['513 mounts', (c) => (c.mounts = Array.from({ length: 513 }, (_, i) => ({ destination: `/m${i}`, type: 'tmpfs', source: 'tmpfs' }))), 'config.json: mounts: 513 mounts: runc-ts sets up at most 512'],
    ['513 masked paths', (c) => (c.linux.maskedPaths = Array.from({ length: 513 }, (_, i) => `/m${i}`)), 'config.json: linux.maskedPaths: 513 paths: runc-ts sets up at most 512'],
    ['513 devices', (c) => (c.linux.devices = Array.from({ length: 513 }, (_, i) => ({ type: 'c', path: `/dev/x${i}`, major: 1, minor: 3 }))), 'config.json: linux.devices: 513 devices: runc-ts sets up at most 512'],
    ['65 hooks of one kind', (c) => (c.hooks = { createRuntime: Array.from({ length: 65 }, () => ({ path: '/bin/true' })) }), 'config.json: hooks.createRuntime: 65 hooks: runc-ts runs at most 64 of one kind'],
    ['uid negative', (c) => (c.process.user.uid = -1), 'config.json: process.user.uid: -1 is out of range 0..4294967294'],
    ['uid a string', (c) => (c.process.user.uid = '0'), 'config.json: process.user.uid: must be an id from 0 to 4294967294 (4294967295 is the kernel\'s "no id"), not a string'],
    ['umask beyond 0777', (c) => (c.process.user.umask = 512), 'config.json: process.user.umask: 512 is out of range 0..511'],
    ['unknown capability', (c) => c.process.capabilities.bounding.push('CAP_FLY'), 'config.json: process.capabilities.bounding[3]: unknown capability "CAP_FLY"'],
    ['lower-case capability', (c) => (c.process.capabilities.effective = ['cap_kill']), 'config.json: process.capabilities.effective[0]: unknown capability "cap_kill"'],
    ['unknown capability set', (c) => (c.process.capabilities.extra = []), 'config.json: process.capabilities.extra is not supported (unknown field)'],
    ['unknown rlimit', (c) => (c.process.rlimits[0].type = 'RLIMIT_FOO'), 'config.json: process.rlimits[0].type: unknown value "RLIMIT_FOO"'],
    ['duplicate rlimit', (c) => c.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }), 'config.json: process.rlimits[1].type: duplicate rlimit RLIMIT_NOFILE'],
    ['soft above hard', (c) => (c.process.rlimits[0].soft = 2048), 'config.json: process.rlimits[0]: soft limit exceeds hard limit for RLIMIT_NOFILE'],
    ['oomScoreAdj out of range', (c) => (c.process.oomScoreAdj = -1001), 'config.json: process.oomScoreAdj: -1001 is out of range -1000..1000'],
    ['apparmor without AppArmor', (c) => (c.process.apparmorProfile = 'docker-default'), 'config.json: process.apparmorProfile: AppArmor is not enabled on this host'],
    ['selinux without SELinux', (c) => (c.process.selinuxLabel = 'system_u:system_r:container_t:s0'), 'config.json: process.selinuxLabel: SELinux is not enabled on this host'],
    ['unknown process field (could be a security setting)', (c) => (c.process.landlock = {}), 'config.json: process.landlock is not supported (unknown field)'],
    ['intelRdt', (c) => (c.linux.intelRdt = { closID: 'x' }), 'config.json: linux.intelRdt is not supported'],
    ['personality', (c) => (c.linux.personality = { domain: 'LINUX32' }), 'config.json: linux.personality is not supported'],
    ['timeOffsets', (c) => (c.linux.timeOffsets = {}), 'config.json: linux.timeOffsets is not supported'],
    ['unknown linux field', (c) => (c.linux.newIsolation = true), 'config.json: linux.newIsolation is not supported (unknown field)'],
    ['unknown resource (limits silently not applied)', (c) => (c.linux.resources.hugepageLimits = []), 'config.json: linux.resources.hugepageLimits is not supported'],
    ['unknown memory field', (c) => (c.linux.resources.memory = { limitx: 1 }), 'config.json: linux.resources.memory.limitx is not supported (unknown field)'],
    ['swap below limit', (c) => (c.linux.resources.memory = { limit: 200, swap: 100 }), 'config.json: linux.resources.memory.swap: 100 is below limit 200 (swap is memory+swap)'],
    ['device rule access', (c) => (c.linux.resources.devices[0].access = 'rwx'), 'config.json: linux.resources.devices[0].access: "rwx" is not a subset of "rwm"'],
    ['mount destination relative', (c) => (c.mounts[0].destination = 'proc'), 'config.json: mounts[0].destination: "proc" must be an absolute path'],
    ['proc elsewhere', (c) => (c.mounts[0].destination = '/mnt/proc'), 'config.json: mounts[0].destination: proc may only be mounted on /proc, not "/mnt/proc"'],
    ['bind over /proc/self/attr (CVE-2019-19921)', (c) => c.mounts.push({ destination: '/proc/self/attr/exec', type: 'bind', source: '/tmp/x', options: ['bind'] }), 'config.json: mounts[7].destination: "/proc/self/attr/exec" is under /proc and not a file that may be covered (CVE-2019-19921)'],
    ['mount over /', (c) => c.mounts.push({ destination: '/./', type: 'tmpfs', source: 'tmpfs' }), 'config.json: mounts[7].destination: cannot mount over the container root'],
    ['rro is refused, not ignored', (c) => c.mounts.push({ destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'rro'] }), 'config.json: mounts[7].options[1]: "rro" is not supported'],
    ['idmapped mount', (c) => c.mounts.push({ destination: '/data', type: 'bind', source: '/srv', options: ['rbind'], uidMappings: [] }), 'config.json: mounts[7].uidMappings is not supported'],
    ['bind without source', (c) => c.mounts.push({ destination: '/data', type: 'bind', options: ['rbind'] }), 'config.json: mounts[7].source: required for a bind mount'],
    ['duplicate namespace', (c) => c.linux.namespaces.push({ type: 'pid' }), 'config.json: linux.namespaces[5].type: duplicate namespace pid'],
    ['unknown namespace', (c) => c.linux.namespaces.push({ type: 'net' }), 'config.json: linux.namespaces[5].type: unknown value "net"'],
    ['namespace path relative', (c) => (c.linux.namespaces[1].path = 'proc/1/ns/net'), 'config.json: linux.namespaces[1].path: "proc/1/ns/net" must be an absolute path'],
    ['user namespace without mappings', (c) => c.linux.namespaces.push({ type: 'user' }), 'config.json: linux.uidMappings: required with a new user namespace'],
    ['mappings without user namespace', (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }]), 'config.json: linux.uidMappings: set without a user namespace'],
    ['hostname without uts', (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: J) => n.type !== 'uts')), 'config.json: hostname: cannot be set without a private UTS namespace'],
    ['mounts without a mount namespace', (c) => {
      c.hostname = '';
      c.linux.namespaces = [{ type: 'pid' }];
    }, 'config.json: linux.namespaces: mounts, maskedPaths and readonlyPaths need a mount namespace (none requested)'],
    ['host sysctl', (c) => (c.linux.sysctl = { 'kernel.panic': '1' }), 'config.json: linux.sysctl."kernel.panic": not in a separate kernel namespace'],
    ['net sysctl in the host netns', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: J) => n.type !== 'network');
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    }, 'config.json: linux.sysctl."net.ipv4.ip_forward": not allowed in the host\'s network namespace'],
    ['ipc sysctl in the host ipc ns', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: J) => n.type !== 'ipc');
      c.linux.sysctl = { 'kernel.shmmax': '1' };
    }, "config.json: linux.sysctl.\"kernel.shmmax\": not allowed in the host's IPC namespace"],
    ['sysctl path traversal', (c) => (c.linux.sysctl = { 'net.ipv4/../../../kernel/core_pattern': '|/x' }), 'config.json: linux.sysctl."net.ipv4/../../../kernel/core_pattern": not a sysctl name (dot-separated words, no "/" or "..")'],
    ['kernel.hostname conflicts', (c) => (c.linux.sysctl = { 'kernel.hostname': 'x' }), 'config.json: linux.sysctl."kernel.hostname": conflicts with the hostname field'],
    ['device outside /dev', (c) => (c.linux.devices = [{ type: 'c', path: '/dev/../etc/x', major: 1, minor: 3 }]), 'config.json: linux.devices[0].path: "/dev/../etc/x" must be a clean path under /dev'],
    ['device type', (c) => (c.linux.devices = [{ type: 'x', path: '/dev/x', major: 1, minor: 3 }]), 'config.json: linux.devices[0].type: unknown value "x"'],
    ['device fileMode', (c) => (c.linux.devices = [{ type: 'c', path: '/dev/x', major: 1, minor: 3, fileMode: 0o10000 }]), 'config.json: linux.devices[0].fileMode: 4096 is out of range 0..4095'],
    ['hook path relative', (c) => (c.hooks = { poststart: [{ path: 'bin/true' }] }), 'config.json: hooks.poststart[0].path: "bin/true" must be an absolute path'],
    ['hook timeout 0', (c) => (c.hooks = { poststop: [{ path: '/bin/true', timeout: 0 }] }), 'config.json: hooks.poststop[0].timeout: 0 is out of range 1..2147483647'],
    ['unknown hook kind', (c) => (c.hooks = { prestop: [] }), 'config.json: hooks.prestop is not supported (unknown field)'],
    ['seccomp action', (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_MAYBE' }), 'config.json: linux.seccomp.defaultAction: unknown value "SCMP_ACT_MAYBE"'],
    ['seccomp notify', (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/x.sock' }), 'config.json: linux.seccomp.listenerPath is not supported'],
    ['seccomp arg index', (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] }), 'config.json: linux.seccomp.syscalls[0].args[0].index: 6 is out of range 0..5'],
    ['cgroupsPath with ..', (c) => (c.linux.cgroupsPath = '/a/../../b'), 'config.json: linux.cgroupsPath: "/a/../../b" must not contain ".."'],
    ['NUL in a path', (c) => (c.process.cwd = '/a\u0000/../x'), 'config.json: process.cwd: contains a NUL byte'],
    // "\ud800" in config.json: stands for no byte (it reached encodeStep and came out as "internal error")
    ['a lone surrogate that is no byte', (c) => (c.process.args = ['sh', 'a\ud800']), 'config.json: process.args[1]: holds a lone surrogate that stands for no byte (only \\udc80-\\udcff, the bytes 0x80-0xff, can be passed)'],
    ['control bytes escaped in messages', (c) => (c.process.cwd = 'x\u001b[31m'), 'config.json: process.cwd: "x\\u001b[31m" must be an absolute path'],
    ['rootfsPropagation', (c) => (c.linux.rootfsPropagation = 'bogus'), 'config.json: linux.rootfsPropagation: unknown value "bogus"'],
  ];
  for (const [what, mut, msg] of cases) it(what, () => expect(errOf(mut)).toBe(msg));

  it('id mappings: no overflow, no wrap, no overlap, no zero size', () => {
    const r = () => JSON.parse(JSON.stringify(rootlessSpec(1000, 1000)));
    expect(errOf((c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 4294967295, size: 1 }]), host, r)).toBe('config.json: linux.uidMappings[0]: hostID 4294967295 + size 1 goes beyond 4294967294');
    expect(errOf((c) => (c.linux.uidMappings = [{ containerID: 4294967000, hostID: 0, size: 1000 }]), host, r)).toBe('config.json: linux.uidMappings[0]: containerID 4294967000 + size 1000 goes beyond 4294967294');
    expect(errOf((c) => (c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 0 }]), host, r)).toBe('config.json: linux.gidMappings[0].size: must be at least 1');
    expect(errOf((c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 5, hostID: 5000, size: 10 }]), host, r)).toBe('config.json: linux.uidMappings[1]: container range overlaps linux.uidMappings[0]');
    expect(errOf((c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 100, hostID: 1009, size: 10 }]), host, r)).toBe('config.json: linux.uidMappings[1]: host range overlaps linux.uidMappings[0]');
    expect(errOf((c) => (c.process.user.uid = 5), host, r)).toBe('config.json: process.user.uid: 5 is not mapped by linux.uidMappings');
    expect(errOf((c) => (c.process.user.additionalGids = [0, 7]), host, r)).toBe('config.json: process.user.additionalGids[1]: 7 is not mapped by linux.gidMappings');
    expect(errOf((c) => c.linux.uidMappings.push(...Array.from({ length: 340 }, (_, i) => ({ containerID: i + 1, hostID: 2000 + i, size: 1 }))), host, r)).toBe('config.json: linux.uidMappings: more than 340 ranges');
  });

  it('an LSM that is enabled but not applied by runc-ts is still an error', () => {
    expect(errOf((c) => (c.process.apparmorProfile = 'p'), { apparmor: true, selinux: false })).toBe('config.json: process.apparmorProfile: AppArmor labels are not supported by runc-ts (the label would not be applied)');
    expect(errOf((c) => (c.process.apparmorProfile = ''))).toBe('ok');
  });

  it('harmless unknowns are ignored (other platforms, extensions) or warned about', () => {
    const c = base();
    c.windows = { layerFolders: [] };
    c.vendorExtension = 1;
    c.process.ioPriority = { class: 'IOPRIO_CLASS_RT' };
    c.linux.resources.memory = { kernel: 1024 };
    c.hooks = { prestart: [{ path: '/bin/true' }] };
    const { warnings } = validateSpec(c, host);
    expect(warnings).toEqual([
      'process.ioPriority is ignored',
      'linux.resources.memory.kernel is deprecated and ignored (as runc 1.1 does)',
      'hooks.prestart is deprecated (runtime-spec 1.0.2): use createRuntime',
    ]);
  });

  it('explicit nulls count as absent (Go json does the same)', () => {
    expect(errOf((c) => {
      c.linux.seccomp = null;
      c.process.capabilities.inheritable = null;
      c.linux.intelRdt = null;
    })).toBe('ok');
  });

  it('rlimits: RLIM_INFINITY (2^64-1) is taken as infinity; other values beyond 2^53 refused', () => {
    const text = JSON.stringify(base()).replace('"hard":1024,"soft":1024', '"hard":18446744073709551615,"soft":18446744073709551615');
    expect(parseSpecText(text, host).spec.process!.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', soft: -1, hard: -1 }]);
    const t2 = JSON.stringify(base()).replace('"hard":1024', '"hard":9007199254740993');
    expect(() => parseSpecText(t2, host)).toThrow('config.json: process.rlimits[0].hard: 9007199254740993 is beyond 2^53 (only 18446744073709551615, RLIM_INFINITY, is taken above)');
    const t3 = JSON.stringify(base()).replace('"uid":0', '"uid":9007199254740993');
    expect(() => parseSpecText(t3, host)).toThrow('config.json: process.user.uid: 9007199254740993 is beyond 2^53');
  });

  it('hostile text: size cap, depth, __proto__, duplicate keys', () => {
    expect(() => parseSpecText(' '.repeat(MAX_CONFIG_BYTES + 1), host)).toThrow(`config.json: larger than ${MAX_CONFIG_BYTES} bytes`);
    expect(() => parseSpecText(`{"annotations":${'['.repeat(200)}`, host)).toThrow(/^config.json: invalid JSON: nested deeper than 64/);
    expect(() => parseSpecText('{"__proto__":{"x":1}}', host)).toThrow(/__proto__/);
    const dup = JSON.stringify(base()).replace('"readonly":true', '"readonly":false,"readonly":true');
    expect(() => parseSpecText(dup, host)).toThrow(/duplicate key "readonly"/);
  });

  it('a fifo device (type p) may carry major/minor, as runc accepts (validation suite linux_devices): checked for range, ignored', () => {
    const c = base();
    c.linux.devices = [{ type: 'p', path: '/dev/test3', major: 8, minor: 666, fileMode: 0o644 }];
    const { spec } = validateSpec(c, host);
    expect(spec.linux.devices).toEqual([{ type: 'p', path: '/dev/test3', major: 0, minor: 0, fileMode: 0o644 }]);
    expect(errOf((cc) => (cc.linux.devices = [{ type: 'p', path: '/dev/f', major: 4096, minor: 0 }]))).toBe('config.json: linux.devices[0].major: 4096 is out of range 0..4095');
  });

  it('annotations are kept as strings in an object without prototype', () => {
    const c = base();
    c.annotations = { constructor: 'x', 'org.example': 'y' };
    const { spec } = validateSpec(c, host);
    expect(Object.getPrototypeOf(spec.annotations)).toBe(null);
    expect(spec.annotations.constructor).toBe('x');
    expect(errOf((cc) => (cc.annotations = { a: 1 }))).toBe('config.json: annotations.a: must be a string, not a number');
  });
});
