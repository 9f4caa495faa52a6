import { Box, Text } from 'ink';
import type { ChalkInstance } from 'chalk';
import type { Frame } from '../frame.js';
import { tableLines } from './Table.js';
import { helpScreen } from './Help.js';
import { Line } from './Line.js';

/** One frame: title and breadcrumb, table (or help), footer. At most rows−1 lines, each a <Line> keyed by its position. */
export function Screen({ frame, chalk, help, cols, rows, helpTop = 0 }: { frame: Frame; chalk: ChalkInstance; help: boolean; cols: number; rows: number; helpTop?: number }) {
  if (frame.tooSmall) return <Text wrap="truncate">{frame.head[0]}</Text>;
  let body: string[];
  let dimLast = false;
  if (help) {
    const h = helpScreen(cols, rows - 1 - frame.head.length - 1, helpTop);
    body = [...h.lines, h.last];
    dimLast = true;
  } else body = tableLines(frame.columns, frame.rows, frame.selected, chalk);
  const lines = [...frame.head, ...body, frame.footer];
  const dimAt = dimLast ? frame.head.length + body.length - 1 : -1;
  return (
    <Box flexDirection="column" width={cols}>
      {lines.map((l, i) => (
        <Line key={i} text={l} dim={i === dimAt} />
      ))}
    </Box>
  );
}
