import { DecodingMode, EntityDecoder, htmlDecodeTree } from 'entities/decode';

/**
 * What parseHtml's handler is told, as htmlparser2's Parser tells it: tags opened and closed
 * (implied ones included) and text pieces, entities decoded.
 */
export interface HtmlHandler {
  onopentag(name: string): void;
  onclosetag(name: string): void;
  ontext(data: string): void;
}

/** Thrown by RegularHtmlScanner at markup it does not parse exactly as htmlparser2 would; the page is parsed again by htmlparser2. */
export const IRREGULAR = new Error('markup outside the regular subset');

/*
 * htmlparser2 12.0.0's Parser tables (not exported). test/core/parse/htmlEvents.test.ts compares the
 * events of both on real pages and on generated tag soup, so a table that drifts from the library fails there.
 */
const FORM_TAGS = new Set(['input', 'option', 'optgroup', 'select', 'button', 'datalist', 'textarea']);
const P_TAG = new Set(['p']);
const HEADING_TAGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p']);
const TABLE_SECTION_TAGS = new Set(['thead', 'tbody']);
const DDT_TAGS = new Set(['dd', 'dt']);
const RTP_TAGS = new Set(['rt', 'rp']);
const OPEN_IMPLIES_CLOSE = new Map<string, Set<string>>([
  ['tr', new Set(['tr', 'th', 'td'])],
  ['th', new Set(['th'])],
  ['td', new Set(['thead', 'th', 'td'])],
  ['body', new Set(['head', 'link', 'script'])],
  ['a', new Set(['a'])],
  ['li', new Set(['li'])],
  ['p', P_TAG],
  ['h1', HEADING_TAGS],
  ['h2', HEADING_TAGS],
  ['h3', HEADING_TAGS],
  ['h4', HEADING_TAGS],
  ['h5', HEADING_TAGS],
  ['h6', HEADING_TAGS],
  ['select', FORM_TAGS],
  ['input', FORM_TAGS],
  ['output', FORM_TAGS],
  ['button', FORM_TAGS],
  ['datalist', FORM_TAGS],
  ['textarea', FORM_TAGS],
  ['option', new Set(['option'])],
  ['optgroup', new Set(['optgroup', 'option'])],
  ['dd', DDT_TAGS],
  ['dt', DDT_TAGS],
  ...['address', 'article', 'aside', 'blockquote', 'details', 'div', 'dl', 'fieldset', 'figcaption', 'figure', 'footer', 'form', 'header', 'hr', 'main', 'nav', 'ol', 'pre', 'section', 'table', 'ul'].map(
    (name) => [name, P_TAG] as [string, Set<string>],
  ),
  ['rt', RTP_TAGS],
  ['rp', RTP_TAGS],
  ['tbody', TABLE_SECTION_TAGS],
  ['tfoot', TABLE_SECTION_TAGS],
]);
const VOID_ELEMENTS = new Set(['area', 'base', 'basefont', 'br', 'col', 'command', 'embed', 'frame', 'hr', 'img', 'input', 'isindex', 'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
const HTML_INTEGRATION_ELEMENTS = new Set(['mi', 'mo', 'mn', 'ms', 'mtext', 'annotation-xml', 'foreignObject', 'desc', 'title']);
const SVG_TAG_NAMES = new Map(
  [
    'altGlyph', 'altGlyphDef', 'altGlyphItem', 'animateColor', 'animateMotion', 'animateTransform', 'clipPath', 'feBlend', 'feColorMatrix',
    'feComponentTransfer', 'feComposite', 'feConvolveMatrix', 'feDiffuseLighting', 'feDisplacementMap', 'feDistantLight', 'feDropShadow',
    'feFlood', 'feFuncA', 'feFuncB', 'feFuncG', 'feFuncR', 'feGaussianBlur', 'feImage', 'feMerge', 'feMergeNode', 'feMorphology', 'feOffset',
    'fePointLight', 'feSpecularLighting', 'feSpotLight', 'feTile', 'feTurbulence', 'foreignObject', 'glyphRef', 'linearGradient',
    'radialGradient', 'textPath',
  ].map((name) => [name.toLowerCase(), name]),
);

/** The attributes parseHtml reads. */
export const enum Wanted {
  None,
  Class,
  Role,
}

const enum Foreign {
  None,
  Svg,
  MathML,
}

/** Raw-text elements the scanner parses (their end tag as lower-case codes); the tokenizer's others (iframe, xmp, textarea, …) are IRREGULAR. */
const SCRIPT_END = codes('</script');
const STYLE_END = codes('</style');
const TITLE_END = codes('</title');
/** Special (raw-text) element names of htmlparser2's tokenizer that the scanner leaves to it. */
const OTHER_SPECIAL = new Set(['iframe', 'noembed', 'noframes', 'plaintext', 'textarea', 'xmp']);

function codes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export const LT = 0x3c;
const GT = 0x3e;
export const AMP = 0x26;
const SLASH = 0x2f;
const EQ = 0x3d;
export const DQ = 0x22;
export const SQ = 0x27;
const BANG = 0x21;
const QUESTION = 0x3f;
const DASH = 0x2d;

/** htmlparser2's tokenizer's whitespace. */
function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0c || c === 0x0d;
}

function isEndOfTagSection(c: number): boolean {
  return c === SLASH || c === GT || isWhitespace(c);
}

export function isAsciiAlpha(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/**
 * The events htmlparser2 12's Parser (HTML mode, entities decoded) gives for the markup real
 * documentation pages use, in one pass that finds text and tag ends with indexOf instead of a
 * state switch per character: 0.61 s against the Parser's 1.6 s over corpus-100's 2,519 pages (one thread, events only). `startIndex`, `className`
 * and `role` read as the handler reads them on ContentParser (html.ts). Anything else it throws
 * IRREGULAR at (CDATA, unterminated markup, raw-text elements but script/style/title, an
 * entity in a class or role, a nested form, `</>`), and the page goes to htmlparser2 itself.
 */
export class RegularHtmlScanner {
  /** Parser.startIndex: where the last event's successor starts, as the Parser keeps it (stale across some events, as there). */
  startIndex = 0;
  className: string | undefined;
  role: string | undefined;
  /** Open elements, innermost last. */
  private readonly stack: string[] = [];
  /** Parser.foreignContext, innermost last. */
  private readonly foreign: Foreign[] = [Foreign.None];
  /** Where the pending text piece starts (the tokenizer's sectionStart in text). */
  private textStart = 0;
  private readonly decoder: EntityDecoder;
  /** Set by the decoder's callback: where the entity being decoded ends. */
  private entityEnd = -1;
  private entityAt = 0;
  /** The first '&' at or after the text last scanned (the page's length when there is none). */
  private nextAmp = -1;

  constructor(
    private readonly source: string,
    private readonly handler: HtmlHandler,
  ) {
    this.decoder = new EntityDecoder(htmlDecodeTree, (codePoint, consumed) => this.onEntity(codePoint, consumed));
  }

  forgetAttributes(): void {
    this.className = this.role = undefined;
  }

  run(): void {
    const s = this.source;
    const n = s.length;
    let at = 0;
    while (at < n) {
      const lt = s.indexOf('<', at);
      const textEnd = lt < 0 ? n : lt;
      this.scanText(at, textEnd);
      if (lt < 0) break;
      if (lt > this.textStart) this.emitText(this.textStart, lt);
      this.textStart = lt;
      if (lt + 1 >= n) throw IRREGULAR;
      const c = s.charCodeAt(lt + 1);
      if (isAsciiAlpha(c)) at = this.openTag(lt);
      else if (c === SLASH) at = this.closingTag(lt);
      else if (c === BANG) at = this.declaration(lt);
      else if (c === QUESTION) at = this.bogusComment(lt + 1);
      else {
        // Not markup: the '<' starts the next text piece.
        at = lt + 1;
        continue;
      }
      this.textStart = at;
    }
    if (n > this.textStart) this.emitText(this.textStart, n);
    for (let i = this.stack.length - 1; i >= 0; i--) this.handler.onclosetag(this.stack[i]!);
  }

  /** Text in [from, to): each entity decoded ends the text piece before it and is a piece of its own. */
  private scanText(from: number, to: number): void {
    const s = this.source;
    // The next '&' is kept between calls: a search from each text piece would run on to the next '&' of the page.
    if (this.nextAmp < from) this.nextAmp = indexOrEnd(s, '&', from);
    while (this.nextAmp < to) {
      const end = this.decodeEntity(this.nextAmp);
      this.nextAmp = indexOrEnd(s, '&', end < 0 ? this.nextAmp + 1 : end);
    }
  }

  /** Decodes the entity at `amp` (Legacy mode, as in text): its end, with its pieces emitted, or -1 when there is none. */
  private decodeEntity(amp: number): number {
    this.decoder.startEntity(DecodingMode.Legacy);
    this.entityAt = amp;
    this.entityEnd = -1;
    const length = this.decoder.write(this.source, amp + 1);
    if (length < 0) throw IRREGULAR; // runs to the end of the page
    return this.entityEnd;
  }

  private onEntity(codePoint: number, consumed: number): void {
    if (this.textStart < this.entityAt) this.emitText(this.textStart, this.entityAt);
    const end = this.entityAt + consumed;
    this.textStart = end;
    this.entityEnd = end;
    this.handler.ontext(String.fromCodePoint(codePoint));
    this.startIndex = end;
  }

  private emitText(start: number, end: number): void {
    this.handler.ontext(this.source.slice(start, end));
    this.startIndex = end;
  }

  /** Parser.readTagName. */
  private tagName(start: number, end: number): string {
    const common = commonTagName(this.source, start, end);
    if (common !== undefined) return common;
    const name = this.source.slice(start, end).toLowerCase();
    const foreign = this.foreign[this.foreign.length - 1]!;
    if (foreign === Foreign.Svg) return SVG_TAG_NAMES.get(name) ?? name;
    if (this.foreign.length > 1) {
      const adjusted = SVG_TAG_NAMES.get(name);
      if (adjusted !== undefined && this.stack.includes(adjusted)) return adjusted;
    }
    if (foreign === Foreign.None) return name === 'image' ? 'img' : name;
    return name;
  }

  /** `<name …>` at `lt`: returns the offset after it (and after a raw-text element's content and end tag). */
  private openTag(lt: number): number {
    const s = this.source;
    const n = s.length;
    let i = lt + 1;
    while (i < n && !isEndOfTagSection(s.charCodeAt(i))) i++;
    if (i >= n) throw IRREGULAR;
    const inForeign = this.foreign[this.foreign.length - 1] !== Foreign.None;
    const raw = inForeign ? undefined : rawTextEnd(s, lt + 1, i);
    const name = this.tagName(lt + 1, i);
    // Parser.onopentagname → emitOpenTag.
    const openTagStart = this.startIndex;
    this.className = this.role = undefined;
    // The Parser ignores a form inside a form, but the attributes it reads then stay for an implied tag's onopentag.
    if (name === 'form' && this.stack.includes('form')) throw IRREGULAR;
    this.emitOpenTag(name);
    // Attributes, until the tag's '>'.
    let selfClosing = false;
    for (;;) {
      if (i >= n) throw IRREGULAR;
      const c = s.charCodeAt(i);
      if (c === GT) break;
      if (c === SLASH) {
        // InSelfClosingTag: whitespace stays in it; '>' ends the tag; anything else starts an attribute.
        i++;
        while (i < n && isWhitespace(s.charCodeAt(i))) i++;
        if (i < n && s.charCodeAt(i) === GT) {
          selfClosing = true;
          break;
        }
        continue;
      }
      if (isWhitespace(c)) {
        i++;
        continue;
      }
      i = this.attribute(i);
    }
    // i is at the tag's '>'.
    this.startIndex = openTagStart;
    this.endOpenTag(name);
    // Parser.onselfclosingtag in a foreign context → closeCurrentTag(false): the element closes at once.
    if (selfClosing && inForeign && this.stack[this.stack.length - 1] === name) this.popElement();
    this.startIndex = i + 1;
    if (raw !== undefined) return this.rawText(i + 1, raw);
    return i + 1;
  }

  /** One attribute from `start` (not whitespace, '/' or '>'); returns where the tokenizer stands after it. */
  private attribute(start: number): number {
    const s = this.source;
    const n = s.length;
    // The first character is the name's whatever it is (an '=' too), as in the tokenizer's BeforeAttributeName.
    let i = start + 1;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === EQ || isEndOfTagSection(c)) break;
      i++;
    }
    if (i >= n) throw IRREGULAR;
    const wanted = wantedAttribute(s, start, i);
    // AfterAttributeName: whitespace is skipped; '=' starts a value; anything else ends this attribute with no value.
    while (i < n && isWhitespace(s.charCodeAt(i))) i++;
    if (i >= n) throw IRREGULAR;
    if (s.charCodeAt(i) !== EQ) {
      this.attributeValue(wanted, '');
      return i;
    }
    i++;
    while (i < n && isWhitespace(s.charCodeAt(i))) i++;
    if (i >= n) throw IRREGULAR;
    const q = s.charCodeAt(i);
    if (q === DQ || q === SQ) {
      const close = s.indexOf(q === DQ ? '"' : "'", i + 1);
      if (close < 0) throw IRREGULAR;
      if (wanted !== Wanted.None) this.attributeValue(wanted, s.slice(i + 1, close));
      return close + 1;
    }
    // Unquoted: to whitespace or '>'.
    const valueStart = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === GT || isWhitespace(c)) break;
      i++;
    }
    if (i >= n) throw IRREGULAR;
    if (wanted !== Wanted.None) this.attributeValue(wanted, s.slice(valueStart, i));
    return i;
  }

  /** ContentParser.onattribend: a repeated attribute keeps its first value. */
  private attributeValue(wanted: Wanted, value: string): void {
    if (wanted === Wanted.None) return;
    // The Parser decodes entities in values (Attribute mode); class and role hold none on real pages.
    if (value.includes('&')) throw IRREGULAR;
    if (wanted === Wanted.Class) this.className ??= value;
    else this.role ??= value;
  }

  /** Parser.emitOpenTag (but a second form, which the caller refused). */
  private emitOpenTag(name: string): void {
    const impliesClose = OPEN_IMPLIES_CLOSE.get(name);
    if (impliesClose) while (this.stack.length > 0 && impliesClose.has(this.stack[this.stack.length - 1]!)) this.popElement();
    if (!VOID_ELEMENTS.has(name)) {
      this.stack.push(name);
      if (name === 'svg') this.foreign.push(Foreign.Svg);
      else if (name === 'math') this.foreign.push(Foreign.MathML);
      else if (HTML_INTEGRATION_ELEMENTS.has(name)) this.foreign.push(Foreign.None);
    }
  }

  /** Parser.endOpenTag. */
  private endOpenTag(name: string): void {
    this.handler.onopentag(name);
    if (VOID_ELEMENTS.has(name)) this.handler.onclosetag(name);
  }

  /** Parser.popElement (whether the close is implied is not told: parseHtml does not ask). */
  private popElement(): void {
    const element = this.stack.pop()!;
    if (element === 'svg' || element === 'math' || HTML_INTEGRATION_ELEMENTS.has(element)) this.foreign.pop();
    this.handler.onclosetag(element);
  }

  /** `</…` at `lt`. */
  private closingTag(lt: number): number {
    const s = this.source;
    const n = s.length;
    if (lt + 2 >= n) throw IRREGULAR;
    const c = s.charCodeAt(lt + 2);
    // `</>` is skipped without an event, so the Parser's startIndex goes stale: left to htmlparser2.
    if (c === GT) throw IRREGULAR;
    if (!isAsciiAlpha(c)) return this.bogusComment(lt + 2);
    let i = lt + 2;
    while (i < n && !isEndOfTagSection(s.charCodeAt(i))) i++;
    if (i >= n) throw IRREGULAR;
    this.closeTag(this.tagName(lt + 2, i), i);
    const gt = s.indexOf('>', i);
    if (gt < 0) throw IRREGULAR;
    return gt + 1;
  }

  /** Parser.onclosetag for `name`, whose name ends at `nameEnd` (the Parser's startIndex comes from there, not from the '>'). */
  private closeTag(name: string, nameEnd: number): void {
    if (!VOID_ELEMENTS.has(name)) {
      const pos = this.stack.lastIndexOf(name);
      if (pos !== -1) {
        while (this.stack.length - 1 > pos) this.popElement();
        this.popElement();
      } else if (name === 'p') {
        // An implicit open before the close: emitOpenTag('p') then closeCurrentTag(true).
        const openTagStart = this.startIndex;
        this.emitOpenTag('p');
        this.startIndex = openTagStart;
        this.endOpenTag('p');
        if (this.stack[this.stack.length - 1] === 'p') this.popElement();
      }
    } else if (name === 'br') {
      this.handler.onopentag('br');
      this.handler.onclosetag('br');
    }
    this.startIndex = nameEnd + 1;
  }

  /** `<!…` at `lt`. */
  private declaration(lt: number): number {
    const s = this.source;
    if (s.startsWith('<!--', lt)) return this.comment(lt + 4);
    if (s.charCodeAt(lt + 2) === 0x5b) throw IRREGULAR; // `<![`: CDATA or a bogus comment
    // A doctype, `<!>`, `<!-…` or any other declaration ends at the first '>'.
    return this.bogusComment(lt + 2);
  }

  /** A comment, declaration or bogus comment that ends at the first '>' from `from`. */
  private bogusComment(from: number): number {
    const gt = this.source.indexOf('>', from);
    if (gt < 0) throw IRREGULAR;
    this.startIndex = gt + 1;
    return gt + 1;
  }

  /** A comment whose text starts at `start` (after `<!--`): the tokenizer's InCommentLike with `--!>`, which also ends at `-->`, `<!-->` and `<!--->`. */
  private comment(start: number): number {
    const s = this.source;
    const n = s.length;
    let k = 0;
    for (let i = start; i < n; i++) {
      const c = s.charCodeAt(i);
      if (k <= 1 && i === start + k && c === GT) return this.endComment(i);
      if (k === 2 && c === GT) return this.endComment(i);
      if (k === 3 && c !== GT) k = c === DASH ? 1 : 0;
      else if (c === COMMENT_END[k]) {
        if (++k === COMMENT_END.length) return this.endComment(i);
      } else if (k === 0) {
        const dash = s.indexOf('-', i + 1);
        if (dash < 0) throw IRREGULAR;
        i = dash;
        k = 1;
      } else if (c !== COMMENT_END[k - 1]) k = 0;
    }
    throw IRREGULAR;
  }

  private endComment(gt: number): number {
    this.startIndex = gt + 1;
    return gt + 1;
  }

  /**
   * The content of a script, style or title from `start`, to its end tag (`end`: `</name` in
   * lower case) followed by whitespace, '/' or '>', matched as the tokenizer's InSpecialTag does;
   * a title's entities are decoded (RCDATA). Returns the offset after the end tag.
   */
  private rawText(start: number, end: Uint8Array): number {
    const s = this.source;
    const n = s.length;
    const rcdata = end === TITLE_END;
    this.textStart = start;
    let k = 0;
    let i = start;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (k === end.length) {
        if (isEndOfTagSection(c)) {
          const endOfText = i - end.length;
          if (this.textStart < endOfText) this.emitText(this.textStart, endOfText);
          this.closeTag(this.tagName(endOfText + 2, i), i);
          const gt = s.indexOf('>', i);
          if (gt < 0) throw IRREGULAR;
          return gt + 1;
        }
        k = 0;
      }
      if ((c | 0x20) === end[k]) k++;
      else if (k === 0) {
        if (rcdata) {
          if (c === AMP) {
            const after = this.decodeEntity(i);
            if (after >= 0) {
              i = after;
              continue;
            }
          }
        } else {
          const lt = s.indexOf('<', i + 1);
          if (lt < 0) throw IRREGULAR;
          i = lt;
          k = 1;
        }
      } else k = c === LT ? 1 : 0;
      i++;
    }
    throw IRREGULAR;
  }
}

