import assert from 'node:assert/strict';
import { test } from 'node:test';
import ignore from 'ignore';
import { DEFAULT_EXCLUDES, SECRET_FILE_PATTERNS } from '../../src/core/discovery.js';
import { RulePrefilter } from '../../src/core/rulePrefilter.js';

/** A small deterministic generator (the test must not depend on the run). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return state / 2 ** 32;
  };
}

const TRICKY = ['foo', '/anchored.txt', 'dir/*.log', 'a/**', '**/deep.md', 'x?.md', '[Rr]eadme.rst', '\\#hash', ' lead', 'trail ', '!negated.md', '*.md', 'build/', 'notes*', '*secret*', 'a*b*c', 'k\u212Ay', 'id_*', 'Makefile'];
const NAMES = ['intro.md', 'index.html', 'README.rst', 'readme.RST', 'foo', 'FOO', 'anchored.txt', 'x1.md', 'deep.md', 'id_rsa', 'ID_RSA.pub', 'Id_ed25519', '\u0131d_rsa', 'kky', 'k\u212Ay', 'kKy', '.env', '.ENV', '.env.local', 'server.pem', 'SERVER.PEM', 'tls.key', 'credentials', 'Credentials.json', 'credentials.md', 'secrets.yaml', 'secrets.html', 'my-secret-notes.txt', 'abc', 'aXbYc', 'ab', 'notes', 'notes.txt', 'app.min.js', 'app.MIN.JS', 'bundle.map', 'package-lock.json', 'Cargo.lock', 'go.sum', 'config.json', 'Makefile', 'makefile', ' lead', 'trail', '#hash', 'build', 'x.log', 'caf\u00e9.md', 'na\u00efve.pem'];

/** Names made from the patterns themselves: every `*` filled, cases flipped, characters around, and random ASCII names. */
function generatedNames(patterns: readonly string[], count: number): string[] {
  const next = random(20261207);
  const pick = (alphabet: string, length: number) => Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
  const alphabet = 'abcxyzKS._-*19 ';
  const names = [...NAMES];
  for (const pattern of patterns) {
    const segment = pattern.replace(/^!/, '').replace(/\/$/, '').split('/').pop()!;
    for (let i = 0; i < 8; i++) {
      let name = segment.replace(/\*+/g, () => pick(alphabet, Math.floor(next() * 4))).replace(/[?[\]\\]/g, () => pick(alphabet, 1));
      if (next() < 0.5) name = [...name].map((c) => (next() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
      if (next() < 0.3) name = pick(alphabet, 2) + name;
      if (next() < 0.3) name += pick(alphabet, 2);
      if (name !== '' && !name.includes('/')) names.push(name);
    }
  }
  for (let i = 0; i < count; i++) names.push(pick('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-', 1 + Math.floor(next() * 12)));
  return names;
}

/** Whether `ignore` skips the file `name` in a folder that no rule skips (as the walk only tests files in such folders). */
function soundFor(patterns: readonly string[], ignorecase: boolean): { checked: number; filtered: number } {
  const rules = ignore({ ignorecase }).add(patterns as string[]);
  const filter = new RulePrefilter(patterns, ignorecase);
  let checked = 0;
  let filtered = 0;
  // Names of dots alone are not entries a walk meets (and `ignore` refuses them).
  for (const name of generatedNames(patterns, 3000).filter((candidate) => !/^\.+$/.test(candidate))) {
    for (const folder of ['', 'docs/', 'docs/guide/']) {
      if (folder !== '' && rules.ignores(folder)) continue;
      const relativePath = folder + name;
      checked++;
      if (filter.couldMatch(relativePath)) continue;
      filtered++;
      assert.equal(rules.ignores(relativePath), false, `${JSON.stringify(relativePath)} is skipped by ${JSON.stringify(patterns.slice(0, 4))}… but the prefilter said no rule could match`);
    }
  }
  return { checked, filtered };
}

test('rule prefilter: a file it clears is never skipped by the secret-file patterns (case-insensitive, as the walk applies them)', () => {
  const { checked, filtered } = soundFor(SECRET_FILE_PATTERNS, true);
  assert.ok(filtered > checked / 2, `only ${filtered} of ${checked} cleared`);
});

test('rule prefilter: a file it clears is never skipped by the default excludes, in either case mode', () => {
  for (const ignorecase of [false, true]) soundFor(DEFAULT_EXCLUDES, ignorecase);
});

test('rule prefilter: globs it does not model leave every name to the rules; the ones it does are exact', () => {
  for (const ignorecase of [false, true]) {
    for (const pattern of TRICKY) soundFor([pattern], ignorecase);
    soundFor(TRICKY, ignorecase);
  }
  for (const pattern of ['a/**', '**/deep.md', 'x?.md', '[Rr]eadme.rst', '\\#hash', ' lead', 'trail ', 'k\u212Ay']) {
    assert.equal(new RulePrefilter([pattern], false).couldMatch('docs/intro.md'), true, pattern);
  }
  // Names outside ASCII always go to the rules (case folding there is the engine's, not toLowerCase's).
  assert.equal(new RulePrefilter(['id_*'], true).couldMatch('\u0131d_rsa'), true);
  assert.equal(new RulePrefilter(['!keep.md', 'build/'], false).couldMatch('keep.md'), false);
});

test('rule prefilter: ordinary documentation files need no rule test under the defaults', () => {
  const secret = new RulePrefilter(SECRET_FILE_PATTERNS, true);
  const excludes = new RulePrefilter(DEFAULT_EXCLUDES, false);
  for (const file of ['guide/intro.md', 'api/index.html', 'Documentation/admin-guide/README.rst', 'book/ch01.adoc', 'notes.txt', 'src/lib.rs']) {
    assert.equal(secret.couldMatch(file), false, file);
    assert.equal(excludes.couldMatch(file), false, file);
  }
  for (const file of ['config/.env', 'keys/server.pem', 'deploy/id_rsa', 'credentials.yaml', 'SECRETS.json']) assert.equal(secret.couldMatch(file), true, file);
  for (const file of ['web/app.min.js', 'package-lock.json', 'rust/Cargo.lock']) assert.equal(excludes.couldMatch(file), true, file);
});
