import { writeSync } from 'node:fs';
import { realDeps, type Deps } from './common.js';
import { openSource } from '../src/source/source.js';

/** Run a main and exit with its code once stdout has drained (EPIPE from `| head` is fine). */
export async function runMain(main: (argv: string[], deps: Deps) => Promise<number>, argv = process.argv.slice(2)): Promise<void> {
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
export async function runMainPlain(main: (argv: string[], deps: Deps) => Promise<number>, argv = process.argv.slice(2)): Promise<void> {
  const write = (fd: number) => ({
    write: (s: string) => {
      try {
        writeSync(fd, s);
      } catch {
        /* a closed pipe: nothing more to say */
      }
    },
  });
  const deps: Deps = { stdout: write(1), stderr: write(2), columns: undefined, openSource, euid: process.geteuid?.() ?? 0 };
  process.exitCode = await main(argv, deps);
}
