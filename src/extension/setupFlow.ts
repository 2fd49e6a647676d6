/**
 * "Docent: Configure Backend" as one guided quick-input flow: backend → URL → a model picked
 * from the endpoint's /v1/models → API key → a live test request. Settings are written to the
 * user settings of the machine the extension runs on: Docent's backend settings are
 * machine-scoped, so in a remote window (Remote-SSH, WSL, containers, code-server) VS Code
 * routes them to the Remote settings, where they are read. Talks to the endpoint with fetch
 * (no client library in the extension host).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SETTING_RANGES } from '../core/bounds.js';
import { chooseEditorModel } from './editorModels.js';
import { backendKind, localServerSettings, openSettings, remoteModel, type BackendKind } from './settings.js';

const TITLE = 'Docent: Configure Backend';
const REQUEST_TIMEOUT_MS = 15_000;

export interface SetupHost {
  apiKey(): string | undefined;
  setApiKey(key: string | undefined): Promise<void>;
  startLocalServer(): void;
  log: vscode.LogOutputChannel;
}

/** One row per backend; a new backend adds a row and a branch in `configureBackend`. */
const BACKENDS: { backend: BackendKind; label: string; detail: string }[] = [
  { backend: 'remote', label: '$(cloud) Remote endpoint', detail: 'An OpenAI-compatible server (vLLM, llama.cpp, a hosted API). Your questions and passages are sent there.' },
  { backend: 'local', label: '$(server-process) Local server', detail: 'docent serve on this machine, with a model folder. Nothing leaves the machine.' },
  { backend: 'editor', label: '$(sparkle) Editor model', detail: "A chat model the editor provides (GitHub Copilot or another extension). Your questions and passages go to that model's provider." },
  { backend: 'none', label: '$(book) None', detail: "No answer model: Docent's chat shows the passages; @docent answers with the editor chat's model." },
];

type Step<T> = T | undefined;

function section(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('docent');
}

/** Writes where machine-scoped settings are read: user settings, which a remote window keeps on the remote machine. */
async function write(key: string, value: unknown): Promise<void> {
  await section().update(key, value, vscode.ConfigurationTarget.Global);
}

function where(): string {
  return vscode.env.remoteName ? `the Remote settings (${vscode.env.remoteName})` : 'your User settings';
}

export async function configureBackend(host: SetupHost): Promise<void> {
  const current = backendKind();
  const picked = await vscode.window.showQuickPick(
    BACKENDS.map((choice) => ({ ...choice, description: choice.backend === current ? 'current' : '' })),
    { title: `${TITLE} (1/5): which model answers?`, placeHolder: 'Pick a backend', ignoreFocusOut: true },
  );
  if (!picked) return;
  switch (picked.backend) {
    case 'remote':
      return configureRemote(host);
    case 'local':
      return configureLocal(host);
    case 'editor':
      // Choose Editor Model saves the model and the backend together.
      await chooseEditorModel();
      return;
    case 'none':
      await write('backend', 'none');
      void vscode.window.showInformationMessage(`Docent's chat answers with the passages alone; @docent in the editor's chat uses the model picked there (saved in ${where()}).`);
      return;
  }
}

async function configureRemote(host: SetupHost): Promise<void> {
  const baseUrl = await vscode.window.showInputBox({
    title: `${TITLE} (2/5): endpoint URL`,
    prompt: 'Base URL of the OpenAI-compatible API, ending in /v1',
    value: section().get<string>('remote.baseUrl', '') || 'http://127.0.0.1:8000/v1',
    ignoreFocusOut: true,
    validateInput: (value) => (/^https?:\/\/[^\s/]+/.test(value.trim()) ? undefined : 'An http:// or https:// URL, e.g. https://llm.example.com/v1'),
  });
  if (baseUrl === undefined) return;
  const url = baseUrl.trim().replace(/\/+$/, '');
  let key: string | undefined = host.apiKey();
  let models = await listModels(url, key);
  let askedKey = false;
  if (models.status === 401 || models.status === 403) {
    // The endpoint wants a key before it lists its models: ask for it now rather than after.
    const asked = await askKey(key, `The endpoint answered HTTP ${models.status} to /models: it needs an API key.`);
    if (asked === undefined) return;
    key = asked || undefined;
    askedKey = true;
    models = await listModels(url, key);
  }
  const model = await pickModel(url, models);
  if (model === undefined) return;
  const newKey = askedKey ? (key ?? '') : await askKey(key);
  if (newKey === undefined) return;
  await write('remote.baseUrl', url);
  await write('remote.model', model);
  await write('backend', 'remote');
  if (newKey !== (host.apiKey() ?? '')) await host.setApiKey(newKey || undefined);
  await liveTest(host, url, model, newKey || undefined);
}

interface ModelList {
  status?: number;
  ids: string[];
  error?: string;
}

