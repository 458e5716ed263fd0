/**
 * `npm run fakes`: the fake OpenAI, Anthropic and Gemini servers the tests and the bench use, on
 * loopback, for trying the gateway without provider keys. Prints each server's URL and a provider
 * block to paste into a config file; stops on Ctrl-C. Ports: FAKE_OPENAI_PORT, FAKE_ANTHROPIC_PORT,
 * FAKE_GEMINI_PORT (default: any free port).
 */
import { startFakeAnthropic } from './anthropic.ts';
import { startFakeGemini } from './gemini.ts';
import { startFakeOpenAI } from './openai.ts';

const port = (name: string) => (process.env[name] ? { port: Number(process.env[name]) } : {});

const [openai, anthropic, gemini] = await Promise.all([
  startFakeOpenAI(port('FAKE_OPENAI_PORT')),
  startFakeAnthropic(port('FAKE_ANTHROPIC_PORT')),
  startFakeGemini(port('FAKE_GEMINI_PORT')),
]);

process.stdout.write(
  [
    `fake openai    ${openai.url}/v1`,
    `fake anthropic ${anthropic.url}`,
    `fake gemini    ${gemini.url}`,
    '',
    'providers:',
    `  - { id: openai, type: openai, base_url: ${openai.url}/v1, api_key: fake }`,
    `  - { id: anthropic, type: anthropic, base_url: ${anthropic.url}, api_key: fake }`,
    `  - { id: gemini, type: gemini, base_url: ${gemini.url}, api_key: fake }`,
    '',
  ].join('\n'),
);

const stop = async () => {
  await Promise.all([openai.close(), anthropic.close(), gemini.close()]);
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
