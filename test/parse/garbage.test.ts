import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError } from '../../src/parse/errors.js';
import { parseProcStat } from '../../src/parse/proc-stat.js';
import { parseProcStatus, parseStatusIds, parseRangeList } from '../../src/parse/proc-status.js';
import { parseProcCgroup } from '../../src/parse/proc-cgroup.js';
import { parseMountInfo } from '../../src/parse/proc-mountinfo.js';
import { parseIdMap, parseSetgroups } from '../../src/parse/proc-id-map.js';
import { parseNsLink } from '../../src/parse/ns-link.js';
import { parseBlkioOps, parseCpuMax, parseFlatKeyed, parseNestedKeyed, parseSingleBig, parseSingleValue } from '../../src/parse/cgroupfs-format.js';
import { parseCmdline, parseComm, parseEnviron } from '../../src/parse/proc-environ.js';
import { parseCapMask } from '../../src/parse/capabilities.js';
import { decodeBytes } from '../../src/parse/text.js';
import { explainControlFile } from '../../src/cgroup/control-files.js';
import { HOSTS, HOSTS_DIR } from '../helpers/fixtures.js';

/**
 * Fuzz tests (issue 6 #10): thousands of random and mutated inputs per parser, from a seeded PRNG
 * so a failure replays (the seed and input are in the message). Each result must be a value or a
 * ParseError; walked deeply, no value may be NaN or ±Infinity, no object may have had its
 * prototype replaced or a built-in (toString, __proto__ …) shadowed by a key from the file.
 * The time limit is the test's timeout: a parser that never returns (parseRangeList on
 * "0-4294967295" did) fails it.
 */
const CASES_PER_PARSER = 6000;
const FUZZ_TIMEOUT_MS = 120_000;

/** xorshift32: deterministic, so a failure replays */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** real files of every fixture host, by kind, to mutate */
function samples(rel: (pid: string) => string[], limit = 12): string[] {
  const out: string[] = [];
  for (const host of HOSTS) {
    const proc = join(HOSTS_DIR, host, 'proc');
    for (const pid of readdirSync(proc).filter((n) => /^\d+$/.test(n)).slice(0, 6)) {
      for (const f of rel(pid)) {
        const p = join(HOSTS_DIR, host, f);
        if (existsSync(p)) {
          try {
            out.push(readFileSync(p, 'utf8'));
          } catch {
            /* a directory or unreadable */
          }
        }
      }
    }
  }
  return out.slice(0, limit * HOSTS.length);
}

function sysSamples(names: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 4 || out.length > 60) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && names.includes(e.name)) out.push(readFileSync(p, 'utf8'));
    }
  };
  for (const host of HOSTS) if (existsSync(join(HOSTS_DIR, host, 'sys/fs/cgroup'))) walk(join(HOSTS_DIR, host, 'sys/fs/cgroup'), 0);
  return out;
}

/** tokens that broke or could break parsers: number spellings Number() accepts, prototype keys, huge values */
const NASTY = [
  'NaN', 'Infinity', '-Infinity', '1e999', '1e3', '0x10', '0b1', '0o7', '-0', '+1', '.5', '4338.0', '4338e0', '04338', ' ', '\t', '',
  '9007199254740993', '18446744073709551615', '18446744073709551616', '4294967295', '4294967296', '-1', '99999999999999999999999',
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__',
  'max', 'zz', 'foo/bar', '0-4294967295', '9007199254740993-9007199254740995', '\u0000', '\u202e', '\x1b[2J', ':', '::', '-', '=', '[', ']', '(', ')', '\n', '\n\n',
];

function pick<T>(r: () => number, a: readonly T[]): T {
  return a[Math.floor(r() * a.length)]!;
}

