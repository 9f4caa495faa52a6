// tsc drops the executable bit: give it back to the compiled entry points named in package.json "bin".
import { chmodSync, readFileSync } from 'node:fs';
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
for (const file of new Set(Object.values(pkg.bin))) chmodSync(new URL(`../${file}`, import.meta.url), 0o755);
