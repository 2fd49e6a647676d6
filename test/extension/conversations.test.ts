import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conversationMarkdown, Conversations, type StateStore } from '../../src/extension/conversations.js';
import type { ChatTurn } from '../../src/shared/chatProtocol.js';

function memento(initial: Record<string, unknown> = {}): StateStore & { data: Record<string, unknown> } {
  const data: Record<string, unknown> = JSON.parse(JSON.stringify(initial));
  return {
    data,
    get: <T>(key: string) => (data[key] === undefined ? undefined : (JSON.parse(JSON.stringify(data[key])) as T)),
    update: async (key, value) => {
      if (value === undefined) delete data[key];
      else data[key] = JSON.parse(JSON.stringify(value));
    },
  };
}

const turn = (id: string, question: string, extra: Partial<ChatTurn> = {}): ChatTurn => ({ id, question, answer: `Answer to ${question}`, citations: [], state: 'done', ...extra });

test('New chat keeps the old conversation; both survive a reload and open again', () => {
  const state = memento();
  const first = new Conversations(state);
  first.current.turns.push(turn('t1', 'How do I rotate keys?'));
  first.touched(first.current.turns[0]!);
  const oldId = first.current.id;
  first.startNew();
  assert.notEqual(first.current.id, oldId);
  first.current.turns.push(turn('t2', 'Where are the runbooks?'));
  first.touched(first.current.turns[0]!);
  assert.equal(first.startNew().turns.length, 0);
  assert.equal(first.startNew().id, first.current.id, 'an empty conversation is not duplicated');

  const reloaded = new Conversations(state);
  assert.deepEqual(reloaded.all().map((conversation) => conversation.title).sort(), ['', 'How do I rotate keys?', 'Where are the runbooks?']);
  assert.equal(reloaded.open(oldId)?.turns[0]?.question, 'How do I rotate keys?');
  assert.equal(new Conversations(state).current.id, oldId, 'the open conversation is remembered');
});

test('rename, delete (the current one opens the latest other) and a streaming turn restored as stopped', () => {
  const state = memento();
  const conversations = new Conversations(state);
  conversations.current.turns.push(turn('t1', 'First?', { state: 'streaming' }));
  conversations.touched(conversations.current.turns[0]!);
  const a = conversations.current.id;
  conversations.startNew();
  conversations.current.turns.push(turn('t2', 'Second?'));
  conversations.touched(conversations.current.turns[0]!);
  const b = conversations.current.id;
  conversations.rename(a, '  Key rotation  ');
  conversations.delete(b);
  assert.equal(conversations.current.id, a);
  const reloaded = new Conversations(state);
  assert.equal(reloaded.all().length, 1);
  assert.equal(reloaded.current.title, 'Key rotation');
  assert.equal(reloaded.current.turns[0]!.state, 'stopped');
  reloaded.delete(a);
  assert.equal(reloaded.all().length, 1, 'deleting the last leaves an empty conversation');
  assert.equal(reloaded.current.turns.length, 0);
});

test('the turns of the single pre-conversation list become the first conversation', () => {
  const state = memento({ 'docent.chat.turns': [turn('t0', 'Legacy question?')] });
  const conversations = new Conversations(state);
  assert.equal(conversations.current.title, 'Legacy question?');
  assert.equal(conversations.current.turns.length, 1);
  conversations.save();
  assert.equal(state.data['docent.chat.turns'], undefined);
});

test('export as Markdown: questions as headings, answers, sources as path:lines', () => {
  const markdown = conversationMarkdown({
    id: 'c1',
    title: 'Keys',
    updatedAt: 0,
    turns: [turn('t1', 'How do I rotate keys?', { citations: [{ n: 1, folder: '', path: 'ops/keys.md', startLine: 3, endLine: 9, heading: 'Rotation', text: '' }] }), turn('t2', 'And then?', { state: 'stopped', answer: '' })],
  });
  assert.equal(markdown, '# Keys\n\n## How do I rotate keys?\n\nAnswer to How do I rotate keys?\n\nSources:\n\n1. ops/keys.md:3-9 (Rotation)\n\n## And then?\n\n_Stopped._\n');
});