const COMMENT_END = codes('--!>');

function indexOrEnd(source: string, search: string, from: number): number {
  const at = source.indexOf(search, from);
  return at < 0 ? source.length : at;
}

/**
 * The end tag to look for when source[start, end) names script, style or title (any case);
 * IRREGULAR for the tokenizer's other raw-text elements. By length first: most tags are none.
 */
function rawTextEnd(source: string, start: number, end: number): Uint8Array | undefined {
  switch (end - start) {
    case 3:
      if (nameIs(source, start, end, 'xmp')) throw IRREGULAR;
      return undefined;
    case 5:
      return nameIs(source, start, end, 'style') ? STYLE_END : nameIs(source, start, end, 'title') ? TITLE_END : undefined;
    case 6:
      if (nameIs(source, start, end, 'iframe')) throw IRREGULAR;
      return nameIs(source, start, end, 'script') ? SCRIPT_END : undefined;
    case 7:
    case 8:
    case 9:
      for (const name of OTHER_SPECIAL) if (nameIs(source, start, end, name)) throw IRREGULAR;
      return undefined;
    default:
      return undefined;
  }
}

/** Which of the attributes parseHtml reads the name source[start, end) is, in any case. */
export function wantedAttribute(source: string, start: number, end: number): Wanted {
  return nameIs(source, start, end, 'class') ? Wanted.Class : nameIs(source, start, end, 'role') ? Wanted.Role : Wanted.None;
}

