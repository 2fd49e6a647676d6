import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { ContentParser } from '../../../src/core/parse/html.js';
import { IRREGULAR, RegularHtmlScanner, type HtmlHandler } from '../../../src/core/parse/htmlEvents.js';
import { seededRandom } from '../../../src/core/seededRandom.js';

interface Engine {
  startIndex: number;
  className: string | undefined;
  role: string | undefined;
  forgetAttributes(): void;
}

/** The events parseHtml's handler would see, with what it reads of the engine at each. */
function events(html: string, regular: boolean): string[] | typeof IRREGULAR {
  const log: string[] = [];
  let engine: Engine; // made below, with the handler that reads it
  const handler: HtmlHandler = {
    onopentag(name) {
      log.push(`<${name} @${engine.startIndex} class=${engine.className} role=${engine.role}`);
      engine.forgetAttributes();
    },
    onclosetag: (name) => log.push(`</${name}`),
    ontext: (data) => log.push(`text ${JSON.stringify(data)} @${engine.startIndex}`),
  };
  if (regular) {
    const scanner = new RegularHtmlScanner(html, handler);
    engine = scanner;
    try {
      scanner.run();
    } catch (error) {
      if (error === IRREGULAR) return IRREGULAR;
      throw error;
    }
  } else {
    const parser = new ContentParser(html, handler);
    engine = parser;
    parser.end(html);
  }
  return log;
}

/** The scanner gives htmlparser2's events for `html`, or leaves it to htmlparser2; returns whether it was regular. */
function assertSameEvents(html: string, label = JSON.stringify(html.slice(0, 120))): boolean {
  const fast = events(html, true);
  if (fast === IRREGULAR) return false;
  assert.deepEqual(fast, events(html, false), label);
  return true;
}

test('html events: the scanner reports what htmlparser2 does on hand-made markup, and leaves what it does not parse to it', () => {
  const regular = [
    'plain text with no markup at all',
    'text ending in an entity &amp; and a bare ampersand & && &#& &x;',
    'a lone < and a < b && c > d; fish &amp chips &notin; &notanentity; &#8217; &#x2014; < p <1 <= <&amp;',
    '<p class="a b" title=\'it&apos;s\' data-x=unquoted&amp;more id="" CLASS="second" role=navigation>x</p>',
    '<div><p>one<p>two</div>\n\n  <span>  spaced\r\n  out  </span>',
    '<title>R&amp;D <b>not a tag</b> &lt; &#8212;</title>after',
    '<script>if (a < b && c) { x = "</p>"; } <</script><style>a > b { c: d }</STYLE >after</script>',
    '<!-- a comment with <tags> & entities --><!DOCTYPE html><?xml version="1.0"?><!-->x<!--->y<!-- a --!> b --><!x><!>',
    '<svg><path d="M0"/><title>icon</title><style>a{}</style><clippath/><foreignObject><p>in</p></foreignObject></svg><image src=x>',
    '<math><mi>x</mi><mo>=</mo></math><p>after</p>',
    '<pre>  keep\n\tthis &lt;code&gt;  </pre>',
    '<ul><li>one<li>two</ul><dl><dt>a<dd>b<dt>c</dl><table><tr><td>1<td>2<tr><th>3</table>',
    '</p></br><br/><img/><p/>x</a></span></ b></1>',
    '<h1>a<h2>b</h1>c</h2><a href=x>1<a>2</a>',
    '<A HREF="x" Class="NOTE">Upper</A><DIV CLASS=headerlink>x</DIV>',
    '<p class>empty class</p><p class= "spaced">v</p><p = x>odd</p><p a=\'1\'b="2"c=3>z</p>',
    '<div/ class="x" / >slashes</div><input type=checkbox checked>',
    '<body><head><link><script>s</script></head><body>x',
    '',
  ];
  for (const html of regular) assert.ok(assertSameEvents(html), `regular: ${JSON.stringify(html)}`);
  const irregular = [
    '<textarea>a &lt; b</textarea>',
    '<iframe>x</iframe>',
    '<svg><![CDATA[ raw < & ]]></svg>',
    '<p class="a &amp; b">x</p>',
    'a </> b',
    '<form><form>x</form></form>',
    '<p title="no closing quote>text',
    'ends in a tag <p',
    'ends in an entity &amp',
    '<script>never closed',
    '<!-- never closed',
  ];
  for (const html of irregular) assert.equal(events(html, true), IRREGULAR, JSON.stringify(html));
  // Every prefix of a short page: the same events, or left to htmlparser2 (one cut inside a tag, an entity or a title is unterminated).
  const page = '<p class="x y" id=\'&#39;\'>a &lt; b &gt</p> c & d &#39;<i title=\'q&quot;\'>e</i><!-- c --><title>t&amp;</title>';
  let prefixes = 0;
  for (let cut = 0; cut <= page.length; cut++) if (assertSameEvents(page.slice(0, cut))) prefixes++;
  assert.ok(prefixes >= 20, `${prefixes} of ${page.length + 1} prefixes were regular`);
});

