import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { CLI_PATH, runDocent } from '../support/cli.js';
import { generatedPages, makeTempDir, writeTree } from '../support/tempDocs.js';

const run = promisify(execFile);
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest();
/** Timings differ between runs; the rest of the output may not. */
const withoutTiming = (stdout: string) => stdout.replace(/ in [\d.]+ ms/, '');

let docs: string;
let store: string;
/** A copy of the launcher and the command files, whose caches this test alone writes. */
let dist: string;
let esmOutput: string;

async function query(): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(dist, 'cli.js'), 'query', 'page three topic', '--store', store, '--k', '3']);
  return withoutTiming(stdout);
}

before(async () => {
  assert.ok(existsSync(CLI_PATH), 'dist/cli.js missing: run "npm run build" first (npm test does)');
  docs = await makeTempDir('launch-docs');
  store = path.join(await makeTempDir('launch-store'), 'store');
  await writeTree(docs, generatedPages(8));
  assert.equal((await runDocent(['index', docs, '--store', store, '--embedder', 'none'])).code, 0);
  dist = await makeTempDir('launch-dist');
  for (const file of ['cli.js', 'cliQuery.js', 'cliIndex.js']) await fs.copyFile(path.join(path.dirname(CLI_PATH), file), path.join(dist, file));
  // The ESM CLI, which every other command runs: the query bundle must answer exactly as it does.
  const esm = await run(process.execPath, [path.join(path.dirname(CLI_PATH), 'cli.mjs'), 'query', 'page three topic', '--store', store, '--k', '3']);
  esmOutput = withoutTiming(esm.stdout);
});

test('docent query answers as the ESM CLI does, writes its code cache once, and uses it', async () => {
  const cache = path.join(dist, 'cliQuery.js.v8cache');
  assert.equal(await query(), esmOutput);
  const written = await fs.readFile(cache);
  const source = await fs.readFile(path.join(dist, 'cliQuery.js'));
  assert.deepEqual(written.subarray(0, 32), sha256(source), 'the header names the source it was made from');
  assert.deepEqual(written.subarray(32, 64), sha256(written.subarray(64)), 'and the digest of its payload');
  const { ino } = await fs.stat(cache);
  assert.equal(await query(), esmOutput);
  // Written again, it would be another file renamed into place.
  assert.equal((await fs.stat(cache)).ino, ino, 'a cache V8 accepts is not written again');
});

test('a damaged or stale code cache is never used: the query runs uncached and writes a good one', async () => {
  const cache = path.join(dist, 'cliQuery.js.v8cache');
  const bundle = path.join(dist, 'cliQuery.js');
  await query();
  const damaged = await fs.readFile(cache);
  damaged[damaged.length >> 1] ^= 0xff;
  await fs.writeFile(cache, damaged);
  assert.equal(await query(), esmOutput);
  const rewritten = await fs.readFile(cache);
  assert.deepEqual(rewritten.subarray(32, 64), sha256(rewritten.subarray(64)), 'a damaged payload is replaced');
  // Same length, other code: V8 itself would take the cache made for the old source.
  const source = await fs.readFile(bundle, 'utf8');
  const changed = source.replace('"use strict";', '"use strict";;');
  assert.notEqual(changed, source);
  await fs.writeFile(bundle, changed.replace(/\n$/, ''));
  assert.equal((await fs.readFile(bundle)).length, Buffer.byteLength(source));
  assert.equal(await query(), esmOutput);
  assert.deepEqual((await fs.readFile(cache)).subarray(0, 32), sha256(await fs.readFile(bundle)), 'a cache for the changed source replaces the old one');
});

/** An index run's report, less what differs between runs. */
async function indexed(cli: string, target: string, ...flags: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [cli, 'index', docs, '--store', target, '--embedder', 'none', '--json', ...flags]);
  const { seconds: _seconds, ...report } = JSON.parse(stdout) as Record<string, unknown>;
  return report;
}

