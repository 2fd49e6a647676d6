/**
 * The chat webview bundle in real Chromium (Debian's, driven by playwright-core) against a
 * scripted host page that plays the extension's side of src/shared/protocol.ts, under the same
 * CSP the extension sets. Skips, saying why, when Chromium is not installed (scripts/e2e-setup.sh).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { webviewHtml } from '../../src/extension/webviewHtml.js';
import { isHostToWebview, type HostToWebview, type WebviewToHost } from '../../src/shared/chatProtocol.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from './chromium.js';

const ROOT = path.join(__dirname, '..', '..');
const NONCE = 'dGVzdC1ub25jZQ==';
const skip = chromiumMissing();

declare global {
  interface Window {
    sent: WebviewToHost[];
    cspViolations: string[];
  }
}

/** The extension's page (webviewHtml.ts) with this server's origin as the webview resource origin and a stand-in for the VS Code API. */
function hostPage(): string {
  const stub = `<script nonce="${NONCE}">
window.sent = []; window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
window.acquireVsCodeApi = () => ({ postMessage: (message) => window.sent.push(message) });
</script>`;
  return webviewHtml({ cspSource: "'self'", nonce: NONCE, title: 'Docent', styleUri: '/chat.css', scriptUri: '/webview.js', body: `${stub}\n<div id="app"></div>` });
}

