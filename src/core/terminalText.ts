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
