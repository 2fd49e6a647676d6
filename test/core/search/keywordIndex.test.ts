import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_KEYWORD_OPTIONS, KeywordIndex, TermDictionary, documentAt, findTerm, flatDocuments, freezeDocuments, frozenSource, keywordDocument, mergeFrozen, selectKth, sortByBytes, sumStatistics, termSamples } from '../../../src/core/search/keywordIndex.js';
import { CodeUnits, spanHash } from '../../../src/core/search/spanCache.js';
import { forEachCompound, identifierParts, keywordTokens } from '../../../src/core/search/tokenize.js';

test('identifier-aware tokens: camelCase, snake_case and dotted names yield the whole and the parts', () => {
  assert.deepEqual(identifierParts('maxBatchBytes'), ['max', 'Batch', 'Bytes']);
  assert.deepEqual(identifierParts('HTTPServer'), ['HTTP', 'Server']);
  assert.deepEqual(identifierParts('retention_days'), ['retention', 'days']);
  const tokens = keywordTokens('Call fs.readFile, then LumenClient.sendBatch with retention_days');
  for (const expected of ['fs.readfile', 'read', 'file', 'lumenclient.sendbatch', 'lumen', 'client', 'send', 'batch', 'retention_days', 'retent', 'dai']) {
    assert.ok(tokens.includes(expected), `missing ${expected} in ${tokens.join(' ')}`);
  }
  assert.ok(!tokens.includes('then') && !tokens.includes('with'), 'stop words are dropped');
});

/** Random text from pieces that sit on compound boundaries: separators, astral letters, lone surrogates, non-letters. */
function trickyText(random: () => number, pieces: number): string {
  const alphabet = ['a', 'Bc', 'z9', '0', '_', '.', '-', ':', '::', ' ', '\n', 'é', 'ß', 'Ж', '中', '\u00a0', '𝔘', '😀', '\ud800', '\udc00', 'ǅ', '٣', 'Ⅻ', 'ａｂ', 'fooBar', 'HTTPServer', 'the'];
  return Array.from({ length: pieces }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
}

test('the hand-written scanner cuts compounds exactly where the compound regex does', () => {
  const compound = /[\p{L}\p{N}]+(?:(?:[_.\-]|::)[\p{L}\p{N}]+)*/gu;
  let seed = 5;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let n = 0; n < 20_000; n++) {
    const text = trickyText(random, Math.floor(random() * 12));
    const byRegex = [...text.matchAll(compound)].flatMap((match) => keywordTokens(match[0]));
    assert.deepEqual(keywordTokens(text), byRegex, JSON.stringify(text));
  }
});

test("the scanner's spans are the compound regex's matches, each with its spanHash made in the same pass", () => {
  const compound = /[\p{L}\p{N}]+(?:(?:[_.\-]|::)[\p{L}\p{N}]+)*/gu;
  const codeUnits = new CodeUnits();
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let n = 0; n < 20_000; n++) {
    const text = trickyText(random, Math.floor(random() * 12));
    const units = codeUnits.of(text);
    const spans: [number, number, number][] = [];
    forEachCompound(units, text.length, (start, end, hash) => spans.push([start, end, hash]));
    const expected = [...text.matchAll(compound)].map((match): [number, number, number] => [match.index, match.index + match[0].length, spanHash(units, match.index, match.index + match[0].length)]);
    assert.deepEqual(spans, expected, JSON.stringify(text));
  }
});

test('a word splits into the parts the regex definitions give, ASCII (checked by hand) or not', () => {
  const plainWord = /^\p{Lu}?[\p{Ll}\p{N}]*$/u;
  const camelBoundary = /(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u;
  const byRegex = (compound: string): string[] =>
    plainWord.test(compound) ? [compound] : compound.split(/[_.\-]|::/).flatMap((segment) => segment.split(camelBoundary)).filter(Boolean);
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let n = 0; n < 20_000; n++) {
    const word = trickyText(random, 1 + Math.floor(random() * 4)).replace(/\s/g, '');
    assert.deepEqual(identifierParts(word), byRegex(word), JSON.stringify(word));
  }
  // ASCII words are split by hand: every run of capitals, lower case and digits.
  const ascii = ['a', 'b', 'A', 'B', 'Q', '7', '0', '_'];
  for (let n = 0; n < 20_000; n++) {
    const word = Array.from({ length: 1 + Math.floor(random() * 9) }, () => ascii[Math.floor(random() * ascii.length)]).join('');
    assert.deepEqual(identifierParts(word), byRegex(word), JSON.stringify(word));
  }
  assert.deepEqual(identifierParts('Éclair'), ['Éclair']);
  assert.deepEqual(identifierParts('aÉ'), ['a', 'É']);
});

