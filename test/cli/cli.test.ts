import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { CLI_PATH, runDocent } from '../support/cli.js';
import { generatedPages, makeTempDir, writeTree } from '../support/tempDocs.js';

const docent = (...args: string[]) => runDocent(args);

let docs: string;
let store: string;

before(async () => {
  assert.ok(existsSync(CLI_PATH), 'dist/cli.js missing: run "npm run build" first (npm test does)');
  docs = await makeTempDir('cli-docs');
  store = path.join(await makeTempDir('cli-store'), 'store');
  await writeTree(docs, { ...generatedPages(12), 'notes.bin': '\u0000\u0001binary', 'big.md': `# Big\n${'x'.repeat(64)}\n` });
});

test('index --json prints one object with counts, skips by reason and seconds', async () => {
  const { code, stdout } = await docent('index', docs, '--store', store, '--json');
  assert.equal(code, 0);
  const report = JSON.parse(stdout);
  assert.equal(report.filesIndexed, 13);
  assert.ok(report.chunks >= 13);
  assert.equal(typeof report.seconds, 'number');
  assert.equal(report.skippedByReason.unsupported, 1, 'the .bin file is not a documentation type');
  const human = await docent('index', docs, '--store', store);
  assert.match(human.stdout, /files indexed\s+0 \(unchanged 13, deleted 0\)/);
});

