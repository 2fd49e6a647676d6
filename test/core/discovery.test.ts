import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_EXCLUDES,
  MAX_SKIPPED_ENTRIES_PER_REASON,
  discoverChangedPaths,
  discoverFiles,
  readTextFile,
  type DiscoveredFile,
  type DiscoveryResult,
  type SkipReason,
} from '../../src/core/discovery.js';

let tempRoot: string;

before(async () => {
  tempRoot = await mkdtemp(path.join(os.tmpdir(), 'docent-discovery-'));
});

after(async () => {
  await rm(tempRoot, { recursive: true, force: true });
});

/** Creates a fresh folder holding `files` (relative path → content). */
async function makeTree(name: string, files: Record<string, string | Uint8Array>): Promise<string> {
  const root = path.join(tempRoot, name);
  await mkdir(root, { recursive: true });
  for (const [relativePath, content] of Object.entries(files)) {
    const filePath = path.join(root, relativePath);
    await mkdir(path.dirname(filePath), { recursive: true });
    await writeFile(filePath, content);
  }
  return root;
}

function filePaths(result: DiscoveryResult): string[] {
  return result.files.map((file) => file.path);
}

function skipsFor(result: DiscoveryResult, reason: SkipReason): string[] {
  return result.skipped.filter((skip) => skip.reason === reason).map((skip) => skip.path);
}

function assertCountsMatchList(result: DiscoveryResult): void {
  const counted: Record<string, number> = {};
  for (const skip of result.skipped) counted[skip.reason] = (counted[skip.reason] ?? 0) + 1;
  for (const [reason, count] of Object.entries(result.skippedByReason)) {
    assert.equal(count, counted[reason] ?? 0, `count for ${reason}`);
  }
}

describe('discoverFiles', () => {
  it('returns included files sorted by path with size, mtime and absolute path', async () => {
    const root = await makeTree('basic', {
      'b.md': '# B\n',
      'a-b.md': 'dash',
      'a/b.md': 'nested',
      'B.txt': 'upper',
      'src/main.ts': '/** Doc. */\nexport const x = 1;\n',
      'image.png': 'not text',
      'README': 'no extension',
      'NOTES.MD': 'upper-case extension',
    });
    const result = await discoverFiles(root);

    // Code unit order: 'B' < 'N' < 'a' and '-' < '/'.
    assert.deepEqual(filePaths(result), ['B.txt', 'NOTES.MD', 'a-b.md', 'a/b.md', 'b.md', 'src/main.ts']);
    const nested = result.files.find((file) => file.path === 'a/b.md');
    assert.equal(nested?.absolutePath, path.join(root, 'a', 'b.md'));
    assert.equal(nested?.size, 6);
    assert.ok(nested && nested.mtimeMs > 0);
    assert.deepEqual(skipsFor(result, 'unsupported'), ['README', 'image.png']);
    assertCountsMatchList(result);
  });

  it('gives the same result on every run', async () => {
    const files: Record<string, string> = {};
    for (let dir = 0; dir < 12; dir++) {
      for (let file = 0; file < 12; file++) files[`d${dir}/sub${file % 3}/f${file}.md`] = `${dir}-${file}`;
      files[`d${dir}/skip${dir}.bin`] = 'x';
    }
    const root = await makeTree('deterministic', files);
    const first = await discoverFiles(root);
    const second = await discoverFiles(root);
    assert.equal(first.files.length, 144);
    assert.deepEqual(first, second);
    const paths = filePaths(first);
    assert.deepEqual(paths, [...paths].sort());
  });

  it('rejects when the root is not a directory', async () => {
    const root = await makeTree('not-a-dir', { 'file.md': 'x' });
    await assert.rejects(discoverFiles(path.join(root, 'file.md')), /Not a directory/);
    await assert.rejects(discoverFiles(path.join(root, 'missing')), { code: 'ENOENT' });
  });
});

