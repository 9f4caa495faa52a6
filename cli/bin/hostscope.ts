#!/usr/bin/env node
const { runMain } = await import('../run.js');
const { hostscopeMain } = await import('../hostscope.js');
await runMain(hostscopeMain);
