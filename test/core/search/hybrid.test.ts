import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { distinctFiles, scoreRankings, type EvalQuestion } from '../../../bench/evalMetrics.js';
import { HashingEmbedder } from '../../../src/core/embedding/hashingEmbedder.js';
import { indexFolder, type IndexReport } from '../../../src/core/indexer.js';
import { BUILT_IN_MODELS } from '../../../src/core/embedding/builtInModels.js';
import { DEFAULT_FUSION, defaultFusionFor, HybridRetriever } from '../../../src/core/search/hybrid.js';
import { DocStore } from '../../../src/core/store.js';
import type { Embedder } from '../../../src/core/types.js';
import { makeTempDir } from '../../support/tempDocs.js';

const EXAMPLES = path.resolve(__dirname, '../../../examples');
let store: DocStore;
let report: IndexReport;
let questions: EvalQuestion[];

before(async () => {
  store = await DocStore.open(await makeTempDir('examples-store'), { create: true });
  report = await indexFolder(path.join(EXAMPLES, 'docs'), store, { embedder: new HashingEmbedder() });
  questions = JSON.parse(await fs.readFile(path.join(EXAMPLES, 'questions.json'), 'utf8')) as EvalQuestion[];
});

test('the example docs index fully; drafts (.gitignore) and the PNG are skipped with reasons', () => {
  assert.ok(report.filesIndexed >= 30, `indexed ${report.filesIndexed}`);
  assert.equal(report.skippedByReason.ignored, 1, 'the _drafts folder');
  assert.ok(!store.filePaths().some((file) => file.startsWith('_drafts/') || file.endsWith('.png')));
  for (const extension of ['.md', '.mdx', '.html', '.adoc', '.txt', '.rst', '.ts', '.py']) {
    assert.ok(store.filePaths().some((file) => file.endsWith(extension)), `no ${extension} file indexed`);
  }
});

test('hybrid retrieval answers the example questions (recall@5 and MRR@10 floors, better than keyword alone)', async () => {
  const evaluate = async (retriever: HybridRetriever) => {
    const rankings: string[][] = [];
    for (const question of questions) rankings.push(distinctFiles((await retriever.search(question.q, { k: 60 })).map((hit) => hit.chunk.path)));
    return scoreRankings(questions, rankings);
  };
  const hybrid = await evaluate(new HybridRetriever(store, new HashingEmbedder()));
  const keywordOnly = await evaluate(new HybridRetriever(store, undefined));
  assert.ok(hybrid.recallAt5 >= 0.9, `recall@5 ${hybrid.recallAt5}`);
  assert.ok(hybrid.mrrAt10 >= 0.8, `MRR@10 ${hybrid.mrrAt10}`);
  assert.ok(hybrid.mrrAt10 >= keywordOnly.mrrAt10, `hybrid ${hybrid.mrrAt10} < keyword ${keywordOnly.mrrAt10}`);
});

test('citations point at the lines that hold the passage, with the heading path', async () => {
  const [hit] = await new HybridRetriever(store, new HashingEmbedder()).search('How do I rotate the API signing keys?', { k: 1 });
  assert.ok(hit);
  assert.equal(hit.chunk.path, 'runbooks/rotate-signing-keys.md');
  const lines = (await fs.readFile(path.join(EXAMPLES, 'docs', hit.chunk.path), 'utf8')).split('\n');
  const cited = lines.slice(hit.chunk.startLine - 1, hit.chunk.endLine).join('\n');
  for (const word of hit.chunk.text.match(/[A-Za-z]{5,}/g)!.slice(0, 10)) assert.ok(cited.includes(word), `${word} not in cited lines`);
  assert.match(hit.chunk.headingPath.join(' › '), /rotat/i);
});

