/**
 * Ink 6.8's `Output` (node_modules/ink/build/output.js) with each screen row remembered across
 * renders. ctop's bundle uses it in place of Ink's own (scripts/bundle-bins.mjs, plugin
 * `ink-render-caches`; docs/adr/0013-ink-render-caches.md says why).
 *
 * Ink builds every frame from scratch: a width × height grid of cell objects, each written line
 * split into styled characters (tokenize, one object per character) and every grid row turned back
 * into a string. For ctop's 160 × 50 screen that was 30–40 ms of CPU per frame on this machine, on
 * every key, though a key changes one or two rows. Here a row's text is a pure function of the
 * width and the writes that reached that row (their x and their text after transformers): it is
 * computed exactly as Ink does (the same grid code, on that row alone) the first time, and looked
 * up after. Rows no write reached are Ink's blank row: '' after trimEnd. test/tui/ink-output.test.ts
 * checks every frame of ctop's tests against Ink's own Output.
 *
 * The grid code follows Ink's output.js: Ink is MIT licensed, Copyright (c) Vadym Demedes
 * <vadimdemedes@hey.com> (https://github.com/vadimdemedes); its licence text is in
 * node_modules/ink/license, installed with it.
 */
import sliceAnsi from 'slice-ansi';
import { styledCharsFromTokens, styledCharsToString, tokenize, type StyledChar } from '@alcalzone/ansi-tokenize';
import { GenCache } from './gen-cache.js';
import { lineWidth } from './width.js';

type Transformer = (s: string, index: number) => string;
interface Clip {
  x1: number | undefined;
  x2: number | undefined;
  y1: number | undefined;
  y2: number | undefined;
}
type Operation = { type: 'write'; x: number; y: number; text: string; transformers: Transformer[] } | { type: 'clip'; clip: Clip } | { type: 'unclip' };

/** finished rows: key = width, then each write's x and text, NUL-separated */
const rows = new GenCache<string, string>(1024);
// a line's styled characters (an object per character, ~13 KB for a 160-column row) are needed only
// while its row is built: the row memo keeps the result, so this one stays small
const styledChars = new GenCache<string, StyledChar[]>(64);
const widths = new GenCache<string, number>(4096);

/** string-width's answer (lineWidth: ASCII and ctop's symbols without string-width's slow path, whose first use alone costs ~150 ms here) */
function stringWidthOf(text: string): number {
  let w = widths.get(text);
  if (w === undefined) widths.set(text, (w = lineWidth(text)));
  return w;
}

function styledCharsOf(line: string): StyledChar[] {
  let c = styledChars.get(line);
  if (c === undefined) styledChars.set(line, (c = styledCharsFromTokens(tokenize(line))));
  return c;
}

function widestLineOf(text: string): number {
  let w = 0;
  for (const line of text.split('\n')) w = Math.max(w, stringWidthOf(line));
  return w;
}

export default class Output {
  width: number;
  height: number;
  private readonly operations: Operation[] = [];

  constructor(options: { width: number; height: number }) {
    this.width = options.width;
    this.height = options.height;
  }

  write(x: number, y: number, text: string, options: { transformers: Transformer[] }): void {
    if (!text) return;
    this.operations.push({ type: 'write', x, y, text, transformers: options.transformers });
  }

  clip(clip: Clip): void {
    this.operations.push({ type: 'clip', clip });
  }

  unclip(): void {
    this.operations.push({ type: 'unclip' });
  }

  get(): { output: string; height: number } {
    // per row: x, text, x, text … in the order Ink would have written them into its grid
    const pieces: ((number | string)[] | undefined)[] = new Array(this.height);
    const clips: Clip[] = [];
    for (const operation of this.operations) {
      if (operation.type === 'clip') clips.push(operation.clip);
      if (operation.type === 'unclip') clips.pop();
      if (operation.type !== 'write') continue;
      // from here to the end of the loop: Ink's clipping, unchanged
      const { text, transformers } = operation;
      let { x, y } = operation;
      let lines = text.split('\n');
      const clip = clips.at(-1);
      if (clip) {
        const clipHorizontally = typeof clip.x1 === 'number' && typeof clip.x2 === 'number';
        const clipVertically = typeof clip.y1 === 'number' && typeof clip.y2 === 'number';
        if (clipHorizontally) {
          const width = widestLineOf(text);
          if (x + width < clip.x1! || x > clip.x2!) continue;
        }
        if (clipVertically) {
          const height = lines.length;
          if (y + height < clip.y1! || y > clip.y2!) continue;
        }
        if (clipHorizontally) {
          lines = lines.map((line) => {
            const from = x < clip.x1! ? clip.x1! - x : 0;
            const width = stringWidthOf(line);
            const to = x + width > clip.x2! ? clip.x2! - x : width;
            return sliceAnsi(line, from, to);
          });
          if (x < clip.x1!) x = clip.x1!;
        }
        if (clipVertically) {
          const from = y < clip.y1! ? clip.y1! - y : 0;
          const height = lines.length;
          const to = y + height > clip.y2! ? clip.y2! - y : height;
          lines = lines.slice(from, to);
          if (y < clip.y1!) y = clip.y1!;
        }
      }
      let offsetY = 0;
      for (let [index, line] of lines.entries()) {
        const row = y + offsetY;
        // Ink: a line whose row is not in the grid is skipped, and so (offsetY stays) are the rest
        if (!Number.isInteger(row) || row < 0 || row >= this.height) continue;
        for (const transformer of transformers) line = transformer(line, index);
        (pieces[row] ??= []).push(x, line);
        offsetY++;
      }
    }
    const out: string[] = [];
    for (let y = 0; y < this.height; y++) {
      const p = pieces[y];
      if (p === undefined) {
        out.push('');
        continue;
      }
      const key = `${this.width}\u0000${p.join('\u0000')}`;
      let s = rows.get(key);
      if (s === undefined) rows.set(key, (s = this.row(p)));
      out.push(s);
    }
    return { output: out.join('\n'), height: this.height };
  }

  /** One grid row, as Ink's get() builds and prints it. */
  private row(p: (number | string)[]): string {
    const line: (StyledChar | undefined)[] = [];
    for (let x = 0; x < this.width; x++) line.push({ type: 'char', value: ' ', fullWidth: false, styles: [] });
    for (let i = 0; i < p.length; i += 2) {
      let offsetX = p[i] as number;
      for (const character of styledCharsOf(p[i + 1] as string)) {
        line[offsetX] = character;
        const characterWidth = Math.max(1, stringWidthOf(character.value));
        for (let k = 1; k < characterWidth; k++) line[offsetX + k] = { type: 'char', value: '', fullWidth: false, styles: character.styles };
        offsetX += characterWidth;
      }
    }
    return styledCharsToString(line.filter((c): c is StyledChar => c !== undefined)).trimEnd();
  }
}
