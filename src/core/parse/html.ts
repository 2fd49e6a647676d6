import { Parser, QuoteType, Tokenizer, type Handler } from 'htmlparser2';
import type { ParsedDocument } from '../types.js';
import { AMP, DQ, IRREGULAR, LT, RegularHtmlScanner, SQ, Wanted, commonTagName, isAsciiAlpha, wantedAttribute, type HtmlHandler } from './htmlEvents.js';
import { SectionBuilder, fileStem } from './sections.js';

/** Elements whose whole subtree is never document content. */
const DROPPED_ELEMENTS = new Set(['script', 'style', 'noscript', 'template', 'nav', 'svg', 'head']);
/**
 * Class names of navigation chrome, e.g. DocBook's div.navheader/div.navfooter ("Prev Up Next"),
 * and DocBook's back-of-book index (div.indexdiv per letter, p.indexdiv-quicklinks): a letter's
 * entries are one run of every term of the manual and its links, which a short question matched
 * on its words (PostgreSQL's bookindex.html "Index › R" was the first hit for "how to configure
 * replication"), as Sphinx's genindex pages would (generatedPages.ts skips those).
 */
const NOISE_CLASSES = new Set(['navheader', 'navfooter', 'navbar', 'breadcrumb', 'breadcrumbs', 'skip-link', 'headerlink', 'indexdiv', 'indexdiv-quicklinks']);
const BLOCK_ELEMENTS = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'br', 'caption', 'dd', 'details', 'dialog', 'div', 'dl', 'dt',
  'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li',
  'main', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'tfoot', 'thead', 'tr', 'ul',
]);
/** Admonition boxes; DocBook titles them with <h3>, which labels the box rather than starting a section. */
const ADMONITION_CLASSES = new Set(['note', 'tip', 'warning', 'caution', 'important', 'admonition']);
const TABLE_CELLS = new Set(['td', 'th']);
const HEADING_LEVELS: Record<string, number> = { h1: 1, h2: 2, h3: 3, h4: 4, h5: 5, h6: 6 };

/** What an element's name alone says of it (tagKind). */
interface TagKind {
  /** In DROPPED_ELEMENTS. */
  dropped: boolean;
  block: boolean;
  /** 1–6 for h1–h6, else 0. */
  level: number;
  cell: boolean;
  preformatted: boolean;
}

/**
 * Tag names met, each with its kind: a page has thousands of tags and a few dozen names, so a
 * tag costs one lookup rather than five set lookups. Bounded, as a worker parses every page of
 * a run (names past the bound are judged each time).
 */
const TAG_KINDS = new Map<string, TagKind>();
const TAG_KINDS_KEPT = 1024;

function tagKind(name: string): TagKind {
  let kind = TAG_KINDS.get(name);
  if (kind) return kind;
  kind = {
    dropped: DROPPED_ELEMENTS.has(name),
    block: BLOCK_ELEMENTS.has(name),
    // Own keys only: a <constructor> tag is not a heading.
    level: Object.hasOwn(HEADING_LEVELS, name) ? HEADING_LEVELS[name]! : 0,
    cell: TABLE_CELLS.has(name),
    preformatted: name === 'pre' || name === 'textarea',
  };
  if (TAG_KINDS.size < TAG_KINDS_KEPT) TAG_KINDS.set(name, kind);
  return kind;
}

interface OpenElement {
  name: string;
  kind: TagKind;
  dropped: boolean;
  admonition: boolean;
}

interface OpenHeading {
  name: string;
  level: number;
  line: number;
  text: string;
}

/** Thrown by a parse that meets more than MAX_NESTING open elements. */
const TOO_DEEP = new Error('nested too deep');

/**
 * Parses HTML; line numbers come from source offsets. RegularHtmlScanner (htmlEvents.ts) gives
 * htmlparser2's events for the markup real pages use in 40% of its time; a page it meets
 * anything else in is parsed by htmlparser2's Parser. A page opens at most MAX_NESTING elements at
 * once: one deeper is parsed again with the tags beyond that depth blanked (flattenDeepNesting).
 * Parsing first and flattening only then spares every real page the flattening scan (none of
 * 4,193 real pages was deep enough to change).
 */
export function parseHtml(path: string, content: string): ParsedDocument {
  const lines = new LineIndex(content);
  try {
    return parseEither(path, content, lines, true);
  } catch (error) {
    if (error !== TOO_DEEP) throw error;
    return parseEither(path, flattenDeepNesting(content), lines, false);
  }
}

