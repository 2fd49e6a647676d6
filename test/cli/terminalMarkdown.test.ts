import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TerminalMarkdownStream } from '../../src/cli/terminalMarkdown.js';

function whole(text: string): string {
  const stream = new TerminalMarkdownStream();
  return stream.write(text) + stream.end();
}

test('TerminalMarkdownStream drops Markdown escapes in prose and keeps code as written', () => {
  assert.equal(whole('1\\. Set \\_\\_init\\_\\_ and \\*args, a \\\\ backslash, \\q kept\n'), '1. Set __init__ and *args, a \\ backslash, \\q kept\n');
  assert.equal(whole('Run `a\\_b` then \\`x\\`\n'), 'Run `a\\_b` then `x`\n');
  assert.equal(whole('```bash\necho 1\\. \\_x\n```\nafter 2\\.\n'), '```bash\necho 1\\. \\_x\n```\nafter 2.\n');
  // A shorter fence inside a longer one is code; only a fence as long closes it.
  assert.equal(whole('````\n```\n\\_\n````\n\\_\n'), '````\n```\n\\_\n````\n_\n');
  assert.equal(whole('~~~\n\\#\n~~~\n\\# not a heading\n'), '~~~\n\\#\n~~~\n# not a heading\n');
  assert.equal(whole('ends with \\'), 'ends with \\');
});

test('TerminalMarkdownStream: split at every point, a reply prints exactly what the whole text prints', () => {
  const texts = [
    '> 1\\. quote \\_x\\_\n>\n> `a\\b` and ``c ` d``\n\n```js\nlet a = "\\n";\n```\n  ```\nindented fence \\*\n  ```\n\\- item\n',
    'no newline at the end \\* `open span \\_',
  ];
  for (const text of texts) {
    const expected = whole(text);
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j += 3) {
        const stream = new TerminalMarkdownStream();
        const got = stream.write(text.slice(0, i)) + stream.write(text.slice(i, j)) + stream.write(text.slice(j)) + stream.end();
        assert.equal(got, expected, `split at ${i}, ${j}`);
      }
    }
  }
  assert.equal(whole(texts[0]!), '> 1. quote _x_\n>\n> `a\\b` and ``c ` d``\n\n```js\nlet a = "\\n";\n```\n  ```\nindented fence \\*\n  ```\n- item\n');
});

test('TerminalMarkdownStream lets prose through as it arrives, holding back only what a later chunk could change', () => {
  const stream = new TerminalMarkdownStream();
  assert.equal(stream.write('Hello wor'), 'Hello wor');
  assert.equal(stream.write('ld \\'), 'ld ');
  assert.equal(stream.write('_x'), '_x');
  assert.equal(stream.write('\n``'), '\n');
  assert.equal(stream.write('`sh'), '```sh');
});
