/**
 * Backend `editor`: answers written by a chat model the editor provides (vscode.lm: GitHub
 * Copilot's, or any extension's language-model provider). The core process builds the prompt
 * and asks for it here (hostModels.ts on its side); what the model writes streams back. Consent,
 * quota and a missing model become one clear line, which the pipeline shows on its
 * retrieval-only fallback answer.
 */
import * as vscode from 'vscode';
import type { GenerateSink } from './coreProcess/client.js';
import type { GenerateRequest } from './coreProcess/protocol.js';

const JUSTIFICATION = "Docent answers your questions from this workspace's documentation with the model you chose.";

/** Runs the request on the chosen model (the first the editor offers for ''), streaming into `sink`. */
export async function generateWithEditorModel(request: GenerateRequest, sink: GenerateSink, signal: AbortSignal): Promise<void> {
  const cancel = new vscode.CancellationTokenSource();
  signal.addEventListener('abort', () => cancel.cancel(), { once: true });
  try {
    const [model] = await vscode.lm.selectChatModels(request.modelId ? { id: request.modelId } : undefined);
    if (!model) {
      sink.done({
        kind: 'rejected',
        message: request.modelId
          ? `the editor's model "${request.modelId}" is not available; choose another with "Docent: Choose Editor Model"`
          : 'the editor offers no language model; install or sign in to a model provider (e.g. GitHub Copilot), or choose another backend',
      });
      return;
    }
    // The editor's chat API has no system role: the instructions lead the first user message.
    const messages = request.messages.map((message) =>
      message.role === 'assistant' ? vscode.LanguageModelChatMessage.Assistant(message.content) : vscode.LanguageModelChatMessage.User(message.content),
    );
    const response = await model.sendRequest(messages, { justification: JUSTIFICATION, modelOptions: { max_tokens: request.maxTokens } }, cancel.token);
    for await (const text of response.text) {
      if (signal.aborted) break;
      sink.token(text);
    }
    sink.done();
  } catch (error) {
    sink.done(failureOf(error));
  } finally {
    cancel.dispose();
  }
}

function failureOf(error: unknown): NonNullable<Parameters<GenerateSink['done']>[0]> {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof vscode.LanguageModelError) {
    if (error.code === vscode.LanguageModelError.NoPermissions().code) {
      return { kind: 'rejected', message: `Docent may not use the editor's model yet: allow it when the editor asks (or under Accounts › Manage Language Model Access) (${message})` };
    }
    if (error.code === vscode.LanguageModelError.Blocked().code) return { kind: 'rate-limited', message: `the editor's model refused the request: its quota is used up or requests are blocked (${message})` };
    if (error.code === vscode.LanguageModelError.NotFound().code) return { kind: 'rejected', message: `the editor's model is gone (${message}); choose another with "Docent: Choose Editor Model"` };
  }
  return { kind: 'server-error', message: `the editor's model failed: ${message}` };
}

/** The editor's chat models as a list to choose from; the choice is saved as `docent.editor.model`. */
export async function chooseEditorModel(): Promise<string | undefined> {
  const models = await vscode.lm.selectChatModels();
  if (models.length === 0) {
    void vscode.window.showWarningMessage(
      'Docent: the editor offers no language model. Install or sign in to a model provider (for example GitHub Copilot), or keep answering from the passages alone.',
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    models.map((model) => ({ label: model.name, description: `${model.vendor} · ${model.family}`, detail: `up to ${model.maxInputTokens} input tokens`, id: model.id })),
    { title: 'Docent: the editor model that writes answers', placeHolder: 'Questions and passages from your docs go to this model’s provider' },
  );
  if (!picked) return undefined;
  const config = vscode.workspace.getConfiguration('docent');
  await config.update('editor.model', picked.id, vscode.ConfigurationTarget.Global);
  await config.update('backend', 'editor', vscode.ConfigurationTarget.Global);
  return picked.id;
}
