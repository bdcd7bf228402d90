/** A small least-recently-used map: `get` refreshes, `set` evicts the oldest beyond `capacity`. */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(
    private readonly capacity: number,
    private readonly onEvict?: (value: V) => void,
  ) {}
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.evictOldest();
  }
  /** Drops the least recently used entry; false when empty. */
  evictOldest(): boolean {
    const oldest = this.map.entries().next();
    if (oldest.done === true) return false;
    this.map.delete(oldest.value[0]);
    this.onEvict?.(oldest.value[1]);
    return true;
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}
