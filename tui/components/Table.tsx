import type { ChalkInstance } from 'chalk';
import type { FrameRow } from '../frame.js';

/**
 * The column header and only the visible rows (the frame already cut them to the body height), as
 * lines. Trailing blanks are left to Ink's empty cells (the same screen), except on the selected
 * row whose inverse bar spans them: every character handed to Ink costs it several objects.
 */
export function tableLines(columns: string, rows: FrameRow[], selected: number, chalk: ChalkInstance): string[] {
  // (a blank row keeps one blank: an empty <Text> takes no line at all)
  return [columns, ...rows.map((r, i) => (i === selected ? chalk.inverse(r.text) : r.text.trimEnd() || ' '))];
}
