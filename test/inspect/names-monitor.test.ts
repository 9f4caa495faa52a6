import { describe, expect, it } from 'vitest';
import { hostscopeMonitorDir } from '../../src/inspect/names.js';

const ID = 'a'.repeat(64);

describe('hostscope run containers are named from their monitor\'s command line', () => {
  it('DIR of `hostscope-monitor [-i] [-t RxC] [-k ARG]… [-x ARG]… DIR ID -- RUNTIME…` is the bundle (a moved store has no /run/runc-ts state)', () => {
    const m = '/opt/hs/build/Release/hostscope-monitor';
    expect(hostscopeMonitorDir([m, '/s/containers/x', ID, '--', 'node', 'runc-ts.js', '--root', '/s/runc-ts'], ID)).toBe('/s/containers/x');
    expect(hostscopeMonitorDir([m, '-i', '-t', '24x80', '-k', 'node', '-k', 'net-hook', '-x', 'rm', '/s/c/y', ID, '--', 'node'], ID)).toBe('/s/c/y');
  });

  it('another container\'s monitor, another program, a relative DIR or a malformed line name nothing', () => {
    const m = 'hostscope-monitor';
    expect(hostscopeMonitorDir([m, '/s/c/x', 'b'.repeat(64), '--', 'node'], ID)).toBeUndefined();
    expect(hostscopeMonitorDir(['conmon', '/s/c/x', ID, '--', 'node'], ID)).toBeUndefined();
    expect(hostscopeMonitorDir([m, 's/c/x', ID, '--', 'node'], ID)).toBeUndefined();
    expect(hostscopeMonitorDir([m, '/s/c/x', ID], ID)).toBeUndefined();
    expect(hostscopeMonitorDir([m, '-t'], ID)).toBeUndefined();
    expect(hostscopeMonitorDir([m, '/s/c/x', ID, '--'], undefined)).toBeUndefined();
  });
});
