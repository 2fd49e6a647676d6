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

const stemCache = new Map<string, string>();

export function normaliseTerm(word: string): string | undefined {
  const lower = word.toLowerCase();
  if (STOP_WORDS.has(lower)) return undefined;
  let stem = stemCache.get(lower);
  if (stem === undefined) {
    // Stemming code-like tokens (digits, very short words) does more harm than good.
    stem = /\d/.test(lower) || lower.length <= 3 ? lower : stemmer(lower);
    if (stemCache.size < 200_000) stemCache.set(lower, stem);
  }
  return stem;
}

/** Splits one compound identifier into the words a person would type. */
export function identifierParts(compound: string): string[] {
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
