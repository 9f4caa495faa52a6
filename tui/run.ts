/**
 * The interactive ctop: the alternate screen, Ink (loaded only here), the poller, the recorder
 * or the replay controller, and every exit path restoring the terminal.
 */
import { createElement } from 'react';
import { render, type Instance } from 'ink';
import { Chalk } from 'chalk';
import { spawnSync } from 'node:child_process';
import { existsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcSource } from '../src/source/source.js';
import { loadNative } from '../src/native/index.js';
import { packageRoot } from '../src/util/package-root.js';
import type { Deps } from '../cli/common.js';
import { App } from './components/App.js';
import { createStore, shownSamples, type State } from './store.js';
import { Poller } from './poller.js';
import { scanSample, type Sample, type Wanted } from './sample.js';
import { hostEffects } from './actions.js';
import { freshStatFor } from './fresh.js';
import { detailTab, readDetail, recordedStory, type Detail } from './detail.js';
import { groupsOf, prepareGroups, type DetailProvider } from './frame.js';
import { RecordingError, type Recording } from './record/replay.js';
import { HISTORY_MAX } from './store.js';
import { escapeControl } from '../src/render/escape.js';

export interface InteractiveOptions {
  state: State;
  src?: ProcSource;
  replay?: Recording;
  deps: Deps;
  args: { record?: string; demo?: boolean; n?: number; 'proc-root'?: string; 'sys-root'?: string };
}

const ENTER = '\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J';
const LEAVE = '\x1b[?25h\x1b[?1049l';

function binPath(name: string): string | undefined {
  const root = packageRoot(import.meta.dirname);
  const p = root ? join(root, 'dist/bin', `${name}.js`) : undefined;
  return p && existsSync(p) ? p : undefined;
}

