import { describe, expect, it } from 'vitest';
import { parseBytes, updateResourcesOf, runcStatsData, featuresDocument } from '../../src/runtime/update.js';
import { parseSignal } from '../../src/runtime/lifecycle.js';

describe('runc kill signal parsing (runc parseSignal)', () => {
  it('numbers, names, SIG-names, any case; unknown ones are runc\'s error', () => {
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('KILL')).toBe(9);
    expect(parseSignal('sigterm')).toBe(15);
    expect(parseSignal('SIGUSR1')).toBe(10);
    expect(() => parseSignal('SIGBOGUS')).toThrow('unknown signal "SIGBOGUS"');
    expect(() => parseSignal('99')).toThrow('unknown signal "99"'); // beyond SIGRTMAX
  });
});

describe('runc update flags and -r JSON', () => {
  it('bytes with binary suffixes and -1; garbage and overflow refused', () => {
    expect(parseBytes('64m', 'memory')).toBe(64n << 20n);
    expect(parseBytes('1G', 'memory')).toBe(1n << 30n);
    expect(parseBytes('-1', 'memory')).toBe(-1n);
    expect(() => parseBytes('lots', 'memory')).toThrow('invalid value for memory: "lots"');
    expect(() => parseBytes('9999999999999999999t', 'memory')).toThrow('too large');
  });
  it('flags override the JSON object, as runc; unknown JSON keys refused by name', () => {
    const r = updateResourcesOf(new Map([['--pids-limit', '9'], ['--cpu-quota', '20000']]), '{"pids":{"limit":5},"memory":{"limit":1048576}}');
    expect(r).toEqual({ pids: { limit: 9n }, memory: { limit: 1048576n }, cpu: { quota: 20000n } });
    expect(() => updateResourcesOf(new Map(), '{"hugepageLimits":[]}')).toThrow('resources.hugepageLimits: not supported by runc-ts update');
    expect(() => updateResourcesOf(new Map(), '{"memory":{"limit":"x"}}')).toThrow('resources.memory.limit: must be an integer');
    expect(() => updateResourcesOf(new Map([['--cpuset-cpus', '0;rm']]), undefined)).toThrow('invalid value for cpuset-cpus');
    expect(() => updateResourcesOf(new Map([['--memory', '2m'], ['--memory-swap', '1m']]), undefined)).toThrow('memory-swap must be greater than or equal to memory');
  });
});

describe('events --stats and features shapes', () => {
  it('our stats become runc\'s types.Stats names (ns for cpu)', () => {
    const d = runcStatsData({ errors: {}, pids: { version: 1, dir: '/x', current: 3, max: 10 }, cpu: { version: 1, dir: '/x', usageFrom: { version: 1, dir: '/x' }, usageUsec: 5, userUsec: 2, systemUsec: 3, weight: undefined, shares: 1024, quotaUsec: null, periodUsec: 100000, nrPeriods: 1, nrThrottled: 0, throttledUsec: 0 } });
    expect(d).toEqual({ pids: { current: 3, limit: 10 }, cpu: { usage: { total: 5000, user: 2000, kernel: 3000 }, throttling: { periods: 1, throttledPeriods: 0, throttledTime: 0 } } });
  });
  it('features lists the six hook kinds (configs.KnownHookNames, as runc) and both cgroup versions', () => {
    const f = featuresDocument() as { hooks: string[]; linux: { cgroup: { v1: boolean; v2: boolean } } };
    expect(f.hooks).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    expect(f.linux.cgroup).toMatchObject({ v1: true, v2: true });
  });
});
