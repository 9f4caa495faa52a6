/**
 * Bytes that are not UTF-8 in a program's arguments and in the target's environment reach the
 * program as they are, as util-linux nsenter passes them. Node decodes argv as UTF-8 (a byte 0xff
 * becomes U+FFFD, which N-API would encode as EF BF BD): nsenter-ts takes its arguments from
 * /proc/self/cmdline when one holds U+FFFD (cli/run.ts cliArgs), reads the target's environ byte
 * for byte, and the native runner is handed such strings as bytes (src/native/steps.ts wire()).
 * The arguments are made by a shell (`printf '\377'`): Node's own spawn could not pass the byte.
 */
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEAN_ENV, Spawned, waitFor } from '../../scripts/lib/spawned.js';
import { BIN, IS_ROOT, has } from '../helpers/live.js';
import { NATIVE } from '../helpers/native.js';

/** run `tool… sh -c PROG sh ARG` where ARG is `c<ff>d`, made by the shell; stdout as hex */
function withByteArg(tool: string[], prog: string): { code: number | null; out: string; err: string } {
  const script = `arg="$(printf 'c\\377d')"; exec "$@" sh -c '${prog}' sh "$arg"`;
  const r = spawnSync('sh', ['-c', script, 'sh', ...tool], { encoding: 'utf8', env: { ...CLEAN_ENV } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.skipIf(!IS_ROOT || !NATIVE || !has('nsenter'))('nsenter-ts passes bytes that are not UTF-8 through', () => {
  const spawned = new Spawned();
  let T = 0;
  beforeAll(async () => {
    const p = spawned.start('unshare', ['--uts', 'sh', '-c', `X="$(printf 'a\\377b')"; export X; exec sleep 600`], { env: { ...CLEAN_ENV } });
    T = p.pid!;
    expect(await waitFor(() => readlinkSync(`/proc/${T}/exe`).endsWith('sleep'))).toBe(true);
  });
  afterAll(async () => {
    await spawned.stopAll();
  });

  it('a program argument with the byte 0xff: the same bytes as util-linux nsenter gives', () => {
    const prog = 'printf %s "$1" | od -An -tx1';
    const ours = withByteArg([process.execPath, BIN('nsenter-ts'), '-t', String(T), '-u', '--'], prog);
    const theirs = withByteArg(['nsenter', '-t', String(T), '-u', '--'], prog);
    expect(theirs).toEqual({ code: 0, out: ' 63 ff 64\n', err: '' });
    expect(ours).toEqual(theirs);
  });

  it("--env: the target's environment value with the byte 0xff arrives byte for byte", () => {
    const r = spawnSync(process.execPath, [BIN('nsenter-ts'), '-t', String(T), '-u', '--env', '--', 'sh', '-c', 'printf %s "$X" | od -An -tx1'], { encoding: 'utf8', env: { ...CLEAN_ENV } });
    expect({ code: r.status, out: r.stdout, err: r.stderr }).toEqual({ code: 0, out: ' 61 ff 62\n', err: '' });
  });

  it("nsenter-ts's own environment value with the byte 0xff arrives byte for byte, as util-linux nsenter gives it", () => {
    const prog = 'printf %s "$X" | od -An -tx1';
    const script = (tool: string[]): { code: number | null; out: string; err: string } => {
      const r = spawnSync('sh', ['-c', `X="$(printf 'v\\377\\303')"; export X; exec "$@" sh -c '${prog}'`, 'sh', ...tool], { encoding: 'utf8', env: { ...CLEAN_ENV } });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const theirs = script(['nsenter', '-t', String(T), '-u', '--']);
    expect(theirs).toEqual({ code: 0, out: ' 76 ff c3\n', err: '' });
    expect(script([process.execPath, BIN('nsenter-ts'), '-t', String(T), '-u', '--'])).toEqual(theirs);
  });
});
