import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Parser, Tokenizer } from 'htmlparser2';
import { parseDocument } from '../../../src/core/parse/parseDocument.js';
import { SkippingTokenizer } from '../../../src/core/parse/html.js';
import { commonTagName } from '../../../src/core/parse/htmlEvents.js';
import { chunkDocument } from '../../../src/core/chunker.js';
import { assertTextWithinLines, lineOf, sectionAt, withoutSourceLines } from './support.js';

const PAGE = [
  '<!DOCTYPE html>',
  '<html lang="en">',
  '<head>',
  '  <meta charset="utf-8">',
  '  <title>Rate limits &amp; quotas - Lumen docs</title>',
  '  <style>body { font-family: sans-serif; }</style>',
  '  <script>window.analytics = "tracking-secret";</script>',
  '</head>',
  '<body>',
  '  <a class="skip-link" href="#main">Skip to content</a>',
  '  <nav class="sidebar"><a href="/">Home</a> <a href="/guides">Guides</a></nav>',
  '  <ol class="breadcrumb"><li>Docs</li><li>Guides</li></ol>',
  '  <div role="navigation">Jump menu</div>',
  '  <main id="main">',
  '    <h1>Rate limits</h1>',
  '    <p>Lumen protects the pipeline with',
  '       token-bucket limits &mdash; per project.</p>',
  '    <h2 id="defaults">Default <em>limits</em></h2>',
  '    <table>',
  '      <tr><th>Limit</th><th>Burst</th></tr>',
  '      <tr><td>Events per second</td><td>20&nbsp;000</td></tr>',
  '    </table>',
  '    <h3>Nested</h3>',
  '    <ul>',
  '      <li>Outer item',
  '        <ul><li>Inner item</li></ul>',
  '      </li>',
  '    </ul>',
  '    <h2>Handling 429</h2>',
  '    <pre><code>retry:',
  '  max_attempts: 5',
  '  backoff: exponential</code></pre>',
  '    <noscript>Enable JavaScript</noscript>',
  '    <svg><title>icon</title><text>svg text</text></svg>',
  '    <template><p>template text</p></template>',
  '    <p>Wait at least <code>Retry-After</code> seconds.<br>Then retry.</p>',
  '  </main>',
  '  <script src="search.js"></script>',
  '</body>',
  '</html>',
].join('\n');

test('html: title, heading paths, exact line ranges', () => {
  const lines = PAGE.split('\n');
  const doc = parseDocument('guides/rate-limits.html', PAGE);
  assert.equal(doc.title, 'Rate limits & quotas - Lumen docs');
  assert.deepEqual(
    doc.sections.map((s) => [s.headingPath, s.startLine, s.endLine]),
    [
      [['Rate limits'], lineOf(lines, '    <h1>Rate limits</h1>'), 17],
      [['Rate limits', 'Default limits'], 18, 21],
      [['Rate limits', 'Default limits', 'Nested'], 23, 26],
      [['Rate limits', 'Handling 429'], 29, 36],
    ],
  );
  assert.equal(sectionAt(doc, 'Rate limits').text, 'Lumen protects the pipeline with token-bucket limits \u2014 per project.');
  assert.equal(sectionAt(doc, 'Rate limits', 'Default limits').text, 'Limit Burst\nEvents per second 20 000');
  assert.equal(sectionAt(doc, 'Rate limits', 'Default limits', 'Nested').text, 'Outer item\nInner item');
  assertTextWithinLines(PAGE, doc);
});

test('html: pre keeps whitespace, br breaks lines, noise elements are dropped', () => {
  const doc = parseDocument('rate-limits.html', PAGE);
  const handling = sectionAt(doc, 'Rate limits', 'Handling 429');
  assert.equal(handling.text, 'retry:\n  max_attempts: 5\n  backoff: exponential\nWait at least Retry-After seconds.\nThen retry.');
  const all = doc.sections.map((s) => s.text).join('\n');
  for (const noise of ['tracking-secret', 'font-family', 'Skip to content', 'Guides', 'Docs', 'Jump menu', 'Enable JavaScript', 'svg text', 'icon', 'template text', 'Home']) {
    assert.ok(!all.includes(noise), `noise "${noise}" leaked into text`);
  }
});

