// Bundle each command into one ES module under dist/bin (package.json "bin" points there):
// Node 20 has no module compile cache, and resolving dozens of modules costs more than running
// the command on a small host (the bins parse options with cli/getopt.ts: no argument library). tsc still type-checks and builds
// everything else. The native addon stays a separate file, loaded at run time.
//
// Measured (npm run bench, docs/benchmarks.md): whole bundles start fastest, except for
// capdecode, whose plain-decode fast path is fastest when the full CLI stays a lazy chunk.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const names = Object.values(pkg.bin).map((out) => out.replace(/^dist\/bin\//, '').replace(/\.js$/, ''));
const common = {
  outdir: 'dist/bin',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // some bundled CommonJS code calls require(): give the ES module bundle one
  banner: { js: "import { createRequire as __hsCreateRequire } from 'node:module'; const require = __hsCreateRequire(import.meta.url);" },
};
const split = new Set(['capdecode']);
await build({ ...common, entryPoints: Object.fromEntries(names.filter((n) => !split.has(n)).map((n) => [n, `cli/bin/${n}.ts`])) });
await build({ ...common, splitting: true, chunkNames: 'chunks/[name]-[hash]', entryPoints: Object.fromEntries([...split].map((n) => [n, `cli/bin/${n}.ts`])) });