test('a file\'s documents from one dictionary: each passage\'s is its own alone, the page\'s equals tokenizing their joined text', () => {
  let seed = 9;
  // One dictionary for every file, as a parse worker keeps it: nothing of one passage or file may leak into the next.
  const dictionary = new TermDictionary();
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  // Titles and headings repeat within and across files (the dictionary keeps the last scanned), or are new.
  const titles = ['Page title.x', 'Other_page title', ''];
  const headingPool = Array.from({ length: 3 }, () => trickyText(random, 2));
  const pick = <T,>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  for (let n = 0; n < 300; n++) {
    const title = pick(titles);
    const passages = Array.from({ length: 1 + Math.floor(random() * 4) }, () => ({
      title,
      headings: random() < 0.7 ? pick(headingPool) : trickyText(random, 2),
      ...(random() < 0.2 ? {} : { parentHeadings: random() < 0.5 ? pick(headingPool) : trickyText(random, 3) }),
      body: trickyText(random, 20),
    }));
    // A page weighs every heading alike, its passages' own and enclosing ones.
    const joined = { title: passages[0]!.title, headings: passages.map((passage) => `${passage.headings} ${passage.parentHeadings ?? ''}`).join(' '), body: passages.map((passage) => passage.body).join('\n') };
    const sorted = (document: ReturnType<typeof keywordDocument>) => ({ length: document.length, terms: document.terms.map((term, i) => `${term}:${document.weights[i]}`).sort() });
    const documents = dictionary.fileDocuments(passages);
    passages.forEach((passage, i) => assert.deepEqual(sorted(documentAt(documents.passages, i)), sorted(keywordDocument(passage)), JSON.stringify(passage)));
    assert.deepEqual(sorted(documentAt(documents.page, 0)), sorted(keywordDocument(joined)), JSON.stringify(passages));
    // Between them, now and then, a file with no passages: no document at all, not even the page's.
    if (n % 7 === 0) {
      const none = dictionary.fileDocuments([]);
      assert.deepEqual([none.passages.ends.length, none.passages.terms.length, none.page.ends.length, none.page.terms.length], [0, 0, 0, 0]);
    }
  }
});

test('a dictionary past its compound limit makes the same documents: what it cannot remember it tokenizes each time it meets it', () => {
  let seed = 23;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  // A limit of 3 is reached in the first passage: most compounds (stop words, several-term ones) are then never remembered.
  const limited = new TermDictionary(DEFAULT_KEYWORD_OPTIONS, 3);
  const sorted = (document: ReturnType<typeof keywordDocument>) => ({ length: document.length, terms: document.terms.map((term, i) => `${term}:${document.weights[i]}`).sort() });
  for (let n = 0; n < 200; n++) {
    const passages = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ title: 'The maxBatch_size title', headings: trickyText(random, 3), body: `the of and ${trickyText(random, 15)} fs.readFile the HTTPServer` }));
    const documents = limited.fileDocuments(passages);
    passages.forEach((passage, i) => assert.deepEqual(sorted(documentAt(documents.passages, i)), sorted(keywordDocument(passage)), JSON.stringify(passage)));
  }
});

test('a dictionary that has met more compounds than its first table holds still finds each one', () => {
  const dictionary = new TermDictionary();
  const words = Array.from({ length: 40_000 }, (_, i) => `w${i.toString(36)}_${(i * 7919).toString(36)}`);
  const fields = (body: string) => ({ title: '', headings: '', body });
  // Met once each (the table grows and rehashes), then again: the same documents as a fresh dictionary's.
  dictionary.fileDocuments([fields(words.join(' '))]);
  for (const body of [words.slice(0, 50).join(' '), words.slice(-50).join(' '), `${words[12_345]} ${words[12_345]} ${words[39_999]}`]) {
    assert.deepEqual(documentAt(dictionary.fileDocuments([fields(body)]).passages, 0), keywordDocument(fields(body)));
  }
});