/** one input: random alphabet soup, or a real file cut, spliced, with nasty tokens put in */
function makeInput(r: () => number, real: string[], alphabet: string): string {
  const kind = Math.floor(r() * 5);
  if (kind === 0 || real.length === 0) return Array.from({ length: Math.floor(r() * 160) }, () => (r() < 0.15 ? pick(r, NASTY) : alphabet[Math.floor(r() * alphabet.length)])).join('');
  let s = pick(r, real);
  const edits = 1 + Math.floor(r() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * (s.length + 1));
    const op = Math.floor(r() * 4);
    if (op === 0) s = s.slice(0, at) + pick(r, NASTY) + s.slice(at); // insert a nasty token
    else if (op === 1) s = s.slice(0, at) + s.slice(Math.min(s.length, at + 1 + Math.floor(r() * 40))); // delete a run
    else if (op === 2) {
      // replace a token (a run of non-separators) by a nasty one: keeps the shape, breaks the value
      const m = /[^\s:=,()[\]/]+/g;
      const tokens = [...s.matchAll(m)];
      if (tokens.length > 0) {
        const t = pick(r, tokens);
        s = s.slice(0, t.index) + pick(r, NASTY) + s.slice(t.index + t[0].length);
      }
    } else s = s.slice(0, at) + pick(r, real).slice(Math.floor(r() * 200), Math.floor(r() * 400)) + s.slice(at); // splice another file in
  }
  return s;
}