/** Fragments of tag soup: the markup of real pages and the odd cases around it. */
const FRAGMENTS = [
  '<p>', '</p>', '<div class="note">', '<div class="navheader">', '</div>', '<li>', '</li>', '<ul>', '</ul>', '<ol>', '<dl>', '<dt>', '</dt>', '<dd>', '</dd>',
  '<h1>', '</h1>', '<h2 id="x">', '</h2>', '<h3>', '<pre>', '</pre>', '<code>', '</code>', '<a href="#x">', '</a>', '<span class="pre">', '</span>',
  '<table>', '<tr>', '<td>', '<th>', '</td>', '</tr>', '</table>', '<tbody>', '<thead>', '<br>', '<br/>', '</br>', '<img src=x>', '<hr>', '<input>',
  '<svg>', '</svg>', '<path d="M0 0"/>', '<title>', '</title>', '<script>', '</script>', '<style>', '</style>', '<math>', '</math>', '<mi>', '<desc>',
  '<foreignObject>', '</foreignobject>', '<clippath>', '<image>', '<body>', '<head>', '</head>', '<nav>', '</nav>', '<section role="navigation">',
  '<form>', '</form>', '<select>', '<option>', '<button>', '<B>', '</B>', '<Div Class=Tip>', '<p class>', '<p class=>', '<p =x>', '<p a=1 b=\'2\' c="3"/>',
  ' ', '\n', '\r\n', '\t', '  text  ', 'word', 'two words', '&amp;', '&lt;', '&gt', '&#39;', '&#x2014;', '&notit;', '&', '&&', '&#', '&x;', '<', '< ', '<1',
  '<!-- c -->', '<!---->', '<!-->', '<!--->', '<!-- a --!> b -->', '<!DOCTYPE html>', '<?xml v?>', '<!x>', '</ x>', '</1>', '>', '"', "'", '=', '/',
];

test('html events: the scanner reports what htmlparser2 does on 3,000 generated pages of tag soup', () => {
  const random = seededRandom(20261208);
  let regular = 0;
  for (let n = 0; n < 3_000; n++) {
    const parts: string[] = [];
    const length = 1 + Math.floor(random() * 40);
    for (let i = 0; i < length; i++) parts.push(FRAGMENTS[Math.floor(random() * FRAGMENTS.length)]!);
    if (assertSameEvents(parts.join(''))) regular++;
  }
  // Most generated pages are regular, so the comparison is not vacuous.
  assert.ok(regular > 1_500, `${regular} of 3,000 generated pages were regular`);
});

const REAL_PAGES = ['postgres-docs', 'python-docs'].map((name) => resolve(__dirname, '../../../.cache', name)).filter((dir) => existsSync(dir));

test('html events: every page of the PostgreSQL and Python manuals is regular, with htmlparser2\'s events', (t) => {
  if (REAL_PAGES.length === 0) {
    t.skip('no manual in .cache/postgres-docs or .cache/python-docs (fetch one with: bash ../shared/eval/get-postgres-docs.sh)');
    return;
  }
  let pages = 0;
  for (const dir of REAL_PAGES) {
    for (const name of readdirSync(dir, { recursive: true }) as string[]) {
      if (!name.endsWith('.html')) continue;
      const html = readFileSync(join(dir, name), 'utf8');
      assert.ok(assertSameEvents(html, name), `${name} was left to htmlparser2`);
      pages++;
    }
  }
  assert.ok(pages > 100, `only ${pages} pages`);
});
