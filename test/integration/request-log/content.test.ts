/**
 * Content logging (`logging.content: true`): the prompt and the answer's text are kept — streamed or
 * not, translated or passed through, and a fan-out's candidate answers — bounded in size, shown only
 * while the setting is on, and erased (then the records deleted) by the retention sweep.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_BUDGET } from '../../../src/request-log/index.ts';
import { get, type LogGateway, MASTER, OPS, post, RESEARCH, recordOf, startLogGateway } from './helpers.ts';

let t: LogGateway;
let url: string;

beforeAll(async () => {
  t = await startLogGateway({ content: true, content_retention_days: 7, retention_days: 30 });
  url = t.gw.url;
});
afterAll(async () => {
  await t.close();
});

const messages = (content: string) => [{ role: 'user', content }];

describe('with content logging on', () => {
  it('a chat completion keeps its messages and its answer', async () => {
    const r = await post(
      url,
      '/v1/chat/completions',
      { model: 'demo-fast', messages: messages('Hi, kept.') },
      RESEARCH,
    );
    expect((await recordOf(url, r.id)).content).toEqual({
      prompt: messages('Hi, kept.'),
      answer: r.json.choices[0].message.content,
    });
  });

  it('a stream keeps the answer it streamed', async () => {
    const r = await post(
      url,
      '/v1/chat/completions',
      { model: 'demo-smart', stream: true, messages: messages('Stream, kept.') },
      RESEARCH,
    );
    const text = r.text
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)).choices[0]?.delta?.content ?? '')
      .join('');
    expect(text.length).toBeGreaterThan(10);
    expect((await recordOf(url, r.id)).content).toEqual({ prompt: messages('Stream, kept.'), answer: text });
  });

  it("a fan-out keeps every candidate's answer and each group's, in the panel", async () => {
    const r = await post(
      url,
      '/v1/consensus',
      {
        strategy: 'consensus',
        models: ['demo-fast', 'demo-smart', 'demo-mini'],
        messages: messages('What is 6*7?'),
      },
      RESEARCH,
    );
    const record = await recordOf(url, r.id);
    expect(record.content.answer).toBe(r.json.choices[0].message.content);
    expect(record.panel.candidates.map((c: any) => c.content)).toEqual(
      r.json.quorum.candidates.map((c: any) => c.content),
    );
    expect(record.panel.groups).toEqual(r.json.quorum.groups);
  });

  it('a fusion keeps its analysis, shown in the panel', async () => {
    const r = await post(
      url,
      '/v1/consensus',
      {
        strategy: 'fusion',
        models: ['demo-fast', 'demo-smart', 'demo-mini'],
        judge: 'demo-smart',
        messages: messages('Describe a queue.'),
      },
      RESEARCH,
    );
    expect(r.json.quorum.analysis.gaps.length).toBeGreaterThan(0);
    const record = await recordOf(url, r.id);
    expect(record.panel.analysis).toEqual(r.json.quorum.analysis);
    expect(record.content.analysis).toBeUndefined();
  });

  it("a review keeps the reviewers' issues and the final artifact", async () => {
    const r = await post(
      url,
      '/v1/reviews',
      { artifact: 'draft text', instructions: 'Review it.', reviewers: ['demo-fast'], author: 'demo-smart' },
      OPS,
    );
    const record = await recordOf(url, r.id);
    expect(record.content).toEqual({
      prompt: { artifact: 'draft text', instructions: 'Review it.' },
      answer: r.json.artifact,
    });
    expect(record.review.reviews).toEqual(r.json.reviews);
  });

  it('the Messages passthrough keeps the text of the bytes it passed on, whole or streamed', async () => {
    const body = (stream: boolean) => ({
      model: 'an-model',
      max_tokens: 50,
      stream,
      system: 'Be brief.',
      messages: messages('Hello Claude'),
    });
    const whole = await post(url, '/v1/messages', body(false), OPS);
    const streamed = await post(url, '/v1/messages', body(true), OPS);
    const text = whole.json.content.map((b: any) => b.text).join('');
    expect(text).toContain('Hello Claude');
    const expected = { prompt: { system: 'Be brief.', messages: messages('Hello Claude') }, answer: text };
    expect((await recordOf(url, whole.id)).content).toEqual(expected);
    expect((await recordOf(url, streamed.id)).content).toEqual(expected);
  });

  it('embeddings keep their input, and no answer (vectors are not text)', async () => {
    const r = await post(url, '/v1/embeddings', { model: 'embed-model', input: ['one', 'two'] }, OPS);
    expect((await recordOf(url, r.id)).content).toEqual({ prompt: ['one', 'two'], answer: null });
  });

  it('the Responses API keeps its input and the answer', async () => {
    const r = await post(
      url,
      '/v1/responses',
      { model: 'demo-fast', instructions: 'Be kind.', input: 'Hi!' },
      OPS,
    );
    expect((await recordOf(url, r.id)).content).toEqual({
      prompt: { instructions: 'Be kind.', input: 'Hi!' },
      answer: r.json.output[0].content[0].text,
    });
  });

  it('a huge prompt is kept cut to the budget, marked truncated; an inline image as a note', async () => {
    const long = 'x'.repeat(CONTENT_BUDGET * 3);
    const image = `data:image/png;base64,${'A'.repeat(5000)}`;
    const r = await post(
      url,
      '/v1/chat/completions',
      {
        model: 'demo-smart',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: image } },
              { type: 'text', text: long },
            ],
          },
        ],
      },
      RESEARCH,
    );
    expect(r.status).toBe(200);
    const { content } = await recordOf(url, r.id);
    expect(content.truncated).toBe(true);
    const [imagePart, textPart] = content.prompt[0].content;
    expect(imagePart.image_url.url).toBe('[image/png data, 5022 characters, not kept]');
    expect(textPart.text.length).toBeLessThanOrEqual(CONTENT_BUDGET + 1);
    expect(JSON.stringify(content).length).toBeLessThan(CONTENT_BUDGET + 2000);
  });
});

describe('retention', () => {
  it('erases text past content_retention_days and deletes records past retention_days', async () => {
    const day = 86_400_000;
    const row = (id: string, ageDays: number) => ({
      id,
      created_at: Date.now() - ageDays * day,
      team_id: 'research',
      key_id: null,
      key_name: null,
      surface: 'chat.completions',
      model: 'demo-fast',
      models: 'demo-fast',
      status: 200,
      error_code: null,
      error_message: null,
      stream: 0,
      cache: null,
      tags: null,
      input_tokens: 1,
      output_tokens: 1,
      cost_nanos: 1,
      latency_ms: 1,
      overhead_ms: 1,
      detail: JSON.stringify({ attempts: [] }),
      content: JSON.stringify({ prompt: 'old words', answer: 'old answer' }),
    });
    t.store.requestLog.append(row('retention-fresh', 1));
    t.store.requestLog.append(row('retention-week-old', 10));
    t.store.requestLog.append(row('retention-expired', 40));
    await t.store.requestLog.flush();
    const swept = await t.gw.booted.requestLog!.sweep();
    expect(swept.deleted).toBeGreaterThanOrEqual(1);
    expect(swept.erased).toBeGreaterThanOrEqual(1);
    expect(await get(url, '/v1/requests/retention-expired', MASTER)).toMatchObject({ status: 404 });
    const weekOld = await recordOf(url, 'retention-week-old');
    expect(weekOld.content).toBeNull();
    expect(weekOld.status).toBe(200);
    expect((await recordOf(url, 'retention-fresh')).content).toEqual({
      prompt: 'old words',
      answer: 'old answer',
    });
    // A second sweep finds nothing left to do.
    expect(await t.gw.booted.requestLog!.sweep()).toEqual({ deleted: 0, erased: 0 });
  });
});

describe('content logging turned off afterwards', () => {
  it('hides the text kept while it was on: content, candidate and group answers, issues', async () => {
    const r = await post(
      url,
      '/v1/consensus',
      { strategy: 'consensus', models: ['demo-fast', 'demo-mini'], messages: messages('What is 3+3?') },
      RESEARCH,
    );
    const review = await post(
      url,
      '/v1/reviews',
      { artifact: 'some draft', instructions: 'Review it.', reviewers: ['demo-fast'] },
      RESEARCH,
    );
    expect((await recordOf(url, r.id)).content).not.toBeNull();
    await t.gw.booted.requestLog!.flush();
    const off = await startLogGateway({ content: false }, t.store);
    try {
      const record = await recordOf(off.gw.url, r.id);
      expect(record.content).toBeNull();
      expect(record.panel.candidates.every((c: any) => c.content === undefined)).toBe(true);
      expect(record.panel.groups.every((g: any) => g.answer === undefined && Array.isArray(g.members))).toBe(
        true,
      );
      const reviewed = await recordOf(off.gw.url, review.id);
      expect(reviewed.content).toBeNull();
      expect(reviewed.review.reviews.every((x: any) => x.issues === undefined)).toBe(true);
    } finally {
      await off.close();
    }
  });
});