describe('ignore files', () => {
  it('applies nested .gitignore files to their subtree with gitignore semantics', async () => {
    const root = await makeTree('gitignore', {
      '.gitignore': '# comment\n*.log.md\n/anchored.md\nsecret/\ngenerated/\nlocked/\n!locked/keep.md\n',
      'anchored.md': 'ignored at the root only',
      'sub/anchored.md': 'kept: the pattern is anchored',
      'debug.log.md': 'ignored',
      'deep/er/trace.log.md': 'ignored at any depth',
      'secret/plan.md': 'ignored directory',
      'deep/secret/plan.md': 'directory pattern matches at any depth',
      'secret.md': 'kept: secret/ only matches directories',
      'locked/keep.md': 'a file cannot be re-included inside an ignored directory',
      'docs/locked/note.md': 'the bare "!" in docs/.gitignore must not re-include this',
      'generated/out.md': 'ignored',
      'docs/.gitignore': '*.md\n!keep.md\n!generated/\n!\n/\n',
      'docs/drop.md': 'ignored by docs/.gitignore',
      'docs/keep.md': 'negated',
      'docs/deeper/drop.md': 'docs/.gitignore applies below docs too',
      'docs/deeper/keep.md': 'negated',
      'docs/guide.txt': 'kept',
      'docs/generated/api.txt': 're-included directory',
      'other/drop.md': 'kept: docs/.gitignore does not apply to a sibling',
    });
    const result = await discoverFiles(root);

    assert.deepEqual(filePaths(result), [
      'docs/deeper/keep.md',
      'docs/generated/api.txt',
      'docs/guide.txt',
      'docs/keep.md',
      'other/drop.md',
      'secret.md',
      'sub/anchored.md',
    ]);
    assert.deepEqual(skipsFor(result, 'ignored'), [
      'anchored.md',
      'debug.log.md',
      'deep/er/trace.log.md',
      'deep/secret/',
      'docs/deeper/drop.md',
      'docs/drop.md',
      'docs/locked/',
      'generated/',
      'locked/',
      'secret/',
    ]);
    const drop = result.skipped.find((skip) => skip.path === 'docs/drop.md');
    assert.equal(drop?.detail, 'docs/.gitignore:1: *.md');
    assertCountsMatchList(result);
  });

  it('honours .ignore files, which win over .gitignore in the same folder', async () => {
    const root = await makeTree('dot-ignore', {
      '.gitignore': 'notes.txt\n',
      '.ignore': 'drafts/\n!notes.txt\n',
      'notes.txt': 're-included by .ignore',
      'drafts/idea.md': 'ignored by .ignore',
      'pkg/.ignore': 'private.md\n',
      'pkg/private.md': 'ignored',
      'pkg/public.md': 'kept',
    });
    const result = await discoverFiles(root);
    assert.deepEqual(filePaths(result), ['notes.txt', 'pkg/public.md']);
    assert.deepEqual(skipsFor(result, 'ignored'), ['drafts/', 'pkg/private.md']);
  });

  it('does not read ignore files above the root', async () => {
    const parent = await makeTree('outer', { '.gitignore': '*.md\n', 'root/doc.md': 'kept' });
    const result = await discoverFiles(path.join(parent, 'root'));
    assert.deepEqual(filePaths(result), ['doc.md']);
  });

  it('reads an ignore file with CRLF line endings and a BOM', async () => {
    const root = await makeTree('crlf-ignore', { '.gitignore': '\uFEFFa.md\r\nb.md\r\n', 'a.md': '', 'b.md': '', 'c.md': '' });
    assert.deepEqual(filePaths(await discoverFiles(root)), ['c.md']);
  });
});

