/**
 * Training data for the static embedding model, from Debian documentation packages only (the
 * pinned list in packages.json; nothing from ../shared/eval or ../shared/holdout): each package
 * is fetched with `apt-get download NAME=VERSION` and unpacked with `dpkg-deb -x`, then its HTML,
 * Markdown, reST and text files are parsed with Docent's own parsers and its man pages with a
 * small roff reader, and turned into (query, passage) pairs:
 *   - heading path → the section's text;
 *   - page title → its first section;
 *   - man page NAME line (`git-log - Show commit logs`) → its DESCRIPTION;
 *   - inverse cloze: one sentence → the rest of its section.
 * Pairs keep their package, so the trainer can batch one package's pairs together (in-batch
 * negatives from the same manual are the hard ones).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseDocument } from '../../src/core/parse/parseDocument.js';


export interface PackagePin {
  name: string;
  version: string;
}

export interface TrainingPair {
  query: string;
  passage: string;
  /** Which package it came from (batches group by it). */
  source: string;
  kind: 'heading' | 'title' | 'man' | 'cloze';
}

const PASSAGE_WORDS = 160;
const MIN_PASSAGE_WORDS = 25;
const PAIRS_PER_PACKAGE = 4_000;
const DOC_FILE = /\.(html?|md|markdown|rst|txt)$/i;
/** Headings that say nothing without their page's title. */
const GENERIC_HEADING = /^(description|synopsis|options|examples?|notes?|see also|bugs|authors?|files|environment|overview|introduction|summary|usage|details|return value|exit status|arguments|parameters|history|copyright|reporting bugs|conforming to|standards)$/i;

export function fetchPackages(pins: PackagePin[], debDir: string, rootDir: string, log: (line: string) => void): void {
  mkdirSync(debDir, { recursive: true });
  for (const pin of pins) {
    const unpacked = join(rootDir, pin.name);
    if (existsSync(join(unpacked, '.done'))) continue;
    const debName = (name: string) => readdirSync(debDir).find((file) => file.startsWith(`${name}_`) && file.endsWith('.deb'));
    if (!debName(pin.name)) {
      log(`apt-get download ${pin.name}=${pin.version}`);
      execFileSync('apt-get', ['download', `${pin.name}=${pin.version}`], { cwd: debDir, stdio: ['ignore', 'ignore', 'inherit'] });
    }
    mkdirSync(unpacked, { recursive: true });
    execFileSync('dpkg-deb', ['-x', join(debDir, debName(pin.name)!), unpacked]);
    execFileSync('touch', [join(unpacked, '.done')]);
  }
}

function* filesUnder(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else if (entry.isFile()) yield path;
  }
}

function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

function passageOf(text: string): string | undefined {
  const list = words(text);
  return list.length >= MIN_PASSAGE_WORDS ? list.slice(0, PASSAGE_WORDS).join(' ') : undefined;
}

