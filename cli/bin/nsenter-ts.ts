#!/usr/bin/env node
// no argument parser library here: nsenter-ts starts about as fast as node itself
const { runMainPlain } = await import('../run.js');
const { nsenterMain } = await import('../nsenter.js');
await runMainPlain(nsenterMain);