test('index --include/--exclude (repeatable) choose the files, and --json lists every skipped file with its reason', async () => {
  const sphinx = await makeTempDir('cli-sphinx');
  await writeTree(sphinx, {
    'html/index.html': '<title>Home</title><h1>Home</h1><p>Welcome to the manual.</p>',
    'html/genindex.html': '<h1>Index</h1><p>A B C</p>',
    'html/_sources/index.rst.txt': 'Home\n====\n\nWelcome to the manual.\n',
    'html/drafts/wip.html': '<h1>Draft</h1>',
    'notes/todo.md': '# Todo\n\nnothing\n',
    'README.md': '# Readme\n\nread me\n',
  });
  const sphinxStore = path.join(await makeTempDir('cli-sphinx-store'), 'store');
  const { code, stdout } = await docent('index', sphinx, '--store', sphinxStore, '--json', '--include', 'html/**', '--include', 'README.md', '--exclude', 'drafts/');
  assert.equal(code, 0);
  const report = JSON.parse(stdout) as { filesIndexed: number; skipped: { path: string; reason: string; detail?: string }[] };
  assert.equal(report.filesIndexed, 2, 'html/index.html and README.md');
  const reasonOf = (p: string) => report.skipped.find((skip) => skip.path === p)?.reason;
  assert.equal(reasonOf('html/_sources/index.rst.txt'), 'duplicate');
  assert.equal(reasonOf('html/genindex.html'), 'generated');
  assert.equal(reasonOf('notes/todo.md'), 'excluded');
  assert.equal(reasonOf('html/drafts/'), 'excluded');
  const human = await docent('index', sphinx, '--store', sphinxStore, '--include', 'html/**', '--include', 'README.md', '--exclude', 'drafts/');
  assert.match(human.stderr, /skipped html\/_sources\/index\.rst\.txt: duplicate \(Sphinx source copy of html\/index\.html/);
  const empty = await docent('index', sphinx, '--store', sphinxStore, '--include', '');
  assert.equal(empty.code, 2);
});

test('index --changed <path> (repeatable) re-indexes only those files, drops deleted ones, and refuses a path outside the folder', async () => {
  const folder = await makeTempDir('cli-changed');
  await writeTree(folder, { 'a.md': '# A\n\nalpha\n', 'b.md': '# B\n\nbeta\n', 'c.md': '# C\n\ngamma\n' });
  const changedStore = path.join(await makeTempDir('cli-changed-store'), 'store');
  assert.equal((await docent('index', folder, '--store', changedStore)).code, 0);
  await fs.appendFile(path.join(folder, 'a.md'), '\nalpha again, rotated keys\n');
  await fs.rm(path.join(folder, 'b.md'));
  const { code, stdout } = await docent('index', folder, '--store', changedStore, '--json', '--changed', path.join(folder, 'a.md'), '--changed', path.join(folder, 'b.md'));
  assert.equal(code, 0);
  const report = JSON.parse(stdout);
  assert.deepEqual([report.filesIndexed, report.filesDeleted, report.filesUnchanged, report.fullWalk], [1, 1, 0, undefined]);
  const hits = JSON.parse((await docent('query', 'rotated keys', '--store', changedStore, '--json', '--mode', 'keyword')).stdout).hits;
  assert.equal(hits[0].path, 'a.md');
  const outside = await docent('index', folder, '--store', changedStore, '--changed', path.join(folder, '..', 'elsewhere.md'));
  assert.equal(outside.code, 2);
  assert.match(outside.stderr, /--changed .*elsewhere\.md is not inside .*: give paths of files in the folder being indexed/);
});

test('index without --embedder keeps the model the store was built with (a new store gets the default one)', async () => {
  const folder = await makeTempDir('cli-model');
  await writeTree(folder, { 'a.md': '# A\n\nalpha\n', 'b.md': '# B\n\nbeta\n' });
  const model = async (storeDir: string, ...args: string[]) => {
    const { code, stdout } = await docent('index', folder, '--store', storeDir, '--json', ...args);
    assert.equal(code, 0);
    return JSON.parse(stdout) as { embedder: { spec: string } | null; filesIndexed: number };
  };
  const root = await makeTempDir('cli-model-stores');
  assert.equal((await model(path.join(root, 'new'))).embedder?.spec, 'default');
  const hashing = path.join(root, 'hashing');
  assert.equal((await model(hashing, '--embedder', 'hashing')).embedder?.spec, 'hashing');
  await fs.appendFile(path.join(folder, 'a.md'), '\nalpha again\n');
  // Another model would re-embed every passage of the store: an update of one file touches that file.
  const update = await model(hashing, '--changed', path.join(folder, 'a.md'));
  assert.deepEqual([update.embedder?.spec, update.filesIndexed], ['hashing', 1]);
  const keywordOnly = path.join(root, 'keyword-only');
  assert.equal((await model(keywordOnly, '--embedder', 'none')).embedder, null);
  await fs.appendFile(path.join(folder, 'b.md'), '\nbeta again\n');
  assert.equal((await model(keywordOnly)).embedder, null, 'a walk without --embedder stays keyword-only');
  assert.equal((await model(keywordOnly, '--embedder', 'default')).embedder?.spec, 'default', 'naming a model still switches to it');
});

test('ask --json says "found": false with the closest headings when nothing in the docs answers, and query --json gives each hit a confidence', async () => {
  for (const question of ['How do I bake sourdough bread?', 'zzzzzz']) {
    const { code, stdout, stderr } = await docent('ask', question, '--store', store, '--json');
    assert.equal(code, 0, stderr);
    const answer = JSON.parse(stdout) as { found: boolean; suggestions?: string[]; citations: unknown[]; answer: string };
    assert.equal(answer.found, false, question);
    assert.deepEqual(answer.citations, []);
    assert.match(answer.answer, /^Nothing in your docs answers this\./);
    if (question !== 'zzzzzz') assert.ok(answer.suggestions!.length > 0 && answer.suggestions!.every((s) => answer.answer.includes(`- ${s}`)));
  }
  const found = JSON.parse((await docent('ask', 'How do I enable replication?', '--store', store, '--json')).stdout) as { found: boolean; citations: unknown[] };
  assert.equal(found.found, true);
  assert.ok(found.citations.length > 0);
  const { hits } = JSON.parse((await docent('query', 'enable replication', '--store', store, '--json')).stdout) as { hits: { confidence: number }[] };
  assert.ok(hits.length > 0 && hits.every((hit) => hit.confidence >= 0 && hit.confidence <= 1));
  assert.equal(hits[0]!.confidence, 1, 'the best hit has both words');
});

test('query --json returns hits best first with paths relative to the folder', async () => {
  const { code, stdout } = await docent('query', 'troubleshooting error E1005', '--store', store, '--k', '3', '--json');
  assert.equal(code, 0);
  const result = JSON.parse(stdout);
  assert.equal(result.hits.length, 3);
  assert.equal(result.hits[0].path, 'section-5/page-5.md');
  assert.match(result.hits[0].text, /E1005/);
  for (const hit of result.hits) {
    assert.deepEqual(Object.keys(hit).sort(), ['confidence', 'endLine', 'heading', 'path', 'score', 'startLine', 'text']);
    assert.ok(hit.startLine >= 1 && hit.endLine >= hit.startLine);
  }
  assert.ok(result.hits[0].score >= result.hits[1].score);
  assert.equal(typeof result.tookMs, 'number');
  // The cited lines are the passage: reading them from the file finds the matched text.
  const lines = (await fs.readFile(path.join(docs, result.hits[0].path), 'utf8')).split('\n');
  assert.match(lines.slice(result.hits[0].startLine - 1, result.hits[0].endLine).join('\n'), /E1005/);
});

test('query --batch answers one JSON line per input line, loading the store once', async () => {
  const batchFile = path.join(await makeTempDir('batch'), 'queries.txt');
  await fs.writeFile(batchFile, 'configure replication\n\nerror E1003 vacuum\nbilling limit7\n');
  const { code, stdout } = await docent('query', '--batch', batchFile, '--store', store, '--k', '2', '--json');
  assert.equal(code, 0);
  const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(lines.map((line) => line.query), ['configure replication', 'error E1003 vacuum', 'billing limit7']);
  assert.equal(lines[1].hits[0].path, 'section-3/page-3.md');
  assert.equal(lines[2].hits[0].path, 'section-0/page-7.md');
});

test('query --mode picks the rankings and --explain prints each hit\'s score parts', async () => {
  const keyword = JSON.parse((await docent('query', 'troubleshooting error E1005', '--store', store, '--k', '3', '--json', '--mode', 'keyword', '--explain')).stdout);
  assert.equal(keyword.hits[0].path, 'section-5/page-5.md');
  for (const hit of keyword.hits) {
    assert.ok(hit.explain.passageBm25f > 0, 'keyword hits carry their BM25F score');
    assert.equal(hit.explain.vectorRank, undefined, 'keyword mode reads no vector ranking');
    assert.equal(hit.explain.fused, hit.score);
  }
  const dense = JSON.parse((await docent('query', 'troubleshooting error E1005', '--store', store, '--k', '3', '--json', '--mode', 'dense', '--explain')).stdout);
  assert.equal(dense.hits.length, 3);
  for (const hit of dense.hits) {
    assert.equal(hit.explain.keywordRank, undefined, 'dense mode reads no keyword ranking');
    assert.ok(hit.explain.vectorRank >= 1 && hit.explain.denseCosine > 0);
  }
  const human = await docent('query', 'troubleshooting error E1005', '--store', store, '--k', '2', '--explain');
  assert.equal(human.code, 0);
  assert.match(human.stdout, /\[passage BM25F \d+\.\d+, page evidence \d\.\d+, .*fusion \d\.\d+\]/);
  const bad = await docent('query', 'x', '--store', store, '--mode', 'semantic');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--mode must be one of keyword, dense, hybrid, got "semantic"/);
});

