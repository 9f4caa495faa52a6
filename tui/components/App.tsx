import { useEffect, useMemo } from 'react';
import { useInput } from 'ink';
import type { ChalkInstance } from 'chalk';
import { buildFrame, type DetailProvider } from '../frame.js';
import { handleInput, type Effects, type KeyCtx } from '../keymap.js';
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
    // each key sees the state (and frame) the previous key left
    const ctx = (): KeyCtx => {
      const s = store.getState();
      return { state: s, frame: s === state ? frame : buildFrame(s, chalk, detail), dispatch: store.dispatch, effects };
    };
    handleInput(ctx(), { input, key }, ctx);
  });
  // the group or process on screen has gone: say so and go back
  useEffect(() => {
    if (frame.gone) {
      store.dispatch({ type: 'back' });
      store.dispatch({ type: 'message', text: `${frame.gone}: back to the list` });
    }
  }, [frame.gone, store]);
  return <Screen frame={frame} chalk={chalk} help={state.mode === 'help'} cols={state.cols} rows={state.rows} helpTop={state.helpTop} />;
}