function parseEither(path: string, source: string, lines: LineIndex, bounded: boolean): ParsedDocument {
  try {
    return parseSource(path, source, lines, bounded, true);
  } catch (error) {
    if (error !== IRREGULAR) throw error;
    return parseSource(path, source, lines, bounded, false);
  }
}

/** What the handler reads of the parser at an event. */
interface EventSource {
  readonly startIndex: number;
  readonly className: string | undefined;
  readonly role: string | undefined;
  forgetAttributes(): void;
}

/**
 * `source`: the page, or the page flattened (the same length: its offsets are the page's);
 * `regular`: by RegularHtmlScanner, which throws IRREGULAR at what it leaves to htmlparser2.
 */
function parseSource(path: string, source: string, lines: LineIndex, bounded: boolean, regular: boolean): ParsedDocument {
  const builder = new SectionBuilder();
  const stack: OpenElement[] = [];
  let droppedDepth = 0;
  let preDepth = 0;
  let admonitionDepth = 0;
  let heading: OpenHeading | undefined;
  let titleText: string | undefined;
  let inTitle = false;
  let firstH1: string | undefined;
  let atLineStart = true;
  let endsWithSpace = true;
  // After a </dt>, the definition's first line continues the term's line, so no cut between lines separates them.
  let termLineOpen = false;

  const breakLine = (): void => {
    termLineOpen = false;
    if (heading) {
      heading.text += ' ';
    } else if (!atLineStart) {
      builder.append('\n');
      atLineStart = true;
      endsWithSpace = true;
    }
  };

  const endHeading = (): void => {
    if (!heading) return;
    const text = heading.text.replace(/\s+/g, ' ').trim();
    if (text !== '') {
      if (heading.level === 1) firstH1 ??= text;
      builder.heading(heading.level, text, heading.line);
    }
    heading = undefined;
    atLineStart = true;
    endsWithSpace = true;
  };

  // The engine, made below with the handler whose closures read it.
  let parser: EventSource;
  const handler: HtmlHandler = {
    onopentag(name) {
      const { className, role } = parser;
      parser.forgetAttributes();
      const kind = tagKind(name);
      const classes = className === undefined ? 0 : classFlags(className);
      const dropped = droppedDepth > 0 || kind.dropped || role === 'navigation' || (classes & NOISE) !== 0;
      const admonition = !dropped && (classes & ADMONITION) !== 0;
      if (bounded && stack.length === MAX_NESTING) throw TOO_DEEP;
      stack.push({ name, kind, dropped, admonition });
      if (name === 'title' && titleText === undefined && !stack.some((e) => e.name === 'svg')) inTitle = true;
      if (dropped) {
        droppedDepth++;
        return;
      }
      if (kind.preformatted) preDepth++;
      if (admonition) admonitionDepth++;
      // A block inside a heading means the heading was never closed (browsers would nest it; we end it).
      if (heading && kind.block && name !== 'br') endHeading();
      const level = admonitionDepth > 0 ? 0 : kind.level;
      if (level !== 0) {
        breakLine();
        heading = { name, level, line: lines.lineAt(parser.startIndex), text: '' };
      } else if (termLineOpen && (name === 'dd' || (name === 'p' && stack[stack.length - 2]?.name === 'dd'))) {
        if (name === 'dd') {
          builder.append(endsWithSpace ? '— ' : ' — ');
          endsWithSpace = true;
        }
      } else if (kind.block) {
        breakLine();
      } else if (kind.cell && !atLineStart && !endsWithSpace) {
        builder.append(' ');
        endsWithSpace = true;
      }
    },
    onclosetag(name) {
      let index = stack.length - 1;
      while (index >= 0 && stack[index]!.name !== name) index--;
      if (index < 0) return;
      // Closed outermost first; the stack cut after (splice's array of them was one per tag).
      const open = stack.length;
      for (let e = index; e < open; e++) {
        const element = stack[e]!;
        if (element.dropped) droppedDepth--;
        else if (element.kind.preformatted) preDepth--;
        if (element.admonition) admonitionDepth--;
        if (element.name === 'title') inTitle = false;
        if (element.dropped) continue;
        if (heading && element.name === heading.name) endHeading();
        else if (element.name === 'dt' && !heading && !atLineStart) termLineOpen = true;
        else if (element.kind.block) breakLine();
      }
      // Popped, not cut by setting length: that setter is a slow builtin, and a page closes thousands of tags.
      while (stack.length > index) stack.pop();
    },
    ontext(data) {
      if (inTitle) titleText = (titleText ?? '') + data;
      if (droppedDepth > 0) return;
      if (heading) {
        heading.text += data;
        return;
      }
      const first = firstNonSpace(data);
      if (first >= 0) termLineOpen = false;
      if (first < 0) {
        if (preDepth > 0) builder.append(data);
        else if (!endsWithSpace && data !== '') {
          builder.append(' ');
          endsWithSpace = true;
        }
        return;
      }
      const start = parser.startIndex;
      if (preDepth > 0) {
        builder.verbatim(data, lines.lineAt(start));
        atLineStart = data.endsWith('\n');
        endsWithSpace = /\s$/.test(data);
        return;
      }
      let text = collapsedSpaces(data);
      if (endsWithSpace && text.startsWith(' ')) text = text.slice(1);
      builder.append(text, lines.lineAt(start + first), lines.lineAt(start + lastNonSpace(data)));
      atLineStart = false;
      endsWithSpace = text.endsWith(' ');
    },
  };
  if (regular) {
    const scanner = new RegularHtmlScanner(source, handler);
    parser = scanner;
    scanner.run();
  } else {
    const full = new ContentParser(source, handler);
    parser = full;
    full.end(source);
  }

  const title = titleText?.replace(/\s+/g, ' ').trim() || firstH1 || fileStem(path);
  return { title, sections: builder.finish() };
}

