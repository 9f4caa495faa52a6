/**
 * cliArgs: a command's arguments byte for byte. Node's argv turns a byte that is not UTF-8 into
 * U+FFFD; cliArgs then takes the arguments from /proc/self/cmdline (here a stand-in reader), but only
 * when cmdline's last arguments decode, as Node decoded them, to exactly Node's.
 */
import { describe, expect, it } from 'vitest';
import { cliArgs } from '../../cli/run.js';
import { encodeStep, StepListError } from '../../src/native/steps.js';
import { environEntries } from '../../src/util/environ.js';

const cmdline = (...args: string[]): (() => string) => () => args.join('\0') + '\0';

describe('cliArgs', () => {
  it('no U+FFFD in any argument: Node\'s argv as it is, cmdline not read', () => {
    let read = 0;
    const args = ['-t', '1', '--', 'ls', 'é'];
    expect(cliArgs(args, () => (read++, ''))).toBe(args);
    expect(read).toBe(0);
  });

  it('a byte 0xff: the argument from cmdline, the byte as U+DCFF (the interpreter and flags before the script are not arguments)', () => {
    const got = cliArgs(['-t', '1', 'x\uFFFDy', ''], cmdline('node', '--max-opt=1', '/x/nsenter-ts.js', '-t', '1', 'x\uDCFFy', ''));
    expect(got).toEqual(['-t', '1', 'x\uDCFFy', '']);
  });

  it('cmdline that does not match Node\'s argv (a changed process title, a real U+FFFD): Node\'s argv', () => {
    const args = ['a\uFFFD'];
    expect(cliArgs(args, cmdline('node', 'script', 'b\uDCFF'))).toBe(args);
    // a real U+FFFD typed by the user is U+FFFD in cmdline too: the same string either way
    expect(cliArgs(args, cmdline('node', 'script', 'a\uFFFD'))).toEqual(args);
    expect(cliArgs(['a\uFFFD', 'b'], cmdline('b'))).toEqual(['a\uFFFD', 'b']);
    expect(cliArgs(args, () => {
      throw new Error('unreadable');
    })).toBe(args);
  });
});

describe('the native runner is handed bytes, never EF BF BD', () => {
  it('an argument or environment value with a lone surrogate U+DC80+byte goes as that byte', () => {
    const e = encodeStep({ op: 'exec', file: '/bin/x\uDCFF', argv: ['x', 'a\uDCFFb'], envp: ['X=\uDCFE'], search: false });
    expect(e.argv![0]).toBe('x');
    expect(Buffer.from(e.argv![1] as Uint8Array)).toEqual(Buffer.from([0x61, 0xff, 0x62]));
    expect(Buffer.from(e.envp![0] as Uint8Array)).toEqual(Buffer.from([0x58, 0x3d, 0xfe]));
    expect(Buffer.from(e.s![0] as Uint8Array)).toEqual(Buffer.from('/bin/x\xff', 'latin1'));
  });
  it('a NUL, or a surrogate that stands for no byte, is refused before anything is forked', () => {
    expect(() => encodeStep({ op: 'exec', file: 'x', argv: ['a\0b'], envp: [], search: true })).toThrow(StepListError);
    expect(() => encodeStep({ op: 'exec', file: 'x', argv: ['\uD800'], envp: [], search: true })).toThrow(StepListError);
  });
});

describe('environEntries: this process\'s environment for a program it starts, byte for byte', () => {
  it('no U+FFFD: the entries as they are, environ not read', () => {
    let read = 0;
    expect(environEntries({ A: '1', B: 'é' }, () => (read++, ''))).toEqual(['A=1', 'B=é']);
    expect(read).toBe(0);
  });
  it('an entry with U+FFFD: the bytes from environ where it decodes to that entry, else the entry as it is', () => {
    const environ = () => ['X=v\uDCFF\uDCC3', 'Y=w\uDCFF', 'K\uDCFE=1', ''].join('\0');
    // X as exec gave it; Y changed since (w\uFFFD! is not what environ holds); a key with the byte too
    expect(environEntries({ X: 'v\uFFFD\uFFFD', Y: 'w\uFFFD!', 'K\uFFFD': '1' }, environ)).toEqual(['X=v\uDCFF\uDCC3', 'Y=w\uFFFD!', 'K\uDCFE=1']);
    expect(environEntries({ X: 'v\uFFFD' }, () => {
      throw new Error('unreadable');
    })).toEqual(['X=v\uFFFD']);
  });
});
