/**
 * The message protocol of the Show Metrics webview: the extension redraws the panel's body by
 * message rather than replacing the whole document, so the reader's scroll position and focus
 * survive each redraw. The markup is built and escaped by the extension
 * (src/extension/metricsPanel.ts); the panel's CSP runs no script but its own.
 */
import { isObject, isString } from './validate.js';

export interface MetricsUpdate {
  type: 'metrics';
  html: string;
}

const MAX_METRICS_HTML = 1_000_000;

export function isMetricsUpdate(value: unknown): value is MetricsUpdate {
  return isObject(value) && value.type === 'metrics' && isString(value.html, MAX_METRICS_HTML);
}
