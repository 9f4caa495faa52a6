import { describe, expect, it } from 'vitest';
import { parsePasswd } from '../../src/parse/passwd.js';

describe('parsePasswd', () => {
  it('maps uids to the first login name, as getpwuid does', () => {
    const m = parsePasswd('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\ntoor:x:0:0::/:/bin/sh\n');
    expect(m.get(0)).toBe('root');
    expect(m.get(65534)).toBe('nobody');
    expect(m.size).toBe(2);
  });

  it('hostile dump: uid fields Number() would read as 0 or another id are skipped, so root keeps its name', () => {
    // Each of these precedes root's line; with Number() '', ' 0', '0x0', '0.0' all became uid 0
    // and the first one would have named root "evilN"; '1e3' became 1000.
    const text = ['evil1::', 'evil2:x: 0:0::/:/bin/sh', 'evil3:x:0x0:0::/:/bin/sh', 'evil4:x:0.0:0::/:/bin/sh',
      'evil5:x:1e3:0::/:/bin/sh', 'evil6:x:-1:0::/:/bin/sh', 'evil7:x:4294967295:0::/:/bin/sh',
      'evil8:x:18446744073709551616:0::/:/bin/sh', ':x:5:5::/:/bin/sh', 'root:x:0:0:root:/root:/bin/sh',
      'top:x:4294967294:0::/:/bin/sh'].join('\n');
    const m = parsePasswd(text);
    expect(m.get(0)).toBe('root');
    expect(m.has(1000)).toBe(false);
    expect(m.has(5)).toBe(false); // empty login name
    expect(m.get(4294967294)).toBe('top'); // the largest valid id
    expect([...m.keys()].sort((a, b) => a - b)).toEqual([0, 4294967294]);
  });
});
