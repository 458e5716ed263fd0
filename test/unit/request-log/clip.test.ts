/** Prompt and answer text cut to one budget per record, keeping its shape. */
import { describe, expect, it } from 'vitest';
import { Clipper } from '../../../src/request-log/clip.ts';

describe('Clipper', () => {
  it('keeps short text as it is', () => {
    const clip = new Clipper(100);
    expect(clip.value([{ role: 'user', content: 'hi' }])).toEqual([{ role: 'user', content: 'hi' }]);
    expect(clip.truncated).toBe(false);
  });

  it('shares one budget across every string, marking what it cut', () => {
    const clip = new Clipper(10);
    expect(clip.value({ a: '123456', b: '7890123', c: 'xyz', n: 5, t: true, z: null })).toEqual({
      a: '123456',
      b: '7890…',
      c: '…',
      n: 5,
      t: true,
      z: null,
    });
    expect(clip.truncated).toBe(true);
  });

  it('replaces an inline image by a note of its type and size', () => {
    const clip = new Clipper(1000);
    const url = `data:image/jpeg;base64,${'A'.repeat(300)}`;
    expect(clip.text(url)).toBe(`[image/jpeg data, ${url.length} characters, not kept]`);
    expect(clip.text('data:short')).toBe('data:short');
  });

  it('bounds long arrays and deep nesting', () => {
    const clip = new Clipper();
    expect((clip.value(Array.from({ length: 2000 }, (_, i) => i)) as unknown[]).length).toBe(500);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(JSON.stringify(clip.value(deep))).not.toContain('bottom');
    expect(clip.truncated).toBe(true);
  });
});
