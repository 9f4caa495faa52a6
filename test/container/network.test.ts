import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allocateAddress, checkBridgeName, connectContainer, ensureBridge, hostVethName, NetworkError, parseSubnet, releaseAddress, withNetLock, type IpRunner, type NetRecord } from '../../src/container/network.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hs-net-${process.pid}-`));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('parseSubnet', () => {
  it('10.88.0.0/16: the bridge .0.1, containers from .0.2 to .255.254', () => {
    const s = parseSubnet('10.88.0.0/16');
    expect(s).toEqual({ network: 0x0a580000, prefix: 16, gateway: 0x0a580001, first: 0x0a580002, last: 0x0a58fffe });
  });
  it('a /30 leaves exactly one container address', () => {
    const s = parseSubnet('192.168.7.4/30');
    expect(s.last - s.first).toBe(0);
  });
  const bad: [string, RegExp][] = [
    ['10.88.0.1/16', /host bits set: 10\.88\.0\.0\/16\?/],
    ['10.88.0.0/31', /a prefix from \/8 to \/30/],
    ['10.88.0.0/7', /a prefix from \/8 to \/30/],
    ['10.88.0.0', /an IPv4 CIDR/],
    ['10.300.0.0/16', /an IPv4 CIDR/],
    ['fd00::/64', /an IPv4 CIDR/],
    // control bytes as escapeControl gives them (\x1b), like every other message (docs/errors.md)
    ['10.88.0.0/16\x1b[2J', /invalid subnet '10\.88\.0\.0\/16\\x1b\[2J'/],
    ['10.88.0.0/16\u009b2J', /invalid subnet '10\.88\.0\.0\/16\\x9b2J'/],
  ];
  for (const [v, re] of bad) it(`refuses ${JSON.stringify(v)}`, () => expect(() => parseSubnet(v)).toThrow(re));
});

it('a bad bridge name is quoted escaped, cut to 32 characters before escaping', () => {
  expect(() => checkBridgeName('br\x1b[2J')).toThrow("invalid bridge name 'br\\x1b[2J'");
  expect(() => checkBridgeName(`${'a'.repeat(31)}\x1bzzz`)).toThrow(`invalid bridge name '${'a'.repeat(31)}\\x1b'`);
});

it('the host veth name fits IFNAMSIZ (15 bytes) and is unique per id prefix', () => {
  expect(hostVethName('0123456789abcdef'.repeat(4))).toBe('vhs0123456789ab');
  expect(hostVethName('f'.repeat(64)).length).toBe(15);
});

describe('addresses: a file per address under the lock', () => {
  const root = `${tmp}/store`;
  const sub = parseSubnet('10.9.0.0/29'); // .2 … .6
  const ids = ['1', '2', '3', '4', '5', '6'].map((c) => c.repeat(64));
  it('the lowest free address; exhaustion is one clear error', () => {
    expect(ids.slice(0, 5).map((id) => allocateAddress(root, id, sub))).toEqual(['10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']);
    expect(() => allocateAddress(root, ids[5]!, sub)).toThrow(new NetworkError('no free address left in 10.9.0.0/29'));
  });
  it('release only frees an address still held by that id; the freed one is reused first', () => {
    releaseAddress(root, ids[0]!, '10.9.0.3'); // not its own
    expect(fs.existsSync(`${root}/net/addrs/10.9.0.3`)).toBe(true);
    releaseAddress(root, ids[1]!, '10.9.0.3');
    expect(allocateAddress(root, ids[5]!, sub)).toBe('10.9.0.3');
    releaseAddress(root, ids[0]!, '../../etc'); // not an address: ignored
  });
  it('a lock left by a dead process is taken over; the lock is gone after use', () => {
    fs.writeFileSync(`${root}/net/lock`, '999999999\n');
    expect(withNetLock(root, () => 42)).toBe(42);
    expect(fs.existsSync(`${root}/net/lock`)).toBe(false);
  });
});

describe('links: the ip(8) commands, in order, undone on failure (a recording runner)', () => {
  const rec: NetRecord = { mode: 'bridge', bridge: 'hs0', subnet: '10.88.0.0/16', ip: '10.88.0.2', prefix: 16, gateway: '10.88.0.1', hostVeth: 'vhsaaaaaaaaaaaa' };
  function recorder(fail?: (args: string[]) => boolean, bridgeExists = false, bridgeAddr = '') {
    const calls: string[] = [];
    const ip: IpRunner = (args, opts = {}) => {
      calls.push(`${opts.netnsPid !== undefined ? `[netns ${opts.netnsPid}] ` : ''}ip ${args.join(' ')}${opts.input ? ` <<${JSON.stringify(opts.input)}` : ''}`);
      if (args[0] === 'link' && args[1] === 'show') return { code: bridgeExists ? 0 : 1, err: 'Device "hs0" does not exist.', out: '' };
      if (args.includes('addr') && args.includes('show')) return { code: 0, err: '', out: bridgeAddr ? `2: hs0    inet ${bridgeAddr} scope global hs0\n` : '' };
      return fail?.(args) ? { code: 2, err: 'RTNETLINK answers: File exists\nmore', out: '' } : { code: 0, err: '', out: '' };
    };
    return { ip, calls };
  }
  it('a new bridge: made, addressed, up; a container: veth into its netns, enslaved, its side configured', () => {
    const r = recorder();
    ensureBridge(`${tmp}/links`, 'hs0', parseSubnet('10.88.0.0/16'), r.ip);
    connectContainer(rec, 4242, r.ip);
    expect(r.calls).toEqual([
      'ip link show dev hs0',
      'ip link add name hs0 type bridge',
      'ip addr add 10.88.0.1/16 dev hs0',
      'ip link set dev hs0 up',
      'ip link add name vhsaaaaaaaaaaaa type veth peer name eth0 netns 4242',
      'ip link set dev vhsaaaaaaaaaaaa master hs0 up',
      '[netns 4242] ip -batch - <<"link set dev lo up\\naddr add 10.88.0.2/16 dev eth0\\nlink set dev eth0 up\\nroute add default via 10.88.0.1 dev eth0\\n"',
    ]);
  });
  it('an existing bridge with our address is only set up; with another subnet’s address it is refused', () => {
    const ok = recorder(undefined, true, '10.88.0.1/16');
    ensureBridge(`${tmp}/links`, 'hs0', parseSubnet('10.88.0.0/16'), ok.ip);
    expect(ok.calls).toEqual(['ip link show dev hs0', 'ip -o -4 addr show dev hs0', 'ip link set dev hs0 up']);
    const other = recorder(undefined, true, '10.99.0.1/24');
    expect(() => ensureBridge(`${tmp}/links`, 'hs0', parseSubnet('10.88.0.0/16'), other.ip)).toThrow('bridge hs0 has 10.99.0.1/24, not 10.88.0.1/16 (another --subnet uses it)');
  });
  it('the container side failing: the veth is deleted (no veth left by a failed run), the error names the step and ip’s first line', () => {
    const r = recorder((a) => a[0] === '-batch');
    expect(() => connectContainer(rec, 4242, r.ip)).toThrow('container network: ip -batch -: RTNETLINK answers: File exists');
    expect(r.calls.at(-1)).toBe('ip link del dev vhsaaaaaaaaaaaa');
  });
});
