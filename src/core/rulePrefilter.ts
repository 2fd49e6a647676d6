/**
 * A quick, conservative test of whether any of a set of gitignore-style patterns could match a
 * file's own path, so the walk runs the `ignore` matcher (a regular expression per rule) only for
 * the few names that might. Testing every file against the secret-file and exclude rules was 80–110
 * ms of a 0.33 s re-index of 8,000 files that finds nothing changed.
 *
 * Only a file's last segment is judged: the walk tests every folder with the same rules on its way
 * in and never enters one they skip, so a rule can skip a file it reaches only by matching the
 * file's own name, and a gitignore pattern matches a name with its last segment (a pattern ending
 * in `/` names folders only). Negations are left out: they can only keep a file. Anything this does
 * not model exactly (`?`, `[…]`, `\`, `**` in the last segment, a character outside ASCII in a
 * pattern or a name) answers "could match", and the matcher decides.
 */

/** A positive rule's last segment: the name must start with `prefix` and end with `suffix` (one string when it has no `*`). */
interface NameShape {
  prefix: string;
  suffix: string;
  /** No `*`: the name is exactly `prefix`. */
  exact: boolean;
}

/** What this does not model in a pattern: globs other than `*`, escapes, white space (gitignore trims some), anything outside printable ASCII. */
const UNMODELLED = /[?[\]\\{}\s]|\*\*|[^\x21-\x7e]/;

export class RulePrefilter {
  private readonly shapes: NameShape[] = [];
  /** Some positive rule is not modelled: every name could match. */
  private readonly anything: boolean;

  constructor(patterns: readonly string[], private readonly ignorecase: boolean) {
    let anything = false;
    for (const raw of patterns) {
      const pattern = raw.trimEnd();
      if (pattern === '' || pattern.startsWith('#') || pattern.startsWith('!')) continue;
      // Names a folder only: it cannot match a file's own path.
      if (pattern.endsWith('/')) continue;
      const segment = pattern.slice(pattern.lastIndexOf('/') + 1);
      if (segment === '' || UNMODELLED.test(raw)) {
        anything = true;
        continue;
      }
      const folded = ignorecase ? segment.toLowerCase() : segment;
      const star = folded.indexOf('*');
      this.shapes.push(star < 0 ? { prefix: folded, suffix: folded, exact: true } : { prefix: folded.slice(0, star), suffix: folded.slice(folded.lastIndexOf('*') + 1), exact: false });
    }
    this.anything = anything;
  }

  /** Whether some rule could match the file at `relativePath` ('/'-separated, no trailing '/'). False means none does. */
  couldMatch(relativePath: string): boolean {
    if (this.anything) return true;
    let name = relativePath.slice(relativePath.lastIndexOf('/') + 1);
    for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) > 0x7e) return true;
    if (this.ignorecase) name = name.toLowerCase();
    for (const { prefix, suffix, exact } of this.shapes) {
      if (exact ? name === prefix : name.length >= prefix.length + suffix.length && name.startsWith(prefix) && name.endsWith(suffix)) return true;
    }
    return false;
  }
}