/** Pairs of one unpacked package, at most PAIRS_PER_PACKAGE, chosen reproducibly. */
export function pairsOfPackage(name: string, root: string, random: () => number): TrainingPair[] {
  const pairs: TrainingPair[] = [];
  const add = (query: string, passage: string | undefined, kind: TrainingPair['kind']) => {
    const q = query.replace(/\s+/g, ' ').trim();
    if (passage && q.length >= 3 && words(q).length <= 40) pairs.push({ query: q, passage, source: name, kind });
  };
  // Files in a shuffled order, read until twice the cap is reached: big manuals stay cheap.
  for (const file of shuffle([...filesUnder(root)], random)) {
    if (pairs.length >= 2 * PAIRS_PER_PACKAGE) break;
    const path = relative(root, file);
    if (/\/man\/(?:[a-z]{2}(?:_[A-Z]{2})?(?:\.[^/]+)?)\//.test(`/${path}`)) continue; // translated man pages
    if (/\/man\/man\d[^/]*\/[^/]+\.\d\w*(\.gz)?$/.test(`/${path}`)) {
      const roff = path.endsWith('.gz') ? gunzipSync(readFileSync(file)).toString('utf8') : readFileSync(file, 'utf8');
      for (const pair of manPagePairs(roff)) add(pair.query, passageOf(pair.passage), pair.kind);
      continue;
    }
    if (!DOC_FILE.test(path) || statSync(file).size > 2_000_000) continue;
    let parsed;
    try {
      parsed = parseDocument(path, readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    const first = parsed.sections.find((section) => passageOf(section.text));
    if (first && parsed.title) add(parsed.title, passageOf(first.text), 'title');
    for (const section of parsed.sections) {
      const passage = passageOf(section.text);
      if (!passage) continue;
      const headings = section.headingPath.filter(Boolean);
      const last = headings.at(-1);
      if (last) add(GENERIC_HEADING.test(last) || headings.length === 1 ? headings.slice(-2).join(' ') : last, passage, 'heading');
      const cloze = clozePair(section.text, random);
      if (cloze) add(cloze.query, cloze.passage, 'cloze');
    }
  }
  shuffle(pairs, random);
  return pairs.slice(0, PAIRS_PER_PACKAGE);
}

/** One sentence of 6–30 words as the query, the section without it as the passage. */
function clozePair(text: string, random: () => number): { query: string; passage: string } | undefined {
  const sentences = text.replace(/\s+/g, ' ').split(/(?<=[.!?])\s+(?=[A-Z])/);
  if (sentences.length < 3) return undefined;
  const candidates = sentences.map((sentence, index) => ({ sentence, index })).filter(({ sentence }) => {
    const count = words(sentence).length;
    return count >= 6 && count <= 30;
  });
  if (candidates.length === 0) return undefined;
  const pick = candidates[Math.floor(random() * candidates.length)]!;
  const rest = passageOf(sentences.filter((_, index) => index !== pick.index).join(' '));
  return rest ? { query: pick.sentence, passage: rest } : undefined;
}

/** Sections of a man page by .SH, text with roff requests and escapes removed. */
export function manPagePairs(roff: string): { query: string; passage: string; kind: TrainingPair['kind'] }[] {
  const sections = new Map<string, string[]>();
  let current = '';
  let title = '';
  for (const raw of roff.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const request = /^[.'](\w+)\s*(.*)$/.exec(line);
    if (request) {
      const [, name, rest] = request;
      if (name === 'TH') title = unquote(rest!).split(/\s+/)[0] ?? '';
      else if (name === 'SH' || name === 'SS') {
        if (name === 'SH') current = cleanRoff(unquote(rest!)).toUpperCase();
        else sections.get(current)?.push(`\n${cleanRoff(unquote(rest!))}.\n`);
        if (!sections.has(current)) sections.set(current, []);
      } else if (/^(B|I|BR|RB|BI|IB|IR|RI|SM|SB)$/.test(name!)) sections.get(current)?.push(cleanRoff(rest!.replace(/"/g, '')));
      continue;
    }
    if (current) sections.get(current)?.push(cleanRoff(line));
  }
  const text = (name: string) => (sections.get(name) ?? []).join(' ').replace(/\s+/g, ' ').trim();
  const pairs: { query: string; passage: string; kind: TrainingPair['kind'] }[] = [];
  const description = text('DESCRIPTION');
  const nameLine = text('NAME');
  const summary = /\s[-–]\s(.+)$/.exec(nameLine)?.[1];
  if (summary && description) pairs.push({ query: summary, passage: description, kind: 'man' });
  for (const [heading] of sections) {
    if (heading === 'NAME' || heading === 'SYNOPSIS' || heading === 'DESCRIPTION' || !heading) continue;
    const body = text(heading);
    if (body) pairs.push({ query: `${title.toLowerCase()} ${heading.toLowerCase()}`, passage: body, kind: 'heading' });
  }
  return pairs;
}

function unquote(text: string): string {
  return text.replace(/^"(.*)"$/, '$1');
}

function cleanRoff(text: string): string {
  return text
    .replace(/\\f(?:\[[^\]]*\]|\(..|.)/g, '')
    .replace(/\\\(em|\\\(en/g, ' - ')
    .replace(/\\\(..|\\\[[^\]]*\]/g, ' ')
    .replace(/\\[-e]/g, (match) => (match === '\\-' ? '-' : '\\'))
    .replace(/\\[&|^%c:)]/g, '')
    .replace(/\\s[+-]?\d/g, '')
    .replace(/\\\*(?:\(..|\[[^\]]*\]|.)/g, '')
    .replace(/\\"/g, '')
    .replace(/\\ /g, ' ');
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