test('html: CRLF line endings keep the same line numbers', () => {
  const lf = parseDocument('p.html', PAGE);
  const crlf = parseDocument('p.html', PAGE.replace(/\n/g, '\r\n'));
  assert.deepEqual(
    crlf.sections.map((s) => [s.headingPath, s.startLine, s.endLine]),
    lf.sections.map((s) => [s.headingPath, s.startLine, s.endLine]),
  );
  assert.deepEqual(crlf.sections.map((s) => s.text), lf.sections.map((s) => s.text));
});

test('html: lone CR line endings, and class/role read as browsers read them (any case, entities decoded, the first of a repeat)', () => {
  const cr = parseDocument('p.html', PAGE.replace(/\n/g, '\r'));
  const lf = parseDocument('p.html', PAGE);
  assert.deepEqual(cr.sections.map((s) => [s.startLine, s.endLine]), lf.sections.map((s) => [s.startLine, s.endLine]));
  const page = [
    '<html><body><h1>Attributes</h1>',
    '<div CLASS="NavHeader">kept: classes compare as written</div>',
    '<div Class="navheader">dropped: upper-case attribute name</div>',
    '<div class="nav&#104;eader">dropped: an entity in the value</div>',
    '<div class="navheader" class="body">dropped: the first class wins</div>',
    '<div class="body" class="navheader">kept: the repeat is ignored</div>',
    '<div ROLE="navigation">dropped: role navigation</div>',
    '<div data-role="navigation" data-class="navheader">kept: other attributes</div>',
    '<p>kept: a paragraph</p></p>',
    '<constructor>kept: a tag named like an Object key</constructor>',
    '</body></html>',
  ].join('\n');
  const parsed = parseDocument('attributes.html', page);
  assert.deepEqual(parsed.sections.map((s) => s.headingPath), [['Attributes']]);
  const text = parsed.sections.map((s) => s.text).join('\n');
  for (const kept of ['classes compare as written', 'the repeat is ignored', 'other attributes', 'a paragraph', 'a tag named like an Object key']) assert.ok(text.includes(kept), `"${kept}" missing`);
  for (const dropped of ['upper-case attribute name', 'an entity in the value', 'the first class wins', 'role navigation']) assert.ok(!text.includes(dropped), `"${dropped}" kept`);
});

test('html: class words split at any whitespace, and text collapses every run of whitespace to one space', () => {
  const page = [
    '<html><body><h1>Spaces</h1>',
    '<div class="  wide\tnavbar ">dropped: a tab before the class</div>',
    '<div class="wide\u00a0breadcrumbs">dropped: a no-break space before the class</div>',
    '<div class="navbarx breadcrumbsy">kept: classes that only start like noise</div>',
    '<div class="x note">kept <b>as an admonition</b></div>',
    '<p>one  two\tthree\u2003four \u00a0five six</p>',
    '<p>plain words, one space each</p>',
    '</body></html>',
  ].join('\n');
  const text = parseDocument('spaces.html', page).sections.map((s) => s.text).join('\n');
  assert.ok(!text.includes('dropped'), text);
  assert.ok(text.includes('kept: classes that only start like noise'), text);
  assert.ok(text.includes('kept as an admonition'), text);
  assert.ok(text.includes('one two three four five six'), text);
  assert.ok(text.includes('plain words, one space each'), text);
});

