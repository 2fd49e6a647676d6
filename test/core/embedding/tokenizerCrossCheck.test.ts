import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createTransformerEncoder } from '../../../src/core/embedding/embeddingRunner.js';

const SHARED_MODELS = join(__dirname, '..', '..', '..', '..', 'shared', 'models');
const MINILM = join(SHARED_MODELS, 'minilm-tokenizer');

const SAMPLES = [
  'How do I rotate the API signing keys?',
  'PostgreSQL 16: VACUUM (FULL, ANALYZE) reclaims space.',
  'fs.readFileSync(path[, options]) returns the contents of the path.',
  'max_wal_size = 1GB # default',
  'getHTTPResponse2() → camelCase_and_snake_case',
  'Ünïcödé àccents, naïve café résumé',
  '日本語のテキストと中文混合 text',
  'emoji 🚀🔥 and symbols ©®™',
  '   leading and trailing spaces   ',
  '',
  'a',
  "don't won't can't it's",
  'https://example.com/path?query=1&b=2#frag',
  'user@example.com <tag attr="x">content</tag>',
  'SELECT * FROM pg_stat_activity WHERE state = \'idle\';',
  'const x = await fetch(`${base}/v1/embeddings`);',
  'Tabs\tand\nnewlines\r\nmixed',
  '1234567890 3.14159 -42 1e-7 0x1F',
  'supercalifragilisticexpialidocious antidisestablishmentarianism',
  'The quick brown fox jumps over the lazy dog.',
  'UPPER CASE SHOUTING TEXT',
  '--flag=value -v --no-color',
  'C++ C# F# .NET Node.js',
  'naïve ﬁ ligature ＦＵＬＬＷＩＤＴＨ',
  'Ελληνικά кириллица עברית العربية',
  '[CLS] [SEP] [MASK] literal special tokens',
  'multiple!!! punctuation??? marks...',
  'x'.repeat(150),
  'word '.repeat(300),
  'zero\u200bwidth\u00a0nbsp',
  'path/to/some_file.tar.gz',
  'λ-calculus ∀x ∃y: x ≤ y',
];

test('our tokenisation of the real all-MiniLM-L6-v2 tokenizer matches @huggingface/transformers AutoTokenizer', async (t) => {
  if (!existsSync(join(MINILM, 'tokenizer.json'))) return t.skip(`../shared/models/minilm-tokenizer is absent (${MINILM})`);
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = `${SHARED_MODELS}/`;
  const reference = await AutoTokenizer.from_pretrained('minilm-tokenizer');
  const maxLength = 128;
  const ours = createTransformerEncoder({ tokenizerPath: join(MINILM, 'tokenizer.json'), tokenizerConfigPath: join(MINILM, 'tokenizer_config.json'), maxLength });
  let truncatedSamples = 0;
  for (const text of SAMPLES) {
    const full = reference(text);
    const expectedIds = Array.from(full.input_ids.data as BigInt64Array, Number);
    const expectedTypes = Array.from(full.token_type_ids!.data as BigInt64Array, Number);
    const encoded = ours.encode(text);
    if (expectedIds.length <= maxLength) {
      assert.deepEqual(encoded.ids, expectedIds, JSON.stringify(text));
      assert.deepEqual(encoded.typeIds, expectedTypes, JSON.stringify(text));
    } else {
      // Python sentence-transformers keeps [SEP] when truncating; transformers.js's own truncation
      // cuts it off, so compare with its untruncated output instead.
      truncatedSamples++;
      assert.deepEqual(encoded.ids, [...expectedIds.slice(0, maxLength - 1), expectedIds.at(-1)], JSON.stringify(text));
      assert.equal(encoded.typeIds!.length, maxLength);
    }
  }
  assert.equal(truncatedSamples, 1, 'the repeated-word sample exercises truncation');
});
