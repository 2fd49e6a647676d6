/**
 * What the chat keeps of a turn in workspace state: the answer within the answer bound and each
 * citation as a reference (folder, path, lines, heading) with a short excerpt rather than the
 * passage, so a stored history always fits the protocol's limits and every reload's `init`
 * validates, even for turns saved by an older version without bounds.
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
    question: boundText(turn.question, STORED_QUESTION_CHARS),
    answer: boundText(turn.answer, STORED_ANSWER_CHARS),
    citations: turn.citations.slice(0, 100).map((citation) => ({ ...citation, text: boundText(citation.text, STORED_EXCERPT_CHARS) })),
    ...(turn.degradedReason === undefined ? {} : { degradedReason: boundText(turn.degradedReason, STORED_MESSAGE_CHARS) }),
    ...(turn.error === undefined ? {} : { error: boundText(turn.error, STORED_MESSAGE_CHARS) }),
  };
}