test('near-duplicate passages are collapsed: a copied page does not take two result slots', async () => {
  const folder = await makeTempDir('dupes');
  const page = '# Backup schedule\n\nNightly backups of the orders database run at 02:00 UTC and are kept for 35 days in cold storage.\n';
  await fs.writeFile(path.join(folder, 'a.md'), page);
  await fs.writeFile(path.join(folder, 'b.md'), page.replace('35 days', '35 days.'));
  await fs.writeFile(path.join(folder, 'c.md'), '# Restore\n\nRestoring the orders database from cold storage takes about an hour.\n');
  const dupes = await DocStore.open(await makeTempDir('dupes-store'), { create: true });
  await indexFolder(folder, dupes, { embedder: new HashingEmbedder() });
  const hits = await new HybridRetriever(dupes, new HashingEmbedder()).search('orders database backups cold storage', { k: 3 });
  assert.equal(hits.length, 2, 'three files, two distinct passages');
  assert.ok(hits.some((hit) => hit.chunk.path === 'c.md'));
  assert.equal(hits.filter((hit) => hit.chunk.path === 'a.md' || hit.chunk.path === 'b.md').length, 1);
});

/** Puts a text on one axis by a marker word, so a test controls every cosine exactly. */
class MarkerEmbedder implements Embedder {
  readonly id = 'marker-test-3';
  readonly dimensions = 3;
  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((text) => Float32Array.from(/\bblue\b/i.test(text) ? [1, 0, 0] : /\bred\b/i.test(text) ? [0, 1, 0] : [0, 0, 1]));
  }
  async dispose(): Promise<void> {}
}

/**
 * Two pages BM25F nearly ties on "widget settings" (a.md, red, repeats the words; b.md is blue) and any `extra` ones,
 * indexed with MarkerEmbedder.
 */
async function widgetPages(name: string, extra: Record<string, string> = {}): Promise<{ pages: DocStore; embedder: MarkerEmbedder }> {
  const folder = await makeTempDir(name);
  const files = {
    'a.md': '# Alpha\n\nThe widget settings file holds widget settings. Painted red.\n',
    'b.md': '# Beta\n\nWidget settings: this file lists the settings for each widget type. Painted blue.\n',
    ...extra,
  };
  for (const [file, text] of Object.entries(files)) await fs.writeFile(path.join(folder, file), text);
  const embedder = new MarkerEmbedder();
  const pages = await DocStore.open(await makeTempDir(`${name}-store`), { create: true });
  await indexFolder(folder, pages, { embedder });
  return { pages, embedder };
}

test('page-level dense evidence breaks a near-tie inside the keyword head and never pulls in a page keyword search missed', async () => {
  const { pages, embedder } = await widgetPages('page-dense', { 'c.md': '# Gamma\n\nNothing in common with the question here. Painted blue.\n' });
  const query = 'widget settings';
  const queryVector = Float32Array.from([1, 0, 0]);
  // Vector RRF off: only the page-level evidence can move anything.
  const search = (pageDenseWeight: number) =>
    new HybridRetriever(pages, embedder, { ...DEFAULT_FUSION, vectorWeight: 0, pageDenseWeight }).search(query, { k: 5, queryVector });
  const keywordOrder = (await search(0)).map((hit) => hit.chunk.path);
  assert.deepEqual(keywordOrder, ['a.md', 'b.md'], 'BM25F alone prefers the page that repeats the words');
  const withDense = (await search(DEFAULT_FUSION.pageDenseWeight)).map((hit) => hit.chunk.path);
  assert.deepEqual(withDense, ['b.md', 'a.md'], 'the page whose best passage matches the query vector wins the near-tie');
  assert.ok(!withDense.includes('c.md'), 'a page outside the keyword ranking is never pulled in');
});

test('the page-dense weight grows when the best keyword passage holds little of the question, and only then', async () => {
  const { pages, embedder } = await widgetPages('low-confidence');
  const fusion = { ...DEFAULT_FUSION, vectorWeight: 0, pageDenseWeight: 0.2, lowConfidenceBelow: 0.6, lowConfidenceDenseGain: 1.5 };
  // The head's best dense page gets the whole (grown) weight: its boost is the weight used.
  const weightUsed = async (query: string) =>
    Math.max(...(await new HybridRetriever(pages, embedder, fusion).search(query, { k: 5, queryVector: Float32Array.from([1, 0, 0]), explain: true })).map((hit) => hit.explain?.pageDense ?? 0));
  assert.equal(await weightUsed('widget settings'), 0.2, 'the best passage holds every word: the weight stays');
  // Three of four distinctive words are nowhere in the docs: confidence about a quarter, weight × (1 + 1.5 × shortfall).
  const grown = await weightUsed('reconfigure gizmo preferences settings');
  assert.ok(grown > 0.2 * 1.3 && grown <= 0.2 * (1 + 1.5 * 0.6), `grown weight ${grown}`);
});