test('html: a page nested deeper than any real one is parsed again flattened, its text and later headings kept', () => {
  const deep = 1_500;
  const page = ['<html><body><h1>Deep</h1>', '<div>'.repeat(deep) + 'innermost words' + '</div>'.repeat(deep), '<h2>After</h2>', '<p>closing words</p>', '</body></html>'].join('\n');
  const doc = parseDocument('deep.html', page);
  assert.deepEqual(doc.sections.map((s) => s.headingPath), [['Deep'], ['Deep', 'After']]);
  assert.match(doc.sections[0]!.text, /innermost words/);
  assert.deepEqual([doc.sections[1]!.startLine, doc.sections[1]!.text], [3, 'closing words']);
});

test('html: DocBook navheader/navfooter ("Prev Up Next") are removed; admonition titles stay text', () => {
  const page = [
    '<html><head><title>2.1. Introduction</title></head><body>',
    '<div class="navheader"><table><tr><th colspan="3">2.1. Introduction</th></tr><tr><td><a accesskey="p" href="tutorial-sql.html">Prev</a> </td><td><a href="tutorial-sql.html">Up</a></td><th>Chapter 2. The SQL Language</th><td><a accesskey="n" href="tutorial-concepts.html">Next</a></td></tr></table><hr></div>',
    '<div class="sect1"><div class="titlepage"><div><div><h2 class="title">2.1. Introduction</h2></div></div></div>',
    '<p>This chapter provides an overview',
    'of how to use <acronym class="acronym">SQL</acronym>.</p>',
    '<div class="note"><h3 class="title">Note</h3><p>Admonition titles are not sections.</p></div></div>',
    '<div class="navfooter"><hr><table><tr><td><a href="tutorial-sql.html">Prev</a> </td><td><a href="tutorial-sql.html">Up</a></td><td><a href="tutorial-concepts.html">Next</a></td></tr><tr><td>Chapter 2. The SQL Language </td><td><a href="index.html">Home</a></td><td> 2.2. Concepts</td></tr></table></div>',
    '</body></html>',
  ].join('\n');
  const doc = parseDocument('tutorial-sql-intro.html', page);
  assert.equal(doc.title, '2.1. Introduction');
  assert.deepEqual(withoutSourceLines(doc.sections), [
    {
      headingPath: ['2.1. Introduction'],
      startLine: 3,
      endLine: 6,
      text: 'This chapter provides an overview of how to use SQL.\nNote\nAdmonition titles are not sections.',
    },
  ]);
});

test("html: a DocBook back-of-book index (div.indexdiv) is navigation: none of its entries is a passage, the page's own prose stays", () => {
  const page = [
    '<html><head><title>Index</title><meta name="generator" content="DocBook XSL Stylesheets Vsnapshot" /></head><body>',
    '<div class="index" id="BOOKINDEX"><div class="titlepage"><div><div><h1 class="title">Index</h1></div></div></div>',
    '<p>Entries in bold are the main reference.</p>',
    '<div class="index"><p class="indexdiv-quicklinks"><a href="#indexdiv-A">A</a> | <a href="#indexdiv-R">R</a></p>',
    '<div class="indexdiv" id="indexdiv-A"><h3>A</h3><dl><dt>ALTER TABLE, <a class="indexterm" href="sql-altertable.html">ALTER TABLE</a></dt></dl></div>',
    '<div class="indexdiv" id="indexdiv-R"><h3>R</h3><dl><dt>replication, <a class="indexterm" href="high-availability.html">High Availability</a></dt>',
    '<dt>replication slot, <a class="indexterm" href="warm-standby.html">Replication Slots</a></dt></dl></div>',
    '</div></div></body></html>',
  ].join('\n');
  const doc = parseDocument('bookindex.html', page);
  assert.equal(doc.title, 'Index');
  assert.deepEqual(
    doc.sections.map((section) => section.text),
    ['Entries in bold are the main reference.'],
  );
  assert.doesNotMatch(JSON.stringify(doc.sections), /replication|ALTER TABLE|indexdiv/);
});

