import { describe, expect, it } from 'vitest';
import { UtsNameCache } from '../../src/inspect/uts.js';
import type { HostModel } from '../../src/inspect/host.js';

/** UtsNameCache: what ctop and the exporter keep of the hostnames read (stop 20 A), on an injected clock */
describe('UtsNameCache', () => {
  it('believes an entry for maxAgeMs, then asks for it again', () => {
    let t = 0;
    const c = new UtsNameCache(1000, () => t);
    expect(c.get('0:1')).toBeUndefined();
    c.set('0:1', 'box');
    expect(c.get('0:1')).toEqual(expect.objectContaining({ name: 'box' }));
    t = 999;
    expect(c.get('0:1')?.name).toBe('box');
    t = 1000;
    expect(c.get('0:1')).toBeUndefined();
  });

  it('keeps a failed read (undefined) too, so a failing namespace is not forked for at every poll', () => {
    const c = new UtsNameCache(1000, () => 0);
    c.set('0:2', undefined);
    expect(c.get('0:2')).toEqual(expect.objectContaining({ name: undefined }));
  });

  it('drops the namespaces no longer seen', () => {
    const c = new UtsNameCache(1000, () => 0);
    c.set('0:1', 'a');
    c.set('0:2', 'b');
    c.keep(new Set(['0:2']));
    expect(c.get('0:1')).toBeUndefined();
    expect(c.get('0:2')?.name).toBe('b');
  });

  it('gives the same named model for the same model while no entry changed or aged', () => {
    let t = 0;
    const c = new UtsNameCache(1000, () => t);
    const model = {} as HostModel;
    const named = {} as HostModel;
    c.set('0:1', 'box');
    c.remember(model, named);
    expect(c.memoOf(model)).toBe(named);
    c.set('0:1', 'box'); // read again, same name: still the same model
    expect(c.memoOf(model)).toBe(named);
    c.set('0:1', 'renamed');
    expect(c.memoOf(model)).toBeUndefined();
    c.remember(model, named);
    t = 1000;
    expect(c.memoOf(model)).toBeUndefined();
  });
});