test('the passage and page rankings run while the query is embedded, and rank as with the vector given', async () => {
  const { pages: overlap, embedder: marker } = await widgetPages('overlap');
  let release: (() => void) | undefined;
  const readsWhileEmbedding: string[] = [];
  const slow: Embedder = {
    id: marker.id,
    dimensions: marker.dimensions,
    embed: (texts) => new Promise((resolve) => (release = () => void marker.embed(texts).then(resolve))),
    dispose: async () => undefined,
  };
  for (const name of ['searchPassages', 'searchPages'] as const) {
    const original = overlap[name].bind(overlap);
    overlap[name] = (...args) => {
      if (release) readsWhileEmbedding.push(name);
      return original(...args);
    };
  }
  const fusion = { ...DEFAULT_FUSION, pageDenseWeight: 0.5 };
  const searching = new HybridRetriever(overlap, slow, fusion).search('widget settings blue', { k: 5 });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(readsWhileEmbedding, ['searchPassages', 'searchPages'], 'both rankings read before the vector arrives');
  release!();
  const hits = await searching;
  const given = await new HybridRetriever(overlap, marker, fusion).search('widget settings blue', { k: 5, queryVector: Float32Array.of(1, 0, 0) });
  assert.deepEqual(
    hits.map((hit) => [hit.chunk.path, hit.score, hit.relevance]),
    given.map((hit) => [hit.chunk.path, hit.score, hit.relevance]),
  );
});

/** Vectors by marker word: blue and red are orthogonal, teal leans to blue; anything else is a third axis. */
class PaletteEmbedder implements Embedder {
  readonly id = 'palette-test-3';
  readonly dimensions = 3;
  async embed(texts: string[]): Promise<Float32Array[]> {
    const teal = [0.958, 0.287, 0];
    return texts.map((text) => Float32Array.from(/\bteal\b/i.test(text) ? teal : /\bblue\b/i.test(text) ? [1, 0, 0] : /\bred\b/i.test(text) ? [0, 1, 0] : [0, 0, 1]));
  }
  async dispose(): Promise<void> {}
}

test('the page centroid: a page whose passages together match the query beats one with a single closer passage; cached per generation', async () => {
  const folder = await makeTempDir('page-centroid');
  // Query vector halfway between blue and red. Whole: blue and red passages (best 0.71, centroid 1.0).
  // Part: one teal passage (0.88) and one off-topic passage (centroid 0.62).
  await fs.writeFile(path.join(folder, 'whole.md'), '# Whole\n\n## One\n\nWidget settings, painted blue.\n\n## Two\n\nWidget settings, painted red.\n');
  await fs.writeFile(path.join(folder, 'part.md'), '# Part\n\n## One\n\nWidget settings, painted teal.\n\n## Two\n\nWidget settings, plain.\n');
  const embedder = new PaletteEmbedder();
  const store = await DocStore.open(await makeTempDir('page-centroid-store'), { create: true });
  await indexFolder(folder, store, { embedder });
  assert.equal(store.file('whole.md')?.chunkIds.length, 2, 'two passages per page');
  assert.equal(store.file('part.md')?.chunkIds.length, 2);
  const queryVector = Float32Array.from([Math.SQRT1_2, Math.SQRT1_2, 0]);
  const retriever = (pageCentroidWeight: number) => new HybridRetriever(store, embedder, { ...DEFAULT_FUSION, vectorWeight: 0, pageDenseWeight: 0.5, pageCentroidWeight });
  const first = async (search: HybridRetriever) => (await search.search('widget settings', { k: 4, queryVector }))[0]!.chunk.path;
  assert.equal(await first(retriever(0)), 'part.md', 'by best passage alone the teal page wins');
  const withCentroid = retriever(1);
  assert.equal(await first(withCentroid), 'whole.md', 'with the centroid the page about both colours wins');
  assert.equal(await first(withCentroid), 'whole.md', 'the cached centroid gives the same answer');

  // A commit that changes a page's passages changes its centroid: teal and red (best 0.88, centroid 0.99) now beat whole.
  await fs.writeFile(path.join(folder, 'part.md'), '# Part\n\n## One\n\nWidget settings, painted teal.\n\n## Two\n\nWidget settings, painted red.\n');
  await indexFolder(folder, store, { embedder });
  assert.equal(await first(withCentroid), 'part.md', 'a new generation recomputes the centroid');
});

