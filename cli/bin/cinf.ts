#!/usr/bin/env node
const { runMain } = await import('../run.js');
const { cinfMain } = await import('../cinf.js');
await runMain(cinfMain);
