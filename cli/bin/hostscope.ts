#!/usr/bin/env node
const { cliArgs, runMain, runMainPlain } = await import('../run.js');
const { hostscopeMain, PLAIN_STDIO_COMMANDS } = await import('../hostscope.js');
const argv = cliArgs();
// runc-ts and nsenter hand their stdio to another program (a container, nsenter's program): as their
// own bins do, they never make Node's stdio streams (a pipe would be switched to O_NONBLOCK)
await (PLAIN_STDIO_COMMANDS.has(argv[0] ?? '') ? runMainPlain : runMain)(hostscopeMain, argv);
