import { useEffect } from 'react';
import { useStdout } from 'ink';
import type { Store } from '../store.js';

/** Keep the store's size in step with the terminal (live resizes). */
export function useTerminalSize(store: Store): void {
  const { stdout } = useStdout();
  useEffect(() => {
    const update = (): void => {
      if (stdout.columns && stdout.rows) store.dispatch({ type: 'resize', cols: stdout.columns, rows: stdout.rows });
    };
    update();
    stdout.on('resize', update);
    return () => {
      stdout.off('resize', update);
    };
  }, [stdout, store]);
}