const PROTO_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Walk a result: the reason it is unacceptable, or undefined. */
function badValue(v: unknown, path = '$', seen = new Set<unknown>()): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${path} is ${v}`;
  if (v === null || typeof v !== 'object') return typeof v === 'function' ? `${path} is a function` : undefined;
  if (seen.has(v)) return undefined;
  seen.add(v);
  if (v instanceof Map) {
    for (const [k, x] of v) {
      const why = badValue(x, `${path}.get(${JSON.stringify(k)})`, seen);
      if (why) return why;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null && proto !== Array.prototype) return `${path} has a foreign prototype`;
  for (const k of Object.keys(v)) {
    if (proto === Object.prototype && PROTO_NAMES.has(k)) return `${path} has own key ${k} shadowing Object.prototype`;
    const why = badValue((v as Record<string, unknown>)[k], `${path}.${k}`, seen);
    if (why) return why;
  }
  return undefined;
}

type TextParser = (t: string) => unknown;

const TEXT_PARSERS: [string, TextParser, string[], string][] = [
  ['stat', parseProcStat, samples((p) => [`proc/${p}/stat`]), ' ()0123456789-SRZ'],
  ['status', parseProcStatus, samples((p) => [`proc/${p}/status`]), ' \t\n:0123456789abcdefUidGidCapVmkB/'],
  ['status ids', parseStatusIds, samples((p) => [`proc/${p}/status`]), ' \t\n:0123456789UidGid'],
  ['range list', parseRangeList, ['0-3,8,10-11', '0', '0-1', '0-63'], '0123456789-,'],
  ['cgroup', parseProcCgroup, samples((p) => [`proc/${p}/cgroup`]), '0123456789:,/\nmemorycpu=.'],
  ['mountinfo', parseMountInfo, samples((p) => [`proc/${p}/mountinfo`], 3), ' 0123456789:/-\\\nrwshared'],
  ['id map', parseIdMap, samples((p) => [`proc/${p}/uid_map`, `proc/${p}/gid_map`]), ' 0123456789\n'],
  ['setgroups', parseSetgroups, ['allow\n', 'deny\n'], 'alowdeny\n'],
  ['ns link', parseNsLink, ['net:[4026531840]', 'pid:[4026531836]', 'user:[4026532177]'], 'netpidusr:[]0123456789'],
  ['single value', parseSingleValue, sysSamples(['memory.limit_in_bytes', 'memory.max', 'pids.max', 'cpu.shares', 'memory.current']), '0123456789-max\n'],
  ['single big', parseSingleBig, sysSamples(['cpuacct.usage']), '0123456789-\n'],
  ['flat keyed', parseFlatKeyed, sysSamples(['memory.stat', 'cpu.stat', 'memory.events', 'cpuacct.stat']), ' _abcdefghijklmnopqrstuvwxyz0123456789\n'],
  ['nested keyed', parseNestedKeyed, [...sysSamples(['io.stat', 'memory.pressure']), '8:0 rbytes=1 wbytes=2\n'], ' =:0123456789rbytesmax\n'],
  ['blkio', parseBlkioOps, [...sysSamples(['blkio.throttle.io_service_bytes', 'blkio.throttle.io_serviced']), '8:0 Read 10\n8:0 Write 1\nTotal 11\n'], ' :0123456789ReadWriteTotal\n'],
  ['cpu.max', parseCpuMax, ['max 100000\n', '50000 100000\n'], ' 0123456789max\n'],
  ['control file meaning', (t) => explainControlFile(pick(rng(t.length), ['memory.limit_in_bytes', 'cpu.cfs_quota_us', 'cpu.cfs_period_us', 'cpu.max', 'cpu.shares', 'cpu.weight', 'cpuacct.usage', 'pids.max']), [t]), ['max 100000', '-1', '100000', '1024', '9223372036854771712'], ' 0123456789-max'],
];

describe('#10 parser fuzzing: a value or a ParseError, never NaN, Infinity, a poisoned object or a hang', () => {
  it.each(TEXT_PARSERS)(`%s: ${CASES_PER_PARSER} random and mutated inputs`, (name, parse, real, alphabet) => {
    const seed = [...name].reduce((a, c) => a * 31 + c.charCodeAt(0), 7) >>> 0;
    const r = rng(seed);
    let values = 0;
    let errors = 0;
    for (let i = 0; i < CASES_PER_PARSER; i++) {
      const text = makeInput(r, real, alphabet);
      let result: unknown;
      try {
        result = parse(text);
      } catch (e) {
        if (!(e instanceof ParseError)) throw new Error(`${name} (seed ${seed}, case ${i}) threw ${(e as Error).name}: ${(e as Error).message} on ${JSON.stringify(text.slice(0, 200))}`);
        // a message may quote the input, never invent a NaN of its own
        if (!/NaN|Infinity/.test(text)) expect(e.message, `${name} case ${i}`).not.toMatch(/NaN|Infinity/);
        errors++;
        continue;
      }
      const why = name === 'control file meaning' ? (typeof result === 'string' && /NaN|Infinity/.test(result) ? `meaning ${result}` : undefined) : badValue(result);
      if (why) throw new Error(`${name} (seed ${seed}, case ${i}): ${why} on ${JSON.stringify(text.slice(0, 200))}`);
      values++;
    }
    // the generator must exercise both sides, or the test proves nothing
    if (name !== 'control file meaning') {
      expect(values, `${name}: inputs that parsed`).toBeGreaterThan(0);
      expect(errors, `${name}: inputs refused`).toBeGreaterThan(0);
    }
  }, FUZZ_TIMEOUT_MS);

  it(`byte parsers: ${CASES_PER_PARSER} random buffers; decoding is lossless (raw bytes come back as themselves)`, () => {
    const r = rng(42);
    const encode = (s: string): Buffer => {
      // undo decodeBytes: lone surrogates U+DC80+b are byte b
      const parts: Buffer[] = [];
      for (const ch of s) {
        const c = ch.charCodeAt(0);
        parts.push(ch.length === 1 && c >= 0xdc80 && c <= 0xdcff ? Buffer.from([c - 0xdc00]) : Buffer.from(ch, 'utf8'));
      }
      return Buffer.concat(parts);
    };
    for (let i = 0; i < CASES_PER_PARSER; i++) {
      const buf = Buffer.from(Array.from({ length: Math.floor(r() * 96) }, () => (r() < 0.5 ? Math.floor(r() * 256) : pick(r, [0, 0x61, 0x3d, 0xc2, 0x9b, 0xe2, 0x80, 0xae, 0xf0, 0x9f, 0xed, 0xa0, 0xff]))));
      expect(encode(decodeBytes(buf)).equals(buf), `case ${i}: ${buf.toString('hex')}`).toBe(true);
      expect(badValue(parseEnviron(buf))).toBeUndefined();
      expect(badValue(parseCmdline(buf))).toBeUndefined();
      expect(typeof parseComm(buf)).toBe('string');
      const m = parseCapMask(buf.toString('latin1'));
      expect(m === undefined || typeof m === 'bigint').toBe(true);
    }
  }, FUZZ_TIMEOUT_MS);
});
