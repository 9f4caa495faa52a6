/**
 * Terminal width of a line, as string-width 8 (Ink's) measures it, without its per-grapheme path
 * for the lines ctop draws. string-width takes printable ASCII at its length; one other character
 * anywhere (a `—` placeholder, a sparkline block, a tree branch) sends the whole line through
 * Intl.Segmenter and several Unicode regexes per character: most of Ink's time on ctop's rows.
 * Here a line (SGR colours stripped as string-width strips them) made only of printable ASCII and
 * the few one-column symbols below is measured by its length; anything else goes to string-width.
 * Each symbol is a grapheme on its own, next to anything, and one column wide to string-width
 * (test/tui/ink-output.test.ts checks the table against it), so the sum is string-width's answer.
 */
import stringWidth from 'string-width';
import stripAnsi from 'strip-ansi';
import { GenCache } from './gen-cache.js';

/** symbols ctop and the story renderers emit, each one column (string-width, ambiguous as narrow) */
export const NARROW_SYMBOLS = '▁▂▃▄▅▆▇█—–…›→←↑↓↔─│├└•’−Δ×÷·≠';
const narrow = new Set<number>([...NARROW_SYMBOLS].map((c) => c.charCodeAt(0)));

/** string-width's answer, quickly for ctop's own lines */
export function lineWidth(line: string): number {
  const s = line.includes('\u001B') || line.includes('\u009B') ? stripAnsi(line) : line;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 || c > 0x7e) && !narrow.has(c)) return stringWidth(line);
  }
  return s.length;
}

const widest = new GenCache<string, number>(2048);

/** widest-line (Ink's import), memoised: Ink measures every <Text> on every render */
export default function widestLine(text: string): number {
  let w = widest.get(text);
  if (w === undefined) {
    w = 0;
    for (const line of text.split('\n')) w = Math.max(w, lineWidth(line));
    widest.set(text, w);
  }
  return w;
}
