import { readFileSync } from 'node:fs';
import { ChatRequestSchema } from '../chat/index.ts';
import { formatPath } from '../config/format-path.ts';
import { ConfigError, loadConfig } from '../config/index.ts';
import { GatewayError } from '../errors/index.ts';
import { dryRun, Gateway, OPEN_CALLER } from '../gateway/index.ts';
import { parse } from './args.ts';
import { ROUTE_HELP } from './help.ts';

type Decision = ReturnType<typeof dryRun>;

function table(d: Decision): string {
  const pct = (n: number) => `${Math.round(n * 100)}%`;
  const categories = Object.entries(d.task.categories)
    .filter(([, w]) => w > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([c, w]) => `${c} ${pct(w)}`)
    .join(', ');
  const lines = [
    `policy ${d.policy} → ${d.chosen ?? 'no eligible model'}${d.fallbacks.length ? `, then ${d.fallbacks.join(', ')}` : ''}`,
    `why: ${d.why}`,
    `task: ${categories}; difficulty ${d.task.difficulty.toFixed(2)}; needs ${d.task.required.join(', ') || 'nothing special'}; ~${d.task.prompt_tokens} prompt tokens`,
    '',
  ];
  const width = Math.max(5, ...d.candidates.map((c) => c.model.length));
  lines.push(`${'model'.padEnd(width)}  quality  worst-case $  latency ms  score   `);
  for (const c of d.candidates) {
    const s = c.scores;
    lines.push(
      s
        ? `${c.model.padEnd(width)}  ${s.quality.toFixed(3).padStart(7)}  ${s.cost_usd.toFixed(6).padStart(11)}  ${Math.round(s.latency_ms).toString().padStart(10)}  ${s.total.toFixed(3)}`
        : `${c.model.padEnd(width)}  excluded: ${c.reason}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `quorum route`: what the router would do with a chat body, without calling any model. */
export async function routeCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    config: { type: 'string' },
    body: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(ROUTE_HELP);
    return 0;
  }
  if (typeof values.body !== 'string') {
    process.stderr.write(
      'quorum route: --body <file.json> is required (use - for standard input). See --help.\n',
    );
    return 2;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(typeof values.config === 'string' ? { path: values.config } : {});
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) process.stderr.write(`${p}\n`);
    return 2;
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(values.body === '-' ? 0 : values.body, 'utf8'));
  } catch (err) {
    process.stderr.write(`quorum route: cannot read ${values.body}: ${(err as Error).message}\n`);
    return 2;
  }
  const parsed = ChatRequestSchema.safeParse(data);
  if (!parsed.success) {
    for (const i of parsed.error.issues) process.stderr.write(`${formatPath(i.path)}: ${i.message}\n`);
    return 2;
  }
  const gateway = await Gateway.create(config);
  try {
    const decision = dryRun(gateway, OPEN_CALLER, parsed.data);
    process.stdout.write(values.json ? `${JSON.stringify(decision, null, 2)}\n` : table(decision));
    return 0;
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    process.stderr.write(`quorum route: ${err.message}\n`);
    return 1;
  } finally {
    await gateway.close();
  }
}
