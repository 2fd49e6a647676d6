/**
 * Identifier-aware keyword tokenizer. Documentation mixes prose with code names
 * (`maxBatchBytes`, `retention_days`, `fs.readFile`, `pg_dump`), so a compound name yields
 * itself AND its parts: a question that says "max batch bytes" or "readFile" finds both.
 * Terms are lowercased and Porter-stemmed; English stop words are dropped.
 */
import { stemmer } from 'stemmer';
import { CodeUnits, SPAN_HASH_SEED, SpanCache, spanHashStep } from './spanCache.js';

const STOP_WORDS = new Set(
  (
    'a an and are as at be but by can do does for from how i if in into is it its me my of on or so ' +
    'than that the their then there these they this to was we what when where which who why will ' +
    'with you your our us should would could has have had been being were am also just only very ' +
    'about after before over under up down out all any some such no not nor too more most other own same ' +
    'each few both again further once here off s t don get use using used want need way make'
  ).split(' '),
);

const CAMEL_BOUNDARY = /(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u;
/** A plain word (no separator, no capital after the first letter) has no camel boundary: one part. */
const PLAIN_WORD = /^\p{Lu}?[\p{Ll}\p{N}]*$/u;

/** A word's term, or undefined for a stop word. */
export function normaliseTerm(word: string): string | undefined {
  const lower = word.toLowerCase();
  if (STOP_WORDS.has(lower)) return undefined;
  // Stemming code-like tokens (digits, very short words) does more harm than good.
  return lower.length <= 3 || hasDigit(lower) ? lower : stemmer(lower);
}

/** /\d/.test(word) without the regex call (a tenth of a first-seen word's cost). */
function hasDigit(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

/** PLAIN_WORD.test(compound), by hand while it is ASCII (most words: the regex costs more than the rest of splitting). */
function isPlainWord(compound: string): boolean {
  for (let i = 0; i < compound.length; i++) {
    const c = compound.charCodeAt(i);
    if (c >= 128) return PLAIN_WORD.test(compound);
    const lowerOrDigit = (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    if (!lowerOrDigit && !(i === 0 && c >= 65 && c <= 90)) return false;
  }
  return true;
}

/** Splits one compound identifier into the words a person would type. */
export function identifierParts(compound: string): string[] {
  // Most words of prose are plain: skip the splits (the same result, a third of a query's tokenizing).
  if (isPlainWord(compound)) return [compound];
  const parts: string[] = [];
  // Segments between separators (compound.split(/[_.\-]|::/) without its array), empty ones skipped.
  let start = 0;
  for (let i = 0; i <= compound.length; i++) {
    // Nothing read past the end (charCodeAt's NaN there deoptimizes the compiled loop once per thread).
    const separator = i === compound.length ? 1 : separatorWidth(compound.charCodeAt(i), i + 1 < compound.length ? compound.charCodeAt(i + 1) : 0);
    if (separator === 0) continue;
    if (i > start) {
      const segment = compound.slice(start, i);
      if (!camelPiecesAscii(segment, parts)) for (const piece of segment.split(CAMEL_BOUNDARY)) if (piece) parts.push(piece);
    }
    start = i + separator;
    i = start - 1;
  }
  return parts;
}

/**
 * CAMEL_BOUNDARY's split of an ASCII segment, by hand; false (nothing pushed) for any other. Compiling
 * that Unicode regex is ~1.7 ms of a cold `docent query` process, and most identifiers are ASCII.
 */
function camelPiecesAscii(segment: string, parts: string[]): boolean {
  for (let i = 0; i < segment.length; i++) if (segment.charCodeAt(i) >= 128) return false;
  let start = 0;
  for (let i = 1; i < segment.length; i++) {
    const previous = segment.charCodeAt(i - 1);
    const c = segment.charCodeAt(i);
    // A lower-case letter or digit then a capital (maxBatch), or a capital then a capitalised word (HTTPServer).
    const boundary = upper(c) && (lower(previous) || (previous >= 48 && previous <= 57) || (upper(previous) && i + 1 < segment.length && lower(segment.charCodeAt(i + 1))));
    if (boundary) {
      parts.push(segment.slice(start, i));
      start = i;
    }
  }
  parts.push(segment.slice(start));
  return true;
}

function upper(c: number): boolean {
  return c >= 65 && c <= 90;
}

function lower(c: number): boolean {
  return c >= 97 && c <= 122;
}

/**
 * Tokens of one compound: a pure function of it, so each distinct compound is split and stemmed
 * once (indexing and every query's passages go through here; one cache, keyed by compound and
 * looked up in place, spanCache.ts).
 */
const COMPOUND_CACHE_SIZE = 200_000;
const compoundCache = new SpanCache<readonly string[]>(COMPOUND_CACHE_SIZE);

/**
 * A copy of `text` that holds no reference to a larger string: a substring (a compound sliced
 * out of a passage) keeps the whole passage alive, and the cache would hold every passage it
 * ever saw. A round trip through UTF-8 bytes makes a flat string of its own (compounds hold no
 * lone surrogates, so it is the same text).
 */
export function detached(text: string): string {
  // V8 copies substrings shorter than 13 code units (SlicedString::kMinLength): those are their own already.
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}

/** The tokens of the compound text[start, end), `units` its code units and `hash` its spanHash (cached). */
function compoundTokens(text: string, units: Uint16Array, start: number, end: number, hash: number): readonly string[] {
  const cached = compoundCache.get(units, start, end, hash);
  if (cached !== undefined) return cached;
  const made = compoundTerms(text.slice(start, end));
  if (compoundCache.full) return made;
  const tokens = made.map(detached);
  compoundCache.set(units, start, end, hash, tokens);
  return tokens;
}

/** The terms of one compound (uncached: callers cache what they keep of it). */
export function compoundTerms(compound: string): string[] {
  const made: string[] = [];
  const parts = identifierParts(compound);
  if (parts.length > 1) {
    // The whole name keeps exact-identifier lookups precise; parts make it findable in prose.
    const whole = compound.toLowerCase();
    if (whole.length <= 64) made.push(whole);
  }
  for (const part of parts) {
    const term = normaliseTerm(part);
    if (term !== undefined && term.length <= 40) made.push(term);
  }
  return made;
}

const LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;
/** 1 for an ASCII letter or digit, else 0: the common case of wordCharAt without a call, for the scanners' inner loops. */
export const ASCII_WORD = Uint8Array.from({ length: 128 }, (_, c) => ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? 1 : 0));
/** Per BMP code unit: 0 not yet known, 1 a letter or digit, 2 neither. */
const bmpClass = new Uint8Array(0x10000);
for (let c = 0; c < 128; c++) bmpClass[c] = ASCII_WORD[c] === 1 ? 1 : 2;

/** Code units of the letter or digit (\p{L}, \p{N}) at units[i] (of `length`): 1 or 2 (astral), 0 when there is none. */
export function wordCharAt(units: Uint16Array, length: number, i: number): number {
  const c = units[i]!;
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < length) {
    const low = units[i + 1]!;
    if (low >= 0xdc00 && low <= 0xdfff) return LETTER_OR_DIGIT.test(String.fromCharCode(c, low)) ? 2 : 0;
  }
  let kind = bmpClass[c]!;
  if (kind === 0) bmpClass[c] = kind = LETTER_OR_DIGIT.test(String.fromCharCode(c)) ? 1 : 2;
  return kind === 1 ? 1 : 0;
}

/** Code units of the identifier separator (`_`, `.`, `-`, `::`) that code unit `c`, then `next`, start: 1, 2 or 0. */
function separatorWidth(c: number, next: number): number {
  return c === 95 || c === 46 || c === 45 ? 1 : c === 58 && next === 58 ? 2 : 0;
}

/** Code units of the identifier separator at units[i] when a letter or digit follows it, else 0. */
function separatorAt(units: Uint16Array, length: number, i: number): number {
  if (i >= length) return 0;
  const width = separatorWidth(units[i]!, i + 1 < length ? units[i + 1]! : 0);
  return width > 0 && i + width < length && wordCharAt(units, length, i + width) > 0 ? width : 0;
}

/**
 * Calls `visit` with the span [start, end) of each compound of a text, its code units
 * units[0, length) (CodeUnits), in order, and the span's spanHash. Compounds are runs of
 * letters/digits joined by identifier punctuation (foo_bar, a.b.c, x-y, Foo::bar: the regex
 * `[\p{L}\p{N}]+(?:(?:[_.\-]|::)[\p{L}\p{N}]+)*`), scanned by hand because indexing scans every
 * passage and the regex's match objects cost more than the scan.
 *
 * The hash is made as the scan passes each code unit, not in a second pass by every caller, and
 * an ASCII unit is classed here rather than by a call to wordCharAt: a short command (a query, a
 * one-file update) runs this in V8's interpreter, where those were a third of a 79 KB file's scan.
 */
export function forEachCompound(units: Uint16Array, length: number, visit: (start: number, end: number, hash: number) => void): void {
  let i = 0;
  while (i < length) {
    const first = units[i]!;
    let width = first < 128 ? ASCII_WORD[first]! : wordCharAt(units, length, i);
    if (width === 0) {
      i++;
      continue;
    }
    const start = i;
    let hash = SPAN_HASH_SEED;
    for (;;) {
      // units[i] starts a letter or digit `width` units wide.
      for (;;) {
        hash = spanHashStep(hash, units[i]!);
        if (width === 2) hash = spanHashStep(hash, units[i + 1]!);
        i += width;
        if (i >= length) break;
        const c = units[i]!;
        width = c < 128 ? ASCII_WORD[c]! : wordCharAt(units, length, i);
        if (width === 0) break;
      }
      const separator = separatorAt(units, length, i);
      if (separator === 0) break;
      hash = spanHashStep(hash, units[i]!);
      if (separator === 2) hash = spanHashStep(hash, units[i + 1]!);
      i += separator;
      width = wordCharAt(units, length, i);
    }
    visit(start, i, hash);
  }
}

const keywordUnits = new CodeUnits();

/** Tokens of `text` for the keyword index, in order, duplicates kept (term frequency matters). */
export function keywordTokens(text: string): string[] {
  const tokens: string[] = [];
  const units = keywordUnits.of(text);
  forEachCompound(units, text.length, (start, end, hash) => {
    for (const token of compoundTokens(text, units, start, end, hash)) tokens.push(token);
  });
  return tokens;
}
