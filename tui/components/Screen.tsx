import { Box, Text } from 'ink';
import type { ChalkInstance } from 'chalk';
import type { Frame } from '../frame.js';
import { Table } from './Table.js';
import { Help } from './Help.js';

/** One frame: title and breadcrumb, table (or help), footer. At most rows−1 lines. */
export function Screen({ frame, chalk, help, cols, rows, helpTop = 0 }: { frame: Frame; chalk: ChalkInstance; help: boolean; cols: number; rows: number; helpTop?: number }) {
  if (frame.tooSmall) return <Text wrap="truncate">{frame.head[0]}</Text>;
  return (
    <Box flexDirection="column" width={cols}>
      {frame.head.map((h, i) => (
        <Text key={i} wrap="truncate">
          {h}
        </Text>
      ))}
      {help ? <Help cols={cols} height={rows - 1 - frame.head.length - 1} top={helpTop} /> : <Table columns={frame.columns} rows={frame.rows} selected={frame.selected} chalk={chalk} />}
      <Text wrap="truncate">{frame.footer}</Text>
    </Box>
  );
}
