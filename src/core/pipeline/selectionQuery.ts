/**
 * The search query for Explain Selection, built from the selected text itself: docs describe a
 * function by its name and its words, never by "this python from src/x.py".
 */
import { identifierParts } from '../search/tokenize.js';

/** What the editor knows about a selection; `symbol` is the innermost enclosing symbol's name. */
export interface SelectionContext {
  text: string;
  languageId: string;
  symbol?: string | undefined;
}

const PROSE_LANGUAGES = new Set(['markdown', 'plaintext', 'asciidoc', 'restructuredtext', 'html', 'latex']);

// Keywords of common languages and English function words: they match every passage equally.
const NOISE = new Set(
  (
    'a an the and or not of to in on at by for from with as is are was were be been it its this that these those ' +
    'if else elif then return returns def class function func fn let const var new self this import export ' +
    'while for do try except catch finally raise throw yield async await pass break continue none null ' +
    'true false nil public private protected static void int str string bool number lambda end begin ' +
    'use pub mod impl struct enum type interface package go defer'
  ).split(' '),
);

const MAX_TERMS = 24;

/** Distinct terms in first-seen order, noise dropped; identifiers keep their own spelling too. */
function terms(text: string, splitIdentifiers: boolean): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (term: string): void => {
    const key = term.toLowerCase();
    if (key.length < 2 || NOISE.has(key) || /^\d+$/.test(key) || seen.has(key)) return;
    seen.add(key);
    out.push(term);
  };
  for (const token of text.match(/[\p{L}_][\p{L}\p{N}_]*/gu) ?? []) {
    add(token);
    if (splitIdentifiers) for (const word of identifierParts(token)) add(word.toLowerCase());
  }
  return out;
}

export function isProseLanguage(languageId: string): boolean {
  return PROSE_LANGUAGES.has(languageId);
}

/** The query searched for a selection: its enclosing symbol first, then its key terms. */
export function selectionQuery(selection: SelectionContext): string {
  const prose = isProseLanguage(selection.languageId);
  const head = selection.symbol ? terms(selection.symbol, true) : [];
  const body = terms(selection.text, !prose);
  const picked: string[] = [];
  const seen = new Set<string>();
  for (const term of [...head, ...body]) {
    if (seen.has(term.toLowerCase())) continue;
    seen.add(term.toLowerCase());
    picked.push(term);
    if (picked.length === MAX_TERMS) break;
  }
  return picked.join(' ');
}