test('stemming makes inflections meet: "rotating keys" finds "rotate the key"', () => {
  const index = new KeywordIndex();
  index.add(1, { title: 'Rotation', headings: '', body: 'How to rotate the signing key every 90 days.' });
  index.add(2, { title: 'Billing', headings: '', body: 'Invoices are sent monthly.' });
  assert.deepEqual(index.search('rotating keys', 10).map((hit) => hit.id), [1]);
});

test('title and heading terms outrank a passing mention in a long body', () => {
  const index = new KeywordIndex();
  const filler = 'lorem ipsum dolor sit amet '.repeat(40);
  index.add(1, { title: 'Ingestion API', headings: 'Errors', body: `${filler} retention is mentioned once here.` });
  index.add(2, { title: 'Retention policies', headings: 'Retention › Defaults', body: `Events are kept for a configured period. ${filler}` });
  assert.equal(index.search('retention', 10)[0]!.id, 2);
});

test('a passage\'s own section heading outweighs the enclosing sections\' headings; stores without the option weigh them alike', () => {
  const index = new KeywordIndex();
  const body = 'Clients move to the secondary secret.';
  index.add(1, { title: 'Runbook', headings: 'Step 4: clean up', parentHeadings: 'Scheduled rotation', body });
  index.add(2, { title: 'Runbook', headings: 'Scheduled rotation', parentHeadings: '', body });
  assert.deepEqual(index.search('rotation', 10).map((hit) => hit.id), [2, 1]);
  const older = { ...DEFAULT_KEYWORD_OPTIONS, parentHeadingWeight: undefined };
  const weights = (fields: Parameters<typeof keywordDocument>[0]) => keywordDocument(fields, older).weights;
  assert.deepEqual(weights({ title: '', headings: 'clean', parentHeadings: 'rotation', body: '' }), [older.headingWeight, older.headingWeight]);
});

test('remove and re-add keep statistics consistent; documents copied into another index search the same', () => {
  const index = new KeywordIndex();
  const fields = { 1: { title: 'A', headings: '', body: 'alpha beta gamma' }, 2: { title: 'B', headings: '', body: 'beta delta' }, 3: { title: 'C', headings: '', body: 'gamma epsilon' } };
  for (const [id, value] of Object.entries(fields)) index.add(Number(id), value);
  assert.equal(index.remove(2), true);
  assert.equal(index.remove(2), false);
  assert.deepEqual(index.search('delta', 10), []);
  index.add(1, { title: 'A', headings: '', body: 'zeta only now' });
  assert.deepEqual(index.search('alpha', 10), [], 'an updated chunk forgets its old terms');
  const copy = new KeywordIndex();
  copy.addDocument(1, JSON.parse(JSON.stringify(keywordDocument({ title: 'A', headings: '', body: 'zeta only now' }))));
  copy.addDocument(3, JSON.parse(JSON.stringify(keywordDocument(fields[3]))));
  for (const query of ['zeta', 'gamma epsilon', 'a', 'nothing']) assert.deepEqual(copy.search(query, 10), index.search(query, 10));
});

test('statistics and search right after each change reflect it, whatever was looked up before', () => {
  const doc = (body: string) => keywordDocument({ title: '', headings: '', body });
  const index = KeywordIndex.ofParts(DEFAULT_KEYWORD_OPTIONS, [frozenSource(freezeDocuments([1, 2], [flatDocuments([doc('alpha beta'), doc('alpha')])]))]);
  const frequency = (word: string) => [...index.statistics(word).documentFrequency.values()][0];
  const ids = (word: string) => index.search(word, 10).map((hit) => hit.id);
  assert.deepEqual([frequency('alpha'), frequency('beta'), ids('beta')], [2, 1, [1]]);
  index.remove(1);
  assert.deepEqual([frequency('alpha'), frequency('beta'), ids('beta')], [1, 0, []], 'a removal in a frozen part');
  index.addDocument(3, doc('alpha beta'));
  assert.deepEqual([frequency('alpha'), frequency('beta'), ids('beta')], [2, 1, [3]], 'a term new in memory');
  index.addDocument(4, doc('beta'));
  assert.deepEqual([frequency('beta'), ids('beta').sort()], [2, [3, 4]], 'a term already in memory');
  index.remove(3);
  assert.deepEqual([frequency('alpha'), frequency('beta'), ids('beta')], [1, 1, [4]], 'a removal in memory');
});

