import { writeSync } from 'node:fs';
import { realDeps, type Deps } from './common.js';
import { openSource } from '../src/source/source.js';
import { encodeBytes } from '../src/parse/text.js';

/**
 * This process's arguments after the script, byte for byte. Node decodes argv as UTF-8 and turns
 * each byte that is not UTF-8 into U+FFFD, so `nsenter-ts -t P ls $'\xff'` would hand `ls` the
 * bytes EF BF BD, and `cinf --cgroup $'/x\xff'` would name another cgroup. When an argument holds
 * U+FFFD, the arguments are taken from /proc/self/cmdline instead, decoded as every name from the
 * kernel is (decodeBytes: such a byte as a lone surrogate U+DC80+byte, which the file reads and the
 * native runner turn back into the byte, and escapeControl prints as `\xff`). Used only when
 * cmdline's last arguments decode, as Node decoded them, to exactly process.argv's (a changed
 * process title would not): otherwise process.argv as it is.
 */
export function cliArgs(fromNode: string[] = process.argv.slice(2), read: () => string = () => openSource().readProcTextBytes('self/cmdline')): string[] {
  if (!fromNode.some((a) => a.includes('\uFFFD'))) return fromNode;
  try {
    const raw = read().split('\0');
    if (raw.at(-1) === '') raw.pop();
    if (raw.length < fromNode.length) return fromNode;
    const tail = raw.slice(raw.length - fromNode.length);
    for (let i = 0; i < tail.length; i++) if (encodeBytes(tail[i]!).toString('utf8') !== fromNode[i]) return fromNode;
    return tail;
  } catch {
    return fromNode;
  }
}

/** Run a main and exit with its code once stdout has drained (EPIPE from `| head` is fine). */
export async function runMain(main: (argv: string[], deps: Deps) => Promise<number>, argv = cliArgs()): Promise<void> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  const code = await main(argv, realDeps());
  process.exitCode = code;
}

/**
 * For commands that hand the terminal to another program (nsenter-ts): never touch
 * process.stdout/stdin (creating those streams loads tty/net and configures the terminal's file
 * descriptions), write the few lines we print straight to fds 1 and 2.
 */
export async function runMainPlain(main: (argv: string[], deps: Deps) => Promise<number>, argv = cliArgs()): Promise<void> {
  const write = (fd: number) => ({ write: (s: string) => writeAllSync(fd, s) });
  const deps: Deps = { stdout: write(1), stderr: write(2), columns: undefined, openSource, euid: process.geteuid?.() ?? 0 };
  process.exitCode = await main(argv, deps);
}

/**
 * Write all of `s` to `fd`: partial writes continued; EAGAIN (a pipe the reader made
 * non-blocking — the file description is shared) waited out in 1 ms steps, up to 10 s; a closed
 * pipe or any other error ends the output quietly.
 */
export function writeAllSync(fd: number, s: string): void {
  let buf = Buffer.from(s, 'utf8');
  let waited = 0;
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || waited >= 10_000) return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      waited++;
    }
  }
}