/** Whether source[start, end) is `lower` in any case (`lower`: ASCII lower-case letters). */
export function nameIs(source: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((source.charCodeAt(start + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/**
 * Tag names of up to four characters that pages use most (span, a, code, li, p, div: 85% of the tags of 2,519 Sphinx
 * and DocBook pages), keyed by their length and lower-case ASCII codes. Parser.readTagName cuts out and
 * lower-cases every tag's name, a new string each time, whose hash is then computed again in every Set
 * and Map that looks it up (the Parser's and tagKind's); one string per name saves both, about a twelfth of
 * parsing a page. None is changed by readTagName's SVG adjustments or its `image` alias, so the name is
 * exactly what readTagName returns.
 */
const COMMON_TAG_NAMES = new Map<number, string>();
const MAX_COMMON_TAG_LENGTH = 4;
for (const name of ['span', 'a', 'code', 'li', 'p', 'div', 'em', 'td', 'dt', 'ul', 'dd', 'tr', 'dl', 'pre', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'th', 'br', 'hr', 'img', 'ol', 'b', 'i', 'tt', 'kbd', 'var', 'sup', 'sub', 'col', 'abbr', 'cite', 'link', 'meta', 'html', 'head', 'body', 'form', 'nav']) {
  let key = name.length;
  for (let i = 0; i < name.length; i++) key = key * 0x80 + name.charCodeAt(i);
  COMMON_TAG_NAMES.set(key, name);
}

/** readTagName's answer for the tag name source[start, endIndex) when it is one of COMMON_TAG_NAMES, else undefined. */
export function commonTagName(source: string, start: number, endIndex: number): string | undefined {
  const length = endIndex - start;
  if (length > MAX_COMMON_TAG_LENGTH) return undefined;
  let key = length;
  for (let i = start; i < endIndex; i++) {
    const c = source.charCodeAt(i);
    if (c >= 0x80) return undefined;
    key = key * 0x80 + (c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  }
  return COMMON_TAG_NAMES.get(key);
}