test('a merge skips parts none of whose documents is kept: the rest is merged as if they were not there', () => {
  const part = (ids: number[], texts: string[]) => freezeDocuments(ids, [flatDocuments(texts.map((body) => keywordDocument({ title: '', headings: '', body })))]);
  const replaced = part([1, 2], ['alpha beta', 'gamma only here']);
  const replacement = part([3, 4], ['alpha delta', 'beta']);
  const keep = (id: number) => id >= 3;
  // An edited file's segment merged with its replacement: the replacement is the merge, not a copy of it.
  assert.equal(mergeFrozen([replaced, replacement], keep), replacement);
  const other = part([5], ['epsilon alpha']);
  const merged = mergeFrozen([replaced, replacement, other], keep);
  assert.deepEqual(merged, mergeFrozen([replacement, other], keep), 'a dead part changes nothing in a merge of the others');
  assert.deepEqual([...merged.ids], [3, 4, 5]);
  assert.ok(Buffer.from(mergeFrozen([replaced, other], () => true).termBytes).includes('gamma') && !Buffer.from(merged.termBytes).includes('gamma'), 'no term of the dead part is left');
});

test('frozen parts (a store\'s segments) with removals and in-memory additions search exactly like one plain index', () => {
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  // Fullwidth (U+FF41) and astral (U+1D518) letters: UTF-16 and UTF-8 order them differently, and lookups search bytes.
  const words = ['alpha', 'beta', 'gamma', 'delta', 'replica', 'vacuum', 'index', 'backup', 'quota', 'route', 'shard', 'token', 'wal_level', 'süß', 'ａｂ', '𝔘𝔘'];
  const documentOf = () => keywordDocument({ title: words[Math.floor(random() * words.length)]!, headings: '', body: Array.from({ length: 1 + Math.floor(random() * 20) }, () => words[Math.floor(random() * words.length)]).join(' ') });
  const plain = new KeywordIndex();
  const parts = [0, 1, 2].map((p) => {
    const ids = Array.from({ length: 300 }, (_, i) => p * 1000 + i);
    const documents = ids.map(() => documentOf());
    ids.forEach((id, i) => plain.addDocument(id, documents[i]!));
    return { ids, documents };
  });
  // The middle part as three parts merged, its first 50 documents dropped on the way.
  const merged = mergeFrozen([freezeDocuments(parts[1]!.ids.slice(0, 150), [flatDocuments(parts[1]!.documents.slice(0, 150))]), freezeDocuments(parts[1]!.ids.slice(150, 220), [flatDocuments(parts[1]!.documents.slice(150, 220))]), freezeDocuments(parts[1]!.ids.slice(220), [flatDocuments(parts[1]!.documents.slice(220))])], (id) => id >= 1050);
  for (let id = 1000; id < 1050; id++) plain.remove(id);
  // Documents over two dictionaries (two parse workers') freeze as one part.
  const frozen = KeywordIndex.ofParts(
    DEFAULT_KEYWORD_OPTIONS,
    [freezeDocuments(parts[0]!.ids, [flatDocuments(parts[0]!.documents.slice(0, 40)), flatDocuments(parts[0]!.documents.slice(40))]), merged, freezeDocuments(parts[2]!.ids, [flatDocuments(parts[2]!.documents)])].map(frozenSource),
  );
  for (let step = 0; step < 400; step++) {
    const id = Math.floor(random() * 3000);
    if (random() < 0.5) {
      assert.equal(frozen.remove(id), plain.remove(id));
    } else {
      const document = documentOf();
      frozen.addDocument(id, document);
      plain.addDocument(id, document);
    }
    if (step % 50 === 0 || step === 399) {
      assert.equal(frozen.size, plain.size);
      for (const query of ['alpha', 'replica vacuum wal_level', 'index index backup süß', 'ａｂ 𝔘𝔘', '𝔘𝔘', 'nothing here']) {
        assert.deepEqual(frozen.statistics(query), plain.statistics(query));
        for (const limit of [1, 10, 5000]) assert.deepEqual(frozen.search(query, limit), plain.search(query, limit), `${query} @${limit} step ${step}`);
      }
    }
  }
});