async function listModels(url: string, key: string | undefined): Promise<ModelList> {
  try {
    const response = await fetch(`${url}/models`, { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!response.ok) return { status: response.status, ids: [], error: `HTTP ${response.status}` };
    const body = (await response.json()) as { data?: { id?: unknown }[] };
    const ids = (body.data ?? []).map((entry) => entry.id).filter((id): id is string => typeof id === 'string' && id.length > 0 && id.length < 300);
    return { status: response.status, ids };
  } catch (error) {
    return { ids: [], error: connectionError(error) };
  }
}

function connectionError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return `no reply within ${REQUEST_TIMEOUT_MS / 1000} s`;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

async function pickModel(url: string, models: ModelList): Promise<Step<string>> {
  const typed = '$(edit) Type a model name…';
  const current = remoteModel();
  const items: vscode.QuickPickItem[] = models.ids.map((id) => ({ label: id, description: id === current ? 'current' : '' }));
  items.push({ label: typed, detail: models.ids.length === 0 ? `${url}/models listed no models (${models.error ?? 'empty list'}).` : undefined });
  const picked = await vscode.window.showQuickPick(items, {
    title: `${TITLE} (3/5): model`,
    placeHolder: models.ids.length > 0 ? `${models.ids.length} model${models.ids.length === 1 ? '' : 's'} served by ${new URL(url).host}` : 'The endpoint listed no models: type the name',
    ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  if (picked.label !== typed) return picked.label;
  const name = await vscode.window.showInputBox({
    title: `${TITLE} (3/5): model name`,
    prompt: 'The model name the endpoint expects in each request',
    value: current,
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() ? undefined : 'A remote endpoint needs a model name'),
  });
  return name?.trim();
}

/** The key to use ('' for none), or undefined when the flow was cancelled. */
async function askKey(current: string | undefined, reason?: string): Promise<Step<string>> {
  const key = await vscode.window.showInputBox({
    title: `${TITLE} (4/5): API key`,
    prompt: `${reason ? `${reason} ` : ''}Kept in the editor's secret storage, never in settings. ${current ? 'Press Enter to keep the stored key.' : 'Leave empty if the endpoint needs none.'}`,
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return undefined;
  return key.trim() || (current ?? '');
}

/** One tiny completion, so a wrong model, key or URL shows now and not at the first question. */
async function liveTest(host: SetupHost, url: string, model: string, key: string | undefined): Promise<void> {
  const started = Date.now();
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `${TITLE} (5/5): asking ${model} at ${new URL(url).host} for a test answer…` },
    async () => {
      try {
        const response = await fetch(`${url}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
          body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Reply with the word OK.' }], max_tokens: 5, temperature: 0, stream: false }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS * 2),
        });
        if (response.ok) return { ok: true as const };
        const body = await response.text();
        const message = (() => {
          try {
            return String((JSON.parse(body) as { error?: { message?: unknown } }).error?.message ?? '');
          } catch {
            return body.slice(0, 200);
          }
        })();
        return { ok: false as const, status: response.status, detail: `HTTP ${response.status}${message ? `: ${message}` : ''}` };
      } catch (error) {
        return { ok: false as const, detail: connectionError(error) };
      }
    },
  );
  const saved = `Saved in ${where()}.`;
  if (outcome.ok) {
    host.log.info(`configure backend: ${model} at ${url} answered the test request in ${Date.now() - started} ms`);
    void vscode.window.showInformationMessage(`Docent: ${model} at ${new URL(url).host} answered the test request in ${Date.now() - started} ms. ${saved}`);
    return;
  }
  host.log.warn(`configure backend: the test request to ${model} at ${url} failed: ${outcome.detail}`);
  const fix = outcome.status === 401 || outcome.status === 403 ? 'Set API Key' : 'Configure Again';
  const choice = await vscode.window.showErrorMessage(`Docent: the test request to ${model} at ${new URL(url).host} failed (${outcome.detail}). ${saved}`, fix, 'Open Settings');
  if (choice === 'Set API Key') await vscode.commands.executeCommand('docent.setApiKey');
  else if (choice === 'Configure Again') await configureBackend(host);
  else if (choice === 'Open Settings') await openSettings('docent.remote');
}

async function configureLocal(host: SetupHost): Promise<void> {
  const settings = localServerSettings();
  const folders = await vscode.window.showOpenDialog({
    title: `${TITLE} (2/3): the model folder docent serve loads`,
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    ...(settings.modelPath ? { defaultUri: vscode.Uri.file(settings.modelPath) } : {}),
    openLabel: 'Use this model',
  });
  const modelPath = folders?.[0]?.fsPath;
  if (!modelPath) return;
  const port = await vscode.window.showInputBox({
    title: `${TITLE} (3/3): port on 127.0.0.1`,
    value: String(settings.port || SETTING_RANGES['localServer.port'].default),
    ignoreFocusOut: true,
    validateInput: (value) => (/^\d+$/.test(value) && Number(value) >= 1024 && Number(value) <= 65535 ? undefined : 'A port from 1024 to 65535'),
  });
  if (port === undefined) return;
  await write('localServer.modelPath', modelPath);
  await write('localServer.port', Number(port));
  await write('backend', 'local');
  const choice = await vscode.window.showInformationMessage(`Docent answers with the local server (${path.basename(modelPath)}, port ${port}). Saved in ${where()}.`, 'Start Local Server');
  if (choice) host.startLocalServer();
}
