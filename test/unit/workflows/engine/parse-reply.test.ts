import { describe, expect, it } from 'vitest';
import { parseJsonReply, parseJudgeReply } from '../../../../src/workflows/engine/index.ts';

describe('parseJsonReply', () => {
  it('reads plain, fenced and prose-wrapped JSON', () => {
    expect(parseJsonReply('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonReply('```json\n[1, 2]\n```')).toEqual({ ok: true, value: [1, 2] });
    expect(parseJsonReply('Here you go: {"a": {"b": 2}} hope it helps')).toEqual({
      ok: true,
      value: { a: { b: 2 } },
    });
  });
  it('says why a reply is not JSON', () => {
    const result = parseJsonReply('nope');
    expect(result.ok).toBe(false);
  });
});

describe('parseJudgeReply', () => {
  it('reads the JSON shape, a string score and feedback instead of critique', () => {
    expect(parseJudgeReply('{"score": 7, "critique": "shorter"}')).toEqual({ score: 7, critique: 'shorter' });
    expect(parseJudgeReply('```json\n{"score": "8.5", "feedback": "ok"}\n```')).toEqual({
      score: 8.5,
      critique: 'ok',
    });
  });
  it('falls back to prose scores and clamps to 0..10', () => {
    expect(parseJudgeReply('Score: 6. Needs examples.')?.score).toBe(6);
    expect(parseJudgeReply('I would give it 9/10.')?.score).toBe(9);
    expect(parseJudgeReply('{"score": 42}')?.score).toBe(10);
  });
  it('returns null without a score', () => {
    expect(parseJudgeReply('looks fine to me')).toBeNull();
  });
});
