/**
 * Docent's commands, each a small function of the context that returns its handler, registered
 * from one table (extension.ts). Command ids are `docent.<name>`, as package.json contributes them.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from './ctx.js';
import { chooseEditorModel as pickEditorModel } from './editorModels.js';
import { selectionQuestion } from './editorSelection.js';
import { configureBackend as runSetup } from './setupFlow.js';

export type Command = (ctx: Ctx) => (...args: unknown[]) => unknown;

const openChat: Command = (ctx) => () => ctx.chat.reveal();

const stopAnswer: Command = (ctx) => () => ctx.chat.stopAnswers();

const newChat: Command = (ctx) => async () => {
  await ctx.chat.reveal();
  ctx.chat.newChat();
};

const showConversations: Command = (ctx) => async () => {
  await ctx.chat.reveal();
  await ctx.chat.showConversations();
};

const explainSelection: Command = (ctx) => async () => {
  const asked = await selectionQuestion(vscode.window.activeTextEditor);
  if (!asked) {
    void vscode.window.showInformationMessage('Select some text to explain first.');
    return;
  }
  // The chat shows the selection's file:lines; the search runs on the selection's own terms.
  await ctx.chat.reveal();
  await ctx.chat.ask(asked.query, asked.selection);
};

const reindex: Command = (ctx) => () => ctx.indexing.reindexWithProgress();

const pauseIndexing: Command = (ctx) => () => ctx.startedCore().pauseIndex();

const resumeIndexing: Command = (ctx) => () => {
  ctx.startedCore().resumeIndex();
};

const clearCache: Command = (ctx) => () => {
  ctx.core.clearCache();
  void vscode.window.showInformationMessage('Docent: answer and embedding caches cleared.');
};

const showMetrics: Command = (ctx) => async () => {
  await ctx.metricsPanel.show();
  return ctx.diagnostics();
};

const startLocalServer: Command = (ctx) => () => ctx.startLocalServer();

const stopLocalServer: Command = (ctx) => () => ctx.stopLocalServer();

const setApiKey: Command = (ctx) => async () => {
  const key = await vscode.window.showInputBox({
    title: 'Docent: API key for the remote endpoint',
    prompt: "Stored in the editor's secret storage, never in settings. Leave empty to remove it.",
    password: true,
    ignoreFocusOut: true,
  });
  if (key !== undefined) await ctx.setApiKey(key);
};

const pullEmbeddingModel: Command = (ctx) => async () => {
  const repoId = await vscode.window.showInputBox({
    title: 'Docent: pull an embedding model from Hugging Face',
    prompt: 'Repository id of a sentence-transformers ONNX export',
    value: 'sentence-transformers/all-MiniLM-L6-v2',
    ignoreFocusOut: true,
  });
  if (!repoId) return;
  const cacheDir = path.join(ctx.extension.globalStorageUri.fsPath, 'models');
  try {
    const cancel = new AbortController();
    const folder = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Docent: pulling ${repoId}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => cancel.abort());
        return ctx.startedCore().pullModel(repoId, cacheDir, (message) => progress.report({ message }), cancel.signal);
      },
    );
    await vscode.workspace.getConfiguration('docent').update('embedding.model', folder, vscode.ConfigurationTarget.Global);
    void vscode.window.showInformationMessage(`Docent now embeds with ${repoId}; the index is rebuilt in the background.`);
  } catch (error) {
    if ((error as Error).name === 'AbortError') {
      void vscode.window.showInformationMessage(`Docent: pulling ${repoId} was cancelled; pulling it again resumes the download.`);
      return;
    }
    void vscode.window.showErrorMessage(`Docent could not pull ${repoId}: ${(error as Error).message}`);
  }
};

const chooseEditorModel: Command = () => () => pickEditorModel();

const configureBackend: Command = (ctx) => () =>
  runSetup({ apiKey: () => ctx.currentApiKey, setApiKey: (key) => ctx.setApiKey(key), startLocalServer: () => ctx.startLocalServer(), log: ctx.log });

const statusMenu: Command = (ctx) => async () => {
  const paused = ctx.indexing.current?.state === 'paused';
  const separator = (label: string) => ({ label, kind: vscode.QuickPickItemKind.Separator, command: '' });
  const items: (vscode.QuickPickItem & { command: string })[] = [
    separator('Chat'),
    { label: '$(comment-discussion) Open Chat', command: 'docent.openChat' },
    { label: '$(add) New Chat', command: 'docent.newChat' },
    { label: '$(history) Past Chats', command: 'docent.showConversations' },
    separator('Index'),
    { label: '$(sync) Reindex Workspace', command: 'docent.reindex' },
    paused ? { label: '$(debug-continue) Resume Indexing', command: 'docent.resumeIndexing' } : { label: '$(debug-pause) Pause Indexing', command: 'docent.pauseIndexing' },
    { label: '$(clear-all) Clear Cache', command: 'docent.clearCache' },
    separator('Backend'),
    { label: '$(settings-gear) Configure Backend', command: 'docent.configureBackend' },
    { label: '$(key) Set API Key', command: 'docent.setApiKey' },
    ctx.server.running
      ? { label: '$(debug-stop) Stop Local Server', command: 'docent.stopLocalServer' }
      : { label: '$(play) Start Local Server', command: 'docent.startLocalServer' },
    separator('Diagnostics'),
    { label: '$(graph) Show Metrics', command: 'docent.showMetrics' },
    { label: '$(output) Show Log', command: 'docent.showLog' },
  ];
  const choice = await vscode.window.showQuickPick(items, { title: 'Docent', placeHolder: ctx.backendLabel() });
  if (choice) await vscode.commands.executeCommand(choice.command);
};

const showLog: Command = (ctx) => () => ctx.log.show(true);

/** Every command, by the name after `docent.`. */
export const COMMANDS: Record<string, Command> = {
  openChat,
  stopAnswer,
  newChat,
  showConversations,
  explainSelection,
  reindex,
  pauseIndexing,
  resumeIndexing,
  clearCache,
  showMetrics,
  startLocalServer,
  stopLocalServer,
  setApiKey,
  pullEmbeddingModel,
  configureBackend,
  chooseEditorModel,
  statusMenu,
  showLog,
};
