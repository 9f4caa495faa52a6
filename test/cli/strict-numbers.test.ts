import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBin } from '../helpers/live.js';
import { HOSTS_DIR } from '../helpers/fixtures.js';
import { ParseError } from '../../src/parse/errors.js';
import { MAX_KERNEL_ID, parseProcStatus, parseStatusIds } from '../../src/parse/proc-status.js';
import { IdParseError, MAX_PID, parsePidArg } from '../../src/nsenter/ids.js';

/**
 * Stop 20, finding 1: numbers too large were rounded by Number() and used
 * (`cinf --namespace 99999999999999999999999` → `not found namespace: 1e+23`,
 * `nsenter-ts -t 9…9` → `cannot open /proc/1e+23/ns/uts`, `Uid: 4294967296` printed as a uid).
 */
const BIG = '99999999999999999999999';

describe('oversized numbers are refused, never rounded', () => {
  it('cinf --namespace: lsns\'s words for a number out of range, not "not found namespace: 1e+23"', () => {
    const r = runBin('cinf', ['--namespace', BIG]);
    expect(r).toEqual({ code: 1, out: '', err: `cinf: invalid namespace argument: '${BIG}': Numerical result out of range\n` });
    // 2^53 + 1 cannot be held exactly by a double: refused too (inodes are safe integers, parseNsLink)
    expect(runBin('cinf', ['--namespace', '9007199254740993']).err.split('\n')[0]).toBe("cinf: invalid namespace argument: '9007199254740993': Numerical result out of range");
  });

  it('cinf --ns TYPE:<20 digits> is refused, not rounded to a neighbouring inode', () => {
    const r = runBin('cinf', ['--find', '.', '--ns', 'net:99999999999999999999']);
    expect(r.code).toBe(1);
    expect(r.err.split('\n')[0]).toBe("cinf: invalid --ns argument: 'net:99999999999999999999' (want TYPE:INODE, e.g. net:4026532160)");
  });

  it.each([
    [BIG, `nsenter-ts: failed to parse pid: '${BIG}': Numerical result out of range\n`],
    ['4194305', "nsenter-ts: failed to parse pid: '4194305': Numerical result out of range\n"],
    ['4294967297', "nsenter-ts: failed to parse pid: '4294967297': Numerical result out of range\n"],
    ['0', "nsenter-ts: failed to parse pid: '0'\n"],
    ['1e3', "nsenter-ts: failed to parse pid: '1e3'\n"],
  ])('nsenter-ts -t %s: util-linux\'s "failed to parse pid", nothing opened', (pid, err) => {
    expect(runBin('nsenter-ts', ['-t', pid, '-u', 'true'])).toEqual({ code: 1, out: '', err });
  });

  it('parsePidArg: 1 … 2^22, digits only', () => {
    expect(parsePidArg('1')).toBe(1);
    expect(parsePidArg(String(MAX_PID))).toBe(MAX_PID);
    for (const s of ['', '-1', '+1', ' 1', '0x10', String(MAX_PID + 1), BIG]) expect(() => parsePidArg(s), s).toThrow(IdParseError);
  });

  const STATUS = readFileSync(join(HOSTS_DIR, 'v2-docker-systemd/proc/1/status'), 'utf8');
  it.each(['4294967296', '4294967295', '18446744073709551616'])('status Uid: %s is a PARSE error (uid_t is 32 bits; (uid_t)-1 is no id)', (id) => {
    const text = STATUS.replace(/^Uid:.*$/m, `Uid:\t${id}\t0\t0\t0`);
    expect(() => parseProcStatus(text, '1/status')).toThrow(ParseError);
    expect(() => parseStatusIds(text, '1/status')).toThrow(ParseError);
    const gid = STATUS.replace(/^Gid:.*$/m, `Gid:\t0\t0\t0\t${id}`);
    expect(() => parseProcStatus(gid, '1/status')).toThrow(ParseError);
    expect(() => parseStatusIds(gid, '1/status')).toThrow(ParseError);
  });
  it('status Uid: 4294967294 is still an id', () => {
    const text = STATUS.replace(/^Uid:.*$/m, `Uid:\t${MAX_KERNEL_ID}\t0\t0\t0`);
    expect(parseProcStatus(text).uid.real).toBe(MAX_KERNEL_ID);
    expect(parseStatusIds(text).uid.real).toBe(MAX_KERNEL_ID);
  });

  const tmp = mkdtempSync(join(tmpdir(), 'hostscope-strict-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it('a dump whose status says Uid: 4294967296: cinf --pid shows the status as unparsable, never that uid', () => {
    cpSync(join(HOSTS_DIR, 'v2-docker-systemd'), join(tmp, 'h'), { recursive: true, verbatimSymlinks: true });
    const path = join(tmp, 'h/proc/1234/status');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/^Uid:.*$/m, 'Uid:\t4294967296\t0\t0\t0'));
    const r = runBin('cinf', ['--proc-root', join(tmp, 'h/proc'), '--sys-root', join(tmp, 'h/sys'), '--pid', '1234']);
    expect(r.out).not.toContain('4294967296');
    expect(r.out).toMatch(/^ {2}status +\? \(unexpected format\)$/m);
  });
});
