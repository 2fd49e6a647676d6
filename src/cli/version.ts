/** The version `docent --version` prints: package.json's, found beside the bundle (dist/) or the sources (src/cli/). */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export function docentVersion(): string {
  for (let dir = __dirname, up = 0; up < 3; up++, dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (manifest.name === 'docent' && manifest.version) return manifest.version;
  }
  return 'unknown';
}
