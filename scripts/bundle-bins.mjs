// Bundle each command into one ES module under dist/bin (package.json "bin" points there):
// Node 20 has no module compile cache, and resolving dozens of modules costs more than running
// the command on a small host (the bins parse options with cli/getopt.ts: no argument library). tsc still type-checks and builds
// everything else. The native addon stays a separate file, loaded at run time.
//
// Measured (npm run bench, docs/benchmarks.md): whole bundles start fastest, except for
// capdecode, whose plain-decode fast path is fastest when the full CLI stays a lazy chunk.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

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

// Node's built-in modules reach the bundle through the banner's require(), not as ES imports: an
// ES import of a builtin builds its ES facade, which reads every export — for node:fs that runs
// the lazy getters (fs.promises, ReadStream…), loading readline, fs/promises and ~20 stream
// modules no command uses. esbuild's __toESM copies the exports as getters, read on use.
// (runc-ts run: 154 internal modules loaded before, see docs/runtime.md "Speed")
const cjsBuiltins = {
  name: 'cjs-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?(fs|path|os|crypto|module|child_process|util|events|net|tty|readline|worker_threads|url|stream|zlib|assert|process|buffer|string_decoder|timers|perf_hooks|v8|vm)$/ }, (args) =>
      // the require() inside the stand-in module itself is the real builtin
      args.namespace === 'cjs-builtin' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'cjs-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'cjs-builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`, loader: 'js' }));
  },
};

// cinf's variant of cjsBuiltins: the stand-in is an ES module exporting each of the builtin's own
// data properties by name, read once. Importing a CommonJS stand-in makes esbuild copy every export
// as a getter into a fresh object in each importing module (__toESM: ~100 for node:fs, in a dozen
// modules: ~5 ms of every cinf start here). Accessors (fs.promises, fs.ReadStream …: lazy loaders)
// are left out, so importing one fails the build instead of loading it.
const { createRequire } = await import('node:module');
const buildRequire = createRequire(import.meta.url);
const esmBuiltins = {
  name: 'esm-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?(fs|path|os|crypto|module|child_process|util|events|net|tty|readline|worker_threads|url|stream|zlib|assert|process|buffer|string_decoder|timers|perf_hooks|v8|vm)$/ }, (args) =>
      // the require() inside the stand-in itself is the real builtin
      args.namespace === 'esm-builtin' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'esm-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'esm-builtin' }, (args) => {
      // perf_hooks: only `performance.now()` is used in cinf (src/inspect/scan.ts times its slices
      // and stamps the snapshot; cinf prints neither): a monotonic clock from process.hrtime,
      // without the eleven modules node:perf_hooks loads (~5 ms of every start here). Any other
      // import from it fails the build.
      if (args.path === 'perf_hooks') {
        return { contents: 'const t0 = process.hrtime.bigint();\nexport const performance = { now: () => Number(process.hrtime.bigint() - t0) / 1e6 };', loader: 'js' };
      }
      const mod = buildRequire(`node:${args.path}`);
      const names = Object.getOwnPropertyNames(mod).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default' && 'value' in Object.getOwnPropertyDescriptor(mod, k));
      const lines = [`const m = require(${JSON.stringify(`node:${args.path}`)});`, 'export default m;', ...names.map((k) => `export const ${k} = m.${k};`)];
      return { contents: lines.join('\n'), loader: 'js' };
    });
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
// runc-ts: its own build below
const cjsOnly = new Set(['runc-ts']);
// cinf has a build of its own below
const ownBuild = new Set(['cinf']);
await build({ ...common, entryPoints: Object.fromEntries(names.filter((n) => !split.has(n) && !cjsOnly.has(n) && !ownBuild.has(n)).map((n) => [n, `cli/bin/${n}.ts`])) });
await buildRuncTs();
// cinf: builtins as ES stand-ins (above), and minified whitespace and syntax (identifiers kept):
// a quarter less source to parse on every start, and no comment left whose non-ASCII characters
// (≈, →, …) make V8 hold and scan the whole bundle as a two-byte string (docs/benchmarks.md)
await build({ ...common, plugins: [lazySegmenter, esmBuiltins], minifyWhitespace: true, minifySyntax: true, entryPoints: { cinf: 'cli/bin/cinf.ts' } });
await build({
  ...common,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // ctop's scan runs in a worker thread: its own entry, beside the bins
  entryPoints: { ...Object.fromEntries([...split].map((n) => [n, `cli/bin/${n}.ts`])) },
});

/**
 * runc-ts (docs/runtime.md "Speed"): the bin dist/bin/runc-ts.cjs is CommonJS (no ES module loader
 * to start) and runs the command's bundle dist/bin/runc-ts-main.cjs through a V8 code cache
 * (src/runtime/code-cache.ts). The bundle is CommonJS, ASCII (read as latin1, no UTF-8 decoding),
 * minified in whitespace and syntax (names kept), with Node builtins as plain require()s.
 * dist/bin/runc-ts.js stays as an ES module entry that loads the bin, for callers that name it.
 */
async function buildRuncTs() {
  const { writeFileSync, chmodSync, rmSync } = await import('node:fs');
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
  const main = await build({ ...cjs, entryPoints: ['cli/bin/runc-ts-main.ts'], minifyWhitespace: true, minifySyntax: true, outfile: 'dist/bin/runc-ts-main.cjs' });
  // `import * as fs from 'node:fs'` becomes __toESM(require("node:fs"), 1): a copy of every export
  // (getters) per import site. The module object itself serves a namespace import just as well.
  let code = main.outputFiles[0].text.replace(/__toESM\(require\("(node:[a-z_/]+)"\),\s*1\)/g, 'require("$1")');
  if (/[^\x00-\x7f]/.test(code)) throw new Error('runc-ts-main.cjs is not ASCII: the code cache loader reads it as latin1');
  if (/\bimport\(/.test(code)) throw new Error('runc-ts-main.cjs calls import(): a vm.Script has no dynamic import');
  writeFileSync('dist/bin/runc-ts-main.cjs', code);
  const bin = await build({ ...cjs, entryPoints: ['cli/bin/runc-ts.ts'], outfile: 'dist/bin/runc-ts.cjs', banner: {} });
  writeFileSync('dist/bin/runc-ts.cjs', bin.outputFiles[0].text.replace(/__toESM\(require\("(node:[a-z_/]+)"\),\s*1\)/g, 'require("$1")'), { mode: 0o755 });
  writeFileSync(
    'dist/bin/runc-ts.js',
    "#!/usr/bin/env node\n// runc-ts as an ES module entry, for callers that name this file: the bin is runc-ts.cjs\nimport { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./runc-ts.cjs');\n",
    { mode: 0o755 },
  );
  chmodSync('dist/bin/runc-ts.js', 0o755);
  // caches of the previous build are stale (their header names the bundle's inode and mtime): drop them
  rmSync('dist/bin/.runc-ts-cache', { recursive: true, force: true });
}