describe('exclude globs', () => {
  it('prunes default excludes but keeps documentation in dot-folders such as .github', async () => {
    const root = await makeTree('default-excludes', {
      'node_modules/lib/README.md': 'dependency',
      'packages/app/node_modules/x/README.md': 'nested dependency',
      'dist/index.js': 'build output',
      '.vscode/notes.md': 'editor settings',
      '.git/HEAD': 'ref: refs/heads/main',
      'app.min.js': 'minified',
      'package-lock.json': '{}',
      '.github/CONTRIBUTING.md': 'kept',
      'packages/app/README.md': 'kept',
    });
    const result = await discoverFiles(root);
    assert.deepEqual(filePaths(result), ['.github/CONTRIBUTING.md', 'packages/app/README.md']);
    assert.deepEqual(skipsFor(result, 'excluded'), [
      '.git/',
      '.vscode/',
      'app.min.js',
      'dist/',
      'node_modules/',
      'package-lock.json',
      'packages/app/node_modules/',
    ]);
    assert.ok(DEFAULT_EXCLUDES.includes('node_modules/'));
  });

  it('replaces the defaults with configured globs, pruning "dir/**" directories whole', async () => {
    const root = await makeTree('custom-excludes', {
      'node_modules/a/b.md': 'x',
      'web/node_modules/c.md': 'x',
      'build/out.md': 'x',
      'tools/build/out.md': 'x',
      'docs/gen/nested/api.md': 'x',
      'lib/app.min.js': 'x',
      'dist/kept.md': 'defaults no longer apply',
      '.git/config.md': 'never entered',
    });
    const result = await discoverFiles(root, { exclude: ['**/node_modules/**', 'build/', '*.min.js', 'docs/gen/**'] });
    assert.deepEqual(filePaths(result), ['dist/kept.md']);
    assert.deepEqual(skipsFor(result, 'excluded'), [
      '.git/',
      'build/',
      'docs/gen/',
      'lib/app.min.js',
      'node_modules/',
      'tools/build/',
      'web/node_modules/',
    ]);
    const minified = result.skipped.find((skip) => skip.path === 'lib/app.min.js');
    assert.equal(minified?.detail, 'exclude pattern: *.min.js');
  });

  it('limits indexing to the included extensions, with or without a dot', async () => {
    const root = await makeTree('include', { 'a.md': '', 'b.rst': '', 'c.ts': '', 'd.TXT': '' });
    const result = await discoverFiles(root, { include: ['.md', 'txt'] });
    assert.deepEqual(filePaths(result), ['a.md', 'd.TXT']);
    assert.deepEqual(skipsFor(result, 'unsupported'), ['b.rst', 'c.ts']);
  });

  it('keeps exact counts but a bounded list of skipped entries', async () => {
    const files: Record<string, string> = { 'doc.md': 'kept' };
    const unsupportedCount = MAX_SKIPPED_ENTRIES_PER_REASON * 2 + 205;
    for (let index = 0; index < unsupportedCount; index++) files[`data/f${String(index).padStart(5, '0')}.dat`] = '';
    const root = await makeTree('many-unsupported', files);
    const result = await discoverFiles(root);

    assert.equal(result.skippedByReason.unsupported, unsupportedCount);
    const listed = skipsFor(result, 'unsupported');
    assert.equal(listed.length, MAX_SKIPPED_ENTRIES_PER_REASON);
    // The kept entries are the smallest paths, so the list does not depend on timing.
    assert.equal(listed[0], 'data/f00000.dat');
    assert.equal(listed.at(-1), `data/f${String(MAX_SKIPPED_ENTRIES_PER_REASON - 1).padStart(5, '0')}.dat`);
    assert.deepEqual(filePaths(result), ['doc.md']);
  });
});

