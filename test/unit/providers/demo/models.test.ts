/** The demo's models, where the chat ones disagree, and the presets served with them. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../src/config/load.ts';
import { demoAnswer } from '../../../../src/providers/demo/answer.ts';
import { miniSlips } from '../../../../src/providers/demo/arithmetic.ts';
import { DEMO_MODELS, DEMO_PRESETS } from '../../../../src/providers/demo/index.ts';

const say = (model: string, content: string) =>
  demoAnswer(model, { model, messages: [{ role: 'user', content }] }).content;

describe('demo models', () => {
  it('are demo-fast (alias demo), demo-smart, the cheaper demo-mini and the embedding model demo-embed, all priced', () => {
    expect(DEMO_MODELS.map((m) => m.id)).toEqual(['demo-fast', 'demo-smart', 'demo-mini', 'demo-embed']);
    expect(DEMO_MODELS[3]!.capabilities).toEqual(['embeddings']);
    expect(DEMO_MODELS.find((m) => m.aliases.includes('demo'))!.id).toBe('demo-fast');
    const [fast, smart, mini] = DEMO_MODELS;
    expect(mini!.price.output).toBeLessThan(fast!.price.output);
    expect(mini!.quality.math).toBeLessThan(fast!.quality.math);
    expect(smart!.price.output).toBeGreaterThan(fast!.price.output);
  });

  it('demo-mini answers some arithmetic off by one, the same questions every time; the others never', () => {
    expect(miniSlips('17 * 23')).toBe(true);
    expect(say('demo-mini', 'What is 17 * 23?')).toBe('The answer is 392.');
    expect(say('demo-mini', 'What is 17*23?')).toBe('The answer is 392.');
    expect(say('demo-fast', 'What is 17 * 23?')).toBe('The answer is 391.');
    expect(say('demo-smart', 'What is 17 * 23?')).toBe('The answer is 391.');
    expect(miniSlips('3 * 3')).toBe(false);
    expect(say('demo-mini', 'What is 3 * 3?')).toBe('The answer is 9.');
    const slips = ['1+1', '2+3', '4*5', '6-2', '9/3', '7*7', '12+30', '5*11'].filter(miniSlips);
    expect(slips.length).toBeGreaterThan(0);
    expect(slips.length).toBeLessThan(8);
  });

  it('say more or less by model on free text', () => {
    const lengths = ['demo-mini', 'demo-fast', 'demo-smart'].map(
      (m) => say(m, 'Tell me about message queues, their delivery guarantees and when to use one.')!.length,
    );
    expect(lengths[0]).toBeLessThan(lengths[1]!);
    expect(lengths[1]).toBeLessThan(lengths[2]!);
  });
});

describe('demo presets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-demo-presets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("are served with the no-config demo, named as the README's example names them, and logged", () => {
    const cfg = loadConfig({ env: {} });
    expect(Object.keys(cfg.ensembles)).toEqual(['panel', 'best', 'mix', 'fusion', 'quick', 'review']);
    expect(cfg.ensembles).toEqual(DEMO_PRESETS);
    expect(cfg.ensembles.panel).toMatchObject({ strategy: 'consensus', judge: 'demo-smart' });
    expect(cfg.ensembles.best).toMatchObject({ strategy: 'best_of_n', judge: 'demo-smart' });
    expect(cfg.ensembles.mix).toMatchObject({ strategy: 'ensemble', judge: 'demo-smart' });
    expect(cfg.ensembles.fusion).toMatchObject({ strategy: 'fusion', judge: 'demo-smart' });
    expect(cfg.ensembles.quick).toMatchObject({ strategy: 'consensus', quorum: 2 });
    expect(cfg.ensembles.review).toMatchObject({ strategy: 'review' });
    for (const p of Object.values(cfg.ensembles))
      expect(p.models).toEqual(['demo-fast', 'demo-smart', 'demo-mini']);
    const note = cfg.notes.find((n) => /demo provider/.test(n))!;
    for (const name of ['panel', 'best', 'mix', 'fusion', 'quick', 'review']) expect(note).toContain(name);
  });

  it("are not added over a file's own ensembles, nor with provider keys", () => {
    const file = join(dir, 'own.yaml');
    writeFileSync(file, 'ensembles:\n  mine: { strategy: consensus, models: [demo-fast, demo-smart] }\n');
    expect(Object.keys(loadConfig({ path: file, env: {} }).ensembles)).toEqual(['mine']);
    expect(loadConfig({ env: { OPENAI_API_KEY: 'sk-test' } }).ensembles).toEqual({});
  });

  it('a team may name a demo preset in its allow-list', () => {
    const file = join(dir, 'team.yaml');
    writeFileSync(file, 'teams:\n  - { id: t, models: [panel, demo-fast] }\n');
    expect(loadConfig({ path: file, env: {} }).teams[0]!.models).toEqual(['panel', 'demo-fast']);
  });
});