export async function runInteractive(o: InteractiveOptions): Promise<number> {
  const out = process.stdout;
  const store = createStore({ ...o.state, cols: out.columns || 80, rows: out.rows || 24 });
  const chalk = new Chalk();
  let onScreen = false;
  const enterScreen = (): void => {
    if (!onScreen) writeSync(1, ENTER);
    onScreen = true;
  };
  const leaveScreen = (): void => {
    if (onScreen) {
      try {
        writeSync(1, LEAVE);
      } catch {
        /* the terminal went away */
      }
    }
    onScreen = false;
  };

  const cleanups: (() => void | Promise<void>)[] = [];
  let instance: Instance | undefined;
  // one cleanup, however many ways out arrive (q then SIGHUP as tmux closes): each waits for it
  let finishing: Promise<void> | undefined;
  const finish = (): Promise<void> => (finishing ??= doFinish());
  const doFinish = async (): Promise<void> => {
    try {
      instance?.unmount();
    } catch {
      /* already gone */
    }
    instance = undefined;
    if (process.stdin.isTTY) {
      try {
        process.stdin.setRawMode(false);
      } catch {
        /* not a tty any more */
      }
    }
    leaveScreen();
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        /* keep cleaning */
      }
    }
  };
  // every way out restores the terminal: signals, a crash
  const onSignal = (code: number) => (): void => {
    void finish().then(() => process.exit(code));
  };
  const handlers: [NodeJS.Signals, () => void][] = [
    ['SIGTERM', onSignal(143)],
    ['SIGHUP', onSignal(129)],
    ['SIGINT', onSignal(130)],
  ];
  for (const [s, h] of handlers) process.on(s, h);
  const onCrash = (e: unknown): void => {
    void finish().then(() => {
      process.stderr.write(`ctop: internal error: ${escapeControl(String((e as Error)?.message ?? e))}\n`);
      if (process.env.HOSTSCOPE_DEBUG === '1') process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
      process.exit(1);
    });
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  process.on('exit', leaveScreen);
  cleanups.push(() => {
    for (const [s, h] of handlers) process.off(s, h);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    process.off('exit', leaveScreen);
  });

  try {
    let src = o.src;
    if (o.args.demo) {
      const { startDemo } = await import('./demo.js');
      // the removal is registered before the first container starts: a signal during the start removes them too
      await startDemo((line: string) => process.stderr.write(`${line}\n`), { onStop: (stop) => cleanups.push(stop) });
    }

    // detail view: the live process's story, read once per sample; in a replay, what the sample kept
    let cache: { key: string; d: Detail | undefined } | undefined;
    const detail: DetailProvider = (pid, start, tab, showEnv, cols) => {
      const s = store.getState();
      const { cur } = shownSamples(s);
      const key = `${s.replay || !src ? 'rec' : 'live'}:${pid}:${start}:${cur?.endMs ?? 0}`;
      if (cache?.key !== key) cache = { key, d: s.replay || !src ? (cur ? recordedStory(cur, pid) : undefined) : readDetail(src, pid, start, cur) };
      const d = cache.d;
      if (!d) return { title: `pid ${pid}`, lines: [], gone: s.replay || !src ? `pid ${pid} is not in this sample` : `pid ${pid} has exited` };
      const o = d.story.sections.find((x) => x.id === 'overview');
      const name = o && o.id === 'overview' ? o.name ?? String(pid) : String(pid);
      return { title: d.recorded ? `${name} (recorded)` : name, lines: detailTab(d, tab, { width: cols, showEnv }) };
    };

    let onRendered: ((ms: number) => void) | undefined;
    const nsenter = binPath('nsenter-ts');
    const effects =
      src && src.isLive && !o.state.readonly
        ? hostEffects({
            src,
            shell: (pid) => {
              if (!nsenter) return store.dispatch({ type: 'message', text: 'nsenter-ts is not built (npm run build)' });
              // suspend Ink, hand the terminal to the shell, come back
              instance?.unmount();
              instance = undefined;
              if (process.stdin.isTTY) process.stdin.setRawMode(false);
              leaveScreen();
              process.stdout.write(`ctop: a shell in the namespaces of pid ${pid}; exit it to return to ctop\n`);
              process.stdin.pause();
              const env = { ...process.env };
              if (env.HOSTSCOPE_CTOP_NODE_ENV === '1') delete env.NODE_ENV; // ctop set it for React only
              delete env.HOSTSCOPE_CTOP_NODE_ENV;
              const r = spawnSync(process.execPath, [nsenter, '-t', String(pid), '-a'], { stdio: 'inherit', env });
              // an interactive shell made its own group the terminal's foreground and exited: take
              // the terminal back, or setRawMode fails with EIO (we would be a background group)
              if (process.stdin.isTTY) {
                try {
                  (loadNative() as unknown as { takeTerminal?: (fd: number) => void } | undefined)?.takeTerminal?.(0);
                } catch {
                  /* not our terminal any more: Ink says so below */
                }
              }
              enterScreen();
              mount();
              store.dispatch({ type: 'message', text: r.status === 0 ? `shell in pid ${pid} ended` : `shell in pid ${pid} ended with status ${r.status ?? r.signal}` });
            },
          })
        : undefined;

    // HOSTSCOPE_CTOP_KEYLOG=FILE (for bench/ctop.ts): for each chunk of keys, the ms from its arrival
    // to the end of the first render after it, how long that render took, and the ms from the
    // arrival to the key's first change of the store (the rest is React, the frame and Ink's throttle)
    const keylog = process.env.HOSTSCOPE_CTOP_KEYLOG;
    let keyAt: number | undefined;
    let storedAt: number | undefined;
    if (keylog) {
      const { appendFileSync } = await import('node:fs');
      const onKey = (): void => {
        keyAt ??= performance.now();
      };
      process.stdin.prependListener('data', onKey);
      process.stdin.prependListener('readable', onKey);
      const unsub = store.subscribe(() => {
        if (keyAt !== undefined) storedAt ??= performance.now();
      });
      cleanups.push(() => {
        process.stdin.off('data', onKey);
        process.stdin.off('readable', onKey);
        unsub();
      });
      onRendered = (ms: number): void => {
        if (keyAt === undefined) return;
        const now = performance.now();
        try {
          appendFileSync(keylog, `${(now - keyAt).toFixed(1)} ${ms.toFixed(1)} ${storedAt === undefined ? '-' : (storedAt - keyAt).toFixed(1)}\n`);
        } catch {
          /* the log is a debugging aid */
        }
        keyAt = undefined;
        storedAt = undefined;
      };
    }
    const mount = (): void => {
      instance = render(createElement(App, { store, chalk, detail, ...(effects ? { effects } : {}) }), {
        ...(onRendered ? { onRender: ({ renderTime }: { renderTime: number }) => onRendered!(renderTime) } : {}),
        exitOnCtrlC: false,
        patchConsole: false,
        // Ink throttles renders: a key that lands just after a render waits out the window (at 20
        // fps up to 50 ms: the second of two keys typed together paid it every time). ctop renders
        // only on a change (a sample, a key), and with the render caches (tui/ink/) a key's frame
        // costs a few ms, so the cap is 60: it binds only while a key repeats.
        maxFps: 60,
        incrementalRendering: false,
      });
    };

    if (o.replay) {
      const rec = o.replay;
      const times = rec.frames.map((f) => f.wallMs);
      let loaded = -1;
      const load = (i: number): void => {
        let history;
        try {
          history = rec.window(i, HISTORY_MAX);
        } catch (e) {
          // a frame whose checksum holds but whose content is refused: say so, stay where we were
          if (!(e instanceof RecordingError) || loaded < 0) throw e;
          store.dispatch({ type: 'replaceHistory', history: rec.window(loaded, HISTORY_MAX), replay: { index: loaded, total: rec.count, times } });
          store.dispatch({ type: 'message', text: `frame ${i + 1}/${rec.count} skipped: ${e.message}` });
          return;
        }
        loaded = i;
        store.dispatch({ type: 'replaceHistory', history, replay: { index: i, total: rec.count, times } });
      };
      load(rec.count - 1);
      if (rec.problem) store.dispatch({ type: 'message', text: rec.problem });
      const unsub = store.subscribe(() => {
        const r = store.getState().replay;
        if (r && r.index !== loaded) load(r.index);
      });
      cleanups.push(unsub);
    } else {
      if (!src) throw new Error('no source');
      // the poll: scanHost off the event loop; status + cmdline only for what the view shows
      const liveSrc = src;
      const wantedNow = (): Wanted => {
        const s = store.getState();
        const v = s.views[s.views.length - 1]!;
        if (v.kind === 'groups') return () => false;
        if (v.kind === 'detail') return (pid) => pid === v.pid;
        if (v.groupKey === undefined) return () => true;
        const { prev, cur } = shownSamples(s);
        const g = cur ? groupsOf(prev, cur, s.groupBy).find((x) => x.key === v.groupKey) : undefined;
        const pids = new Set(g?.pids ?? []);
        return (pid, ppid) => pids.has(pid) || pids.has(ppid);
      };
      // fresh stat only for the processes the view needs (tui/fresh.ts); the rest keep their last figures
      const scan = (): Promise<Sample> => scanSample(liveSrc, { wanted: wantedNow(), freshStat: freshStatFor(store.getState()) });
      let recorder: { append(s: import('./sample.js').Sample): void; close(): void } | undefined;
      if (o.args.record) {
        const { openRecorder } = await import('./record/record.js');
        recorder = openRecorder(o.args.record);
        cleanups.push(() => recorder!.close());
      }
      const poller = new Poller({
        scan,
        dispatch: store.dispatch,
        intervalMs: () => store.getState().intervalMs,
        onSample: (s) => {
          try {
            recorder?.append(s);
          } catch (e) {
            // a full disk ends the recording (said on screen), not the live view
            if (!(e instanceof RecordingError)) throw e;
            recorder = undefined;
            store.dispatch({ type: 'message', text: e.message });
          }
        },
        // the new sample's group rows, in steps with keys handled between them (not in the reducer)
        prepare: async (s) => {
          const st = store.getState();
          await prepareGroups(st.history[st.history.length - 1], s, st.groupBy, () => new Promise((r) => setImmediate(r)));
        },
        ...(o.args.n !== undefined ? { limit: o.args.n, onDone: () => store.dispatch({ type: 'quit' }) } : {}),
        onError: (e) => store.dispatch({ type: 'message', text: `scan failed: ${(e as Error).message}` }),
      });
      poller.start();
      cleanups.push(() => poller.stop());
      // a new view wants other rows' command lines: scan again now rather than in a second
      let lastView = store.getState().views.at(-1);
      cleanups.push(
        store.subscribe(() => {
          const v = store.getState().views.at(-1);
          if (v === lastView) return;
          const same = v && lastView && v.kind === lastView.kind && (v.kind !== 'procs' || (lastView.kind === 'procs' && v.groupKey === lastView.groupKey)) && (v.kind !== 'detail' || (lastView.kind === 'detail' && v.pid === lastView.pid));
          lastView = v;
          if (!same) poller.poke();
        }),
      );
    }

    enterScreen();
    mount();
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (store.getState().quit) resolve();
      };
      cleanups.push(store.subscribe(check));
      check();
    });
  } finally {
    await finish();
  }
  return 0;
}
