/**
 * Untrusted text (comm, cmdline, paths, environ) can carry terminal escape sequences. Print
 * control characters as `\xNN`, like lsns: C0 controls, DEL, C1 controls, and the lone
 * surrogates decodeBytes uses for bytes that were not UTF-8.
 */
export function escapeControl(s: string): string {
  // fast path: nothing to escape
  if (!/[\u0000-\u001f\u007f-\u009f\udc80-\udcff]/.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0xdc80 && c <= 0xdcff) out += `\\x${(c - 0xdc00).toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

/** For JSON: keep the text as it is (JSON.stringify escapes controls) but give raw bytes back as \xNN. */
export function jsonSafe(s: string): string {
  return /[\udc80-\udcff]/.test(s) ? s.replace(/[\udc80-\udcff]/g, (c) => `\\x${(c.charCodeAt(0) - 0xdc00).toString(16).padStart(2, '0')}`) : s;
}