describe('chat webview in Chromium', { skip }, () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let origin: string;
  const pageErrors: string[] = [];
  let bundle: string;
  const outDir = mkdtempSync(path.join(tmpdir(), 'docent-webview-'));

  before(async () => {
    // The same options as the extension's webview entry in esbuild.config.mjs.
    await esbuild.build({ entryPoints: { webview: path.join(ROOT, 'webview/main.ts') }, outdir: outDir, bundle: true, platform: 'browser', format: 'iife', target: 'es2022', logLevel: 'warning' });
    bundle = readFileSync(path.join(outDir, 'webview.js'), 'utf8');
    const css = readFileSync(path.join(ROOT, 'media/chat.css'), 'utf8');
    server = createServer((req, res) => {
      const routes: Record<string, [string, string]> = {
        '/': ['text/html', hostPage()],
        '/webview.js': ['text/javascript', bundle],
        '/chat.css': ['text/css', css],
      };
      const route = routes[req.url ?? ''];
      res.writeHead(route ? 200 : 404, { 'content-type': route?.[0] ?? 'text/plain' }).end(route?.[1] ?? 'not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(origin);
    await page.waitForFunction(() => window.sent.some((message) => message.type === 'ready'));
  });

  after(async () => {
    await browser?.close();
    server?.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  // Resolves once the app's own message listener (registered first) has handled the message.
  const hostSends = (message: HostToWebview | Record<string, unknown>) =>
    page.evaluate(
      (data) =>
        new Promise<void>((resolve) => {
          window.addEventListener('message', () => resolve(), { once: true });
          window.postMessage(data, '*');
        }),
      message,
    );
  const sent = () => page.evaluate(() => window.sent);
  const clearSent = () => page.evaluate(() => void (window.sent = []));
  const nextFrame = () => page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));

  test('empty state shows the index status, example questions and the remote privacy notice', async () => {
    await hostSends({
      type: 'init',
      turns: [],
      index: { state: 'ready', files: 12, chunks: 80 },
      backend: { kind: 'remote', host: 'llm.example.com' },
      examples: ['How do I rotate keys?', 'Where are the runbooks?'],
    });
    assert.match(await page.locator('.index-status').innerText(), /12 files, 80 passages/);
    assert.equal(await page.locator('.examples button').count(), 2);
    assert.match(await page.locator('#privacy-notice').innerText(), /sent to llm\.example\.com/);
    await clearSent();
    await page.locator('.examples button').first().click();
    assert.deepEqual(await sent(), [{ type: 'ask', question: 'How do I rotate keys?' }]);
  });

  test('keyboard only: Enter in the question box asks', async () => {
    await clearSent();
    await page.locator('#question').focus();
    await page.keyboard.type('What is the on-call rota?');
    await page.keyboard.press('Enter');
    assert.deepEqual(await sent(), [{ type: 'ask', question: 'What is the on-call rota?' }]);
  });

  test('a streamed answer renders sanitized markdown, highlighted code and clickable citations', async () => {
    await hostSends({ type: 'turnStarted', turn: { id: 't1', question: 'How do I rotate keys?', answer: '', citations: [], state: 'streaming' } });
    assert.equal(await page.locator('[data-turn="t1"] .answer').getAttribute('aria-busy'), 'true');
    assert.equal(await page.locator('#stop').isVisible(), true);
    const parts = ['Run the **rotate** command [1]:\n\n', '```bash\n# rotate every key\nexport KEYS="all"\n```\n\n', 'See also [2]. <img src=x onerror="window.pwned=1"><script>window.pwned=2</script> ', '[click](javascript:window.pwned=3)'];
    for (const text of parts) {
      await hostSends({ type: 'delta', id: 't1', text });
      await nextFrame();
    }
    await hostSends({
      type: 'sources',
      id: 't1',
      citations: [
        { n: 1, folder: 'docs', path: 'ops/keys.md', startLine: 10, endLine: 24, heading: 'Rotation', text: 'To rotate the signing keys run keys rotate.' },
        { n: 2, folder: 'docs', path: 'ops/runbook.md', startLine: 1, endLine: 5, text: 'Runbook intro.' },
      ],
    });
    await hostSends({ type: 'done', id: 't1', mode: 'generated' });
    await nextFrame();
    const answer = page.locator('[data-turn="t1"] .answer');
    assert.equal(await answer.getAttribute('aria-busy'), 'false');
    assert.equal(await answer.getAttribute('aria-live'), 'polite');
    assert.equal(await answer.locator('strong').innerText(), 'rotate');
    assert.ok((await answer.locator('pre code .hljs-comment').count()) === 1 && (await answer.locator('pre code .hljs-string').count()) === 1, 'code is highlighted');
    assert.equal(await answer.locator('img, script').count(), 0, 'raw HTML is escaped');
    assert.equal(await answer.locator('a[href^="javascript"]').count(), 0, 'javascript: links are dropped');
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
    const cite = answer.locator('button.cite[data-cite="1"]');
    // Hover opens the passage preview (the editor's hover style), tied to the citation for screen readers.
    const preview = page.locator('#citation-preview');
    assert.equal(await preview.isVisible(), false);
    await cite.hover();
    await preview.waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await preview.getAttribute('role'), 'tooltip');
    assert.equal(await preview.locator('.preview-path').innerText(), 'docs: ops/keys.md:10-24');
    assert.equal(await preview.locator('.preview-heading').innerText(), 'Rotation');
    assert.equal(await preview.locator('.preview-text').innerText(), 'To rotate the signing keys run keys rotate.');
    assert.equal(await cite.getAttribute('aria-describedby'), 'citation-preview');
    const [citeBox, previewBox] = await Promise.all([cite.boundingBox(), preview.boundingBox()]);
    assert.ok(previewBox!.y >= citeBox!.y + citeBox!.height, 'the preview opens below the citation');
    assert.ok(previewBox!.x >= 0 && previewBox!.x + previewBox!.width <= page.viewportSize()!.width, 'the preview stays inside the view');
    await page.keyboard.press('Escape');
    await preview.waitFor({ state: 'hidden', timeout: 5000 });
    assert.equal(await cite.getAttribute('aria-describedby'), null);
    // Keyboard focus opens it at once, for the second source too.
    await page.locator('[data-turn="t1"] .sources button.cite[data-cite="2"]').focus();
    await preview.waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await preview.locator('.preview-path').innerText(), 'docs: ops/runbook.md:1-5');
    assert.equal(await preview.locator('.preview-heading').count(), 0);
    await page.mouse.move(0, 0);
    await page.locator('#question').focus();
    await preview.waitFor({ state: 'hidden', timeout: 5000 });
    await clearSent();
    await cite.click();
    assert.deepEqual(await sent(), [{ type: 'openCitation', folder: 'docs', path: 'ops/keys.md', startLine: 10, endLine: 24 }]);
    assert.equal(await page.locator('[data-turn="t1"] .sources li').count(), 2);
    await clearSent();
    await page.locator('[data-turn="t1"] .turn-actions button').click();
    assert.equal((await sent())[0]?.type, 'copy');
    // Each code block of the finished answer: Copy and Insert at Cursor, with the code's own text.
    await clearSent();
    await answer.locator('.code-block button[data-action="copy-code"]').click();
    await answer.locator('.code-block button[data-action="insert-code"]').click();
    const code = '# rotate every key\nexport KEYS="all"\n';
    assert.deepEqual(await sent(), [
      { type: 'copy', text: code },
      { type: 'insert', text: code },
    ]);
    assert.equal(await page.locator('#stop').isVisible(), false);
  });

  /** The element's box lies inside the scrolling conversation, above the composer (nothing covers it). */
  const inView = async (selector: string) =>
    page.evaluate((selector) => {
      const target = document.querySelector(selector)!.getBoundingClientRect();
      const scroller = document.querySelector('#scroller')!.getBoundingClientRect();
      const composer = document.querySelector('.composer')!.getBoundingClientRect();
      return target.height > 0 && target.top >= scroller.top - 1 && target.bottom <= scroller.bottom + 1 && target.bottom <= composer.top + 1;
    }, selector);

  test('a long streaming answer stays in view above the composer; Stopped. and Copy stay visible', async () => {
    await page.setViewportSize({ width: 420, height: 520 });
    try {
      await hostSends({ type: 'turnStarted', turn: { id: 'tl', question: 'A long answer?', answer: '', citations: [], state: 'streaming' } });
      for (let i = 0; i < 30; i++) {
        await hostSends({ type: 'delta', id: 'tl', text: `Paragraph ${i} of a long streamed answer about rotating keys.\n\n` });
        if (i % 5 === 4) {
          await nextFrame();
          assert.ok(await inView('[data-turn="tl"] .answer > :last-child'), `the newest text is in view after ${i + 1} deltas`);
        }
      }
      await nextFrame();
      const scrolled = await page.evaluate(() => document.querySelector('#scroller')!.scrollTop);
      assert.ok(scrolled > 0, 'the conversation scrolled to follow the answer');
      assert.ok(await inView('#new-chat') === false, 'the toolbar is outside the scrolling region');
      const toolbarVisible = await page.locator('#new-chat').isVisible();
      assert.ok(toolbarVisible, 'New chat stays reachable above the conversation');
      await hostSends({ type: 'stopped', id: 'tl' });
      await nextFrame();
      assert.ok(await inView('[data-turn="tl"] .stopped'), 'Stopped. is not covered by the composer');
      assert.ok(await inView('[data-turn="tl"] .turn-actions button'), 'Copy is not covered by the composer');
      await page.screenshot({ path: path.join(ROOT, 'test-results', 'webview-streaming-in-view.png') });
    } finally {
      await page.setViewportSize({ width: 1280, height: 720 });
    }
  });

  test('keyboard: Enter while streaming queues the question, Escape never stops, Ctrl+Shift+Backspace and Stop do', async () => {
    await hostSends({ type: 'turnStarted', turn: { id: 't2', question: 'Long one?', answer: '', citations: [], state: 'streaming' } });
    await hostSends({ type: 'delta', id: 't2', text: 'Partial' });
    await clearSent();
    await page.locator('#question').focus();
    await page.keyboard.type('And the follow-up?');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('#question').inputValue(), '', 'the queued question left the box');
    assert.match(await page.locator('#queued').innerText(), /Queued: And the follow-up\?/);
    assert.equal(await page.locator('#ask').innerText(), 'Queue', 'the button says Enter queues while an answer streams');
    await page.keyboard.press('Escape');
    assert.deepEqual(await sent(), [], 'neither Enter nor Escape sent anything while streaming');
    await page.keyboard.press('Control+Shift+Backspace');
    await page.locator('#stop').click();
    assert.deepEqual(await sent(), [
      { type: 'stop', id: 't2' },
      { type: 'stop', id: 't2' },
    ]);
    await clearSent();
    await hostSends({ type: 'stopped', id: 't2' });
    assert.equal(await page.locator('[data-turn="t2"] .stopped').innerText(), 'Stopped.');
    assert.deepEqual(await sent(), [{ type: 'ask', question: 'And the follow-up?' }], 'the queued question is sent when the answer ends');
    assert.equal(await page.locator('#queued').isVisible(), false);
    assert.equal(await page.locator('#ask').innerText(), 'Ask');
    // The host starts the queued turn; a second queued question can be taken back into the box.
    await hostSends({ type: 'turnStarted', turn: { id: 't2b', question: 'And the follow-up?', answer: '', citations: [], state: 'streaming' } });
    await page.locator('#question').fill('Never mind');
    await page.keyboard.press('Enter');
    await page.locator('#cancel-queued').click();
    assert.equal(await page.locator('#question').inputValue(), 'Never mind');
    await clearSent();
    await hostSends({ type: 'done', id: 't2b', mode: 'retrieval-only' });
    assert.deepEqual(await sent(), [], 'a cancelled queued question is not sent');
    await page.locator('#question').fill('');
    assert.equal(await page.locator('#ask').isDisabled(), false);
  });

  test('focusInput (Open Chat, the focus keybinding) puts the caret in the question box', async () => {
    await page.locator('#new-chat').focus();
    await hostSends({ type: 'focusInput' });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'question');
  });

  test('stage text and the retrieved passages show before the first token; every answer lists the passages it used', async () => {
    await hostSends({ type: 'turnStarted', turn: { id: 'tp', question: 'How are backups restored?', answer: '', citations: [], state: 'streaming' } });
    await hostSends({ type: 'progress', id: 'tp', step: 'searching', text: 'Searching 1,171 files…' });
    await nextFrame();
    assert.equal(await page.locator('[data-turn="tp"] .progress').innerText(), 'Searching 1,171 files…');
    const passages = [
      { n: 1, folder: '', path: 'ops/backups.md', startLine: 3, endLine: 9, heading: 'Restore', text: 'Restore with pg_restore.' },
      { n: 2, folder: '', path: 'ops/disaster.md', startLine: 1, endLine: 4, text: 'Disaster recovery.' },
    ];
    await hostSends({ type: 'passages', id: 'tp', citations: passages });
    await hostSends({ type: 'progress', id: 'tp', step: 'waiting', text: 'Waiting for the model…' });
    await nextFrame();
    assert.equal(await page.locator('[data-turn="tp"] .progress').innerText(), 'Waiting for the model…');
    const list = page.locator('[data-turn="tp"] details.passages');
    assert.equal(await list.locator('summary').innerText(), 'Found 2 passages');
    assert.equal(await list.evaluate((node) => (node as HTMLDetailsElement).open), true, 'the passages are open while the model is awaited');
    assert.deepEqual(await list.locator('button.cite').allInnerTexts(), ['ops/backups.md:3-9', 'ops/disaster.md:1-4']);
    await clearSent();
    await list.locator('button.cite').first().click();
    assert.deepEqual(await sent(), [{ type: 'openCitation', folder: '', path: 'ops/backups.md', startLine: 3, endLine: 9 }]);
    // A model that cites nothing: no Sources list, but the passages it was given are still listed.
    await hostSends({ type: 'delta', id: 'tp', text: 'Restore it from the nightly dump.' });
    await hostSends({ type: 'sources', id: 'tp', citations: [] });
    await hostSends({ type: 'done', id: 'tp', mode: 'generated' });
    await nextFrame();
    assert.equal(await page.locator('[data-turn="tp"] .progress').count(), 0, 'the stage text gives way to the answer');
    assert.equal(await page.locator('[data-turn="tp"] .sources').count(), 0);
    assert.equal(await list.locator('summary').innerText(), 'Used 2 passages');
    assert.equal(await list.evaluate((node) => (node as HTMLDetailsElement).open), false, 'folded once the answer is there');
    await list.locator('summary').click();
    await hostSends({ type: 'delta', id: 'tp', text: '' });
    await nextFrame();
    assert.equal(await list.evaluate((node) => (node as HTMLDetailsElement).open), true, "the reader's choice survives a re-render");
    assert.equal(await list.locator('li').count(), 2);
  });

  test('a retrieval-only answer quotes its passages once: no Sources list repeats them, [n] opens the lines, passages not quoted stay listed', async () => {
    const passages = [
      { n: 1, folder: '', path: 'ops/backups.md', startLine: 3, endLine: 9, heading: 'Backups › Restore', text: 'Restore with pg_restore.' },
      { n: 2, folder: '', path: 'ops/disaster.md', startLine: 1, endLine: 4, text: 'Disaster recovery.' },
      { n: 3, folder: '', path: 'ops/old.md', startLine: 20, endLine: 22, text: 'Unrelated.' },
    ];
    await hostSends({ type: 'turnStarted', turn: { id: 'tr', question: 'and how are they restored?', answer: '', citations: [], state: 'streaming' } });
    await hostSends({ type: 'passages', id: 'tr', citations: passages });
    const answer = 'Most relevant passages (no answer backend is configured):\n\n[1] ops/backups.md:3-9 (Backups › Restore)\n\n> Restore with pg_restore.\n\nRestore with pg_restore.\n\n[2] ops/disaster.md:1-4\n\nDisaster recovery.';
    await hostSends({ type: 'delta', id: 'tr', text: answer });
    await hostSends({ type: 'sources', id: 'tr', citations: passages.slice(0, 2) });
    await hostSends({ type: 'done', id: 'tr', mode: 'retrieval-only', searchedQuery: 'How are backups restored?' });
    await nextFrame();
    const turn = page.locator('[data-turn="tr"]');
    assert.equal(await turn.locator('.sources').count(), 0, 'the quoted passages are not listed a second time');
    assert.deepEqual(await turn.locator('.answer button.cite').allInnerTexts(), ['[1]', '[2]']);
    assert.deepEqual(await turn.locator('.answer p.source-label').allInnerTexts(), ['[1] ops/backups.md:3-9 (Backups › Restore)', '[2] ops/disaster.md:1-4'], 'each label is the caption of its passage');
    await clearSent();
    await turn.locator('.answer button.cite[data-cite="2"]').click();
    assert.deepEqual(await sent(), [{ type: 'openCitation', folder: '', path: 'ops/disaster.md', startLine: 1, endLine: 4 }]);
    const rest = turn.locator('details.passages');
    assert.equal(await rest.locator('summary').innerText(), 'Found 1 more passage');
    assert.deepEqual(await rest.locator('button.cite').allTextContents(), ['ops/old.md:20-22'], 'folded, the one not quoted');
    // The rewritten follow-up is what was searched: shown under the question.
    assert.equal(await turn.locator('.question .searched-note').innerText(), 'Searched: How are backups restored?');
  });

  test('a generated answer lists its cited sources once and only the other passages under "Used"', async () => {
    const passages = [
      { n: 1, folder: '', path: 'ops/backups.md', startLine: 3, endLine: 9, text: 'Restore with pg_restore.' },
      { n: 2, folder: '', path: 'ops/disaster.md', startLine: 1, endLine: 4, text: 'Disaster recovery.' },
    ];
    await hostSends({ type: 'turnStarted', turn: { id: 'tg', question: 'How are backups restored?', answer: '', citations: [], state: 'streaming' } });
    await hostSends({ type: 'passages', id: 'tg', citations: passages });
    await hostSends({ type: 'delta', id: 'tg', text: 'Use pg_restore [1].' });
    await hostSends({ type: 'sources', id: 'tg', citations: passages.slice(0, 1) });
    await hostSends({ type: 'done', id: 'tg', mode: 'generated', searchedQuery: 'how are  backups restored?' });
    await nextFrame();
    const turn = page.locator('[data-turn="tg"]');
    assert.deepEqual(await turn.locator('.sources button.cite').allInnerTexts(), ['ops/backups.md:3-9']);
    assert.equal(await turn.locator('details.passages summary').innerText(), 'Used 1 more passage');
    assert.deepEqual(await turn.locator('details.passages button.cite').allTextContents(), ['ops/disaster.md:1-4']);
    assert.equal(await turn.locator('.searched-note').count(), 0, 'no note when the search was the question itself');
  });

  test('Explain Selection: the turn shows the file and lines of the selection and the terms searched', async () => {
    await hostSends({
      type: 'turnStarted',
      turn: { id: 'ts', question: 'Explain the selected code', answer: '', citations: [], state: 'streaming', selection: { path: 'src/time.ts', languageId: 'typescript', startLine: 10, endLine: 24 } },
    });
    await hostSends({ type: 'delta', id: 'ts', text: 'Nothing in your docs answers this.' });
    await hostSends({ type: 'done', id: 'ts', mode: 'retrieval-only', searchedQuery: 'parseDuration parse duration' });
    await nextFrame();
    const question = page.locator('[data-turn="ts"] .question');
    assert.equal(await question.locator('.selection-note').innerText(), 'Selection from src/time.ts:10-24 (typescript)');
    assert.equal(await question.locator('.searched-note').innerText(), 'Searched: parseDuration parse duration');
    // A hostile peer's searched query is refused like any other malformed message.
    assert.equal(isHostToWebview({ type: 'done', id: 'ts', mode: 'generated', searchedQuery: 42 }), false);
  });

  test('"nothing in your docs answers this": each closest heading is a button that asks about it', async () => {
    await hostSends({ type: 'turnStarted', turn: { id: 'tn', question: 'How do I bake sourdough bread?', answer: '', citations: [], state: 'streaming' } });
    const suggestions = ['Runbook: rotating API signing keys › Scheduled rotation', 'FAQ'];
    await hostSends({ type: 'passages', id: 'tn', citations: [{ n: 1, folder: '', path: 'runbooks/keys.md', startLine: 1, endLine: 3, text: 'Rotate keys.' }] });
    await hostSends({ type: 'delta', id: 'tn', text: `Nothing in your docs answers this.\n\nClosest topics in your docs:\n${suggestions.map((s) => `- ${s}`).join('\n')}` });
    await hostSends({ type: 'sources', id: 'tn', citations: [] });
    await hostSends({ type: 'done', id: 'tn', mode: 'retrieval-only', suggestions });
    await nextFrame();
    const buttons = page.locator('[data-turn="tn"] .answer li button.suggestion');
    assert.deepEqual(await buttons.allInnerTexts(), suggestions);
    assert.equal(await page.locator('[data-turn="tn"] details.passages, [data-turn="tn"] .sources').count(), 0, 'the passages under the floor are not listed as if they answered');
    await clearSent();
    await buttons.first().click();
    assert.deepEqual(await sent(), [{ type: 'ask', question: suggestions[0] }]);
    assert.equal(isHostToWebview({ type: 'done', id: 'tn', mode: 'retrieval-only', suggestions: [7] }), false);
  });

  test('errors offer their fixes, degraded answers are marked', async () => {
    await hostSends({ type: 'turnStarted', turn: { id: 't3', question: 'Q3', answer: '', citations: [], state: 'streaming' } });
    await hostSends({ type: 'failed', id: 't3', error: '401 Unauthorized', actions: ['setApiKey', 'configureEndpoint', 'retry'] });
    const alert = page.locator('[data-turn="t3"] [role="alert"]');
    assert.match(await alert.innerText(), /401 Unauthorized/);
    await clearSent();
    await alert.locator('button[data-action="setApiKey"]').click();
    await alert.locator('button[data-action="retry"]').click();
    assert.deepEqual(await sent(), [
      { type: 'fix', action: 'setApiKey' },
      { type: 'retry', id: 't3' },
    ]);
    await hostSends({ type: 'turnStarted', turn: { id: 't4', question: 'Q4', answer: '', citations: [], state: 'streaming' } });
    await hostSends({ type: 'delta', id: 't4', text: '> quoted passage' });
    await hostSends({ type: 'done', id: 't4', mode: 'extractive', degradedReason: 'The local server is not running.', actions: ['startLocalServer', 'retry'] });
    const banner = page.locator('[data-turn="t4"] .degraded');
    assert.match(await banner.innerText(), /Extractive answer/);
    assert.equal(await banner.locator('button[data-action="startLocalServer"]').count(), 1);
  });

  test('invalid messages are ignored', async () => {
    const before = await page.locator('.log').innerHTML();
    for (const bad of [
      null,
      'delta',
      { type: 'delta', id: 't1' },
      { type: 'sources', id: 't1', citations: [{ n: 1, folder: 'docs', path: '../../etc/passwd', startLine: 1, endLine: 2, text: '' }] },
      { type: 'sources', id: 't1', citations: [{ n: 1, folder: 'docs', path: '/etc/passwd', startLine: 1, endLine: 2, text: '' }] },
      { type: 'turnStarted', turn: { id: 'x', question: 'q', answer: '', citations: [], state: 'bogus' } },
      { type: 'failed', id: 't1', error: 'x', actions: ['rm -rf'] },
      { type: 'unknown' },
    ]) {
      await hostSends(bad as Record<string, unknown>);
    }
    await nextFrame();
    assert.equal(await page.locator('.log').innerHTML(), before);
  });

  test('high contrast: text, citations, buttons and focus outlines follow the theme variables', async () => {
    // As VS Code sets them on a webview: variables on <html>, the theme kind as a body class.
    // Values from the Dark Modern and Dark High Contrast themes; HC leaves button backgrounds unset.
    const dark = {
      '--vscode-foreground': '#cccccc',
      '--vscode-sideBar-background': '#181818',
      '--vscode-textLink-foreground': '#4daafc',
      '--vscode-textLink-activeForeground': '#4daafc',
      '--vscode-button-background': '#0078d4',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-border': '#313131',
      '--vscode-button-secondaryBackground': '#313131',
      '--vscode-button-secondaryForeground': '#cccccc',
      '--vscode-focusBorder': '#0078d4',
    };
    const hc = {
      '--vscode-foreground': '#ffffff',
      '--vscode-sideBar-background': '#000000',
      '--vscode-textLink-foreground': '#21a6ff',
      '--vscode-textLink-activeForeground': '#21a6ff',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-border': '#6fc3df',
      '--vscode-button-secondaryForeground': '#ffffff',
      '--vscode-focusBorder': '#f38518',
      '--vscode-contrastBorder': '#6fc3df',
      '--vscode-contrastActiveBorder': '#f38518',
    };
    const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
    const applyTheme = (kind: string, vars: Record<string, string>) =>
      page.evaluate(
        ([kind, vars]) => {
          const root = document.documentElement;
          for (const name of Array.from(root.style)) root.style.removeProperty(name);
          for (const [name, value] of Object.entries(vars)) root.style.setProperty(name, value);
          document.body.classList.remove('vscode-dark', 'vscode-high-contrast');
          if (kind) document.body.classList.add(kind);
        },
        [kind, vars] as const,
      );
    const cite = page.locator('[data-turn="t1"] .sources button.cite').first();
    const copy = page.locator('[data-turn="t1"] .turn-actions button');
    const read = async () => {
      const style = (selector: string, ...props: string[]) =>
        page.evaluate(([selector, props]) => { const computed = getComputedStyle(document.querySelector(selector)!); return props.map((prop) => computed.getPropertyValue(prop)); }, [selector, props] as const);
      await page.mouse.move(0, 0);
      // A key press first, so the scripted focus counts as keyboard focus (:focus-visible).
      await page.keyboard.press('Shift');
      await cite.focus();
      const focused = await cite.evaluate((element) => { const computed = getComputedStyle(element); return { visible: element.matches(':focus-visible'), outline: `${computed.outlineStyle} ${computed.outlineWidth} ${computed.outlineColor}` }; });
      await copy.hover();
      const hovered = await copy.evaluate((element) => { const computed = getComputedStyle(element); return `${computed.outlineStyle} ${computed.outlineColor}`; });
      await page.mouse.move(0, 0);
      return {
        body: await style('body', 'color', 'background-color'),
        answer: await style('[data-turn="t1"] .answer', 'color'),
        cite: await style('[data-turn="t1"] .sources button.cite', 'color'),
        copy: await style('[data-turn="t1"] .turn-actions button', 'color', 'background-color', 'border-top-color', 'border-top-style'),
        ask: await style('#ask', 'color', 'background-color', 'border-top-color'),
        focused,
        hovered,
      };
    };
    await applyTheme('vscode-dark', dark);
    const before = await read();
    await applyTheme('vscode-high-contrast', hc);
    const after = await read();
    const resultsDir = path.join(ROOT, 'test-results');
    mkdirSync(resultsDir, { recursive: true });
    await page.screenshot({ path: path.join(resultsDir, 'webview-high-contrast.png') });
    await applyTheme('', {});

    const white = rgb('#ffffff');
    const transparent = 'rgba(0, 0, 0, 0)';
    assert.deepEqual(after.body, [white, rgb('#000000')]);
    assert.deepEqual(after.answer, [white]);
    assert.deepEqual(after.cite, [rgb('#21a6ff')]);
    // Unset button backgrounds leave the buttons transparent, outlined by the contrast border.
    assert.deepEqual(after.copy, [white, transparent, rgb('#6fc3df'), 'solid']);
    assert.deepEqual(after.ask, [white, transparent, rgb('#6fc3df')]);
    assert.deepEqual(after.focused, { visible: true, outline: `solid 1px ${rgb('#f38518')}` });
    assert.equal(after.hovered, `dashed ${rgb('#f38518')}`);
    assert.equal(before.hovered.split(' ')[0], 'none', 'the dashed hover outline is for high contrast only');
    assert.deepEqual(before.focused, { visible: true, outline: `solid 1px ${rgb('#0078d4')}` });
    for (const key of ['body', 'answer', 'cite', 'copy', 'ask', 'focused', 'hovered'] as const) {
      assert.notDeepEqual(after[key], before[key], `${key} differs from the default theme`);
    }
  });

  test('Retry puts the new answer in place of the old turn', async () => {
    const order = () => page.locator('.turn').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-turn')));
    const before = await order();
    const at = before.indexOf('t3');
    assert.ok(at >= 0 && at < before.length - 1, 't3 is not the last turn');
    await hostSends({ type: 'turnStarted', turn: { id: 't3r', question: 'Q3', answer: '', citations: [], state: 'streaming' }, replaces: 't3' });
    const after = await order();
    assert.equal(after.length, before.length, 'no duplicate turn');
    assert.equal(after[at], 't3r');
    assert.ok(!after.includes('t3'));
    await hostSends({ type: 'done', id: 't3r', mode: 'retrieval-only' });
  });

  test('with turns on screen the index bar shows progress with Pause and Resume; a partial answer shows its notice as one', async () => {
    const bar = page.locator('#index-bar');
    assert.ok((await page.locator('.turn').count()) > 0, 'the conversation has turns');
    assert.equal(await bar.isVisible(), false, 'no bar while the index is ready');
    const partial = { state: 'indexing' as const, filesIndexed: 1312, filesTotal: 4204 };
    await hostSends({ type: 'index', index: { state: 'indexing', percent: 31, files: 1312, chunks: 9000, partial } });
    assert.equal(await bar.locator('.index-bar-text').innerText(), 'Indexing: 1,312 of 4,204 files (31%) — answers may miss pages');
    assert.equal(await bar.locator('[role="progressbar"]').getAttribute('aria-valuenow'), '31');
    // Updated in place: the button under the pointer survives the next progress update.
    const pause = bar.locator('button[data-action="pauseIndexing"]');
    await pause.evaluate((node) => node.setAttribute('data-seen', '1'));
    await hostSends({ type: 'index', index: { state: 'indexing', percent: 32, files: 1400, chunks: 9500, partial: { ...partial, filesIndexed: 1400 } } });
    assert.equal(await bar.locator('.index-bar-text').innerText(), 'Indexing: 1,400 of 4,204 files (32%) — answers may miss pages');
    assert.equal(await pause.getAttribute('data-seen'), '1');
    assert.equal(await bar.locator('button[data-action="resumeIndexing"]').isVisible(), false);
    // Every file read, the vector graph building: its own step and percent, not a stop at 100%.
    await hostSends({ type: 'index', index: { state: 'indexing', step: 'graph', percent: 45, files: 4204, chunks: 30000 } });
    assert.equal(await bar.locator('.index-bar-text').innerText(), 'Building the vector graph (45%)');
    assert.equal(await bar.locator('[role="progressbar"]').getAttribute('aria-valuenow'), '45');
    await hostSends({ type: 'index', index: { state: 'indexing', step: 'sorting', percent: 46, files: 4204, chunks: 30000 } } as Record<string, unknown>);
    assert.equal(await bar.locator('.index-bar-text').innerText(), 'Building the vector graph (45%)', 'an unknown step is rejected as a whole message');
    await hostSends({ type: 'index', index: { state: 'indexing', percent: 32, files: 1400, chunks: 9500, partial: { ...partial, filesIndexed: 1400 } } });
    await clearSent();
    await bar.locator('button[data-action="pauseIndexing"]').click();
    assert.deepEqual(await sent(), [{ type: 'indexing', action: 'pause' }]);
    await hostSends({ type: 'index', index: { state: 'paused', files: 1312, chunks: 9000, partial: { ...partial, state: 'paused' } } });
    assert.equal(await bar.locator('.index-bar-text').innerText(), 'Indexing paused at 1,312 of 4,204 files — answers may miss pages.');
    await hostSends({ type: 'index', index: { state: 'paused', files: 1312, chunks: 9000, partial: { state: 'paused', filesIndexed: -1 } } });
    await hostSends({ type: 'partialIndex', id: 'tpi', partial: { state: 'bogus', filesIndexed: 3 } } as Record<string, unknown>);
    assert.equal(await bar.locator('.index-bar-text').innerText(), 'Indexing paused at 1,312 of 4,204 files — answers may miss pages.', 'an invalid index status is ignored');

    await hostSends({ type: 'turnStarted', turn: { id: 'tpi', question: 'Where is the rota kept?', answer: '', citations: [], state: 'streaming' } });
    await hostSends({ type: 'partialIndex', id: 'tpi', partial: { ...partial, state: 'paused' } });
    const notice = '⚠ Indexing is paused: 1,312 of 4,204 files indexed — this answer may miss pages. Resume indexing for a complete answer.';
    await hostSends({ type: 'delta', id: 'tpi', text: `${notice}\n\n` });
    await hostSends({ type: 'delta', id: 'tpi', text: 'The rota is in the binder.' });
    await hostSends({ type: 'done', id: 'tpi', mode: 'generated' });
    await nextFrame();
    const turn = page.locator('[data-turn="tpi"]');
    assert.equal(await turn.locator('.answer .index-notice').innerText(), notice);
    assert.equal(await turn.locator('.answer p').nth(1).evaluate((node) => node.classList.contains('index-notice')), false, 'only the notice is marked');
    await page.screenshot({ path: path.join(ROOT, 'test-results', 'webview-index-bar.png') });
    await clearSent();
    await bar.locator('button[data-action="resumeIndexing"]').click();
    assert.deepEqual(await sent(), [{ type: 'indexing', action: 'resume' }]);
    await hostSends({ type: 'index', index: { state: 'ready', files: 4204, chunks: 30000 } });
    assert.equal(await bar.isVisible(), false, 'the bar goes once the index is complete');
  });

  test('new chat and past chats: the host opens another conversation with its title; no CSP violations and no page errors', async () => {
    await clearSent();
    await page.locator('#new-chat').click();
    await page.locator('#history').click();
    assert.deepEqual(await sent(), [{ type: 'newChat' }, { type: 'history' }]);
    await hostSends({ type: 'init', turns: [], index: { state: 'ready', files: 12, chunks: 80 }, backend: { kind: 'none' }, examples: ['How do I rotate keys?'] });
    assert.equal(await page.locator('.turn').count(), 0);
    assert.equal(await page.locator('#conversation-title').innerText(), 'New conversation');
    await hostSends({
      type: 'init',
      turns: [{ id: 'old1', question: 'Where are the runbooks?', answer: 'In ops/.', citations: [], state: 'done', mode: 'generated' }],
      index: { state: 'ready', files: 12, chunks: 80 },
      backend: { kind: 'none' },
      examples: [],
      title: 'Where are the runbooks?',
    });
    assert.equal(await page.locator('.turn').count(), 1);
    assert.equal(await page.locator('#conversation-title').innerText(), 'Where are the runbooks?');
    assert.ok(await page.locator('#new-chat').isVisible(), 'New chat stays in view');
    await hostSends({ type: 'init', turns: [], index: { state: 'ready', files: 12, chunks: 80 }, backend: { kind: 'none' }, examples: [] });
    const resultsDir = path.join(ROOT, 'test-results');
    mkdirSync(resultsDir, { recursive: true });
    await page.screenshot({ path: path.join(resultsDir, 'webview-chromium.png') });
    assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
    assert.deepEqual(pageErrors, []);
  });
});