test('bad arguments and missing or corrupt stores exit 2 with one clear line', async () => {
  const cases: [string[], RegExp][] = [
    [['query', 'x'], /--store <dir> is required/],
    [['query', 'x', '--store', store, '--k', 'zero'], /--k must be an integer from 1 to 1000/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['index', '--store', store], /exactly one folder/],
    [['query', 'x', '--store', path.join(docs, 'nope')], /no Docent store/],
    [['query', '--batch', '/nonexistent/file', '--store', store, '--json'], /cannot read --batch file/],
    // A folder that refuses new entries (Node 20's recursive mkdir never returned here).
    [['index', docs, '--store', '/proc/docent-store/x'], /cannot create the store folder \/proc\/docent-store\/x/],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await docent(...args);
    assert.equal(code, 2, `exit code for ${args.join(' ')}`);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${stderr}`);
  }
  const corrupt = await makeTempDir('corrupt');
  await fs.writeFile(path.join(corrupt, 'manifest.json'), '{"format":1');
  const { code, stderr } = await docent('query', 'x', '--store', corrupt);
  assert.equal(code, 2);
  assert.match(stderr, /corrupt Docent store/);
});

test('info --json reports model, dimensions, provider in use with the fallback reason, and throughput', async () => {
  const { code, stdout } = await docent('info', '--store', store, '--json');
  assert.equal(code, 0);
  const info = JSON.parse(stdout);
  assert.equal(info.files, 13);
  assert.match(info.model.id, /^docent-static-256d-/);
  assert.equal(info.model.dimensions, 256);
  // The default model is a table lookup: auto keeps it on the CPU on any machine, and says why.
  assert.equal(info.provider, 'cpu');
  assert.ok(info.fallbackReasons.some((reason: string) => /table lookup/.test(reason)), 'the reason no GPU was tried is recorded');
  assert.ok(info.embeddingChunksPerSecond > 0);
});

test('an explicit --device cuda that cannot load fails with one line naming what is missing', async () => {
  const { code, stderr } = await docent('index', docs, '--store', path.join(await makeTempDir('cuda-store'), 'store'), '--device', 'cuda');
  assert.equal(code, 1);
  assert.match(stderr, /CUDA execution provider could not be loaded/);
  assert.match(stderr, /CUDA 12 and cuDNN 9/);
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
  assert.equal((await docent('index', docs, '--store', store, '--device', 'tpu')).code, 2, 'an unknown device is a usage error');
});