/** Deeper than any real page; htmlparser2's open-element stack costs O(depth) per tag, so 100k levels took seconds. */
const MAX_NESTING = 1_000;
const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
/** Per (lower-case first letter, name length ≤ 7): whether a void element has that shape; most tags (a, p, div, span, li, td) have none, so no name is cut out. */
const VOID_SHAPES = new Uint8Array(128 * 8);
for (const name of VOID_ELEMENTS) VOID_SHAPES[name.charCodeAt(0) * 8 + name.length] = 1;

function isVoidElement(content: string, start: number, end: number): boolean {
  const length = end - start;
  if (length > 7 || VOID_SHAPES[(content.charCodeAt(start) | 0x20) * 8 + length] === 0) return false;
  return VOID_ELEMENTS.has(content.slice(start, end).toLowerCase());
}
/**
 * Tags opened beyond MAX_NESTING (and their closing tags) become spaces of the same length, so
 * their text stays at its offsets and every line number is unchanged. Linear; leaves shallower
 * documents untouched. Tags are what `/<(\/?)([a-zA-Z][\w:-]*)[^<>]*?(\/?)>/g` matches, found by
 * hand: a page has thousands and the regex's match objects cost a twentieth of parsing it.
 */
function flattenDeepNesting(content: string): string {
  let depth = 0;
  let suppressed = 0;
  let blanks: Array<[number, number]> | undefined;
  for (let at = content.indexOf('<'); at >= 0; ) {
    let i = at + 1;
    const closing = content.charCodeAt(i) === 47; // '/'
    if (closing) i++;
    if (!isAsciiAlpha(content.charCodeAt(i))) {
      at = content.indexOf('<', at + 1);
      continue;
    }
    const nameStart = i;
    while (i < content.length && isNameChar(content.charCodeAt(i))) i++;
    const nameEnd = i;
    // The tag ends at the first '>'; a '<' (or the end) before it means no tag starts here.
    const close = content.indexOf('>', i);
    const next = content.indexOf('<', i);
    if (close < 0 || (next >= 0 && next < close)) {
      at = content.indexOf('<', at + 1);
      continue;
    }
    i = close;
    const end = i + 1;
    const selfClosing = i - 1 >= nameEnd && content.charCodeAt(i - 1) === 47;
    if (!selfClosing && !isVoidElement(content, nameStart, nameEnd)) {
      if (!closing && depth < MAX_NESTING) depth++;
      else if (closing && suppressed === 0) depth = Math.max(0, depth - 1);
      else {
        suppressed += closing ? -1 : 1;
        (blanks ??= []).push([at, end - at]);
      }
    }
    at = content.indexOf('<', end);
  }
  if (!blanks) return content;
  const parts: string[] = [];
  let from = 0;
  for (const [start, length] of blanks) {
    parts.push(content.slice(from, start), ' '.repeat(length));
    from = start + length;
  }
  parts.push(content.slice(from));
  return parts.join('');
}