test('dense mode adds the page centroid for the static model: a page about the question beats one close passage among others; hybrid ignores the weight', async () => {
  const folder = await makeTempDir('dense-centroid');
  // Query vector blue. Mixed: one blue passage and two red (best 1, centroid 0.45). Subject: two teal passages (best and centroid 0.96).
  await fs.writeFile(path.join(folder, 'mixed.md'), '# Mixed\n\n## One\n\nWidget settings, painted blue.\n\n## Two\n\nWidget settings, painted red.\n\n## Three\n\nWidget options, painted red.\n');
  await fs.writeFile(path.join(folder, 'subject.md'), '# Subject\n\n## One\n\nWidget settings, painted teal.\n\n## Two\n\nWidget options, painted teal.\n');
  const embedder = new PaletteEmbedder();
  const store = await DocStore.open(await makeTempDir('dense-centroid-store'), { create: true });
  await indexFolder(folder, store, { embedder });
  assert.equal(store.file('mixed.md')?.chunkIds.length, 3, 'three passages');
  const queryVector = Float32Array.from([1, 0, 0]);
  const staticFusion = defaultFusionFor(`${BUILT_IN_MODELS.static}-0123abcd`);
  assert.ok(staticFusion.denseCentroidWeight > 0 && DEFAULT_FUSION.denseCentroidWeight === 0, 'measured for the static model only');
  const hits = (denseCentroidWeight: number, mode: 'dense' | 'hybrid') =>
    new HybridRetriever(store, embedder, { ...staticFusion, denseCentroidWeight }).search('widget settings', { k: 5, queryVector, mode });
  const paths = async (weight: number, mode: 'dense' | 'hybrid') => (await hits(weight, mode)).map((hit) => hit.chunk.path);
  assert.equal((await paths(0, 'dense'))[0], 'mixed.md', 'by best passage alone the one blue passage wins');
  const dense = await hits(staticFusion.denseCentroidWeight, 'dense');
  assert.deepEqual(dense.slice(0, 2).map((hit) => hit.chunk.path), ['subject.md', 'subject.md'], "with the centroid the teal page's passages come first");
  assert.equal(dense[2]!.chunk.path, 'mixed.md');
  assert.ok(Math.abs(dense[0]!.relevance! - 0.958) < 1e-3, "relevance stays the best hit's own cosine");
  const strip = (list: Awaited<ReturnType<typeof hits>>) => list.map((hit) => [hit.chunk.id, hit.score, hit.relevance]);
  assert.deepEqual(strip(await hits(staticFusion.denseCentroidWeight, 'hybrid')), strip(await hits(0, 'hybrid')), 'hybrid ranks the same whatever the dense-centroid weight');
});

