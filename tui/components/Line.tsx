import { memo } from 'react';
import { Text } from 'ink';

/**
 * One line of the screen, re-rendered only when its text changes. The screen is a column of these
 * keyed by position, not by what they show: moving the selection, opening the help or a new sample
 * changes the text of lines Ink already has (no node made or dropped, no layout but theirs).
 */
export const Line = memo(function Line({ text, dim = false }: { text: string; dim?: boolean }) {
  return (
    <Text wrap="truncate" dimColor={dim}>
      {text}
    </Text>
  );
});
