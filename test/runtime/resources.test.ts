import { describe, expect, it } from 'vitest';
import { ALLOWED_DEVICES, cgroupResourcesOf } from '../../src/runtime/resources.js';

describe('linux.resources → cgroup manager', () => {
  it('what the manager writes passes through', () => {
    expect(
      cgroupResourcesOf({ memory: { limit: 64 << 20, swap: -1, useHierarchy: true }, pids: { limit: 32 }, cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' }, blockIO: { weight: 500 }, devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: -1, access: 'rw' }] }),
    ).toEqual({
      memory: { limit: 64 << 20, swap: -1 },
      pids: { limit: 32 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' },
      blockIO: { weight: 500 },
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, access: 'rw' }, ...ALLOWED_DEVICES],
    });
  });
  it('device rules: the config first, then runc\'s allowed list, then the config\'s own devices', () => {
    const r = cgroupResourcesOf({ devices: [{ allow: false, access: 'rwm' }] }, [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }]);
    expect(r.devices![0]).toEqual({ allow: false, access: 'rwm' });
    expect(r.devices!.slice(1, -1)).toEqual(ALLOWED_DEVICES);
    expect(r.devices!.at(-1)).toEqual({ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' });
  });
  it('a limit the manager would not write is refused by name, never dropped', () => {
    expect(() => cgroupResourcesOf({ blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] } })).toThrow('config.json: linux.resources.blockIO.throttleReadBpsDevice is not supported');
    expect(() => cgroupResourcesOf({ cpu: { realtimeRuntime: 1 } })).toThrow('config.json: linux.resources.cpu.realtimeRuntime is not supported');
    expect(() => cgroupResourcesOf({ memory: { checkBeforeUpdate: true } })).toThrow('config.json: linux.resources.memory.checkBeforeUpdate is not supported');
  });
  it('memory.kernelTCP is passed to the manager (v1 memory.kmem.tcp.limit_in_bytes, as runc 1.1; validation suite linux_cgroups_memory was refused whole)', () => {
    expect(cgroupResourcesOf({ memory: { limit: 50 * 1024 * 1024, kernelTCP: 50 * 1024 * 1024 } }).memory).toEqual({ limit: 50 * 1024 * 1024, kernelTCP: 50 * 1024 * 1024 });
  });
});
