/**
 * An answer is Markdown (the webview renders it); a terminal shows it as written, where the
 * backslashes that keep a document's "1." or "__init__" literal ("1\.", "\_\_init\_\_") are noise.
 * This drops those escapes outside code, as a Markdown renderer would, and leaves fences and code
 * spans as they are. It works on a stream (a model's reply arrives in chunks): only what a later
 * chunk could change (a backslash, a run of backticks, a line that may open a fence) is held back,
 * so prose still appears as it arrives. The concatenated output equals the whole text's.
 */
const ESCAPABLE = /[!-/:-@[-`{-~]/;
/** What a line holds so far while it could still be a fence line (up to three spaces, then ``` or ~~~). */
const FENCE_PREFIX = /^ {0,3}(?:`*|~*)$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

export class TerminalMarkdownStream {
  /** The start of the current line, while it may still open or close a fence. */
  private lineStart = '';
  private lineDecided = false;
  private fence: string | undefined;
  /** The rest of a fence line (its info string) is verbatim too. */
  private verbatimLine = false;
  /** The length of the backtick run that opened the code span we are in (0: none). */
  private span = 0;
  private ticks = 0;
  private backslash = false;

  write(chunk: string): string {
    let out = '';
    for (const ch of chunk) out += this.take(ch);
    return out;
  }

  /** What is still held back, as the end of the text. */
  end(): string {
    let out = this.lineDecided ? '' : this.decideLine();
    out += this.flushTicks();
    if (this.backslash) out += '\\';
    this.backslash = false;
    return out;
  }

  private take(ch: string): string {
    if (!this.lineDecided) {
      if (ch !== '\n' && FENCE_PREFIX.test(this.lineStart + ch)) {
        this.lineStart += ch;
        return '';
      }
      return this.decideLine() + this.inline(ch);
    }
    return this.inline(ch);
  }

  /** Ends the undecided start of a line: a fence line is passed through whole, anything else goes inline. */
  private decideLine(): string {
    const start = this.lineStart;
    this.lineStart = '';
    this.lineDecided = true;
    const fence = FENCE.exec(start);
    if (fence && (this.fence === undefined || fence[1]![0] === this.fence[0] && fence[1]!.length >= this.fence.length)) {
      this.fence = this.fence === undefined ? fence[1] : undefined;
      this.verbatimLine = true;
      return start;
    }
    let out = '';
    for (const ch of start) out += this.inline(ch);
    return out;
  }

  private inline(ch: string): string {
    if (ch === '\n') {
      const out = this.flushTicks() + (this.backslash ? '\\' : '') + '\n';
      this.backslash = false;
      this.span = 0;
      this.lineDecided = false;
      this.verbatimLine = false;
      return out;
    }
    if (this.verbatimLine || this.fence !== undefined) return ch;
    if (this.backslash) {
      this.backslash = false;
      return ESCAPABLE.test(ch) ? ch : `\\${this.inline(ch)}`;
    }
    if (ch === '`') {
      this.ticks++;
      return '';
    }
    const out = this.flushTicks();
    if (ch === '\\' && this.span === 0) {
      this.backslash = true;
      return out;
    }
    return out + ch;
  }

  /** A finished run of backticks opens a code span, or closes the one its length matches. */
  private flushTicks(): string {
    if (this.ticks === 0) return '';
    const run = '`'.repeat(this.ticks);
    if (this.span === 0) this.span = this.ticks;
    else if (this.span === this.ticks) this.span = 0;
    this.ticks = 0;
    return run;
  }
}
