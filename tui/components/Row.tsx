import { memo } from 'react';
import { Text } from 'ink';
import type { ChalkInstance } from 'chalk';

/**
 * One table row: one <Text>, re-rendered only when its text or selection changes. Trailing blanks
 * are left to Ink's empty cells (the same screen), except on the selected row whose inverse bar
 * spans them: every character handed to Ink costs it several objects each render.
 */
export const Row = memo(function Row({ text, selected, chalk }: { text: string; selected: boolean; chalk: ChalkInstance }) {
  // (a blank row keeps one blank: an empty <Text> takes no line at all)
  return <Text wrap="truncate">{selected ? chalk.inverse(text) : text.trimEnd() || ' '}</Text>;
});
