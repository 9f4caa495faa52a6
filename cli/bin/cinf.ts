#!/usr/bin/env node
// The cinf bin (dist/bin/cinf.cjs, CommonJS: no ES module loader to start): runs the bundled
// command (cinf-main.cjs) through a V8 code cache per view, kept in .cinf-cache/ beside it
// (src/runtime/code-cache.ts says when a cache is trusted, used, ignored and rewritten).
import { runCached } from '../../src/runtime/code-cache.js';

const dir = import.meta.dirname;
const r = runCached(`${dir}/cinf-main.cjs`, { dir: `${dir}/.cinf-cache`, name: cinfView(process.argv.slice(2)) + flagsSuffix(process.execArgv) });
if (r.cache !== 'used') process.on('exit', () => r.save());

/**
 * Which view a command line asks for, roughly (a cache holds what one run compiled: a run of
 * another view still works with it, it only compiles more). Options as cinf spells them.
 */
function cinfView(argv: string[]): string {
  let view = 'list';
  let json = false;
  for (const a of argv) {
    if (a === '--') break;
    const name = a.startsWith('--') ? a.slice(2).split('=')[0] : a;
    if (name === 'json' || name === '-J') json = true;
    else if (name === 'cgroups' || name === 'find' || name === 'container') view = name;
    else if ((name === 'namespace' || name === '-N') && view === 'list') view = 'namespace';
    else if ((name === 'pid' || name === '-p') && view === 'list') view = 'pid';
    else if ((name === 'cgroup' || name === '-c') && view === 'list') view = 'cgroup';
  }
  return json ? `${view}-json` : view;
}

/**
 * V8 rejects a cache made under other V8 flags (it hashes them): the shebang's flags and a plain
 * `node dist/bin/cinf.cjs` (the tests) each get a cache of their own instead of rewriting one
 * another's on every run.
 */
function flagsSuffix(flags: string[]): string {
  if (flags.length === 0) return '';
  let h = 0;
  for (const c of flags.join(' ')) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return `-${h.toString(36)}`;
}
