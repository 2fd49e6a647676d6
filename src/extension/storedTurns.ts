/**
 * What the chat keeps of a turn in workspace state: the answer within the answer bound and each
 * citation as a reference (folder, path, lines, heading) with a short excerpt rather than the
 * passage, so a stored history always fits the protocol's limits and every reload's `init`
 * validates, even for turns saved by an older version without bounds (or whose selection kept its
 * lines in its path).
 */
import { boundText, MAX_ANSWER_CHARS, STORED_EXCERPT_CHARS } from '../core/bounds.js';
import type { ChatTurn } from '../shared/chatProtocol.js';

/** The answer's own cut note may follow MAX_ANSWER_CHARS; this leaves room for it. */
const STORED_ANSWER_CHARS = MAX_ANSWER_CHARS + 200;
const STORED_QUESTION_CHARS = 8_000;
const STORED_MESSAGE_CHARS = 2_000;

export function storedTurn(turn: ChatTurn): ChatTurn {
  return {
    ...turn,
    ...(turn.selection ? { selection: selectionWithLines(turn.selection) } : {}),
    question: boundText(turn.question, STORED_QUESTION_CHARS),
    answer: boundText(turn.answer, STORED_ANSWER_CHARS),
    citations: turn.citations.slice(0, 100).map((citation) => ({ ...citation, text: boundText(citation.text, STORED_EXCERPT_CHARS) })),
    ...(turn.degradedReason === undefined ? {} : { degradedReason: boundText(turn.degradedReason, STORED_MESSAGE_CHARS) }),
    ...(turn.error === undefined ? {} : { error: boundText(turn.error, STORED_MESSAGE_CHARS) }),
  };
}

/** Turns stored before the selection had lines of its own kept them in its path (`src/a.ts:3-9`). */
function selectionWithLines(selection: NonNullable<ChatTurn['selection']>): NonNullable<ChatTurn['selection']> {
  const packed = selection.startLine === undefined ? /^(.+):(\d+)-(\d+)$/.exec(selection.path) : null;
  if (!packed || Number(packed[3]) < Number(packed[2]) || Number(packed[2]) < 1) return selection;
  return { ...selection, path: packed[1]!, startLine: Number(packed[2]), endLine: Number(packed[3]) };
}
