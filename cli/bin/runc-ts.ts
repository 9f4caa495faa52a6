#!/usr/bin/env node
// runMainPlain: process.stdout/stderr are never made (the container shares runc-ts's stdio; a pipe
// made a Node stream would be switched to O_NONBLOCK under it, and the streams cost start-up time)
const { runMainPlain } = await import('../run.js');
const { runcMain } = await import('../runc.js');
await runMainPlain(runcMain);
