#!/usr/bin/env node
// Ink and React are loaded only by the interactive view (tui/run.ts), a lazy chunk
const { runMain } = await import('../run.js');
const { ctopMain } = await import('../ctop.js');
await runMain(ctopMain);