test('docent index runs its own command file with its own code cache, and indexes as the ESM CLI does', async () => {
  const cache = path.join(dist, 'cliIndex.js.v8cache');
  const esm = path.join(path.dirname(CLI_PATH), 'cli.mjs');
  const [esmStore, fileStore] = [path.join(await makeTempDir('launch-esm'), 'store'), path.join(await makeTempDir('launch-file'), 'store')];
  assert.deepEqual(await indexed(path.join(dist, 'cli.js'), fileStore), await indexed(esm, esmStore));
  const written = await fs.readFile(cache);
  assert.deepEqual(written.subarray(0, 32), sha256(await fs.readFile(path.join(dist, 'cliIndex.js'))), 'the header names the index file');
  assert.deepEqual(written.subarray(32, 64), sha256(written.subarray(64)));
  const { ino } = await fs.stat(cache);
  // A changed file given by --changed, then a run that finds nothing changed, each from the cache.
  const page = path.join(docs, 'section-1/page-1.md');
  await fs.appendFile(page, '\nA new line about rotating the signing keys.\n');
  assert.deepEqual(await indexed(path.join(dist, 'cli.js'), fileStore, '--changed', page), await indexed(esm, esmStore, '--changed', page));
  assert.deepEqual(await indexed(path.join(dist, 'cli.js'), fileStore), await indexed(esm, esmStore));
  assert.equal((await fs.stat(cache)).ino, ino, 'a cache V8 accepts is not written again');
  // The stores answer alike.
  const answers = await Promise.all([esmStore, fileStore].map((target) => run(process.execPath, [esm, 'query', 'rotating signing keys', '--store', target, '--k', '3'])));
  assert.equal(withoutTiming(answers[1]!.stdout), withoutTiming(answers[0]!.stdout));
  assert.match(answers[0]!.stdout, /page-1\.md/);
});

test('an index run long enough for parse workers writes a code cache the next short run accepts; the first run to parse on its own thread adds the parser once', async () => {
  // That run sets V8's tiering back to its default (src/core/tiering.ts); a cache made with those flags would be rejected by every later launch.
  const many = await makeTempDir('launch-many');
  await writeTree(many, generatedPages(80));
  const own = await makeTempDir('launch-dist-long');
  for (const file of ['cli.js', 'cliIndex.js', 'parseWorker.js']) await fs.copyFile(path.join(path.dirname(CLI_PATH), file), path.join(own, file));
  const cache = path.join(own, 'cliIndex.js.v8cache');
  const target = path.join(await makeTempDir('launch-many-store'), 'store');
  const index = async (...flags: string[]) => JSON.parse((await run(process.execPath, [path.join(own, 'cli.js'), 'index', many, '--store', target, '--embedder', 'none', '--json', ...flags])).stdout) as { filesIndexed: number };
  assert.equal((await index()).filesIndexed, 80);
  const afterWorkers = await fs.readFile(cache);
  assert.equal(afterWorkers[64], 0, 'the long run parsed in its workers, not on its own thread');
  const { ino } = await fs.stat(cache);
  assert.equal((await index()).filesIndexed, 0);
  assert.equal((await fs.stat(cache)).ino, ino, 'a run that parsed nothing used the long run’s cache as it was');
  const page = path.join(many, 'section-1/page-1.md');
  await fs.appendFile(page, '\nOne more line.\n');
  assert.equal((await index('--changed', page)).filesIndexed, 1);
  const withParser = await fs.readFile(cache);
  assert.equal(withParser[64], 1, 'a run that parsed on its own thread wrote it again');
  assert.ok(withParser.length > afterWorkers.length, `with the parser's functions: ${withParser.length} vs ${afterWorkers.length} bytes`);
  const rewritten = await fs.stat(cache);
  await fs.appendFile(page, '\nAnd another.\n');
  assert.equal((await index('--changed', page)).filesIndexed, 1);
  assert.equal((await fs.stat(cache)).ino, rewritten.ino, 'the next one used that cache as it was');
});
