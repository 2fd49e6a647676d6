/**
 * A cache from a span of a text (its code units units[start, end)) to what a tokenizer made of
 * it, looked up without cutting the span out: open addressing on the span's hash, keys as code
 * units in one pool, compared in place. The tokenizers (keyword terms, WordPiece ids) see the same few
 * thousand words over and over; a Map keyed by strings needs a substring per word and, once it
 * holds a few thousand, spends most of a text's time on cache misses. No key keeps a reference
 * to the text it came from.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A text's UTF-16 code units in a typed array that is reused for each text (`of`), which the
 * tokenizers scan instead of the string. Texts arrive as strings of many shapes (flat, sliced,
 * cons, one- or two-byte, internalized), and past four of them every `text.charCodeAt` and
 * `text.length` in a scanning loop became a megamorphic property lookup: 5-6% of an index run's
 * CPU, and the tokenizer's loops took 2.5 times the samples they take over code units (perf).
 */
export class CodeUnits {
  private units = new Uint16Array(1024);
  private bytes = Buffer.from(this.units.buffer);

  /** `text`'s code units, lone surrogates included, in [0, text.length); valid until the next call. */
  of(text: string): Uint16Array {
    if (this.units.length < text.length) {
      this.units = new Uint16Array(2 * text.length);
      this.bytes = Buffer.from(this.units.buffer);
    }
    // One copy in C++; UTF-16LE is the array's own order except on a big-endian machine.
    if (LITTLE_ENDIAN) this.bytes.write(text, 0, 'utf16le');
    else for (let i = 0; i < text.length; i++) this.units[i] = text.charCodeAt(i);
    return this.units;
  }
}

/** FNV-1a over a span's code units: SPAN_HASH_SEED, then spanHashStep per code unit (or spanHash). */
export const SPAN_HASH_SEED = 0x811c9dc5 | 0;

export function spanHashStep(hash: number, codeUnit: number): number {
  return Math.imul(hash ^ codeUnit, 0x01000193);
}

export function spanHash(units: Uint16Array, start: number, end: number): number {
  let hash = SPAN_HASH_SEED;
  for (let i = start; i < end; i++) hash = spanHashStep(hash, units[i]!);
  return hash;
}

export class SpanCache<T> {
  /** Per slot: [hash, entry + 1]; 0 marks an empty slot. */
  private table = new Int32Array(2 * 4096);
  /** Per entry: [key start in `chars`, key length]. */
  private keys = new Int32Array(2 * 2048);
  private chars = new Uint16Array(16_384);
  private readonly values: T[] = [];
  private charsUsed = 0;

  /** `limit`: entries kept; later spans are not cached. */
  constructor(private readonly limit: number) {}

  get size(): number {
    return this.values.length;
  }

  /** The value stored for the code units units[start, end) (`hash` from spanHash), or undefined. */
  get(units: Uint16Array, start: number, end: number, hash: number): T | undefined {
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const stored = table[2 * slot + 1]!;
      if (stored === 0) return undefined;
      if (table[2 * slot] !== hash) continue;
      const entry = stored - 1;
      if (this.keys[2 * entry + 1] !== length) continue;
      const at = this.keys[2 * entry]!;
      let k = 0;
      while (k < length && this.chars[at + k] === units[start + k]) k++;
      if (k === length) return this.values[entry];
    }
  }

  /** Stores `value` for units[start, end), which must not be cached yet; nothing once the cache is full. */
  set(units: Uint16Array, start: number, end: number, hash: number, value: T): void {
    const entry = this.values.length;
    if (entry >= this.limit) return;
    if (2 * (entry + 1) > this.table.length >> 1) this.rehash(this.table.length * 2);
    const length = end - start;
    this.keys = grown(this.keys, 2 * (entry + 1));
    this.chars = grown(this.chars, this.charsUsed + length);
    for (let k = 0; k < length; k++) this.chars[this.charsUsed + k] = units[start + k]!;
    this.keys[2 * entry] = this.charsUsed;
    this.keys[2 * entry + 1] = length;
    this.charsUsed += length;
    this.values.push(value);
    this.place(hash, entry);
  }

  private place(hash: number, entry: number): void {
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    let slot = hash & mask;
    while (table[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    table[2 * slot] = hash;
    table[2 * slot + 1] = entry + 1;
  }

  private rehash(length: number): void {
    const old = this.table;
    this.table = new Int32Array(length);
    for (let slot = 0; slot < old.length; slot += 2) if (old[slot + 1] !== 0) this.place(old[slot]!, old[slot + 1]! - 1);
  }
}

/** `array`, or a copy at least twice as long when it is shorter than `needed`. */
function grown<A extends Int32Array | Uint16Array>(array: A, needed: number): A {
  if (needed <= array.length) return array;
  const copy = new (array.constructor as new (length: number) => A)(Math.max(needed, 2 * array.length));
  copy.set(array);
  return copy;
}
