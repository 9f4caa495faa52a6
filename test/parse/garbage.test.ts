import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/parse/errors.js';
import { parseProcStat } from '../../src/parse/proc-stat.js';
import { parseProcStatus, parseStatusIds, parseRangeList } from '../../src/parse/proc-status.js';
import { parseProcCgroup } from '../../src/parse/proc-cgroup.js';
import { parseMountInfo } from '../../src/parse/proc-mountinfo.js';
import { parseIdMap, parseSetgroups } from '../../src/parse/proc-id-map.js';
import { parseNsLink } from '../../src/parse/ns-link.js';
import { parseBlkioOps, parseCpuMax, parseFlatKeyed, parseNestedKeyed, parseSingleValue } from '../../src/parse/cgroupfs-format.js';
import { parseCmdline, parseEnviron } from '../../src/parse/proc-environ.js';
import { parseCapMask } from '../../src/parse/capabilities.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOSTS_DIR } from '../helpers/fixtures.js';

/** deterministic pseudo-random generator, so a failure replays */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const TEXT_PARSERS: [string, (t: string) => unknown][] = [
  ['stat', parseProcStat],
  ['status', parseProcStatus],
  ['status ids', parseStatusIds],
  ['range list', parseRangeList],
  ['cgroup', parseProcCgroup],
  ['mountinfo', parseMountInfo],
  ['id map', parseIdMap],
  ['setgroups', parseSetgroups],
  ['ns link', parseNsLink],
  ['single value', parseSingleValue],
  ['flat keyed', parseFlatKeyed],
  ['nested keyed', parseNestedKeyed],
  ['blkio', parseBlkioOps],
  ['cpu.max', parseCpuMax],
];

const REAL = ['proc/1/status', 'proc/1/stat', 'proc/1/mountinfo', 'proc/1/cgroup', 'proc/1400/uid_map'].map((f) => readFileSync(join(HOSTS_DIR, 'v2-docker-systemd', f), 'utf8'));

/** garbage: random bytes, and real files cut, spliced and mutated */
function* inputs(seed: number, n: number): Generator<string> {
  const r = rng(seed);
  const alphabet = ' \t\n:()[]=,-/\\0123456789abcdefxyzUidGidCap max';
  for (let i = 0; i < n; i++) {
    const kind = i % 3;
    if (kind === 0) yield Array.from({ length: Math.floor(r() * 200) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
    else {
      const src = REAL[Math.floor(r() * REAL.length)]!;
      const a = Math.floor(r() * src.length);
      const b = a + Math.floor(r() * (src.length - a));
      const cut = src.slice(0, a) + (kind === 2 ? alphabet[Math.floor(r() * alphabet.length)]!.repeat(3) : '') + src.slice(b);
      yield cut;
    }
  }
}

describe('parsers on garbage: a result or a ParseError naming the file, never anything else', () => {
  it.each(TEXT_PARSERS)('%s', (_name, parse) => {
    for (const text of inputs(_name.length * 7919, 600)) {
      try {
        parse(text);
      } catch (e) {
        if (!(e instanceof ParseError)) throw new Error(`${_name} threw ${(e as Error).name}: ${(e as Error).message} on ${JSON.stringify(text.slice(0, 120))}`);
      }
    }
  });
  it('byte parsers and the mask parser never throw', () => {
    const r = rng(42);
    for (let i = 0; i < 500; i++) {
      const buf = Buffer.from(Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256)));
      expect(Array.isArray(parseEnviron(buf))).toBe(true);
      expect(Array.isArray(parseCmdline(buf))).toBe(true);
      const m = parseCapMask(buf.toString('latin1'));
      expect(m === undefined || typeof m === 'bigint').toBe(true);
    }
  });
});
