/**
 * `@docent` in the editor's own chat (contributes.chatParticipants): answers from the workspace
 * docs through the core process, like Docent's chat view, streaming the answer and then its
 * sources as anchors and references that open the exact cited lines. `/explain` explains the
 * editor's selection; follow-ups offer the cited sections.
 */
import * as vscode from 'vscode';
import type { LocatedCitation, Turn } from '../core/pipeline/types.js';
import { citationLabel, citationLocation } from './citationLocation.js';
import { AskFailure, type CoreProcessClient } from './coreProcess/client.js';
import type { AskParams } from './coreProcess/protocol.js';
import { explainRequest } from './explainSelection.js';
import { backendKind } from './settings.js';

/** The participant's id in package.json's chatParticipants. */
export const PARTICIPANT_ID = 'docent.docent';
const FOLLOW_UPS = 2;

interface DocentChatResult extends vscode.ChatResult {
  metadata?: { headings: string[] };
}

export function registerChatParticipant(extension: vscode.ExtensionContext, core: () => CoreProcessClient): vscode.Disposable {
  const participant = vscode.chat.createChatParticipant(PARTICIPANT_ID, (request, context, stream, token) => answer(core(), request, context, stream, token));
  participant.iconPath = vscode.Uri.joinPath(extension.extensionUri, 'media', 'icon.png');
  participant.followupProvider = {
    provideFollowups: (result: DocentChatResult) => (result.metadata?.headings ?? []).map((heading) => ({ prompt: `Tell me more about ${heading}`, label: `More about ${heading}` })),
  };
  return participant;
}

async function answer(
  core: CoreProcessClient,
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
  let citations: LocatedCitation[] = [];
  try {
    const outcome = await core.ask(params, { onToken: (text) => stream.markdown(text), onSources: (sources) => (citations = sources) }, cancel.signal, chatModelFor(request));
    if (outcome.degradedReason) stream.markdown(`\n\n_${outcome.degradedReason}_`);
  } catch (error) {
    if (error instanceof AskFailure && error.reason === 'aborted') return {};
    return { errorDetails: { message: error instanceof AskFailure && error.reason === 'busy' ? 'Docent is answering other questions; ask again in a moment.' : (error as Error).message } };
  } finally {
    cancelled.dispose();
  }
  writeSources(stream, citations);
  const headings = [...new Set(citations.flatMap((citation) => (citation.heading ? [citation.heading.split(' › ').at(-1)!] : [])))];
  return { metadata: { headings: headings.slice(0, FOLLOW_UPS) } };
}

/**
 * The model picked in the editor's chat answers when Docent's backend is the editor's or none;
 * a configured local or remote server keeps answering. Undefined: the configured backend.
 */
function chatModelFor(request: vscode.ChatRequest): string | undefined {
  const kind = backendKind();
  return kind === 'editor' || kind === 'none' ? request.model?.id : undefined;
}

/** The request as the core process takes it; undefined for `/explain` without a selection. */
async function questionOf(request: vscode.ChatRequest, context: vscode.ChatContext): Promise<AskParams | undefined> {
  const history = historyOf(context);
  if (request.command !== 'explain') return { question: request.prompt, history };
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) return undefined;
  const explain = await explainRequest(editor);
  // A question of the user's own is searched as asked; without one, the selection's terms are.
  const prompt = request.prompt.trim();
  return prompt ? { question: prompt, history, selection: explain.selection } : { ...explain, history };
}

/** This participant's earlier turns of the conversation, oldest first. */
function historyOf(context: vscode.ChatContext): Turn[] {
  return context.history.flatMap((turn): Turn[] => {
    if (turn.participant !== PARTICIPANT_ID) return [];
    if (turn instanceof vscode.ChatRequestTurn) return [{ role: 'user', content: turn.prompt }];
    const content = turn.response.map((part) => (part instanceof vscode.ChatResponseMarkdownPart ? part.value.value : '')).join('');
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
    stream.anchor(location, citationLabel(citation));
    if (citation.heading) stream.markdown(` — ${citation.heading}`);
    stream.reference(location);
  }
}
