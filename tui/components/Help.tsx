import { helpLines } from '../keymap.js';
import { fit } from '../format.js';

/** `?`: every key from the keymap table, cut to the screen, as lines; the last one (dim) says how to scroll. */
export function helpScreen(cols: number, height: number, top: number): { lines: string[]; last: string } {
  const lines = helpLines();
  const h = Math.max(1, height - 1);
  const first = Math.max(0, Math.min(top, lines.length - h));
  const shown = lines.slice(first, first + h);
  return {
    lines: shown.map((l) => fit(l, cols).trimEnd() || ' '),
    last: fit(lines.length > h ? `lines ${first + 1}-${first + shown.length} of ${lines.length}: j/k/Space scroll, any other key closes` : 'any key closes', cols),
  };
}
