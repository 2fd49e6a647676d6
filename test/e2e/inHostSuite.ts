/**
 * In-host suite (bundled to dist/test/inHostSuite.js, run through `extensionTestsPath` inside a real
 * VS Code extension host). A failing in-host test makes no process exit non-zero, so the suite
 * writes its results to DOCENT_TEST_RESULTS (default test-results/in-host.json) and the
 * e2e runner fails on them.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

interface Diagnostics {
  activationMs: number;
  hostLagWhileIndexing?: { p50Ms: number; p99Ms: number; maxMs: number; samples: number };
  sample: { files: number; chunks: number };
}

interface Result {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

const HEAVY_MODULES = /[\\/]node_modules[\\/](onnxruntime-node|hnswlib-node)[\\/]|[\\/]dist[\\/]coreProcess\.js$/;
const EXTENSION_ID = 'docent.docent';

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Polls gently: the probe runs in the host whose responsiveness is being measured. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

export async function run(): Promise<void> {
  const results: Result[] = [];
  const measurements: Record<string, number> = {};
  const test = async (name: string, body: () => Promise<void>) => {
    const started = Date.now();
    try {
      await body();
      results.push({ name, ok: true, ms: Date.now() - started });
    } catch (error) {
      results.push({ name, ok: false, error: (error as Error).stack ?? String(error), ms: Date.now() - started });
    }
  };

  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  await test('the extension activates and registers its commands', async () => {
    assert(extension, `${EXTENSION_ID} is not installed`);
    await extension.activate();
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['docent.openChat', 'docent.explainSelection', 'docent.reindex', 'docent.pauseIndexing', 'docent.resumeIndexing', 'docent.clearCache', 'docent.showMetrics', 'docent.startLocalServer', 'docent.stopLocalServer', 'docent.setApiKey', 'docent.pullEmbeddingModel']) {
      assert(commands.includes(id), `command ${id} is missing`);
    }
  });

  await test('no heavy module is loaded into the extension host', async () => {
    const loaded = Object.keys(require.cache).filter((file) => HEAVY_MODULES.test(file));
    assert(loaded.length === 0, `loaded in the extension host: ${loaded.join(', ')}`);
  });

  await test('indexing the workspace runs in the core process and reports progress', async () => {
    await vscode.commands.executeCommand('docent.resumeIndexing');
    const diagnostics = await waitFor(
      'the index',
      async () => {
        // The extension's API, not the Show Metrics command: opening a webview every poll would
        // itself load the host being measured.
        const current = (await (extension!.exports as { diagnostics(): Promise<Diagnostics> }).diagnostics());
        return current.sample.chunks > 0 && current.hostLagWhileIndexing ? current : undefined;
      },
      Number(process.env.DOCENT_INDEX_TIMEOUT_MS ?? 120_000),
    );
    measurements.activationMs = diagnostics.activationMs;
    measurements.indexedFiles = diagnostics.sample.files;
    measurements.indexedChunks = diagnostics.sample.chunks;
    measurements.hostLagP50Ms = diagnostics.hostLagWhileIndexing!.p50Ms;
    measurements.hostLagP99Ms = diagnostics.hostLagWhileIndexing!.p99Ms;
    measurements.hostLagMaxMs = diagnostics.hostLagWhileIndexing!.maxMs;
    // Timings are measurements, not assertions: on a shared 2-core machine they swing with load
    // (lag p99 110 ms was seen at load 13). The structural check below is what the test guards;
    // a measuring run (DOCENT_E2E_MEASURE_DOCS, BENCHMARKS.md) sets DOCENT_E2E_ENFORCE_BUDGETS=1.
    if (process.env.DOCENT_E2E_ENFORCE_BUDGETS === '1') {
      assert(diagnostics.activationMs <= 30, `activation took ${diagnostics.activationMs.toFixed(1)} ms (budget 30 ms)`);
      assert(diagnostics.hostLagWhileIndexing!.p99Ms <= 50, `event-loop lag p99 ${diagnostics.hostLagWhileIndexing!.p99Ms.toFixed(1)} ms while indexing (budget 50 ms)`);
    }
    const loaded = Object.keys(require.cache).filter((file) => HEAVY_MODULES.test(file));
    assert(loaded.length === 0, `indexing loaded into the extension host: ${loaded.join(', ')}`);
  });

  await test('the #docs language-model tool returns numbered passages with the exact lines, and refuses bad input', async () => {
    const integrations = (extension!.exports as { chatIntegrations: string[] }).chatIntegrations;
    // The MCP provider API is final in 1.101 (1.100 has a draft that throws); the tool and participant APIs are in the manifest's minimum.
    const [major, minor] = vscode.version.split('.').map(Number);
    const expected = ['tool', 'participant', ...(major! > 1 || minor! >= 101 ? ['mcp'] : [])];
    assert(JSON.stringify(integrations) === JSON.stringify(expected), `registered ${integrations.join(', ')}; expected ${expected.join(', ')} in VS Code ${vscode.version}`);
    assert(vscode.lm.tools.some((tool) => tool.name === 'docent_searchDocs'), 'the tool is listed in vscode.lm.tools');
    const result = await vscode.lm.invokeTool('docent_searchDocs', { input: { query: 'how do I rotate the API signing keys?', k: 3 }, toolInvocationToken: undefined });
    const text = result.content.map((part) => (part instanceof vscode.LanguageModelTextPart ? part.value : '')).join('');
    const first = /^\[1\] (runbooks\/rotate-signing-keys\.md):(\d+)-(\d+)[^\n]*\n([^\n]+)/.exec(text);
    assert(first, `the first passage is the signing-key runbook with its lines:\n${text.slice(0, 400)}`);
    assert(/\n\[3\] /.test(text) && !/\n\[4\] /.test(text), 'k passages');
    const folder = vscode.workspace.workspaceFolders![0]!.uri;
    const lines = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder, first[1]!))).split('\n');
    const cited = lines.slice(Number(first[2]) - 1, Number(first[3])).join('\n');
    // Passage text drops inline markup (`code`, emphasis), so both sides are compared without it.
    const plain = (markdown: string) => markdown.replace(/[`*_]/g, '');
    assert(plain(cited).includes(plain(first[4]!.trim()).slice(0, 24)), `the passage's first line lies within ${first[1]}:${first[2]}-${first[3]}`);
    let refused = '';
    await Promise.resolve(vscode.lm.invokeTool('docent_searchDocs', { input: { k: 3 }, toolInvocationToken: undefined })).catch((error: Error) => (refused = error.message));
    assert(/needs "query"/.test(refused), `a call without a query is refused with a reason, got "${refused}"`);
  });

  // Only the newer host (VS Code 1.104, DOCENT_E2E_NEWER_HOST=1) loads the test model's extension (test/e2e/lmProvider).
  if (vscode.extensions.getExtension('docent-test.lm-provider')) {
    await test("backend editor: the editor's model (a test provider) writes the answer with [n] citations to the exact lines", async () => {
      const [model] = await vscode.lm.selectChatModels({ vendor: 'docent-test' });
      assert(model, 'the test model is offered through vscode.lm');
      const config = vscode.workspace.getConfiguration('docent');
      await config.update('editor.model', model.id, vscode.ConfigurationTarget.Global);
      await config.update('backend', 'editor', vscode.ConfigurationTarget.Global);
      try {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const api = extension!.exports as { ask(question: string): Promise<{ answer: string; mode: string; degradedReason?: string; citations: { n: number; path: string; startLine: number; endLine: number }[] }> };
        const result = await api.ask('how do I rotate the API signing keys?');
        assert(result.mode === 'generated', `a generated answer, got ${result.mode}: ${result.degradedReason ?? ''}`);
        const read = /^The test model read the source (\S+):(\d+)-(\d+)[^\n]* and answers from it \[1\]\.$/.exec(result.answer);
        assert(read, `the model saw Docent's numbered sources and its text streamed back: ${result.answer}`);
        const cited = result.citations.find((citation) => citation.n === 1);
        assert(cited && cited.path === read[1] && cited.startLine === Number(read[2]) && cited.endLine === Number(read[3]), `[1] is cited with its lines: ${JSON.stringify(result.citations)}`);
      } finally {
        await config.update('backend', undefined, vscode.ConfigurationTarget.Global);
        await config.update('editor.model', undefined, vscode.ConfigurationTarget.Global);
      }
    });
  }

  await test('Show Metrics opens the panel and returns the same numbers', async () => {
    const shown = (await vscode.commands.executeCommand('docent.showMetrics')) as Diagnostics;
    assert(shown.sample.chunks > 0, 'Show Metrics reports the indexed chunks');
  });

  await test('Clear Cache and Pause/Resume run without errors', async () => {
    await vscode.commands.executeCommand('docent.clearCache');
    await vscode.commands.executeCommand('docent.pauseIndexing');
    await vscode.commands.executeCommand('docent.resumeIndexing');
  });

  const file = process.env.DOCENT_TEST_RESULTS ?? path.join(extension?.extensionPath ?? process.cwd(), 'test-results', 'in-host.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ results, measurements }, null, 2));
  const failed = results.filter((result) => !result.ok);
  if (failed.length > 0) throw new Error(`${failed.length} in-host test(s) failed: ${failed.map((result) => result.name).join('; ')}`);
}
