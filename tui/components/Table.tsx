import { Box, Text } from 'ink';
import type { ChalkInstance } from 'chalk';
import type { FrameRow } from '../frame.js';
import { Row } from './Row.js';

/** The column header and only the visible rows (the frame already cut them to the body height). */
export function Table({ columns, rows, selected, chalk }: { columns: string; rows: FrameRow[]; selected: number; chalk: ChalkInstance }) {
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">{columns}</Text>
      {rows.map((r, i) => (
        <Row key={r.key} text={r.text} selected={i === selected} chalk={chalk} />
      ))}
    </Box>
  );
}
