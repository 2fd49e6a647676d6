import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseExtractivePassages, extractiveBody } from '../../../src/core/pipeline/citations.js';
import type { Citation } from '../../../src/core/pipeline/types.js';
import { renderMarkdown } from '../../../webview/markdown.js';

const citation = (n: number, path: string, text: string): Citation => ({ n, path, startLine: 1, endLine: 9, text });

test('extractive: the answering sentence comes first, code stays fenced, lines are not flattened or cut mid-word', () => {
  const text = [
    'Files are objects with many methods.',
    'For reading lines from a file, you can loop over the file object. This is memory efficient and fast.',
    'for line in f:',
    '    print(line, end="")',
    'Other text follows here.',
  ].join('\n');
  const body = extractiveBody('How do I read lines from a file?', [citation(1, 'tutorial/inputoutput.html', text)]);
  // The excerpt opens with the answer (second line), so no quote repeats it.
  assert.match(body, /^\[1\] tutorial\/inputoutput\.html:1-9\n\nFiles are objects with many methods\. {2}\nFor reading lines from a file, you can loop over the file object\./);
  assert.doesNotMatch(body, /^> /m);
  assert.match(body, /```\nfor line in f:\n {4}print\(line, end=""\)\n```/);
  // Deep in a long passage the answer is quoted first, as a whole sentence.
  const deep = [...Array.from({ length: 6 }, (_, k) => `Paragraph ${k} says something unrelated about other methods of objects here.`), text].join('\n');
  const quoted = extractiveBody('How do I read lines from a file?', [citation(1, 'tutorial/inputoutput.html', deep)]);
  assert.match(quoted, /^\[1\] tutorial\/inputoutput\.html:1-9\n\n> For reading lines from a file, you can loop over the file object\.\n\n/);
  const long = `${'word '.repeat(400)}answer here.`;
  const cut = extractiveBody('answer', [citation(2, 'a.md', long)]);
  assert.ok(!/\bwor…/.test(cut) && !/\bwo…/.test(cut), 'no mid-word cut');
  assert.ok(cut.length < 1200);
});

test('extractive: several pages before a second slice of one page; passages below the floor are left out', () => {
  const sources = [citation(1, 'a.md', 'x'), citation(2, 'a.md', 'y'), citation(3, 'a.md', 'z'), citation(4, 'b.md', 'w'), citation(5, 'c.md', 'v')];
  assert.deepEqual(chooseExtractivePassages(sources, [0.9, 0.8, 0.8, 0.5, 0.4], 3, 0.13).map((s) => s.n), [1, 4, 5]);
  // Only one page passes the floor: it clearly answers, so its slices fill the answer.
  assert.deepEqual(chooseExtractivePassages(sources, [0.9, 0.8, 0.8, 0.05, 0.01], 3, 0.13).map((s) => s.n), [1, 2, 3]);
  assert.deepEqual(chooseExtractivePassages(sources, [0.9, 0.8, 0.8, 0.5, 0.4], 1, 0.13).map((s) => s.n), [1], 'the passages setting is honoured');
});

// Real passages (text as the parsers index it) from the eval sets' formats.
test('extractive: a hard-wrapped Markdown paragraph reads as one paragraph and its quote is a whole sentence', () => {
  const text = [
    'All functions defined within an impl block are called associated functions',
    'because they’re associated with the type named after the impl. We can define',
    'associated functions that don’t have self as their first parameter (and thus',
    'are not methods) because they don’t need an instance of the type to work with.',
    'We’ve already used one function like this: the String::from function that’s',
    'defined on the String type.',
    '',
    'Associated functions that aren’t methods are often used for constructors that',
    'will return a new instance of the struct.',
  ].join('\n');
  const body = extractiveBody('which function is defined on the String type', [citation(1, 'ch05-03-method-syntax.md', text)]);
  assert.match(body, /associated functions because they’re associated with the type named after the impl\. We can define associated/, 'wrapped lines are joined');
  assert.doesNotMatch(body, / {2}\n/, 'no hard breaks inside a wrapped paragraph');
  assert.match(body, /^> We’ve already used one function like this: the String::from function that’s defined on the String type\.$/m);
  assert.match(body, /the String type\.\n\nAssociated functions/, 'the blank line still separates paragraphs');
});

test('extractive: short Markdown lines (list items) stay apart; HTML lines are never joined', () => {
  const list = extractiveBody('integer types', [citation(1, 'ch03.md', 'Rust has four scalar types:\nintegers\nfloating-point numbers\nBooleans')]);
  assert.match(list, /integers {2}\nfloating-point numbers {2}\nBooleans/);
  const numbered = 'Solutions:\n1. Check Maven coordinates: Verify groupId:artifactId:version format\n2. Check repositories: Add custom repos with //REPOS';
  assert.match(extractiveBody('check repositories', [citation(1, 'jbang/troubleshooting.adoc', numbered)]), /version format {2}\n2\\\. Check repositories/, 'a long item does not swallow the next');
  const html = 'The string module contains a number of useful constants and classes, as well as some deprecated legacy functions that are also available as methods on strings.\nIn addition, Python’s built-in string classes support the sequence type methods.';
  assert.match(extractiveBody('string constants', [citation(1, 'library/string.html', html)]), /methods on strings\. {2}\nIn addition/);
});

