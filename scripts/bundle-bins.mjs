// Bundle each command into one ES module under dist/bin (package.json "bin" points there):
// Node 20 has no module compile cache, and resolving dozens of modules costs more than running
// the command on a small host (the bins parse options with cli/getopt.ts: no argument library). tsc still type-checks and builds
// everything else. The native addon stays a separate file, loaded at run time.
//
// Measured (npm run bench, docs/benchmarks.md): whole bundles start fastest, except for
// capdecode, whose plain-decode fast path is fastest when the full CLI stays a lazy chunk.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// string-width (cliui's, wrap-ansi's) builds an Intl.Segmenter when its module loads: ~100 ms of
// CPU on a slow machine on every run of cinf, though only --help ever measures a string. Build it
// on first use instead (npm run bench shows the difference beside `node -e 0`).
const lazySegmenter = {
  name: 'lazy-intl-segmenter',
  setup(b) {
    b.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      const eager = 'const segmenter = new Intl.Segmenter();';
      if (!src.includes(eager)) return undefined;
      const lazy = 'let segmenter$; const segmenter = { segment: (s) => (segmenter$ ??= new Intl.Segmenter()).segment(s) };';
      return { contents: src.replace(eager, lazy), loader: 'js' };
    });
  },
};

// ctop's Ink keeps what it measured and drew across renders (docs/adr/0013-ink-render-caches.md):
// three of Ink 6.8's own modules swapped for tui/ink/ ones that give the same answers from bounded
// memos. Checked against Ink's by test/tui/ink-output.test.ts; another Ink version fails the build
// here until those are checked against it.
const inkRenderCaches = {
  name: 'ink-render-caches',
  setup(b) {
    const inkBuild = /[\\/]node_modules[\\/]ink[\\/]build[\\/]([a-z-]+)\.js$/;
    const swap = { 'renderer:./output.js': 'output.ts', 'render-node-to-output:widest-line': 'width.ts', 'measure-text:widest-line': 'width.ts', 'dom:./measure-text.js': 'measure-text.ts' };
    const tuiInk = fileURLToPath(new URL('../tui/ink/', import.meta.url));
    let inkDir;
    b.onResolve({ filter: /^(\.\/output\.js|\.\/measure-text\.js|widest-line)$/ }, (args) => {
      const m = inkBuild.exec(args.importer);
      const to = m && swap[`${m[1]}:${args.path}`];
      if (!to) return undefined;
      inkDir ??= args.resolveDir;
      const version = JSON.parse(readFileSync(join(args.resolveDir, '../package.json'), 'utf8')).version;
      if (version !== '6.8.0') throw new Error(`ink ${version}: tui/ink/ replaces modules of Ink 6.8.0; check them against this version (test/tui/ink-output.test.ts) and update scripts/bundle-bins.mjs`);
      return { path: join(tuiInk, to) };
    });
    // the swapped modules import Ink's own dependencies (string-width, slice-ansi, …) as Ink does
    b.onResolve({ filter: /^[@a-z]/ }, (args) => {
      if (!args.importer.startsWith(tuiInk) || !inkDir || args.pluginData === 'ink-dir') return undefined;
      return b.resolve(args.path, { kind: args.kind, resolveDir: inkDir, pluginData: 'ink-dir' });
    });
  },
};