describe('size, special files and permissions', () => {
  it('skips files over the size cap without reading them', async () => {
    const root = await makeTree('too-large', { 'at-cap.md': 'x'.repeat(100), 'over-cap.md': 'x'.repeat(101) });
    const result = await discoverFiles(root, { maxFileBytes: 100 });
    assert.deepEqual(filePaths(result), ['at-cap.md']);
    assert.deepEqual(result.skipped, [{ path: 'over-cap.md', reason: 'too-large', detail: '101 bytes > 100' }]);
  });

  it('reports a FIFO as unreadable without opening it', async () => {
    const root = await makeTree('fifo', { 'doc.md': 'kept' });
    const fifoPath = path.join(root, 'pipe.md');
    execFileSync('mkfifo', [fifoPath]);
    const result = await discoverFiles(root);
    assert.deepEqual(filePaths(result), ['doc.md']);
    assert.deepEqual(skipsFor(result, 'unreadable'), ['pipe.md']);

    // Even when handed a FIFO directly, reading must not block.
    const asFile: DiscoveredFile = { path: 'pipe.md', absolutePath: fifoPath, size: 0, mtimeMs: 0 };
    const read = await readTextFile(asFile);
    assert.ok('skip' in read);
    assert.equal(read.skip, 'unreadable');
  });

  it('reports unreadable directories and files', async (t) => {
    if (process.getuid?.() === 0) {
      t.skip('running as root: permissions do not apply');
      return;
    }
    const root = await makeTree('permissions', {
      'locked/inner.md': 'x',
      'closed.md': 'x',
      'open.md': 'x',
      'sub/.gitignore': 'hidden.md\n',
      'sub/hidden.md': 'kept: its ignore file cannot be read',
    });
    await chmod(path.join(root, 'locked'), 0o000);
    await chmod(path.join(root, 'closed.md'), 0o000);
    await chmod(path.join(root, 'sub', '.gitignore'), 0o000);
    try {
      const result = await discoverFiles(root);
      // Stat needs no read permission, so the closed file is found and fails only when read.
      assert.deepEqual(filePaths(result), ['closed.md', 'open.md', 'sub/hidden.md']);
      assert.deepEqual(skipsFor(result, 'unreadable'), ['locked/', 'sub/.gitignore']);
      const ignoreFileSkip = result.skipped.find((skip) => skip.path === 'sub/.gitignore');
      assert.match(ignoreFileSkip?.detail ?? '', /^ignore file not applied: EACCES/);
      const closed = result.files.find((file) => file.path === 'closed.md');
      assert.ok(closed);
      const read = await readTextFile(closed);
      assert.ok('skip' in read);
      assert.equal(read.skip, 'unreadable');
    } finally {
      await chmod(path.join(root, 'locked'), 0o755);
      await chmod(path.join(root, 'closed.md'), 0o644);
      await chmod(path.join(root, 'sub', '.gitignore'), 0o644);
    }
  });
});

describe('symbolic links', () => {
  it('stops at directory links back to an ancestor and at self-referencing links', async () => {
    const root = await makeTree('symlink-loop', { 'docs/guide.md': 'x', 'docs/inner/deep.md': 'y' });
    await symlink('..', path.join(root, 'docs', 'up'));
    await symlink('.', path.join(root, 'docs', 'inner', 'self'));
    await symlink('../..', path.join(root, 'docs', 'inner', 'root'));
    await symlink('knot.md', path.join(root, 'knot.md'));
    const result = await discoverFiles(root);

    assert.deepEqual(filePaths(result), ['docs/guide.md', 'docs/inner/deep.md']);
    assert.deepEqual(skipsFor(result, 'symlink-loop'), ['docs/inner/root/', 'docs/inner/self/', 'docs/up/', 'knot.md']);
    const up = result.skipped.find((skip) => skip.path === 'docs/up/');
    assert.equal(up?.detail, 'points back to its ancestor the root folder');
    assertCountsMatchList(result);
  });

  it('skips links whose real path is outside the root and counts them as outside the workspace', async () => {
    const outside = await makeTree('outside-target', { 'passwd.txt': 'root:x:0:0', 'nested/more.md': 'more' });
    const root = await makeTree('symlink-outside', { 'real/page.md': 'page' });
    await symlink(outside, path.join(root, 'etc'));
    await symlink(path.join(outside, 'passwd.txt'), path.join(root, 'passwd.txt'));
    await symlink(path.join(outside, 'nested'), path.join(root, 'real', 'deep'));
    const result = await discoverFiles(root);

    assert.deepEqual(filePaths(result), ['real/page.md']);
    assert.deepEqual(skipsFor(result, 'outside-workspace'), ['etc/', 'passwd.txt', 'real/deep/']);
    assert.equal(result.skippedByReason['outside-workspace'], 3);
    assert.match(result.skipped.find((skip) => skip.path === 'etc/')?.detail ?? '', /outside the workspace/);
    assertCountsMatchList(result);
  });

  it('follows links inside the root and walks a folder linked twice only once', async () => {
    const root = await makeTree('symlink-follow', { 'real/page.md': 'page', 'shared/shared.md': 'shared', 'shared/nested/more.md': 'more' });
    await symlink('shared', path.join(root, 'b-link'));
    await symlink('real', path.join(root, 'alias'));
    await symlink('real/page.md', path.join(root, 'page-link.md'));
    const result = await discoverFiles(root);

    // The real folder wins over a link to it.
    assert.deepEqual(filePaths(result), ['page-link.md', 'real/page.md', 'shared/nested/more.md', 'shared/shared.md']);
    assert.deepEqual(skipsFor(result, 'symlink-loop'), ['alias/', 'b-link/']);
    const alias = result.skipped.find((skip) => skip.path === 'alias/');
    assert.equal(alias?.detail, 'same directory as real/, already walked');
    const linkedFile = result.files.find((file) => file.path === 'page-link.md');
    assert.equal(linkedFile?.absolutePath, path.join(root, 'page-link.md'));
  });

  it('does not leave the root through a link to a folder above it', async () => {
    const outer = await makeTree('symlink-above', { 'root/doc.md': 'x', 'sibling.md': 'y' });
    const root = path.join(outer, 'root');
    await symlink(outer, path.join(root, 'parent'));
    const result = await discoverFiles(root);
    assert.deepEqual(filePaths(result), ['doc.md']);
    assert.deepEqual(skipsFor(result, 'outside-workspace'), ['parent/']);
  });

  it('reports dangling links as unreadable and matches ignore rules against the link path', async () => {
    const root = await makeTree('symlink-dangling', { '.gitignore': 'skipped-link/\n', 'pages/doc.md': 'x' });
    await symlink('missing.md', path.join(root, 'broken.md'));
    await symlink('pages', path.join(root, 'skipped-link'));
    const result = await discoverFiles(root);
    assert.deepEqual(filePaths(result), ['pages/doc.md']);
    assert.deepEqual(skipsFor(result, 'unreadable'), ['broken.md']);
    assert.deepEqual(skipsFor(result, 'ignored'), ['skipped-link/']);
  });

  it('does not follow links when followSymlinks is false', async () => {
    const root = await makeTree('symlink-off', { 'real/doc.md': 'x' });
    await symlink('real', path.join(root, 'linked'));
    await symlink('real/doc.md', path.join(root, 'doc-link.md'));
    const result = await discoverFiles(root, { followSymlinks: false });
    assert.deepEqual(filePaths(result), ['real/doc.md']);
    assert.deepEqual(skipsFor(result, 'excluded'), ['doc-link.md', 'linked']);
  });
});

