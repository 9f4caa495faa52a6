#!/usr/bin/env node
// The runc-ts bin (dist/bin/runc-ts.cjs, CommonJS: no ES module loader to start): runs the bundled
// command (runc-ts-main.cjs) through a V8 code cache per verb, kept in .runc-ts-cache/ beside it
// (src/runtime/code-cache.ts says when a cache is trusted, used, ignored and rewritten).
import { runCached } from '../../src/runtime/code-cache.js';

const VERBS = new Set(['spec', 'state', 'list', 'run', 'create', 'start', 'pause', 'resume', 'kill', 'delete', 'ps', 'update', 'events', 'features', 'exec']);
const verb = process.argv.slice(2).find((a) => VERBS.has(a)) ?? 'other';
const dir = import.meta.dirname;
const r = runCached(`${dir}/runc-ts-main.cjs`, { dir: `${dir}/.runc-ts-cache`, name: verb });
if (r.cache !== 'used') process.on('exit', () => r.save());