// cinf's bundle is CommonJS (buildCachedBin below), its builtins plain require()s. perf_hooks:
// only `performance.now()` is used in cinf (src/inspect/scan.ts times its slices and stamps the
// snapshot; cinf prints neither): a monotonic clock from process.hrtime, without the eleven
// modules node:perf_hooks loads (~5 ms of every start here). Any other import from it fails the build.
const lightPerfHooks = {
  name: 'light-perf-hooks',
  setup(b) {
    b.onResolve({ filter: /^(node:)?perf_hooks$/ }, () => ({ path: 'perf_hooks', namespace: 'light-perf-hooks' }));
    b.onLoad({ filter: /.*/, namespace: 'light-perf-hooks' }, () => ({
      contents: 'const t0 = process.hrtime.bigint();\nexport const performance = { now: () => Number(process.hrtime.bigint() - t0) / 1e6 };',
      loader: 'js',
    }));
  },
};

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const names = Object.values(pkg.bin).map((out) => out.replace(/^dist\/bin\//, '').replace(/\.c?js$/, ''));
const common = {
  outdir: 'dist/bin',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // Ink imports react-devtools-core only when DEV=true: never bundled
  external: ['react-devtools-core'],
  // some bundled CommonJS code calls require(): give the ES module bundle one
  banner: { js: "import { createRequire as __hsCreateRequire } from 'node:module'; const require = __hsCreateRequire(import.meta.url);" },
  plugins: [lazySegmenter],
};
// ctop (and hostscope, which runs it) keep Ink and React in a lazy chunk loaded only by the interactive view
const split = new Set(['capdecode', 'ctop', 'hostscope']);
// runc-ts and cinf: a CommonJS bin running its bundle through a V8 code cache (buildCachedBin below)
const cached = new Set(['runc-ts', 'cinf']);
await build({ ...common, entryPoints: Object.fromEntries(names.filter((n) => !split.has(n) && !cached.has(n)).map((n) => [n, `cli/bin/${n}.ts`])) });
await buildCachedBin('runc-ts');
// cinf: minified whitespace and syntax (identifiers kept): less source to parse on a run without
// a cache, and ASCII (docs/benchmarks.md)
// Its bin runs node with --max-opt=1: Sparkplug (baseline) code at most, no TurboFan. A cinf run is
// a few hundred milliseconds; the optimizing compiler's work on its loops (on a helper thread,
// competing with the scan's two) cost more than it saved: docs/benchmarks.md "cinf".
await buildCachedBin('cinf', [lazySegmenter, lightPerfHooks], '--max-opt=1');
// dist/bin/chunks is this build's alone: the chunks of an earlier build (other hashes) would pile
// up there, and a stale bin could still load them. The files this build did not write are removed
// after it wrote its own (never an empty directory in between for a bin that is running).
const splitBuild = await build({
  ...common,
  splitting: true,
  metafile: true,
  chunkNames: 'chunks/[name]-[hash]',
  entryPoints: { ...Object.fromEntries([...split].map((n) => [n, `cli/bin/${n}.ts`])) },
  plugins: [...common.plugins, inkRenderCaches],
});
{
  const { readdirSync } = await import('node:fs');
  const { resolve } = await import('node:path');
  const written = new Set(Object.keys(splitBuild.metafile.outputs).map((f) => resolve(f)));
  for (const f of readdirSync('dist/bin/chunks')) if (!written.has(resolve('dist/bin/chunks', f))) rmSync(resolve('dist/bin/chunks', f), { recursive: true, force: true });
}

// ctop: one glibc malloc arena (MALLOC_ARENA_MAX=1, docs/ctop.md "How it works"), which must be in
// the environment before node starts: its first line becomes a shell script that sets it and runs
// node on this very file (portable, unlike `env -S`), and for node a string and a comment (as
// cinf's bin below). cli/bin/ctop.ts takes the variable out of its environment again. And V8's
// young generation capped at 2 MB semi-spaces (the default grows to 16: 32 MB of new space, most
// of it a poll's garbage), a heap size V8 reads only from its command line, not from
// v8.setFlagsFromString (cli/bin/ctop.ts sets the growth policy there). And scavenges on the main
// thread alone (--no-parallel-scavenge): a parallel scavenge waits for its helper threads, and on
// two busy cores a helper that is not running held the event loop for 10-90 ms where the same
// scavenge alone takes a few (bench/run.ts prints the stall both ways, issue 6).
{
  const { readFileSync, writeFileSync } = await import('node:fs');
  const f = 'dist/bin/ctop.js';
  const text = readFileSync(f, 'utf8');
  if (!text.startsWith('#!/usr/bin/env node\n')) throw new Error(`${f}: no node shebang to replace`);
  writeFileSync(f, `#!/bin/sh\n':' //; HOSTSCOPE_CTOP_ARENAS="\${MALLOC_ARENA_MAX+=}\${MALLOC_ARENA_MAX-}" MALLOC_ARENA_MAX=1 exec node --max-semi-space-size=2 --no-parallel-scavenge "$0" "$@"\n${text.slice(text.indexOf('\n') + 1)}`, { mode: 0o755 });
}

/**
 * A bin that runs its command through a V8 code cache (docs/runtime.md "Speed", runc-ts first;
 * cinf the same, docs/benchmarks.md): the bin dist/bin/NAME.cjs is CommonJS (no ES module loader
 * to start) and runs the command's bundle dist/bin/NAME-main.cjs through a V8 code cache
 * (src/runtime/code-cache.ts) kept in dist/bin/.NAME-cache/. The bundle is CommonJS, ASCII (read
 * as latin1, no UTF-8 decoding), minified in whitespace and syntax (names kept), with Node
 * builtins as plain require()s. dist/bin/NAME.js stays as an ES module entry that loads the bin,
 * for callers that name it.
 */
async function buildCachedBin(name, plugins = [], nodeFlags = '') {
  const { writeFileSync, chmodSync } = await import('node:fs');
  const cjs = {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    charset: 'ascii',
    // import.meta is ESM-only: the code that reads it (the addon's path, the version) gets the CommonJS values
    define: { 'import.meta.dirname': '__dirname', 'import.meta.url': '__hsImportMetaUrl' },
    banner: { js: 'var __hsImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    write: false,
  };
  const main = await build({ ...cjs, plugins, entryPoints: [`cli/bin/${name}-main.ts`], minifyWhitespace: true, minifySyntax: true, outfile: `dist/bin/${name}-main.cjs` });
  // `import * as fs from 'node:fs'` becomes __toESM(require("node:fs"), 1): a copy of every export
  // (getters) per import site. The module object itself serves a namespace import just as well.
  let code = main.outputFiles[0].text.replace(/__toESM\(require\("(node:[a-z_/]+)"\),\s*1\)/g, 'require("$1")');
  if (/[^\x00-\x7f]/.test(code)) throw new Error(`${name}-main.cjs is not ASCII: the code cache loader reads it as latin1`);
  if (/\bimport\(/.test(code)) throw new Error(`${name}-main.cjs calls import(): a vm.Script has no dynamic import`);
  writeFileSync(`dist/bin/${name}-main.cjs`, code);
  const bin = await build({ ...cjs, entryPoints: [`cli/bin/${name}.ts`], outfile: `dist/bin/${name}.cjs`, banner: {} });
  let binText = bin.outputFiles[0].text.replace(/__toESM\(require\("(node:[a-z_/]+)"\),\s*1\)/g, 'require("$1")');
  if (nodeFlags) {
    // Node flags for the bin, portably: `#!/usr/bin/env -S node FLAGS` needs an env with -S
    // (busybox's has none). This is both a shell script that runs node with the flags on this very
    // file, and JavaScript (a string statement and a comment): `node FILE` skips the first line
    // and runs the second as a no-op, without the flags.
    if (!binText.startsWith('#!/usr/bin/env node\n')) throw new Error(`${name}.cjs: no node shebang to replace`);
    // NODE_EXTRA_CA_CERTS: Node 20 parses that file at every start, before any of the bin's code
    // (set to the whole CA bundle on some hosts: ~45 ms of CPU per run here, docs/benchmarks.md);
    // a bin with flags (cinf) makes no TLS connection and starts no program, so it drops it.
    binText = `#!/bin/sh\n':' //; unset NODE_EXTRA_CA_CERTS; exec node ${nodeFlags} "$0" "$@"\n${binText.slice(binText.indexOf('\n') + 1)}`;
  }
  writeFileSync(`dist/bin/${name}.cjs`, binText, { mode: 0o755 });
  writeFileSync(
    `dist/bin/${name}.js`,
    `#!/usr/bin/env node\n// ${name} as an ES module entry, for callers that name this file: the bin is ${name}.cjs\nimport { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./${name}.cjs');\n`,
    { mode: 0o755 },
  );
  chmodSync(`dist/bin/${name}.js`, 0o755);
  // caches of the previous build are stale (their header names the bundle's inode and mtime): drop them
  rmSync(`dist/bin/.${name}-cache`, { recursive: true, force: true });
}
