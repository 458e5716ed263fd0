import type { EnsembleConfig } from '../../config/schema.ts';

/**
 * Ensemble presets served with the demo provider when the configuration defines none, named as the
 * README's configuration example names them, so its `model: 'panel'` example works out of the box.
 */
const ALL = ['demo-fast', 'demo-smart', 'demo-mini'];

export const DEMO_PRESETS: Record<string, EnsembleConfig> = {
  panel: { strategy: 'consensus', models: ALL, judge: 'demo-smart' },
  best: { strategy: 'best_of_n', models: ALL, judge: 'demo-smart' },
  mix: { strategy: 'ensemble', models: ALL, judge: 'demo-smart' },
  // The judge analyses the answers (agreements, contradictions, gaps…) and writes the answer from it.
  fusion: { strategy: 'fusion', models: ALL, judge: 'demo-smart' },
  quick: { strategy: 'consensus', models: ALL, quorum: 2 },
  // The first model drafts, the others review it; the first revises.
  review: { strategy: 'review', models: ALL },
};

/** "panel (consensus), best (best_of_n), …" for the startup log. */
export function describePresets(presets: Record<string, EnsembleConfig> = DEMO_PRESETS): string {
  return Object.entries(presets)
    .map(([name, p]) => `${name} (${p.strategy}${p.quorum ? `, quorum ${p.quorum}` : ''})`)
    .join(', ');
}
