import { memo } from 'react';
import { Text } from 'ink';
import type { ChalkInstance } from 'chalk';

/** One table row: one <Text>, re-rendered only when its text or selection changes. */
export const Row = memo(function Row({ text, selected, chalk }: { text: string; selected: boolean; chalk: ChalkInstance }) {
  return <Text wrap="truncate">{selected ? chalk.inverse(text) : text}</Text>;
});
