import { useMemo } from 'react';
import { useInput } from 'ink';
import type { ChalkInstance } from 'chalk';
import { buildFrame, type DetailProvider } from '../frame.js';
import { handleKey, type Effects } from '../keymap.js';
import type { Store } from '../store.js';
import { useStore } from '../hooks/use-store.js';
import { useTerminalSize } from '../hooks/use-terminal-size.js';
import { Screen } from './Screen.js';

export interface AppProps {
  store: Store;
  chalk: ChalkInstance;
  detail?: DetailProvider;
  effects?: Effects;
  /** follow the terminal's size (off for fixed-size tests) */
  trackSize?: boolean;
}

export function App({ store, chalk, detail, effects, trackSize = true }: AppProps) {
  const state = useStore(store);
  if (trackSize) useTerminalSize(store);
  const frame = useMemo(() => buildFrame(state, chalk, detail), [state, chalk, detail]);
  useInput((input, key) => {
    // the frame of the state the key arrives in (several keys in one chunk each see the last)
    const s = store.getState();
    handleKey({ state: s, frame: s === state ? frame : buildFrame(s, chalk, detail), dispatch: store.dispatch, effects }, { input, key });
  });
  return <Screen frame={frame} chalk={chalk} help={state.mode === 'help'} cols={state.cols} rows={state.rows} />;
}