test('modes: keyword reads BM25F only, dense the vector index only, hybrid both; explain gives each hit its score parts', async () => {
  const folder = await makeTempDir('modes');
  await fs.writeFile(path.join(folder, 'a.md'), '# Alpha\n\nThe widget settings file holds widget settings. Painted red.\n');
  await fs.writeFile(path.join(folder, 'b.md'), '# Beta\n\nWidget settings: this file lists the settings for each widget type. Painted blue.\n');
  await fs.writeFile(path.join(folder, 'c.md'), '# Gamma\n\nNothing in common with the question here. Painted blue.\n');
  const embedder = new MarkerEmbedder();
  const modes = await DocStore.open(await makeTempDir('modes-store'), { create: true });
  await indexFolder(folder, modes, { embedder });
  const retriever = new HybridRetriever(modes, embedder);
  const queryVector = Float32Array.from([1, 0, 0]);
  const paths = async (mode: 'keyword' | 'dense' | 'hybrid') =>
    (await retriever.search('widget settings', { k: 5, queryVector, mode })).map((hit) => hit.chunk.path);
  assert.deepEqual(await paths('keyword'), ['a.md', 'b.md'], 'keyword: only pages that contain the words');
  const dense = await paths('dense');
  assert.deepEqual(new Set(dense.slice(0, 2)), new Set(['b.md', 'c.md']), 'dense: the blue pages first, words or not');
  assert.equal(dense.at(-1), 'a.md');
  assert.ok((await paths('hybrid')).includes('c.md'), 'hybrid fuses the vector ranking in');

  const explained = await retriever.search('widget settings', { k: 5, queryVector, explain: true });
  const b = explained.find((hit) => hit.chunk.path === 'b.md')!.explain!;
  assert.ok(b.passageBm25f! > 0 && b.pageEvidence! > 0 && b.pageEvidence! <= 1, 'keyword parts');
  assert.ok(b.pageDense! > 0, 'the blue page gets the page-level dense boost');
  assert.equal(b.denseCosine, 1);
  assert.ok(b.keywordRank! >= 1 && b.vectorRank! >= 1);
  const c = explained.find((hit) => hit.chunk.path === 'c.md')!.explain!;
  assert.equal(c.passageBm25f, undefined, 'no keyword match, no keyword parts');
  assert.equal(c.keywordRank, undefined);
  for (const hit of explained) assert.equal(hit.explain!.fused, hit.score, 'fusion is the final score');
  assert.equal((await retriever.search('widget settings', { k: 5, queryVector }))[0]!.explain, undefined, 'no parts unless asked');

  await assert.rejects(new HybridRetriever(modes, undefined).search('widget settings', { k: 5, mode: 'dense' }), /dense search needs the embedding model/);
});

test('background documents: a tiny workspace scores its terms with the IDF of a larger collection, ranking unchanged when passages match alike', async () => {
  const folder = await makeTempDir('tiny-workspace');
  await fs.writeFile(path.join(folder, 'a.md'), '# Retries\n\nThe daemon retries a plugin request for thirty seconds.\n');
  await fs.writeFile(path.join(folder, 'b.md'), '# Logging\n\nThe daemon hands each container log to the plugin.\n');
  const tiny = await DocStore.open(await makeTempDir('tiny-store'), { create: true });
  await indexFolder(folder, tiny, {});
  const search = (backgroundPassages: number, backgroundPages: number) =>
    new HybridRetriever(tiny, undefined, { ...DEFAULT_FUSION, backgroundPassages, backgroundPages }).keywordRanking('daemon plugin request retries');
  const local = search(0, 0);
  const background = search(DEFAULT_FUSION.backgroundPassages, DEFAULT_FUSION.backgroundPages);
  // "daemon" and "plugin" are in every passage: on local statistics alone they weigh almost nothing.
  assert.ok(background.bestScore > 2 * local.bestScore, `${background.bestScore} vs ${local.bestScore}`);
  assert.deepEqual(background.ids.map((id) => tiny.chunk(id)!.path)[0], 'a.md');
  assert.deepEqual(local.ids.map((id) => tiny.chunk(id)!.path)[0], 'a.md');
});

