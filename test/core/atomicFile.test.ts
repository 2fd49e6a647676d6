import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { commitTempFile, tempPathFor, writeFileAtomic } from '../../src/core/atomicFile.js';

let directory: string;
before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'docent-atomic-'));
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

test('writeFileAtomic writes strings and bytes, replaces existing files, and leaves no temp files', async () => {
  const path = join(directory, 'plain.json');
  await writeFileAtomic(path, '{"a":1}');
  assert.equal(await readFile(path, 'utf8'), '{"a":1}');
  await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...(await readFile(path))], [1, 2, 3]);
  assert.deepEqual(await readdir(directory), ['plain.json']);
});

test('writeFileAtomic writes pieces in order: empty ones, ones of a few bytes, and more than one batch of them', async () => {
  const path = join(directory, 'pieces.bin');
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) pieces.push(new Uint8Array(i % 7 === 0 ? 0 : i % 5 === 0 ? 300_000 + i : i % 11).fill(i % 251));
  const expected = Buffer.concat(pieces);
  assert.ok(expected.length > 3 * 2 ** 20, 'several batches');
  // A generator, as the store passes them: each piece is taken once.
  await writeFileAtomic(path, (function* () {
    yield* pieces;
  })());
  assert.ok(expected.equals(await readFile(path)));
  assert.deepEqual((await readdir(directory)).filter((name) => name.startsWith('pieces')), ['pieces.bin']);
});

test('concurrent writers to one path leave exactly one complete version', async () => {
  const path = join(directory, 'contended.txt');
  const versions = Array.from({ length: 12 }, (_, i) => String.fromCharCode(97 + i).repeat(200_000 + i));
  await Promise.all(versions.map((text) => writeFileAtomic(path, text)));
  assert.ok(versions.includes(await readFile(path, 'utf8')), 'final content is one whole version, not a mix');
  assert.deepEqual((await readdir(directory)).filter((name) => name.startsWith('contended')), ['contended.txt']);
});

test('a failed write rejects and leaves the old file and no temp file behind', async () => {
  const missingDirectory = join(directory, 'no-such-dir', 'file.txt');
  await assert.rejects(writeFileAtomic(missingDirectory, 'x'), { code: 'ENOENT' });

  const path = join(directory, 'kept.txt');
  await writeFile(path, 'old');
  await assert.rejects(commitTempFile(join(directory, 'kept.txt.tmp-missing'), path), { code: 'ENOENT' });
  assert.equal(await readFile(path, 'utf8'), 'old');
});

test('tempPathFor names distinct siblings of the target', () => {
  const path = join(directory, 'target.bin');
  const first = tempPathFor(path);
  assert.equal(dirname(first), directory);
  assert.ok(first.startsWith(`${path}.tmp-${process.pid}-`));
  assert.notEqual(first, tempPathFor(path));
});