describe('abort', () => {
  it('rejects with an AbortError when aborted before starting', async () => {
    const root = await makeTree('abort-before', { 'a.md': 'x' });
    await assert.rejects(discoverFiles(root, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  });

  it('rejects with an AbortError when aborted during the walk', async () => {
    const files: Record<string, string> = {};
    for (let dir = 0; dir < 30; dir++) for (let file = 0; file < 10; file++) files[`d${dir}/f${file}.md`] = 'x';
    const root = await makeTree('abort-during', files);
    const controller = new AbortController();
    const walking = discoverFiles(root, { signal: controller.signal });
    controller.abort();
    await assert.rejects(walking, { name: 'AbortError' });
  });
});

describe('readTextFile', () => {
  async function discoverOne(name: string, content: string | Uint8Array): Promise<DiscoveredFile> {
    const root = await makeTree(`read-${name}`, { [name]: content });
    const [file] = (await discoverFiles(root)).files;
    assert.ok(file, `${name} should be discovered`);
    return file;
  }

  it('strips a UTF-8 BOM and keeps CRLF line endings', async () => {
    const file = await discoverOne('bom.md', '\uFEFF# Title\r\n\r\nBody\r\n');
    assert.deepEqual(await readTextFile(file), { text: '# Title\r\n\r\nBody\r\n' });
  });

  it('decodes UTF-16 text that starts with a BOM', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Hello\r\nwörld', 'utf16le')]);
    const file = await discoverOne('windows.txt', utf16);
    assert.deepEqual(await readTextFile(file), { text: 'Hello\r\nwörld' });
  });

  it('detects PNG bytes and NUL bytes as binary', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]);
    const pngResult = await readTextFile(await discoverOne('logo.md', png));
    assert.ok('skip' in pngResult);
    assert.equal(pngResult.skip, 'binary');

    const nulResult = await readTextFile(await discoverOne('nul.txt', 'text\u0000more text'));
    assert.ok('skip' in nulResult);
    assert.equal(nulResult.skip, 'binary');
  });

  it('treats mostly invalid UTF-8 as binary but tolerates a few bad bytes', async () => {
    const garbage = Buffer.from(Array.from({ length: 200 }, (_, index) => (index % 3 === 0 ? 0xff : 0x41)));
    const garbageResult = await readTextFile(await discoverOne('garbage.txt', garbage));
    assert.ok('skip' in garbageResult);
    assert.equal(garbageResult.skip, 'binary');

    // One Latin-1 'é' in otherwise ASCII text is still text.
    const latin1 = Buffer.concat([Buffer.from('Caf'), Buffer.from([0xe9]), Buffer.from(' menu and more words here')]);
    const latin1Result = await readTextFile(await discoverOne('latin1.txt', latin1));
    assert.deepEqual(latin1Result, { text: 'Caf\uFFFD menu and more words here' });
  });

  it('re-checks the size cap when reading', async () => {
    const file = await discoverOne('grown.md', 'x'.repeat(50));
    const result = await readTextFile(file, 10);
    assert.deepEqual(result, { skip: 'too-large', detail: '50 bytes > 10' });
  });

  it('reports a file deleted since discovery as unreadable', async () => {
    const file = await discoverOne('gone.md', 'x');
    await rm(file.absolutePath);
    const result = await readTextFile(file);
    assert.ok('skip' in result);
    assert.equal(result.skip, 'unreadable');
  });
});