test('summed collection statistics score each index as if all documents were in one', () => {
  // Equal lengths, so only IDF differs between the split and the whole.
  const texts = ['quokka ledger job runs nightly', 'a job runs on schedule daily', 'the job runs when asked', 'ledger quokka rows are reconciled'];
  const fields = (body: string) => ({ title: '', headings: '', body });
  const whole = new KeywordIndex();
  texts.forEach((text, id) => whole.add(id, fields(text)));
  const first = new KeywordIndex();
  const second = new KeywordIndex();
  texts.forEach((text, id) => (id < 3 ? first : second).add(id, fields(text)));
  const query = 'when does the quokka ledger job run';
  const collection = sumStatistics([first.statistics(query), second.statistics(query)]);
  const expected = new Map(whole.search(query, 10).map((hit) => [hit.id, hit.score]));
  for (const index of [first, second]) {
    for (const hit of index.search(query, 10, collection)) assert.ok(Math.abs(hit.score - expected.get(hit.id)!) < 1e-9, `document ${hit.id}`);
  }
  // On its own statistics the one-document index sees every term everywhere, and scores low.
  assert.ok(second.search(query, 1)[0]!.score < second.search(query, 1, collection)[0]!.score);
});

test('the typed-array scorer ranks exactly like plain BM25F over maps, through removals, re-adds and compaction', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const words = ['alpha', 'beta', 'gamma', 'delta', 'replica', 'vacuum', 'index', 'backup', 'quota', 'route', 'shard', 'token'];
  const text = (n: number) => Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(' ');
  const index = new KeywordIndex();
  const reference = new Map<number, { terms: Map<string, number>; length: number }>();
  const referenceSearch = (query: string, limit: number) => {
    const queryTerms = new Map<string, number>();
    for (const term of keywordTokens(query)) queryTerms.set(term, (queryTerms.get(term) ?? 0) + 1);
    const docs = [...reference];
    const averageLength = docs.reduce((sum, [, doc]) => sum + doc.length, 0) / docs.length;
    const scores = new Map<number, number>();
    for (const [term, queryCount] of queryTerms) {
      const holders = docs.filter(([, doc]) => doc.terms.has(term));
      const idf = Math.log(1 + (docs.length - holders.length + 0.5) / (holders.length + 0.5));
      for (const [id, doc] of holders) {
        const tf = doc.terms.get(term)!;
        const { k1, b } = DEFAULT_KEYWORD_OPTIONS;
        const saturated = (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * doc.length) / averageLength));
        scores.set(id, (scores.get(id) ?? 0) + idf * (1 + Math.log(queryCount)) * saturated);
      }
    }
    return [...scores].map(([id, score]) => ({ id, score })).sort((x, y) => y.score - x.score || x.id - y.id).slice(0, limit);
  };
  for (let step = 0; step < 6000; step++) {
    const id = 1 + Math.floor(random() * 1500);
    if (random() < 0.3) {
      assert.equal(index.remove(id), reference.delete(id));
      continue;
    }
    const body = text(1 + Math.floor(random() * 30));
    index.add(id, { title: '', headings: '', body });
    const terms = new Map<string, number>();
    const tokens = keywordTokens(body);
    for (const term of tokens) terms.set(term, (terms.get(term) ?? 0) + 1);
    reference.set(id, { terms, length: Math.max(1, tokens.length) });
  }
  assert.equal(index.size, reference.size);
  for (const query of ['alpha', 'replica vacuum', 'index index backup', 'shard token quota route', 'nothing here']) {
    for (const limit of [1, 10, 5000]) assert.deepEqual(index.search(query, limit), referenceSearch(query, limit), `${query} @${limit}`);
  }
});

