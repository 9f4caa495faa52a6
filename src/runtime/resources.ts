/**
 * config.json's linux.resources → what the cgroup manager writes (src/cgroup/manager.ts). A
 * limit the manager does not write would be a limit silently not applied: each is refused by
 * name here, before anything is created. Fields deprecated by runc itself (memory.kernel) were
 * already turned into warnings by the validator; booleans that only repeat a default
 * (useHierarchy) are accepted.
 */
import type { CgroupResources } from '../cgroup/manager.js';
import { PlanError } from './plan.js';
import type { Device, Resources } from './spec.js';
import type { DeviceRule } from '../cgroup/manager.js';

/**
 * runc's AllowedDevices (libcontainer/specconv, 1.1), appended after the config's own rules:
 * mknod of any char/block node (the cgroup then governs open), the default devices, the console,
 * ptmx and the pty slaves, /dev/net/tun.
 */
export const ALLOWED_DEVICES: readonly DeviceRule[] = [
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

export function cgroupResourcesOf(r: Resources | undefined, devices: Device[] = []): CgroupResources {
  const out: CgroupResources = {};
  // the device rules always end with runc's allowed list and the config's own devices
  out.devices = [
    ...(r?.devices ?? []).map((d) => ({ allow: d.allow, ...(d.type ? { type: d.type } : {}), ...(d.major !== undefined && d.major >= 0 ? { major: d.major } : {}), ...(d.minor !== undefined && d.minor >= 0 ? { minor: d.minor } : {}), ...(d.access !== undefined ? { access: d.access } : {}) })),
    ...ALLOWED_DEVICES,
    ...devices.filter((d) => d.type === 'c' || d.type === 'b').map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: 'rwm' })),
  ];
  if (!r) return out;
  const refuse = (field: string): never => {
    throw new PlanError('', `linux.resources.${field} is not supported`);
  };
  if (r.memory) {
    const { limit, reservation, swap, swappiness, disableOOMKiller, kernel: _kernel, kernelTCP, useHierarchy: _uh, checkBeforeUpdate } = r.memory;
    if (checkBeforeUpdate) refuse('memory.checkBeforeUpdate');
    out.memory = {};
    if (limit !== undefined) out.memory.limit = limit;
    if (reservation !== undefined) out.memory.reservation = reservation;
    if (swap !== undefined) out.memory.swap = swap;
    if (swappiness !== undefined) out.memory.swappiness = swappiness;
    if (disableOOMKiller !== undefined) out.memory.disableOOMKiller = disableOOMKiller;
    if (kernelTCP !== undefined) out.memory.kernelTCP = kernelTCP;
  }
  if (r.pids) out.pids = { limit: r.pids.limit };
  if (r.cpu) {
    const { shares, quota, period, cpus, mems, burst, realtimeRuntime, realtimePeriod, idle } = r.cpu;
    if (burst !== undefined) refuse('cpu.burst');
    if (realtimeRuntime !== undefined) refuse('cpu.realtimeRuntime');
    if (realtimePeriod !== undefined) refuse('cpu.realtimePeriod');
    if (idle !== undefined) refuse('cpu.idle');
    out.cpu = {};
    if (shares !== undefined) out.cpu.shares = shares;
    if (quota !== undefined) out.cpu.quota = quota;
    if (period !== undefined) out.cpu.period = period;
    if (cpus !== undefined) out.cpu.cpus = cpus;
    if (mems !== undefined) out.cpu.mems = mems;
  }
  if (r.blockIO) {
    const { weight, ...rest } = r.blockIO;
    for (const k of Object.keys(rest)) refuse(`blockIO.${k}`);
    out.blockIO = weight !== undefined ? { weight } : {};
  }
  return out;
}
