/**
 * Text that reaches a terminal from documents or models must not drive it: an ESC sequence in a
 * file name or a model's reply could retitle the window, clear the screen or plant an OSC 8 link.
 * One place decides how such text is made inert.
 */

// C0 controls except TAB and LF, DEL, and the C1 range (U+0080..U+009F, which some terminals
// read as 8-bit CSI/OSC introducers).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Shows every control character as a visible `\xNN` escape (for names and one-line labels). */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

// Whole escape sequences, so that their parameters do not survive as visible junk:
// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte ESC sequences, and 8-bit CSI/OSC.
const SEQUENCE =
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]|\u009d[^\u0007\u009c]*(?:\u0007|\u009c)?/g;

/** Removes escape sequences and other control characters (CR included), keeping TAB and LF (for prose). */
export function stripTerminalControls(text: string): string {
  return text.replace(SEQUENCE, '').replace(CONTROL, '');
}

// The start of an escape sequence that a later chunk may complete.
const UNFINISHED =
  /^(?:\u001b|\u001b\[[0-?]*[ -/]*|\u001b\][^\u0007\u001b]*|\u009b[0-?]*[ -/]*|\u009d[^\u0007\u009c]*)$/;
const INTRODUCER = /[\u001b\u009b\u009d]/g;
/** An unfinished sequence longer than this is let go (stripped), so a stream cannot make us hold text forever. */
const MAX_HELD = 4096;

/**
 * stripTerminalControls for text that arrives in chunks (a model's streamed reply): a sequence
 * split across chunks is held back until it completes, so no half of it reaches the terminal.
 * The concatenated output equals stripTerminalControls of the concatenated input.
 */
export class TerminalTextStream {
  private held = '';

  /** The printable part of `chunk`, after what was held back. */
  write(chunk: string): string {
    const text = this.held + chunk;
    this.held = '';
    let last = -1;
    for (const match of text.matchAll(INTRODUCER)) last = match.index;
    if (last >= 0 && text.length - last <= MAX_HELD && UNFINISHED.test(text.slice(last))) {
      this.held = text.slice(last);
      return stripTerminalControls(text.slice(0, last));
    }
    return stripTerminalControls(text);
  }

  /** What is still held, an unfinished sequence, treated as stripTerminalControls treats one at the end of a text. */
  end(): string {
    const rest = stripTerminalControls(this.held);
    this.held = '';
    return rest;
  }
}