test('a dictionary lookup through its term samples finds every term at its number and no other', () => {
  // 1,000 terms (several sample runs and a short last one), some outside ASCII, sorted by their bytes as a segment is.
  const words = Array.from({ length: 1000 }, (_, i) => `w${(i * 7919) % 1000}${i % 9 === 0 ? 'é' : ''}${i % 13 === 0 ? '\u{1f600}' : ''}`);
  const part = freezeDocuments([1], [flatDocuments([{ terms: words, weights: words.map(() => 1), length: words.length }])]);
  const termAt = (t: number) => part.termBytes.subarray(t === 0 ? 0 : part.termEnds[t - 1]!, part.termEnds[t]!);
  const count = part.termEnds.length;
  const samples = termSamples(part);
  const utf8 = new TextEncoder();
  for (let t = 0; t < count; t++) {
    assert.equal(findTerm(count, termAt, termAt(t), samples), t);
    assert.equal(findTerm(count, termAt, termAt(t)), t);
  }
  for (const absent of ['', 'a', 'w', 'w1000', 'w99x', 'zzz', '\u{1f600}']) {
    assert.equal(findTerm(count, termAt, utf8.encode(absent), samples), -1, absent);
  }
  // Samples that do not fit the dictionary are not used.
  assert.equal(findTerm(count, termAt, termAt(500), samples.slice(1)), 500);
});

test('the radix sort puts byte strings in the order a stable sort by Buffer.compare gives, prefixes first, across every range size', () => {
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  // Few letters, so long shared prefixes and ranges of every size above and below insertion sort's.
  const alphabet = ['a', 'b', 'ab', 'é', '\uffe0', '\u{1f600}', '\u{10ffff}', '\u00ff', '中'];
  for (const size of [0, 1, 2, 23, 24, 25, 300, 5000]) {
    // Repeats too (a term two dictionaries share): they sort side by side, in the order given.
    const words = Array.from({ length: size }, () => Array.from({ length: 1 + Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
    const encoded = words.map((word) => Buffer.from(word, 'utf8'));
    const ends = new Uint32Array(encoded.length);
    encoded.reduce((end, bytes, i) => (ends[i] = end + bytes.length), 0);
    const order = [...sortByBytes(Buffer.concat(encoded), ends)];
    const expected = encoded.map((_, i) => i).sort((x, y) => Buffer.compare(encoded[x]!, encoded[y]!));
    assert.deepEqual(order, expected, `${size} strings`);
  }
});

test('frozen terms are each term\'s own UTF-8 in byte order, a term with a lone surrogate too', () => {
  const words = ['zeta', '\ud83d', '\ude00x', 'alpha', '\uffe0', '\u{1f600}'];
  const part = freezeDocuments([1], [flatDocuments([{ terms: words, weights: words.map(() => 1), length: words.length }])]);
  const expected = words.map((word) => Buffer.from(word, 'utf8')).sort(Buffer.compare);
  const got = Array.from(part.termEnds, (end, t) => Buffer.from(part.termBytes.subarray(t === 0 ? 0 : part.termEnds[t - 1]!, end)));
  assert.deepEqual(got, expected);
});

test('selectKth finds the value sorting would put at k, with ties, runs, and every k', () => {
  let seed = 77;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const shapes: ((n: number) => number)[] = [() => random(), () => Math.floor(random() * 4), (n) => n, (n) => -n, () => 1.5, (n) => (n % 7) * 0.25];
  for (const shape of shapes) {
    for (const length of [1, 2, 3, 10, 257]) {
      const values = Float64Array.from({ length }, (_, n) => shape(n));
      const sorted = Float64Array.from(values).sort();
      for (let k = 0; k < length; k++) assert.equal(selectKth(Float64Array.from(values), k), sorted[k], `length ${length}, k ${k}`);
    }
  }
});

test('a search for k hits returns the first k of the full ranking (score, then id), ties at the cut included', () => {
  const index = new KeywordIndex();
  // Many passages share "alpha": most score apart (their lengths differ), and pairs of ids tie exactly.
  for (let id = 1; id <= 600; id++) {
    const shape = Math.ceil(id / 2);
    index.add(id, { title: '', headings: '', body: `alpha ${'beta '.repeat(shape % 3)}${'alpha '.repeat(shape % 5)}${'filler '.repeat(shape % 41)}` });
  }
  const all = index.search('alpha beta', 10_000);
  assert.equal(all.length, 600);
  for (const k of [1, 2, 5, 10, 99, 100, 101, 333, 599]) {
    assert.deepEqual(index.search('alpha beta', k), all.slice(0, k), `k ${k}`);
  }
});
