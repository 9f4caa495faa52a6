#!/usr/bin/env node
import { fastDecode } from '../capdecode-core.js';

// `capdecode HEX…` needs nothing but the decoder: answer before loading the rest of the CLI
const fast = fastDecode(process.argv.slice(2));
if (fast) {
  process.stdout.write(fast.out);
  process.stderr.write(fast.err);
  process.exitCode = fast.code;
} else {
  const { runMain } = await import('../run.js');
  const { capdecodeMain } = await import('../capdecode.js');
  await runMain(capdecodeMain);
}
