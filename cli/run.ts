import { realDeps, type Deps } from './common.js';

/** Run a main and exit with its code once stdout has drained (EPIPE from `| head` is fine). */
export async function runMain(main: (argv: string[], deps: Deps) => Promise<number>, argv = process.argv.slice(2)): Promise<void> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  const code = await main(argv, realDeps());
  process.exitCode = code;
}
