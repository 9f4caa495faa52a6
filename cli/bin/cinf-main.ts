// The cinf command itself, bundled as CommonJS (dist/bin/cinf-main.cjs) and run by the bin
// (cli/bin/cinf.ts) through a V8 code cache; `node dist/bin/cinf-main.cjs …` runs it uncached.
import { fstatSync } from 'node:fs';
import { runMain, runMainPlain } from '../run.js';
import { cinfMain } from '../cinf.js';

// Surely not on a terminal (a pipe, a file, /dev/null: scripts, `cinf --json | jq`), the output
// goes straight to fds 1 and 2: process.stdout is never made, which loads Node's stream modules
// (so does node:tty's isatty), ~10–25 ms of a run (docs/benchmarks.md). Any other character device
// may be a terminal: process.stdout then, which knows the width the tables fit.
function surelyNoTerminal(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    // major 1 is /dev/null, /dev/zero, /dev/full …: never a terminal
    return !st.isCharacterDevice() || Math.floor(st.rdev / 256) % 4096 === 1;
  } catch {
    return false;
  }
}

void (surelyNoTerminal(1) ? runMainPlain(cinfMain) : runMain(cinfMain));
