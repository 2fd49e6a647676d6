/**
 * Identifier-aware keyword tokenizer. Documentation mixes prose with code names
 * (`maxBatchBytes`, `retention_days`, `fs.readFile`, `pg_dump`), so a compound name yields
 * itself AND its parts: a question that says "max batch bytes" or "readFile" finds both.
 * Terms are lowercased and Porter-stemmed; English stop words are dropped.
 */
import { stemmer } from 'stemmer';

const STOP_WORDS = new Set(
  (
    'a an and are as at be but by can do does for from how i if in into is it its me my of on or so ' +
    'than that the their then there these they this to was we what when where which who why will ' +
    'with you your our us should would could has have had been being were am also just only very ' +
    'about after before over under up down out all any some such no not nor too more most other own same ' +
    'each few both again further once here off s t don get use using used want need way make'
  ).split(' '),
);

/** Runs of letters/digits joined by identifier punctuation: foo_bar, a.b.c, x-y, Foo::bar. */
const COMPOUND = /[\p{L}\p{N}]+(?:(?:[_.\-]|::)[\p{L}\p{N}]+)*/gu;
const CAMEL_BOUNDARY = /(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u;
/** A plain word (no separator, no capital after the first letter) has no camel boundary: one part. */
const PLAIN_WORD = /^\p{Lu}?[\p{Ll}\p{N}]*$/u;

/** Word as written → its term ('' for a stop word): queries tokenize every passage they return. */
const termCache = new Map<string, string>();

export function normaliseTerm(word: string): string | undefined {
  let term = termCache.get(word);
  if (term === undefined) {
    const lower = word.toLowerCase();
    // Stemming code-like tokens (digits, very short words) does more harm than good.
    term = STOP_WORDS.has(lower) ? '' : /\d/.test(lower) || lower.length <= 3 ? lower : stemmer(lower);
    if (termCache.size < 200_000) termCache.set(word, term);
  }
  return term === '' ? undefined : term;
}

/** Splits one compound identifier into the words a person would type. */
export function identifierParts(compound: string): string[] {
  // Most words of prose are plain: skip the splits (the same result, a third of a query's tokenizing).
  if (PLAIN_WORD.test(compound)) return [compound];
  const parts: string[] = [];
  for (const segment of compound.split(/[_.\-]|::/)) {
    if (!segment) continue;
    for (const piece of segment.split(CAMEL_BOUNDARY)) if (piece) parts.push(piece);
  }
  return parts;
}

/** Tokens of `text` for the keyword index, in order, duplicates kept (term frequency matters). */
export function keywordTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const match of text.matchAll(COMPOUND)) {
    const compound = match[0];
    const parts = identifierParts(compound);
    if (parts.length > 1) {
      // The whole name keeps exact-identifier lookups precise; parts make it findable in prose.
      const whole = compound.toLowerCase();
      if (whole.length <= 64) tokens.push(whole);
    }
    for (const part of parts) {
      const term = normaliseTerm(part);
      if (term !== undefined && term.length <= 40) tokens.push(term);
    }
  }
  return tokens;
}
