#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
// V8's heap sized for memory rather than speed, set before anything is allocated: on a host of
// 10,000 processes the default heuristics let ctop's heap (mostly garbage between two polls)
// grow past 250 MB of RSS; with this, about 120-150 MB for the same CPU (docs/ctop.md, speed)
setFlagsFromString('--optimize-for-size');
// Ink and React are loaded only by the interactive view (tui/run.ts), a lazy chunk
const { runMain } = await import('../run.js');
const { ctopMain } = await import('../ctop.js');
await runMain(ctopMain);