/** `[\w:-]`. */
function isNameChar(c: number): boolean {
  return isAsciiAlpha(c) || (c >= 48 && c <= 57) || c === 95 || c === 58 || c === 45;
}

const NOISE = 1;
const ADMONITION = 2;
/** Each class of NOISE_CLASSES and ADMONITION_CLASSES, with the flag of its set. */
const CLASS_FLAGS = new Map([...[...NOISE_CLASSES].map((c) => [c, NOISE] as const), ...[...ADMONITION_CLASSES].map((c) => [c, ADMONITION] as const)]);

/** A class attribute that names one of CLASS_FLAGS as a whole word; most name none. */
const FLAGGED_CLASS = new RegExp(`(?:^|\\s)(?:${[...CLASS_FLAGS.keys()].map((c) => c.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('|')})(?=\\s|$)`);

/**
 * The flags (NOISE, ADMONITION) of the classes in a class attribute, its words split at
 * whitespace like /\s+/. A regex test first: a page has a class on most tags, and splitting
 * every one was a twelfth of a parse worker's allocation (a charCodeAt loop instead went
 * megamorphic over the strings' many shapes).
 */
function classFlags(className: string): number {
  if (!FLAGGED_CLASS.test(className)) return 0;
  let flags = 0;
  for (const word of className.split(/\s+/)) flags |= CLASS_FLAGS.get(word) ?? 0;
  return flags;
}

/** Whitespace that /\s+/g → ' ' changes: any but a plain space, or two in a row. */
const UNCOLLAPSED = /[^\S ]|\s\s/;

/**
 * text.replace(/\s+/g, ' '), returning `text` itself when it holds no whitespace but single
 * spaces (text between inline tags, mostly): the replace makes a new string even then. Tested by
 * a regex, not a charCodeAt loop: text nodes come as strings of many shapes, and such a loop's
 * property lookups went megamorphic (1.4% of an index run's CPU samples, perf).
 */
function collapsedSpaces(text: string): string {
  return UNCOLLAPSED.test(text) ? text.replace(/\s+/g, ' ') : text;
}

/** data.search(/\S/) without the regex call (every text node of a page goes through here). */
function firstNonSpace(text: string): number {
  for (let i = 0; i < text.length; i++) if (!isSpace(text.charCodeAt(i))) return i;
  return -1;
}

function lastNonSpace(text: string): number {
  let i = text.length - 1;
  while (i > 0 && isSpace(text.charCodeAt(i))) i--;
  return i;
}

