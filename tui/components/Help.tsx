import { Box, Text } from 'ink';
import { helpLines } from '../keymap.js';
import { fit } from '../format.js';

/** `?`: every key from the keymap table, cut to the screen. */
export function Help({ cols, height, top }: { cols: number; height: number; top: number }) {
  const lines = helpLines();
  const h = Math.max(1, height - 1);
  const first = Math.max(0, Math.min(top, lines.length - h));
  const shown = lines.slice(first, first + h);
  return (
    <Box flexDirection="column">
      {shown.map((l, i) => (
        <Text key={i} wrap="truncate">
          {fit(l, cols).trimEnd() || ' '}
        </Text>
      ))}
      <Text dimColor wrap="truncate">
        {fit(lines.length > h ? `lines ${first + 1}-${first + shown.length} of ${lines.length}: j/k/Space scroll, any other key closes` : 'any key closes', cols)}
      </Text>
    </Box>
  );
}
