/** 1536 → `1.5 KiB`; binary units, one decimal, as docker stats prints them. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** microseconds → `1.234s`, `12m3.4s`, `2h3m` */
export function formatUsec(usec: number): string {
  const s = usec / 1e6;
  if (s < 60) return `${s.toFixed(3)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${(s - m * 60).toFixed(1)}s`;
  const h = Math.floor(m / 60);
  return `${h}h${m - h * 60}m`;
}