test('html: malformed markup does not throw and keeps its text', () => {
  const page = [
    '<h1>Broken <b>page',
    '<p>First paragraph <i>never closed',
    '<div><p>Second</div></span></p>',
    '<h2>Next part</h3>',
    '<ul><li>one<li>two',
    '<table><td>cell without row',
    '<p>Attr soup <a href="x" "y=z>link</a> &unknown; &amp; &#x41;',
    '<script>if (a < b) { document.write("</div>") }',
  ].join('\n');
  const doc = parseDocument('broken.htm', page);
  assert.equal(doc.title, 'Broken page');
  assert.deepEqual(doc.sections.map((s) => s.headingPath), [['Broken page'], ['Broken page', 'Next part']]);
  assert.equal(doc.sections[0]!.text, 'First paragraph never closed\nSecond');
  assert.equal(doc.sections[0]!.startLine, 1);
  assert.equal(doc.sections[0]!.endLine, 3);
  const next = doc.sections[1]!;
  assert.equal(next.startLine, 4);
  assert.match(next.text, /^one\ntwo\ncell without row\n/);
  assert.match(next.text, /&unknown; & A/);
  assert.doesNotMatch(next.text, /document\.write/);
});

test('html: title falls back to the first h1, then to the file name', () => {
  assert.equal(parseDocument('x/page.html', '<body><h2>Sub</h2><h1>Main</h1><p>t</p></body>').title, 'Main');
  assert.deepEqual(parseDocument('x/empty-page.HTML', ''), { title: 'empty-page', sections: [] });
  assert.equal(parseDocument('x/untitled.html', '<p>Just text</p>').sections[0]!.headingPath.length, 0);
});

// Where ../shared/eval/get-postgres-docs.sh puts the manual when run from the checkout.
const POSTGRES_DOCS = [resolve(__dirname, '../../../.cache/postgres-docs')].find((dir) => existsSync(dir));

/** The manual's pages (file names, sorted) in POSTGRES_DOCS; undefined, the test skipped, when it is not fetched. */
function postgresPages(t: TestContext): string[] | undefined {
  if (POSTGRES_DOCS === undefined) {
    t.skip('PostgreSQL manual not found in .cache/postgres-docs (fetch it with: bash ../shared/eval/get-postgres-docs.sh)');
    return undefined;
  }
  return readdirSync(POSTGRES_DOCS)
    .filter((name) => name.endsWith('.html'))
    .sort();
}

test('html: 50 pages of the PostgreSQL manual parse cleanly', (t) => {
  const pages = postgresPages(t);
  if (pages === undefined) return;
  assert.ok(pages.length >= 50, `only ${pages.length} pages in ${POSTGRES_DOCS}`);
  const step = Math.floor(pages.length / 50);
  for (let i = 0; i < 50; i++) {
    const name = pages[i * step]!;
    const content = readFileSync(join(POSTGRES_DOCS!, name), 'utf8');
    const doc = parseDocument(name, content);
    assert.ok(doc.sections.length >= 1, `${name}: no sections`);
    assert.notEqual(doc.title, name.replace(/\.html$/, ''), `${name}: no <title>`);
    const lineCount = content.split(/\r?\n/).length;
    for (const section of doc.sections) {
      assert.ok(section.startLine >= 1 && section.startLine <= section.endLine && section.endLine <= lineCount, `${name}: bad range`);
      const navigation = /\bPrev\b/.test(section.text) && /\bNext\b/.test(section.text);
      assert.ok(!navigation, `${name} ${JSON.stringify(section.headingPath)}: navigation text "Prev ... Next"`);
    }
  }
});