describe('secret files', () => {
  const secrets = {
    '.env': 'API_KEY=1',
    '.env.production': 'API_KEY=2',
    'id_rsa': '-----BEGIN OPENSSH PRIVATE KEY-----',
    'deploy/server.pem': '-----BEGIN CERTIFICATE-----',
    'credentials': '[default]',
    '.aws/credentials': '[default]',
    'docs/guide.md': '# Guide',
    'config/secrets.yaml': 'token: 1',
    'config/credentials.txt': 'user:pass',
    'docs/secrets.html': '<h1>secrets — Generate secure random numbers</h1>',
    'docs/credentials.md': '# Rotating the deploy credentials',
  };
  // Every secret above would be found if only the extension counted.
  const include = ['md', 'production', 'pem', 'env', 'yaml', 'txt', 'html'];

  it('leaves common secret files out by default, whatever the exclude option says', async () => {
    const root = await makeTree('secrets-default', secrets);
    const result = await discoverFiles(root, { include, exclude: ['!.env', '!id_rsa', '!*.pem'] });
    // A markup page named for secrets is about them (docs/secrets.html); data files so named are not.
    assert.deepEqual(filePaths(result), ['docs/credentials.md', 'docs/guide.md', 'docs/secrets.html']);
    const secretSkips = result.skipped.filter((skip) => /secret/.test(skip.detail ?? '')).map((skip) => skip.path);
    // Named as secrets whatever their extension, so the skipped list says why.
    assert.deepEqual(secretSkips, ['.aws/', '.env', '.env.production', 'config/credentials.txt', 'config/secrets.yaml', 'credentials', 'deploy/server.pem', 'id_rsa']);
  });

  it('finds them only when allowSecretFiles lifts the default', async () => {
    const root = await makeTree('secrets-allowed', secrets);
    const result = await discoverFiles(root, { include, exclude: [], allowSecretFiles: true });
    assert.deepEqual(filePaths(result), ['.env.production', 'config/credentials.txt', 'config/secrets.yaml', 'deploy/server.pem', 'docs/credentials.md', 'docs/guide.md', 'docs/secrets.html']);
  });

  it('leaves out a page named for secrets whose text holds one, in a walk and in --changed alike', async () => {
    // Fake, but shaped like the real thing: a GitHub token's prefix and length.
    const token = `ghp_${'Zq4Xw8Lm2Rt6'.repeat(3)}`;
    const root = await makeTree('secrets-content', {
      'docs/secrets.md': `# Deploy secrets\n\nThe CI token:\n\n    ${token}\n`,
      'docs/credentials.md': '# Rotating credentials\n\nSet `password: <your-password>` and `token = secrets.token_hex(16)`.\n',
      'ops/CREDENTIALS.rst': 'Staging\n=======\n\napi_key = "q8Zr3LmX7vTn2KpW9sYd"\n',
    });
    const expectedDetails = [
      'line 5 looks like a GitHub token; docent.index.allowSecretFiles lifts this',
      'line 4 looks like a password or key assigned a random-looking value; docent.index.allowSecretFiles lifts this',
    ];
    const walked = await discoverFiles(root);
    assert.deepEqual(filePaths(walked), ['docs/credentials.md']);
    const walkedSkips = walked.skipped.filter((skip) => skip.reason === 'credential');
    assert.deepEqual(walkedSkips.map((skip) => skip.path), ['docs/secrets.md', 'ops/CREDENTIALS.rst']);
    assert.deepEqual(walkedSkips.map((skip) => skip.detail), expectedDetails);
    // The skip says where and what, never the credential.
    assert.ok(walkedSkips.every((skip) => !skip.detail?.includes(token) && !skip.detail?.includes('q8Zr3')));
    assert.equal(walked.skippedByReason.credential, 2);

    const changed = await discoverChangedPaths(root, ['docs/secrets.md', 'docs/credentials.md', 'ops/CREDENTIALS.rst']);
    assert.ok('files' in changed);
    assert.deepEqual(changed.files.map((file) => file.path), ['docs/credentials.md']);
    assert.deepEqual([...changed.gone].sort(), ['docs/secrets.md', 'ops/CREDENTIALS.rst']);
    assert.deepEqual(changed.skipped.map((skip) => skip.detail), expectedDetails);

    const allowed = await discoverFiles(root, { allowSecretFiles: true });
    assert.deepEqual(filePaths(allowed), ['docs/credentials.md', 'docs/secrets.md', 'ops/CREDENTIALS.rst']);
  });

  it('refuses include entries that would match every file or extensionless files such as id_rsa', async () => {
    const root = await makeTree('secrets-include', secrets);
    for (const entry of ['', '.', '*', '**', 'm?', '*.md', 'docs/guide']) {
      await assert.rejects(discoverFiles(root, { include: ['md', entry] }), (error: Error) => {
        assert.match(error.message, /include entry/);
        assert.match(error.message, /file extension such as "md"/);
        return true;
      }, `entry ${JSON.stringify(entry)}`);
    }
  });
});

