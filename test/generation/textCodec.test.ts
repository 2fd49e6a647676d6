import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTokenizerJson, TEST_CHAT_TEMPLATE } from '../support/decoderModel.js';
import { TextCodec, TextStream } from '../../src/generation/textCodec.js';

const tokenizerJson = buildTokenizerJson(400);

test('chat template from tokenizer_config, and the fallback when there is none', () => {
  const withTemplate = new TextCodec(tokenizerJson, { chat_template: TEST_CHAT_TEMPLATE, eos_token: '</s>' }, []);
  assert.equal(withTemplate.renderChat([{ role: 'user', content: 'hi' }]), '<s>user: hi\n<s>assistant: ');
  assert.deepEqual(withTemplate.eosTokenIds, [2]);
  const fallback = new TextCodec(tokenizerJson, {}, [7]);
  assert.ok(fallback.usesFallbackTemplate);
  assert.equal(fallback.renderChat([{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }]), 'system: be brief\nuser: hi\nassistant:');
  assert.deepEqual(fallback.eosTokenIds, [7]);
});

test('streamed text holds back unfinished UTF-8 and possible stop-string starts', () => {
  const codec = new TextCodec(tokenizerJson, {}, []);
  const text = 'naïve café END tail';
  const ids = codec.encode(text, false);
  const stream = new TextStream(codec, [' END']);
  const deltas: string[] = [];
  for (const id of ids) {
    deltas.push(stream.push(id));
    if (stream.stopped) break;
  }
  assert.ok(stream.stopped);
  assert.equal(deltas.join(''), 'naïve café');
  assert.ok(deltas.every((d) => !d.includes('\uFFFD')));
  assert.equal(stream.fullText, 'naïve café');
});
