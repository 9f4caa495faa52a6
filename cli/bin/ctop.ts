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
// V8's old generation allowed to grow 50 % past what a full GC kept before the next one (with the
// 2 MB semi-spaces of the first line). --optimize-for-size, used before, grows it by only 10 %: at
// 10,000 processes a poll's survivors reached that within one poll, so a full mark-compact ran
// every second, about half of ctop's CPU (main thread and V8's helper threads). With this, a full
// GC every few polls, and an RSS of ~130-150 MiB at 10,000 processes (docs/ctop.md, speed).
// A policy flag, read when V8 sizes the heap after each GC: it works from here.
setFlagsFromString('--heap-growing-percent=50');
// Ink and React are loaded only by the interactive view (tui/run.ts), a lazy chunk
const { runMain } = await import('../run.js');
const { ctopMain } = await import('../ctop.js');
await runMain(ctopMain);
