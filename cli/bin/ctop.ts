#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
// The built bin's first two lines (scripts/bundle-bins.mjs: a shell script that runs node on this
// file, and for node a string and a comment): one glibc malloc arena instead of up to 8 per core. The native scan's threads
// (the libuv threadpool) and V8's each got an arena of their own that kept its freed memory: at
// 10,000 processes ~35 MB of RSS in 8 arenas (docs/ctop.md, speed). It must be in the environment
// before node starts (glibc reads it once); the user's own value (HOSTSCOPE_CTOP_ARENAS: "=VALUE"
// when it was set, "" when not) is put back here so that what ctop starts (a shell in a group's
// namespaces, the demo's containers) gets the user's environment.
const arenas = process.env.HOSTSCOPE_CTOP_ARENAS;
if (arenas !== undefined) {
  delete process.env.HOSTSCOPE_CTOP_ARENAS;
  if (arenas.startsWith('=')) process.env.MALLOC_ARENA_MAX = arenas.slice(1);
  else delete process.env.MALLOC_ARENA_MAX;
}
// V8's heap sized for memory rather than speed, set before anything is allocated: on a host of
// 10,000 processes the default heuristics let ctop's heap (mostly garbage between two polls)
// grow past 250 MB of RSS; with this, about 120-150 MB for the same CPU (docs/ctop.md, speed)
setFlagsFromString('--optimize-for-size');
// Ink and React are loaded only by the interactive view (tui/run.ts), a lazy chunk
const { runMain } = await import('../run.js');
const { ctopMain } = await import('../ctop.js');
await runMain(ctopMain);
