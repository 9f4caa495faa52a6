/**
 * A bounded memo for the render path: two generations of at most `size` entries each. A hit in
 * the old generation moves to the new one; when the new one fills, the old one is dropped. What
 * the last frames used stays; what no frame has used for a while goes (Ink's own memos of text
 * sizes never drop anything: ctop, rendering new rows every second, grew by them without bound).
 */
export class GenCache<K, V> {
  private cur = new Map<K, V>();
  private old = new Map<K, V>();

  constructor(private readonly size: number) {}

  get(k: K): V | undefined {
    const v = this.cur.get(k);
    if (v !== undefined) return v;
    const o = this.old.get(k);
    if (o !== undefined) this.set(k, o);
    return o;
  }

  set(k: K, v: V): void {
    if (this.cur.size >= this.size) {
      this.old = this.cur;
      this.cur = new Map();
    }
    this.cur.set(k, v);
  }

  get entries(): number {
    return this.cur.size + this.old.size;
  }
}