test('release notes rank below the page they summarise unless the question is about versions', async () => {
  const folder = await makeTempDir('release-notes');
  await fs.mkdir(path.join(folder, 'whatsnew'));
  await fs.writeFile(path.join(folder, 'whatsnew', '2.4.md'), '# Version 2.4\n\nThe worker pool now starts its threads lazily, and worker pool threads are named.\n');
  await fs.writeFile(path.join(folder, 'pool.md'), '# Tasks\n\nA worker pool runs tasks on several threads.\n');
  const notes = await DocStore.open(await makeTempDir('release-notes-store'), { create: true });
  await indexFolder(folder, notes, {});
  const first = (query: string, supersededPageWeight: number) =>
    notes.chunk(new HybridRetriever(notes, undefined, { ...DEFAULT_FUSION, supersededPageWeight }).keywordRanking(query).ids[0]!)!.path;
  assert.equal(first('worker pool threads', 1), 'whatsnew/2.4.md', 'without the prior the notes repeat the words and win');
  assert.equal(first('worker pool threads', DEFAULT_FUSION.supersededPageWeight), 'pool.md');
  assert.equal(first('what changed in the worker pool threads', DEFAULT_FUSION.supersededPageWeight), 'whatsnew/2.4.md', 'a question about changes keeps them');
});

test('legacy pages, named so by path or by title, rank below the current page unless the question asks for the old way', async () => {
  const folder = await makeTempDir('legacy-pages');
  const legacy = '\n\nInstall packages for each project with the setup script: packages install into one project folder, packages for each project.\n';
  await fs.writeFile(path.join(folder, 'legacy_install.md'), `# Installing packages${legacy}`);
  await fs.writeFile(path.join(folder, 'setup.md'), `# Installing packages (Legacy version)${legacy}`);
  await fs.writeFile(path.join(folder, 'venv.md'), '# Virtual environments\n\nEach project gets its own environment with its own installed packages.\n');
  const pages = await DocStore.open(await makeTempDir('legacy-pages-store'), { create: true });
  await indexFolder(folder, pages, {});
  const order = (query: string, supersededPageWeight: number) => {
    const paths = new HybridRetriever(pages, undefined, { ...DEFAULT_FUSION, supersededPageWeight }).keywordRanking(query).ids.map((id) => pages.chunk(id)!.path);
    return paths.filter((file, i) => paths.indexOf(file) === i);
  };
  assert.equal(order('install packages for each project', 1)[2], 'venv.md', 'without the prior both legacy pages repeat the words and win');
  assert.deepEqual(order('install packages for each project', DEFAULT_FUSION.supersededPageWeight)[0], 'venv.md');
  assert.notEqual(order('the legacy way to install packages for each project', DEFAULT_FUSION.supersededPageWeight)[0], 'venv.md', 'a question about the old way keeps them');
});

test('within a file the passage whose own heading names the question opens first; the files keep their order and the scores stay sorted', async () => {
  const folder = await makeTempDir('own-sections');
  await fs.writeFile(
    path.join(folder, 'a.md'),
    '# Widget guide\n\n## Resize widgets\n\nDrag the corner handle; the layout reflows around it.\n\n### Step 2: clean up\n\nAfter you resize a widget, resize each widget inside it and delete the widget cache.\n',
  );
  await fs.writeFile(path.join(folder, 'b.md'), '# Gadgets\n\nA gadget never needs a resize; widgets are mentioned here once.\n');
  const sections = await DocStore.open(await makeTempDir('own-sections-store'), { create: true });
  await indexFolder(folder, sections, {});
  const retriever = new HybridRetriever(sections, undefined);
  const query = 'resize widgets';
  const keywordFirst = sections.chunk(retriever.keywordRanking(query).ids[0]!)!;
  assert.deepEqual(keywordFirst.headingPath.at(-1), 'Step 2: clean up', 'BM25F alone prefers the sub-step that repeats the words');
  const hits = await retriever.search(query, { k: 5, mode: 'keyword' });
  assert.equal(hits[0]!.chunk.headingPath.at(-1), 'Resize widgets');
  for (const k of [1, 2]) {
    const shorter = await retriever.search(query, { k, mode: 'keyword' });
    assert.deepEqual(shorter.map((hit) => hit.chunk.id), hits.slice(0, k).map((hit) => hit.chunk.id), `k = ${k} gets the first ${k} of the longer list`);
  }
  assert.deepEqual(distinctFiles(hits.map((hit) => hit.chunk.path)), ['a.md', 'b.md']);
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.score >= hits[i]!.score, 'scores stay sorted');
});
