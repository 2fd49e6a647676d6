/**
 * `@docent` in the editor's own chat (contributes.chatParticipants): answers from the workspace
 * docs through the core process, like Docent's chat view, streaming the answer and then its
 * sources as anchors and references that open the exact cited lines. `/explain` explains the
 * editor's selection; follow-ups offer the cited sections.
 */
import * as vscode from 'vscode';
import type { LocatedCitation, Turn } from '../core/pipeline/types.js';
import { citationLabel, citationLocation, selectingUri } from './citationLocation.js';
import { AskFailure, type CoreProcessClient } from './coreProcess/client.js';
import type { AskParams } from './coreProcess/protocol.js';
import { selectionQuestion } from './editorSelection.js';
import { backendKind } from './settings.js';

/** The participant's id in package.json's chatParticipants. */
export const PARTICIPANT_ID = 'docent.docent';
const FOLLOW_UPS = 2;

interface DocentChatResult extends vscode.ChatResult {
  /** `answer`: the answer's text without its Sources list, the turn as later questions' history sees it. */
  metadata?: { headings: string[]; answer: string };
}

export function registerChatParticipant(extension: vscode.ExtensionContext, core: () => CoreProcessClient, log: vscode.LogOutputChannel): vscode.Disposable {
  const participant = vscode.chat.createChatParticipant(PARTICIPANT_ID, (request, context, stream, token) => answer(core(), log, request, context, stream, token));
  participant.iconPath = vscode.Uri.joinPath(extension.extensionUri, 'media', 'icon.png');
  participant.followupProvider = {
    provideFollowups: (result: DocentChatResult) => (result.metadata?.headings ?? []).map((heading) => ({ prompt: `Tell me more about ${heading}`, label: `More about ${heading}` })),
  };
  return participant;
}

async function answer(
  core: CoreProcessClient,
  log: vscode.LogOutputChannel,
  request: vscode.ChatRequest,
  context: vscode.ChatContext,
  stream: vscode.ChatResponseStream,
  token: vscode.CancellationToken,
): Promise<DocentChatResult> {
  const params = await questionOf(request, context);
  if (!params) {
    stream.markdown('Select the code or text to explain in an editor first, then ask `@docent /explain` again.');
    return {};
  }
  const cancel = new AbortController();
  const cancelled = token.onCancellationRequested(() => cancel.abort());
  stream.progress('Searching the docs…');
  const model = chatModelFor(request);
  // Which model answers, for a user who wonders why the chat's model picker did or did not matter.
  log.info(`@docent${request.command ? ` /${request.command}` : ''}: answering with ${model ? `the chat's model ${model}` : `the configured backend (${backendKind()})`}`);
  let citations: LocatedCitation[] = [];
  let answerText = '';
  const write = (text: string) => {
    answerText += text;
    stream.markdown(text);
  };
  try {
    const outcome = await core.ask(params, { onToken: write, onSources: (sources) => (citations = sources) }, cancel.signal, model);
    if (outcome.degradedReason) write(`\n\n_${outcome.degradedReason}_`);
  } catch (error) {
    if (error instanceof AskFailure && error.reason === 'aborted') return {};
    return { errorDetails: { message: error instanceof AskFailure && error.reason === 'busy' ? 'Docent is answering other questions; ask again in a moment.' : (error as Error).message } };
  } finally {
    cancelled.dispose();
  }
  writeSources(stream, citations);
  const headings = [...new Set(citations.flatMap((citation) => (citation.heading ? [citation.heading.split(' › ').at(-1)!] : [])))];
  return { metadata: { headings: headings.slice(0, FOLLOW_UPS), answer: answerText } };
}

/**
 * The model picked in the editor's chat answers when Docent's backend is the editor's or none;
 * a configured local or remote server keeps answering. Undefined: the configured backend.
 */
function chatModelFor(request: vscode.ChatRequest): string | undefined {
  const kind = backendKind();
  return kind === 'editor' || kind === 'none' ? request.model?.id : undefined;
}

/**
 * The request as the core process takes it; undefined for `/explain` without a selection. `/explain`
 * searches with the user's words, or else the selection's own terms, as Explain Selection does.
 */
async function questionOf(request: vscode.ChatRequest, context: vscode.ChatContext): Promise<AskParams | undefined> {
  const history = historyOf(context);
  if (request.command !== 'explain') return { question: request.prompt, history };
  const asked = await selectionQuestion(vscode.window.activeTextEditor);
  if (!asked) return undefined;
  return { question: request.prompt.trim() || asked.query, history, selection: asked.selection };
}

/** This participant's earlier turns of the conversation, oldest first. */
function historyOf(context: vscode.ChatContext): Turn[] {
  return context.history.flatMap((turn): Turn[] => {
    if (turn.participant !== PARTICIPANT_ID) return [];
    if (turn instanceof vscode.ChatRequestTurn) return [{ role: 'user', content: turn.prompt }];
    // The answer alone: the Sources list's anchors are not text, so its markdown would read "[1]  lines 37–40".
    const content = (turn.result as DocentChatResult).metadata?.answer ?? '';
    return content ? [{ role: 'assistant', content }] : [];
  });
}

/** Numbered sources, each an anchor to its exact lines, and the files as references. */
function writeSources(stream: vscode.ChatResponseStream, citations: LocatedCitation[]): void {
  const located = citations.flatMap((citation) => {
    const location = citationLocation(citation);
    return location ? [{ citation, location }] : [];
  });
  if (located.length === 0) return;
  stream.markdown('\n\n**Sources**');
  for (const { citation, location } of located) {
    stream.markdown(`\n\n[${citation.n}] `);
    // A Uri anchor shows the file's name only: the lines follow it as text.
    stream.anchor(selectingUri(location), citationLabel(citation));
    stream.markdown(` lines ${citation.startLine}–${citation.endLine}${citation.folder ? ` (${citation.folder})` : ''}${citation.heading ? ` — ${citation.heading}` : ''}`);
    stream.reference(location);
  }
}
