// Preloaded into the `docent serve` child by bench/soak.ts: on SIGUSR2 it collects garbage and
// writes process.memoryUsage() to DOCENT_SOAK_PROBE, so the bench sees heap and external, not only RSS.
import { writeFileSync } from 'node:fs';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  writeFileSync(process.env.DOCENT_SOAK_PROBE, JSON.stringify(process.memoryUsage()));
});
