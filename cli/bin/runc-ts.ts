#!/usr/bin/env node
const { runMain } = await import('../run.js');
const { runcMain } = await import('../runc.js');
await runMain(runcMain);
