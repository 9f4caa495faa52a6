import { Box, Text } from 'ink';
import { helpLines } from '../keymap.js';
import { fit } from '../format.js';

/** `?`: every key from the keymap table, cut to the screen. */
export function Help({ cols, height }: { cols: number; height: number }) {
  const lines = helpLines();
  const shown = lines.slice(0, Math.max(1, height - 1));
  return (
    <Box flexDirection="column">
      {shown.map((l, i) => (
        <Text key={i} wrap="truncate">
          {fit(l, cols)}
        </Text>
      ))}
      <Text dimColor wrap="truncate">
        {fit(lines.length > shown.length ? `(${lines.length - shown.length} more lines: enlarge the terminal) any key closes` : 'any key closes', cols)}
      </Text>
    </Box>
  );
}
