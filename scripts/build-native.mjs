// Build the native addon from source against the local Node headers (never download anything).
// A failed build is not fatal: every inspection command works without the addon, and the
// commands that need it (nsenter-ts, the runtime) say so in one line. CI sets
// HOSTSCOPE_REQUIRE_NATIVE=1 to make a failed build an error.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const candidates = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
].filter(Boolean);
const gyp = candidates.find((p) => existsSync(p));
const headerDirs = [process.env.npm_config_nodedir, join(dirname(process.execPath), '..'), '/usr', '/usr/local'].filter(Boolean);
const nodedir = headerDirs.find((d) => existsSync(join(d, 'include/node/node_api.h')));

function fail(why) {
  process.stderr.write(`hostscope: native addon not built (${why}): nsenter-ts and the runtime will be unavailable\n`);
  process.exit(process.env.HOSTSCOPE_REQUIRE_NATIVE === '1' ? 1 : 0);
}

if (!gyp) fail('node-gyp not found');
if (!nodedir) fail('no local Node headers (include/node/node_api.h)');
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn'], { stdio: 'inherit' });
if (r.status !== 0) fail(`node-gyp exited with ${r.status}`);
