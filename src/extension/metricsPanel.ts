/**
 * "Docent: Show Metrics": a webview with the answer latency histogram and the cache hit ratios
 * over time. Samples are taken while the panel is visible; each redraw is posted to the panel's
 * script (webview/metrics.ts), which swaps it in place so scrolling is kept.
 */
import * as vscode from 'vscode';
import type { LatencyHistogram, LatencySummary } from '../core/pipeline/types.js';
import type { MetricsUpdate } from '../shared/metricsProtocol.js';
import { newNonce, webviewHtml } from './webviewHtml.js';

export interface MetricsSample {
  at: number;
  /** Quantiles (ms) and the bucketed histogram of whole answers. */
  total?: LatencySummary;
  stages: Record<string, number>;
  answerHitRatio: number;
  embeddingHitRatio: number;
  files: number;
  chunks: number;
  hostLagP99Ms?: number;
}

const SAMPLE_INTERVAL_MS = 2000;
const MAX_SAMPLES = 90;

export class MetricsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly samples: MetricsSample[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly sample: () => Promise<MetricsSample>,
  ) {}

  async show(): Promise<void> {
    if (!this.panel) {
      const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
      const media = vscode.Uri.joinPath(this.extensionUri, 'media');
      const panel = vscode.window.createWebviewPanel('docent.metrics', 'Docent Metrics', vscode.ViewColumn.Active, {
        enableScripts: true,
        localResourceRoots: [dist, media],
      });
      this.panel = panel;
      panel.onDidDispose(() => {
        clearInterval(this.timer);
        this.panel = undefined;
      });
      await this.takeSample();
      panel.webview.html = webviewHtml({
        cspSource: panel.webview.cspSource,
        nonce: newNonce(),
        title: 'Docent Metrics',
        styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'metrics.css')).toString(),
        scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'metrics.js')).toString(),
        body: `<main id="metrics">${renderMetrics(this.samples)}</main>`,
      });
      this.timer = setInterval(() => void this.update(), SAMPLE_INTERVAL_MS);
      panel.reveal();
      return;
    }
    this.panel.reveal();
    await this.update();
  }

  private async update(): Promise<void> {
    // A hidden panel keeps its document; it catches up when shown again.
    if (!this.panel?.visible) return;
    try {
      await this.takeSample();
    } catch {
      // The core process stopped; it restarts on next use and the next redraw samples it again.
      return;
    }
    const update: MetricsUpdate = { type: 'metrics', html: renderMetrics(this.samples) };
    await this.panel?.webview.postMessage(update);
  }

  /** Adds a sample, keeping the last MAX_SAMPLES. */
  private async takeSample(): Promise<void> {
    this.samples.push(await this.sample());
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
  }

  dispose(): void {
    clearInterval(this.timer);
    this.panel?.dispose();
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function bars(values: [string, number][], unit: string): string {
  const max = Math.max(1, ...values.map(([, value]) => value));
  const rows = values.map(([label, value], i) => {
    const width = (value / max) * 260;
    return `<text class="label" x="0" y="${i * 26 + 16}">${escapeHtml(label)}</text><rect class="bar" x="90" y="${i * 26 + 4}" width="${width.toFixed(1)}" height="16"></rect><text class="value" x="${(96 + width).toFixed(1)}" y="${i * 26 + 16}">${Math.round(value)} ${unit}</text>`;
  });
  return `<svg role="img" width="440" height="${values.length * 26 + 6}">${rows.join('')}</svg>`;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}

/**
 * One bar per log-spaced bucket, from the fastest to the slowest non-empty one. Each bar is a
 * labelled list item, so a screen reader reads the buckets as a list.
 */
function histogram({ boundsMs, counts }: LatencyHistogram): string {
  const first = Math.max(0, counts.findIndex((count) => count > 0));
  const last = counts.length - 1 - [...counts].reverse().findIndex((count) => count > 0);
  const shown = counts.slice(first, last + 1).map((count, i) => {
    const bucket = first + i;
    const label = bucket < boundsMs.length ? `≤ ${formatMs(boundsMs[bucket]!)}` : `> ${formatMs(boundsMs.at(-1)!)}`;
    return { label, count };
  });
  const max = Math.max(1, ...shown.map(({ count }) => count));
  // Wide enough for the longest label ("> 16.4 s") at the editor's font size: labels never run together.
  const slot = 76;
  const plot = 110;
  const items = shown.map(({ label, count }, i) => {
    const height = (count / max) * plot;
    const text = `${count} ${count === 1 ? 'answer' : 'answers'} ${label}`;
    return `<g class="bucket" role="listitem" aria-label="${escapeHtml(text)}"><title>${escapeHtml(text)}</title><rect class="bar hist-bar" data-count="${count}" x="${i * slot + 4}" y="${(18 + plot - height).toFixed(1)}" width="${slot - 8}" height="${height.toFixed(1)}"></rect><text class="value" text-anchor="middle" x="${i * slot + slot / 2}" y="${(14 + plot - height).toFixed(1)}">${count}</text><text class="label" text-anchor="middle" x="${i * slot + slot / 2}" y="${plot + 34}">${escapeHtml(label)}</text></g>`;
  });
  return `<svg class="histogram" role="list" aria-label="Answer latency histogram" width="${Math.max(shown.length * slot, 220)}" height="${plot + 42}">${items.join('')}</svg>`;
}

function hitChart(samples: MetricsSample[]): string {
  const width = 440;
  const height = 120;
  const left = 36;
  const x = (i: number) => (left + (samples.length < 2 ? 0 : (i / (samples.length - 1)) * (width - left))).toFixed(1);
  const y = (ratio: number) => (height - ratio * height).toFixed(1);
  const series = (kind: string, pick: (sample: MetricsSample) => number) =>
    `<path class="line ${kind}" d="${samples.map((sample, i) => `${i === 0 ? 'M' : 'L'}${x(i)},${y(pick(sample))}`).join(' ')}"></path>` +
    // Points keep a single sample visible, where the line has no length yet.
    samples.map((sample, i) => `<circle class="point ${kind}" cx="${x(i)}" cy="${y(pick(sample))}" r="2.5"></circle>`).join('');
  const last = samples[samples.length - 1]!;
  const spanSeconds = Math.round((last.at - samples[0]!.at) / 1000);
  const summary = `Cache hit ratio over the last ${spanSeconds} s: answers ${Math.round(last.answerHitRatio * 100)}%, embeddings ${Math.round(last.embeddingHitRatio * 100)}%`;
  const grid = [0, 0.5, 1].map((ratio) => `<line class="grid" x1="${left}" x2="${width}" y1="${y(ratio)}" y2="${y(ratio)}"></line><text class="label" x="0" y="${Math.min(height - 2, Math.max(10, +y(ratio) + 4))}">${ratio * 100}%</text>`).join('');
  return `<svg class="hit-chart" role="img" aria-label="${summary}" width="${width}" height="${height}">${grid}<rect class="frame" x="${left}" y="0" width="${width - left}" height="${height}"></rect>${series('answers', (sample) => sample.answerHitRatio)}${series('embeddings', (sample) => sample.embeddingHitRatio)}</svg>`;
}

/** The panel's content for the samples so far (escaped here: the panel inserts it as markup). */
export function renderMetrics(samples: MetricsSample[]): string {
  const last = samples[samples.length - 1]!;
  const total = last.total;
  const latency = total
    ? `${histogram(total.histogram)}<p class="quantiles">p50 ${Math.round(total.p50)} ms · p95 ${Math.round(total.p95)} ms · p99 ${Math.round(total.p99)} ms · max ${Math.round(total.max)} ms</p>`
    : '<p>No questions answered yet.</p>';
  const stages = Object.entries(last.stages).filter(([stage]) => stage !== 'total');
  return `<h1>Docent metrics</h1>
<p>${last.files} files, ${last.chunks} passages indexed${total ? `; ${total.count} answers` : ''}${last.hostLagP99Ms !== undefined ? `; editor event-loop lag p99 while indexing ${last.hostLagP99Ms.toFixed(1)} ms` : ''}.</p>
<h2>Answer latency</h2>${latency}
${stages.length ? `<h2>Median time per stage</h2>${bars(stages, 'ms')}` : ''}
<h2>Cache hit ratio over time</h2>${hitChart(samples)}
<p class="legend"><span class="key answers"></span> answers ${Math.round(last.answerHitRatio * 100)}% <span class="key embeddings"></span> embeddings ${Math.round(last.embeddingHitRatio * 100)}%</p>`;
}