describe('discoverFiles: generated copies and include globs', () => {
  it('indexes one form of a Sphinx page and skips its generated index and search pages, saying why', async () => {
    const root = await makeTree('sphinx', {
      'index.html': '<h1>Home</h1>',
      'library/os.html': '<h1>os</h1>',
      'genindex.html': 'x',
      'genindex-A.html': 'x',
      'search.html': 'x',
      'py-modindex.html': 'x',
      '_sources/index.rst.txt': 'Home\n====',
      '_sources/library/os.rst.txt': 'os\n==',
      '_sources/orphan.rst.txt': 'Only here\n=========',
      'other/search.html': '<h1>A real page about search</h1>',
    });
    const result = await discoverFiles(root);
    assert.deepEqual(filePaths(result), ['_sources/orphan.rst.txt', 'index.html', 'library/os.html', 'other/search.html']);
    assert.deepEqual(skipsFor(result, 'duplicate'), ['_sources/index.rst.txt', '_sources/library/os.rst.txt']);
    assert.match(result.skipped.find((skip) => skip.path === '_sources/library/os.rst.txt')!.detail!, /library\/os\.html/);
    assert.deepEqual(skipsFor(result, 'generated'), ['genindex-A.html', 'genindex.html', 'py-modindex.html', 'search.html']);
    assertCountsMatchList(result);
  });

  it('keeps only files an include glob matches, and records the others as excluded', async () => {
    const root = await makeTree('include-globs', { 'docs/a.md': 'a', 'docs/drafts/b.md': 'b', 'notes/c.md': 'c', 'README.md': 'r' });
    const result = await discoverFiles(root, { includeGlobs: ['docs/**', 'README.md'], exclude: [...DEFAULT_EXCLUDES, 'drafts/'] });
    assert.deepEqual(filePaths(result), ['README.md', 'docs/a.md']);
    assert.ok(skipsFor(result, 'excluded').includes('notes/c.md'));
    assert.equal(result.skipped.find((skip) => skip.path === 'notes/c.md')!.detail, 'matches none of the include globs');
    assertCountsMatchList(result);
  });
});
