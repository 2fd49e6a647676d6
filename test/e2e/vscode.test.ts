/**
 * End to end in a real VS Code host: code-server 4.100.3 (installed by scripts/e2e-setup.sh)
 * with the packaged VSIX installed, driven through Debian's Chromium. Asks in the chat view,
 * opens a citation, runs Explain Selection, watches the status bar; then runs the in-host suite
 * (test/extension, via extensionTestsPath) and fails on its results file. Skips, saying why,
 * when a prerequisite is missing.
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from '../webview/chromium.js';

const ROOT = path.join(__dirname, '..', '..');
const CODE_SERVER = path.join(ROOT, '.cache', 'e2e', 'code-server', 'node_modules', '.bin', 'code-server');
const VSIX = path.join(ROOT, 'docent-linux-x64-0.1.0.vsix');
const RESULTS = path.join(ROOT, 'test-results');
/** The in-host suite indexes this folder; DOCENT_E2E_MEASURE_DOCS=.cache/postgres-docs measures on a large one. */
const MEASURE_DOCS = path.resolve(ROOT, process.env.DOCENT_E2E_MEASURE_DOCS ?? 'examples/docs');

function missing(): string | false {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the e2e suite runs on linux-x64';
  const noChromium = chromiumMissing();
  if (noChromium) return noChromium;
  if (!existsSync(CODE_SERVER)) return `code-server not installed in .cache/e2e (run scripts/e2e-setup.sh)`;
  for (const bundle of ['extension.js', 'engine.js', 'webview.js', 'test/index.js']) {
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

describe('Docent in a real VS Code host (code-server)', { skip, timeout: 300_000 }, () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'docent-e2e-'));
  const workspace = path.join(scratch, 'workspace');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const url = `http://127.0.0.1:${port}`;
  const inHostResults = path.join(scratch, 'in-host.json');
  let server: ChildProcess;
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
    const env = {
      ...process.env,
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
    await browser?.close();
    server?.kill();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the chat view streams an answer whose citation opens the right file', async () => {
    await page.locator('.activitybar [aria-label^="Docent"]').first().click();
    const frameElement = page.locator('iframe.webview.ready[src*="extensionId=docent.docent"]');
    await frameElement.waitFor({ timeout: 60_000 });
    const outer = (await (await frameElement.elementHandle())!.contentFrame())!;
    await outer.waitForSelector('#active-frame', { timeout: 30_000 });
    chat = (await (await outer.$('#active-frame'))!.contentFrame())!;
    await chat.waitForSelector('#question', { timeout: 30_000 });
    await chat.fill('#question', 'How do I rotate the API signing keys?');
    await chat.press('#question', 'Enter');
    const turn = chat.locator('.turn').last();
    await turn.locator('.answer[aria-busy="false"]').waitFor({ timeout: 120_000 });
    assert.ok((await turn.locator('.answer').innerText()).length > 20, 'an answer was streamed');
    const cite = turn.locator('.sources button.cite').first();
    await cite.waitFor();
    const label = await cite.innerText();
    const file = path.basename(label.split(':').slice(-2)[0]!.trim());
    await cite.click();
    await page.locator(`.tab.active[aria-label*="${file}"], .tab.active:has-text("${file}")`).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: path.join(RESULTS, 'e2e-chat.png') });
    copyFileSync(path.join(RESULTS, 'e2e-chat.png'), path.join(ROOT, 'media', 'screenshot-chat.png'));
  });

  test('Explain Selection sends the selection and the answer streams into the chat view', async () => {
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('F1');
    await page.keyboard.type('Docent: Explain Selection');
    await page.keyboard.press('Enter');
    const turn = chat.locator('.turn').last();
    await turn.locator('.selection-note').waitFor({ timeout: 30_000 });
    assert.match(await turn.locator('.question').innerText(), /Explain this/);
    await turn.locator('.answer[aria-busy="false"]').waitFor({ timeout: 120_000 });
  });

  test('the status bar shows latency and hit ratio after answers', async () => {
    const item = page.locator('.statusbar-item', { hasText: /ms · \d+% hits/ });
    await item.waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(RESULTS, 'e2e-status.png') });
  });

  test('the in-host suite passes (extensionTestsPath)', async () => {
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${ROOT}`],
      ['extensionTestsPath', `vscode-remote://127.0.0.1:${port}${path.join(ROOT, 'dist', 'test', 'index.js')}`],
    ]);
    const measure = path.join(scratch, 'measure');
    cpSync(MEASURE_DOCS, measure, { recursive: true });
    const host = await browser.newPage();
    await host.goto(`${url}/?folder=${encodeURIComponent(measure)}&payload=${encodeURIComponent(payload)}`);
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