test('html: a glossary term stays in the same passage as its definition when the list is split', () => {
  const entries = Array.from({ length: 60 }, (_, i) => `<dt id="term-${i}">term${i}</dt>\n<dd><p>Definition of term${i}: ${'it means several things '.repeat(4)}done${i}.</p></dd>`);
  const content = `<html><body><h1>Glossary</h1>\n<dl class="glossary">\n${entries.join('\n')}\n</dl></body></html>`;
  const doc = parseDocument('glossary.html', content);
  assertTextWithinLines(content, doc);
  const chunks = chunkDocument(doc);
  assert.ok(chunks.length > 3, 'the glossary is long enough to be split');
  for (let i = 0; i < 60; i++) {
    const holder = chunks.find((chunk) => new RegExp(`^term${i} — `, 'm').test(chunk.text));
    assert.ok(holder, `term${i} is in a passage`);
    assert.match(holder.text, new RegExp(`^term${i} — Definition of term${i}:[^]*done${i}\\.`, 'm'), `term${i} is with its whole definition`);
  }
});

/** Every event htmlparser2's Parser reports for `html` with `tokenizer`, with its offsets. */
function parserEvents(html: string, tokenizer: typeof Tokenizer): string[] {
  const events: string[] = [];
  const at = (): string => `@${parser.startIndex}-${parser.endIndex}`;
  const parser: Parser = new Parser(
    {
      onopentag: (name, attributes, implied) => events.push(`<${name} ${JSON.stringify(attributes)} ${implied}${at()}`),
      onattribute: (name, value, quote) => events.push(`attr ${name}=${JSON.stringify(value)} ${quote}${at()}`),
      onclosetag: (name, implied) => events.push(`</${name} ${implied}${at()}`),
      ontext: (text) => events.push(`text ${JSON.stringify(text)}${at()}`),
      oncomment: (text) => events.push(`comment ${JSON.stringify(text)}${at()}`),
      oncdatastart: () => events.push(`cdata${at()}`),
      onprocessinginstruction: (name, data) => events.push(`pi ${name} ${JSON.stringify(data)}${at()}`),
    },
    { decodeEntities: true, Tokenizer: tokenizer },
  );
  parser.end(html);
  return events;
}

const SKIPPING = SkippingTokenizer as unknown as typeof Tokenizer;

test('html: the skipping tokenizer reports every event and offset the stock one does', () => {
  const cases = [
    'plain text with no markup at all',
    'text ending in an entity &amp;',
    'text ending in a bare ampersand &',
    'a lone < and a < b && c > d; fish &amp chips &notin; &notanentity; &#8217; &#x2014;',
    '<p class="a &amp; b" title=\'it&apos;s\' data-x=unquoted&amp;more id="">x</p>',
    '<p title="no closing quote>text',
    '<div><p>one<p>two</div>\n\n  <span>  spaced\r\n  out  </span>',
    '<title>R&amp;D <b>not a tag</b></title><textarea>a &lt; b</textarea>',
    '<script>if (a < b && c) { x = "</p>"; }</script><style>a > b { c: d }</style>after',
    '<!-- a comment with <tags> & entities --><!DOCTYPE html><?xml version="1.0"?>',
    '<svg><![CDATA[ raw < & ]]><text>in svg &amp;</text></svg>',
    '<pre>  keep\n\tthis &lt;code&gt;  </pre>',
    'x'.repeat(5000) + '&amp;' + 'y'.repeat(5000) + '<br/>' + '"quoted" \'text\'',
    '<a href="https://example.org/?a=1&b=2&amp;c=3">link</a>',
    '<p title="&#39;q&#39; &quot;r&quot; &gt;&lt;&#64;" alt=\'&quot;&amp\'>&#39;a&#39; &quot;b&quot; 1 &gt; 0 &lt; 2 x&#64;y</p>',
    'legacy forms: &gt &lt &amp &quot &#39 &#390; &#64x &gtx; &ampere; &quot;&#39;&amp;&gt;&lt;&#64;',
    '',
  ];
  for (const html of cases) assert.deepEqual(parserEvents(html, SKIPPING), parserEvents(html, Tokenizer), JSON.stringify(html.slice(0, 80)));
  // The same on every split of a short page: offsets and entities at every boundary.
  const page = '<p class="x&amp;y" id=\'&#39;\'>a &lt; b &gt</p> c & d &#39;<i title=\'q&quot;\'>e</i>';
  for (let cut = 0; cut <= page.length; cut++) {
    const html = page.slice(0, cut);
    assert.deepEqual(parserEvents(html, SKIPPING), parserEvents(html, Tokenizer), JSON.stringify(html));
  }
});

