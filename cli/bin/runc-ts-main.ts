// The runc-ts command itself, bundled as CommonJS (dist/bin/runc-ts-main.cjs) and run by the bin
// (cli/bin/runc-ts.ts) through a V8 code cache; `node dist/bin/runc-ts-main.cjs …` runs it uncached.
// runMainPlain: process.stdout/stderr are never made (the container shares runc-ts's stdio; a pipe
// made a Node stream would be switched to O_NONBLOCK under it, and the streams cost start-up time)
import { runMainPlain } from '../run.js';
import { runcMain } from '../runc.js';

void runMainPlain(runcMain);