/** Whether code unit `c` is white space as the regex `\s` sees it (a test per character costs a regex call). */
function isSpace(c: number): boolean {
  if (c > 32 && c < 160) return false;
  return (
    c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/**
 * htmlparser2's Parser keeping only the two attributes the page's text depends on (`class`,
 * `role`): the Parser cuts out, lower-cases and stores every attribute of every tag, about a
 * tenth of parsing a DocBook or Sphinx page, and the rest are never read. Names compare in place in
 * `source`, the one string the parser is given (so the tokenizer's offsets are offsets into it).
 * Values are as the Parser makes them (entities decoded; a repeated attribute's first value).
 */
export class ContentParser extends Parser {
  private wanted = Wanted.None;
  private value = '';
  /** The class and role of the tag being opened (read in onopentag; an implied tag has none). */
  className: string | undefined;
  role: string | undefined;

  constructor(
    readonly source: string,
    handler: Partial<Handler>,
  ) {
    super(handler, { decodeEntities: true, Tokenizer: SkippingTokenizer as unknown as typeof Tokenizer });
  }

  /** Called once onopentag has read them, so that an implied tag that follows has none. */
  forgetAttributes(): void {
    this.className = this.role = undefined;
  }

  override onopentagname(start: number, endIndex: number): void {
    this.className = this.role = undefined;
    super.onopentagname(start, endIndex);
  }

  override onattribname(start: number, endIndex: number): void {
    this.startIndex = start;
    this.value = '';
    this.wanted = wantedAttribute(this.source, start, endIndex);
  }

  override onattribdata(start: number, endIndex: number): void {
    if (this.wanted !== Wanted.None) this.value += this.source.slice(start, endIndex);
  }

  override onattribentity(codePoint: number): void {
    if (this.wanted !== Wanted.None) this.value += String.fromCodePoint(codePoint);
  }

  override onattribend(_quote: QuoteType, endIndex: number): void {
    this.endIndex = endIndex;
    if (this.wanted === Wanted.Class) this.className ??= this.value;
    else if (this.wanted === Wanted.Role) this.role ??= this.value;
    this.wanted = Wanted.None;
    this.value = '';
  }
}

/** Parser.readTagName: private in htmlparser2's typings, so ContentParser's is set on its prototype. */
interface TagNameReader {
  readTagName(start: number, endIndex: number): string;
}
const parserReadTagName = (Parser.prototype as unknown as TagNameReader).readTagName;
(ContentParser.prototype as unknown as TagNameReader).readTagName = function (this: ContentParser, start: number, endIndex: number): string {
  return commonTagName(this.source, start, endIndex) ?? parserReadTagName.call(this, start, endIndex);
};

/** The members of htmlparser2's Tokenizer that SkippingTokenizer reads or calls (private in its typings). */
interface TokenizerInternals {
  buffer: string;
  offset: number;
  index: number;
  sectionStart: number;
  state: number;
  cbs: { ontext(start: number, endIndex: number): void };
  startEntity(): void;
  handleInAttributeValue(c: number, quote: number): void;
}

/** htmlparser2's State.BeforeTagName (its State enum is not exported; the parity test fails if it moves). */
const STATE_BEFORE_TAG_NAME = 2;

/**
 * htmlparser2's Tokenizer, skipping in one loop the characters of text and of quoted attribute
 * values that can end nothing. With entities decoded, the stock tokenizer visits each character
 * through its state switch (it fast-forwards only when entities are off), and text is most of a
 * page. Stops where the stock one acts (`<` or `&` in text; the quote or `&` in a value), so
 * every event and offset is the same (test/core/parse/html.test.ts compares them on real pages).
 */
export class SkippingTokenizer extends (Tokenizer as unknown as new (...args: ConstructorParameters<typeof Tokenizer>) => TokenizerInternals) {
  stateText(c: number): void {
    if (c === LT) {
      if (this.index > this.sectionStart) this.cbs.ontext(this.sectionStart, this.index);
      this.state = STATE_BEFORE_TAG_NAME;
      this.sectionStart = this.index;
    } else if (c === AMP) {
      this.startEntity();
    } else {
      this.skipTo(LT);
    }
  }

  stateInAttributeValueDoubleQuotes(c: number): void {
    if (c === DQ || c === AMP) this.handleInAttributeValue(c, DQ);
    else this.skipTo(DQ);
  }

  stateInAttributeValueSingleQuotes(c: number): void {
    if (c === SQ || c === AMP) this.handleInAttributeValue(c, SQ);
    else this.skipTo(SQ);
  }

  /** Moves to just before the next `stop` or `&` (or the buffer's last character): the parse loop steps onto it. */
  private skipTo(stop: number): void {
    const { buffer, offset } = this;
    const end = buffer.length + offset;
    let i = this.index + 1;
    while (i < end) {
      const c = buffer.charCodeAt(i - offset);
      if (c === stop || c === AMP) break;
      i++;
    }
    this.index = i - 1;
  }
}

/** Maps source offsets to 1-based line numbers (LF, CRLF or lone CR endings). */
class LineIndex {
  private readonly lineStarts: number[] = [0];

  constructor(content: string) {
    // Found with indexOf, not a regex: no match object per line.
    let lf = content.indexOf('\n');
    let cr = content.indexOf('\r');
    while (lf >= 0 || cr >= 0) {
      if (cr < 0 || (lf >= 0 && lf < cr)) {
        this.lineStarts.push(lf + 1);
        lf = content.indexOf('\n', lf + 1);
        continue;
      }
      // A CR, or a CRLF: one line break either way.
      const end = lf === cr + 1 ? cr + 2 : cr + 1;
      this.lineStarts.push(end);
      if (lf === cr + 1) lf = content.indexOf('\n', end);
      cr = content.indexOf('\r', end);
    }
  }

  /** The line found last: text and tags are asked for in page order, so the next is mostly on it or just after. */
  private last = 0;

  lineAt(offset: number): number {
    const starts = this.lineStarts;
    let line = this.last;
    if (starts[line]! <= offset) {
      for (let step = 0; step < 4; step++) {
        if (line + 1 === starts.length || starts[line + 1]! > offset) {
          this.last = line;
          return line + 1;
        }
        line++;
      }
    }
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    this.last = low;
    return low + 1;
  }

}