test('extractive: unindented code is fenced as one block with its indented body (Python, SQL, C, JavaScript)', () => {
  const python = [
    'Piping output of your program to tools like head(1) will cause a SIGPIPE signal to be sent to your process when the receiver of its standard output closes early. To handle this case, wrap your entry point to catch this exception as follows:',
    'import os',
    'import sys',
    '',
    'def main():',
    '    try:',
    '        # simulate large output (your code replaces this loop)',
    '        for x in range(10000):',
    '            print("y")',
    '        sys.stdout.flush()',
    '    except BrokenPipeError:',
    '        sys.exit(1)',
  ].join('\n');
  const body = extractiveBody('piping output SIGPIPE', [citation(1, 'library/signal.html', python)]);
  assert.match(body, /as follows:\n\n```\nimport os\nimport sys\n\ndef main\(\):\n {4}try:\n {8}# simulate[^`]*sys\.exit\(1\)\n```$/);
  const sql = 'To create a table, use the CREATE TABLE command:\nCREATE TABLE weather (\n    city            varchar(80),\n    temp_lo         int\n);\nYou can enter this into psql with the line breaks.';
  assert.match(extractiveBody('create a table', [citation(1, 'tutorial-table.html', sql)]), /command:\n\n```\nCREATE TABLE weather \(\n[^`]*\n\);\n```\n\nYou can enter/);
  const c = 'Addons are dynamically-linked shared objects written in C++.\n#include <node.h>\n\nnamespace demo {\n\nusing v8::Isolate;\n\n}  // namespace demo';
  assert.match(extractiveBody('addons written in C++', [citation(1, 'addons.md', c)]), /C\+\+\.\n\n```\n#include <node\.h>\n\nnamespace demo \{\n\nusing v8::Isolate;\n\n\}  \/\/ namespace demo\n```/);
  const js = 'Once built, the binary addon can be used from within Node.js by pointing require() to the built addon.node module:\n// hello.js\nconst addon = require(\'./build/Release/addon\');\n\nconsole.log(addon.hello());';
  assert.match(extractiveBody('use the built addon', [citation(1, 'addons.md', js)]), /module:\n\n```\n\/\/ hello\.js\nconst addon = require\('\.\/build\/Release\/addon'\);\n\nconsole\.log\(addon\.hello\(\)\);\n```/);
});

test('extractive: the chat view shows code lines starting with # as code and plain text literally', () => {
  const rust = 'Here’s how we call the distance method:\n# let p1 = Point { x: 0.0, y: 0.0 };\n# let p2 = Point { x: 5.0, y: 6.5 };\np1.distance(&p2);\n(&p1).distance(&p2);\nThe first one looks much cleaner.';
  const html = renderMarkdown(extractiveBody('call the distance method', [citation(1, 'ch05-03-method-syntax.md', rust)]));
  assert.doesNotMatch(html, /<h\d/, 'no heading from a code line');
  const quoted = renderMarkdown(extractiveBody('call the distance method', [citation(1, 'ch05-03-method-syntax.md', rust.replace('\nThe first', '\n```\nThe first'))]));
  assert.doesNotMatch(quoted, /```/, 'a fence left in the text (from a blockquote) is not shown');
  assert.match(html, /<pre><code># let p1 = Point \{ x: 0\.0, y: 0\.0 \};\n# let p2[^<]*\np1\.distance\(&amp;p2\);\n\(&amp;p1\)\.distance\(&amp;p2\);\n<\/code><\/pre>/);
  const prose = 'Use *args and **kwargs for the rest, see [the guide](https://x.example/g) or <https://y.example>; the value is `None` and &amp; means an ampersand, snake_case stays.\n1. is not a list here';
  const shown = renderMarkdown(extractiveBody('args kwargs guide', [citation(1, 'tutorial/controlflow.html', prose)]));
  assert.match(shown, /Use \*args and \*\*kwargs for the rest, see \[the guide\]\(https:\/\/x\.example\/g\) or &lt;https:\/\/y\.example&gt;; the value is `None` and &amp;amp; means an ampersand, snake_case stays\.<br>\n1\. is not a list here/);
  assert.doesNotMatch(shown, /<(?:em|strong|a|code|ol|li)\b/);
  const dunder = renderMarkdown(extractiveBody('table name', [citation(1, 'models.rst', 'A table name is generated if __tablename__ is not set and _private stays.')]));
  assert.match(dunder, /if __tablename__ is not set and _private stays\./);
});
