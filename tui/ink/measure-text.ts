/**
 * Ink 6.8's measure-text.js (the size Yoga asks of every <Text>), with a bounded memo: Ink's own
 * keeps every text it ever measured, and ctop hands it new rows every second.
 */
import { GenCache } from './gen-cache.js';
import widestLine from './width.js';

const cache = new GenCache<string, { width: number; height: number }>(2048);

export default function measureText(text: string): { width: number; height: number } {
  if (text.length === 0) return { width: 0, height: 0 };
  let d = cache.get(text);
  if (d === undefined) cache.set(text, (d = { width: widestLine(text), height: text.split('\n').length }));
  return d;
}
