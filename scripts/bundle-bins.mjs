// Bundle each command into one ES module under dist/bin (package.json "bin" points there):
// Node 20 has no module compile cache, and resolving dozens of modules (yargs alone brings
// twenty) costs more than running the command on a small host. tsc still type-checks and builds
// everything else. The native addon stays a separate file, loaded at run time.
//
// Measured (npm run bench, docs/benchmarks.md): whole bundles start fastest, except for
// capdecode, whose yargs-free fast path is fastest when the full CLI stays a lazy chunk.
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
  // Ink imports react-devtools-core only when DEV=true: never bundled
  external: ['react-devtools-core'],
  // some bundled CommonJS code calls require(): give the ES module bundle one
  banner: { js: "import { createRequire as __hsCreateRequire } from 'node:module'; const require = __hsCreateRequire(import.meta.url);" },
};
// ctop (and hostscope, which runs it) keep Ink and React in a lazy chunk loaded only by the interactive view
const split = new Set(['capdecode', 'ctop', 'hostscope']);
await build({ ...common, entryPoints: Object.fromEntries(names.filter((n) => !split.has(n)).map((n) => [n, `cli/bin/${n}.ts`])) });
await build({
  ...common,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // ctop's scan runs in a worker thread: its own entry, beside the bins
  entryPoints: { ...Object.fromEntries([...split].map((n) => [n, `cli/bin/${n}.ts`])), 'ctop-scan-worker': 'cli/bin/ctop-scan-worker.ts' },
});