test('html: the skipping tokenizer reports the same events as the stock one on 200 pages of the PostgreSQL manual', (t) => {
  const pages = postgresPages(t);
  if (pages === undefined) return;
  const step = Math.max(1, Math.floor(pages.length / 200));
  for (let i = 0; i < pages.length; i += step) {
    const html: string = readFileSync(join(POSTGRES_DOCS!, pages[i]!), 'utf8');
    assert.deepEqual(parserEvents(html, SKIPPING), parserEvents(html, Tokenizer), pages[i]);
  }
});


test('html: an interned tag name is exactly the lower-cased name, in any case, and only names of the table are interned', () => {
  const names = ['span', 'SPAN', 'Span', 'a', 'A', 'code', 'Li', 'p', 'P', 'DIV', 'h1', 'H6', 'br', 'BR', 'kbd', 'nav', 'b', 'i', 'tt', 'sub', 'form'];
  const others = ['h7', 'image', 'img2', 'spans', 'x', 'aa', 'ab', 'h0', 'xmp', 'svg', 'font', 'math', 'section', 'sp', 'spa', 'di', 'cod', '', '\u212Abd', 'sp\u00e4n', 'h1\u0130', 'q', 'u', 's'];
  let interned = 0;
  for (const name of [...names, ...others]) {
    const page = `<${name}>`;
    const tag = commonTagName(page, 1, 1 + name.length);
    if (tag !== undefined) {
      interned++;
      assert.equal(tag, name.toLowerCase(), name);
    }
  }
  for (const name of names) assert.equal(commonTagName(`x${name}y`, 1, 1 + name.length), name.toLowerCase(), `${name} inside a longer text`);
  for (const name of others) assert.equal(commonTagName(name, 0, name.length), undefined, name);
  assert.equal(interned, names.length);
  // Every two-character ASCII name: interned ones are their lower case, and the lower case of an interned one is interned too.
  for (let a = 0x20; a < 0x80; a++) {
    for (let b = 0x20; b < 0x80; b++) {
      const name = String.fromCharCode(a, b);
      const tag = commonTagName(name, 0, 2);
      assert.equal(tag, commonTagName(name.toLowerCase(), 0, 2), JSON.stringify(name));
      if (tag !== undefined) assert.equal(tag, name.toLowerCase(), JSON.stringify(name));
    }
  }
});

test('html: tags in upper or mixed case parse as their lower-case forms', () => {
  const page = ['<HTML><HEAD><TITLE>Case</TITLE></HEAD><BODY>', '<H1>Top</H1>', '<P>One <EM>two</EM> <Code>three</Code></P>', '<DIV><UL><LI>item</LI></UL></DIV>', '<NAV>menu</NAV>', '<H2>Next</H2><PRE>  a\n  b</PRE>', '</BODY></HTML>'].join('\n');
  assert.deepEqual(withoutSourceLines(parseDocument('case.html', page).sections), withoutSourceLines(parseDocument('case.html', page.replace(/<(\/?)([A-Za-z0-9]+)/g, (_, slash: string, name: string) => `<${slash}${name.toLowerCase()}`)).sections));
  const doc = parseDocument('case.html', page);
  assert.deepEqual(doc.sections.map((section) => section.headingPath), [['Top'], ['Top', 'Next']]);
  assert.ok(!doc.sections.some((section) => section.text.includes('menu')));
});
