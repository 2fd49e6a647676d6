/**
 * Generated hostile inputs for the fuzz suites: random bytes, 100k-deep nesting, pathological
 * emphasis and tables, huge attributes. Seeded (src/core/seededRandom.ts), so a failure names its
 * seed and reproduces; the fixed cases are the shapes that break naive parsers (backtracking,
 * recursion per nesting level, quadratic rescans).
 */
import { seededRandom } from '../../src/core/seededRandom.js';

export interface HostileInput {
  name: string;
  text: string;
}

const DEPTH = 100_000;
const HUGE = 1_000_000;

/** Random bytes decoded as UTF-8 (invalid sequences become U+FFFD), markup characters over-represented. */
export function randomInputs(seed: number, count: number, maxLength = 20_000): HostileInput[] {
  const random = seededRandom(seed);
  const markup = '<>/="\'`*_[](){}#|:-+!\\&;.\n \t\r\u0000\u001b';
  return Array.from({ length: count }, (_, i) => {
    const length = Math.floor(random() * maxLength);
    const bytes = new Uint8Array(length);
    for (let j = 0; j < length; j++) bytes[j] = random() < 0.5 ? markup.charCodeAt(Math.floor(random() * markup.length)) : Math.floor(random() * 256);
    return { name: `random bytes (seed ${seed}, #${i}, ${length} bytes)`, text: new TextDecoder().decode(bytes) };
  });
}

/** Deep nesting, emphasis, tables and attributes that cost naive parsers quadratic time or deep recursion. */
export function pathologicalInputs(): HostileInput[] {
  const cases: Array<[string, string]> = [
    ['100k nested block quotes', `${'> '.repeat(DEPTH)}deep`],
    ['100k nested brackets', `${'['.repeat(DEPTH)}x${']'.repeat(DEPTH)}`],
    ['100k unclosed brackets and parens', '[('.repeat(DEPTH)],
    ['100k nested list markers', `${'- '.repeat(DEPTH)}item`],
    ['100k nested HTML elements', `${'<div>'.repeat(DEPTH)}x${'</div>'.repeat(DEPTH)}`],
    ['100k unclosed HTML elements', '<b><i>'.repeat(DEPTH / 2)],
    ['100k nested braces', `${'{'.repeat(DEPTH)}${'}'.repeat(DEPTH)}`],
    ['100k unclosed comments', '/* <!-- '.repeat(DEPTH / 4)],
    ['indentation staircase, 300 levels', Array.from({ length: 300 }, (_, i) => `${' '.repeat(i * 2)}line ${i}`).join('\n')],
    ['emphasis: 50k unmatched openers', '*a'.repeat(50_000)],
    ['emphasis: 100k underscores', '_'.repeat(DEPTH)],
    ['emphasis: alternating delimiters', '**_~`'.repeat(25_000)],
    ['emphasis: 100k backticks with spaces', '` '.repeat(DEPTH)],
    ['emphasis: nested strong and em', `${'***'.repeat(30_000)}x${'***'.repeat(30_000)}`],
    ['table: 100k pipes on one line', '|'.repeat(DEPTH)],
    ['table: 5000 columns', `${'|a'.repeat(5000)}|\n${'|-'.repeat(5000)}|\n${`${'|x'.repeat(5000)}|\n`.repeat(20)}`],
    ['table: 20k rows', `|a|b|\n|-|-|\n${'|x|y|\n'.repeat(20_000)}`],
    ['headings: 100k lines of #', '#\n'.repeat(DEPTH)],
    ['headings: 100k setext underlines', 'a\n=\n'.repeat(DEPTH / 2)],
    ['headings: RST over/underlines', '====\nT\n====\n'.repeat(30_000)],
    ['headings: AsciiDoc levels', Array.from({ length: 50_000 }, (_, i) => `${'='.repeat((i % 6) + 1)} h${i}`).join('\n')],
    ['fences: 50k unclosed fences', '```\n~~~~\n'.repeat(25_000)],
    ['attributes: 1 MB href', `<a href="${'x'.repeat(HUGE)}">link</a> [md](${'y'.repeat(HUGE)} "t")`],
    ['attributes: 1 MB unterminated attribute', `<img alt="${'"'.repeat(10)}${'a'.repeat(HUGE)}`],
    ['attributes: 100k attributes on one tag', `<p ${'a="b" '.repeat(DEPTH)}>x</p>`],
    ['attributes: AsciiDoc 1 MB attribute', `:name: ${'v'.repeat(HUGE)}\n{name}{name}{name}`],
    ['attributes: RST 1 MB directive option', `.. image:: x\n   :alt: ${'z'.repeat(HUGE)}`],
    ['front matter: unterminated, 100k lines', `---\n${'key: value\n'.repeat(DEPTH)}`],
    ['entities: 100k', '&amp;&#x1F600;&#99999999;&bogus;'.repeat(25_000)],
    ['one 2 MB line', 'word '.repeat(400_000)],
    ['100k empty lines with CR', '\r\n\r'.repeat(DEPTH)],
    ['links: 50k reference definitions', Array.from({ length: 50_000 }, (_, i) => `[r${i}]: http://x/${i}`).join('\n') + '\n[r1][r1][r2]'],
    ['HTML: script and style that never close', `<script>${'<'.repeat(DEPTH)}<style>${'{'.repeat(DEPTH)}`],
  ];
  return cases.map(([name, text]) => ({ name, text }));
}
