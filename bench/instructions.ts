/**
 * Instructions per proxied request, counted by valgrind's callgrind: the gateway (the compiled build when
 * it is fresh, else the sources) runs under valgrind against the bench's fake upstream; after a warm-up,
 * callgrind counts every instruction every thread executes while N requests go through, then the totals
 * are divided by N, thread by thread (main, the store's writer thread, the rest: V8's compiler and GC
 * helpers). The floor (bench/peers/floor.ts, the no-logic proxy the race runs beside Quorum) is counted
 * the same way, so Quorum ÷ floor comes out as a count too.
 *
 * Unlike CPU time, an instruction count does not move with what else the machine is doing (two runs of
 * the same build agree within ±2 % on the main thread here, where CPU time per request drifts by ±30 %
 * between runs), so it can tell a 2 % change apart on a shared machine. It does not see cache misses,
 * system calls or the kernel's share, and it runs 30–50× slower than the real thing: it complements
 * `npm run bench`, it does not replace it.
 *
 *   node bench/instructions.ts [--requests N] [--warmup N] [--body bench|realistic|stream|paced|both] [--entry path] [--no-floor]
 *                              [--node-flags "flags"] [--keep dir]
 *
 * Needs `valgrind` (Debian package valgrind). Takes 3–4 minutes per body and target.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildGroup, exitOnSignals, freePort, freshBuild, gatewayEnv, ROOT } from './children.ts';
import { CHAT, fakeConfigYaml, MODEL, PACED_USER } from './request.ts';

const HELP = `usage: node bench/instructions.ts [options]
  --requests N     requests counted per body (default 1000)
  --warmup N       requests before counting starts (default 60000): V8 compiles a function with its
                   optimizing compiler (TurboFan) only after thousands of calls, and the gateway's
                   pipeline reached it between 6,000 and 30,000 requests here; counted earlier, the
                   main thread runs the mid-tier code and the compiler threads are still busy
  --body NAME      bench (the race's small request), realistic (a 3 KB system prompt and three turns),
                   both (default), stream (the race's request streamed: 6 chunks and [DONE] in one
                   write) or paced (the same, a chunk every 2 ms, as live models stream)
  --entry PATH     the gateway's entry (default: dist/src/cli/main.js when fresh, else src/cli/main.ts)
  --no-floor       skip the floor (bench/peers/floor.ts, the no-logic proxy the race runs beside Quorum)
  --node-flags F   flags for the gateway's node, e.g. "--max-semi-space-size=8" (one string)
  --keep DIR       keep callgrind's files in DIR/<target>-<body>/ (one per thread) for callgrind_annotate
Prints instructions per request, by thread, and Quorum's total against the floor's; needs valgrind.`;

const PARAGRAPH =
  'You are a helpful support assistant for Acme Cloud. Answer questions about billing, accounts, API usage and ' +
  'outages. Be concise, cite the relevant help-center article when you can, and never reveal internal tooling. ' +
  'If the user asks about refunds, explain the 30-day policy; for enterprise contracts, refer them to their ' +
  'account manager. ';

/** A request as apps send them: a long system prompt, an earlier exchange, a new question. */
export const REALISTIC = {
  model: MODEL,
  messages: [
    { role: 'system', content: PARAGRAPH.repeat(8) },
    {
      role: 'user',
      content:
        'My API calls started failing with 429 errors this morning, what is going on? We are on the Pro plan and usually send about 40 requests per second from three regions.',
    },
    {
      role: 'assistant',
      content:
        'A 429 means you exceeded a rate limit. On the Pro plan the default limit is 50 requests per second per organisation, shared across regions. Check the x-ratelimit-remaining headers and spread requests, or request a higher limit.',
    },
    {
      role: 'user',
      content:
        'How do I request a higher limit, and will it change my invoice? Also summarise the steps in a list.',
    },
  ],
  temperature: 0.2,
  max_tokens: 64,
};

const BODIES: Record<string, unknown> = {
  bench: CHAT,
  realistic: REALISTIC,
  stream: { ...CHAT, stream: true },
  paced: { ...CHAT, stream: true, user: PACED_USER },
};

interface Options {
  requests: number;
  warmup: number;
  bodies: string[];
  entry: string;
  floor: boolean;
  keep: string | undefined;
  nodeFlags: string[];
}

function options(argv: string[]): Options {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const count = (flag: string, fallback: number) => {
    const raw = value(flag);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) fail(`${flag} must be a positive integer, got "${raw}"`);
    return n;
  };
  const body = value('--body') ?? 'both';
  if (!['bench', 'realistic', 'stream', 'paced', 'both'].includes(body))
    fail(`--body must be bench, realistic, stream, paced or both, got "${body}"`);
  const built = freshBuild();
  return {
    requests: count('--requests', 1000),
    warmup: count('--warmup', 60_000),
    bodies: body === 'both' ? ['bench', 'realistic'] : [body],
    entry: value('--entry') ?? ('entry' in built ? built.entry : join(ROOT, 'src', 'cli', 'main.ts')),
    floor: !argv.includes('--no-floor'),
    keep: value('--keep'),
    nodeFlags: (value('--node-flags') ?? '').split(/\s+/).filter(Boolean),
  };
}

function fail(message: string): never {
  process.stderr.write(`bench/instructions: ${message}\n`);
  process.exit(2);
}

export interface InstructionCount {
  /** quorum, or floor: the no-logic proxy. */
  target: string;
  body: string;
  requests: number;
  /** Thousands of instructions per request. */
  totalK: number;
  mainK: number;
  writerK: number;
  otherK: number;
}

/** One thread's profile: its total, and whether SQLite ran in it (the main thread opens the store too). */
function threadTotals(dir: string): { file: string; total: number; sqlite: boolean }[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('callgrind.out'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      const total = Number(/^totals: (\d+)/m.exec(text)?.[1] ?? 0);
      return { file, total, sqlite: text.includes('sqlite3VdbeExec') };
    })
    .filter((t) => t.total > 0);
}

/** The process under valgrind: Quorum on a port we choose, or the floor on the port it prints. */
interface Target {
  name: 'quorum' | 'floor';
  args: (dir: string, port: number) => string[];
  env: (dir: string) => NodeJS.ProcessEnv;
}

function quorumTarget(entry: string, upstreamUrl: string, nodeFlags: string[]): Target {
  return {
    name: 'quorum',
    args: (dir, port) => {
      const config = join(dir, 'quorum.yaml');
      writeFileSync(config, fakeConfigYaml(upstreamUrl));
      return [
        ...nodeFlags,
        entry,
        'serve',
        '--config',
        config,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
      ];
    },
    env: (dir) => gatewayEnv(join(dir, 'quorum.db')),
  };
}

function floorTarget(upstreamUrl: string): Target {
  return {
    name: 'floor',
    args: () => [join(ROOT, 'bench', 'peers', 'floor.ts')],
    env: () => ({ PATH: process.env.PATH, HOME: process.env.HOME, BENCH_FLOOR_UPSTREAM: upstreamUrl }),
  };
}

async function countOne(o: Options, target: Target, bodyName: string, log: (m: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-instructions-'));
  let child: ChildProcess | undefined;
  try {
    const ourPort = await freePort();
    child = spawn(
      'valgrind',
      [
        '--tool=callgrind',
        '--instr-atstart=no',
        '--separate-threads=yes',
        '--smc-check=all-non-file',
        `--callgrind-out-file=${join(dir, 'callgrind.out.%p')}`,
        process.execPath,
        ...target.args(dir, ourPort),
      ],
      // stdin stays open: the floor exits when it closes
      { cwd: ROOT, env: target.env(dir), stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const proc = child;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    let printed = '';
    const printedPort = new Promise<number>((resolve) => {
      proc.stdout?.on('data', (d: Buffer) => {
        printed += d.toString();
        const port = /"port":\s*(\d+)/.exec(printed)?.[1];
        if (port) resolve(Number(port));
      });
    });
    const spawnError = new Promise<never>((_, reject) =>
      proc.once('error', (err) => reject(new Error(`valgrind could not start (${err.message}): install it`))),
    );
    const port = target.name === 'floor' ? await Promise.race([printedPort, spawnError]) : ourPort;
    const url = `http://127.0.0.1:${port}`;
    const probe = target.name === 'floor' ? `${url}/v1/models` : `${url}/healthz`;
    const ready = async () => {
      for (let i = 0; i < 600; i++) {
        if (proc.exitCode !== null) throw new Error(`${target.name} exited under valgrind:\n${stderr}`);
        try {
          await fetch(probe);
          return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`${target.name} did not answer within 5 minutes under valgrind`);
    };
    await Promise.race([ready(), spawnError]);
    const body = JSON.stringify(BODIES[bodyName]);
    const send = async () => {
      const r = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
        body,
      });
      await r.text();
      if (!r.ok) throw new Error(`${target.name} answered ${r.status}`);
    };
    // Eight at a time: enough for the process to overlap requests, few enough for valgrind's one core.
    const run = async (n: number) => {
      let left = n;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (left-- > 0) await send();
        }),
      );
    };
    log(`${target.name}, ${bodyName}: ${o.warmup} warm-up requests under valgrind…`);
    await run(o.warmup);
    const pid = String(proc.pid);
    execFileSync('callgrind_control', ['--instr=on', pid], { stdio: 'ignore' });
    log(`${target.name}, ${bodyName}: counting ${o.requests} requests…`);
    await run(o.requests);
    // The store writes its rows within 250 ms: let the last batch land inside the count.
    await new Promise((r) => setTimeout(r, 400));
    execFileSync('callgrind_control', ['--instr=off', pid], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--dump', pid], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1000));
    const threads = threadTotals(dir);
    if (!threads.length) throw new Error('callgrind wrote no counts');
    // The main thread is the first; Quorum's writer is the other thread that ran SQLite.
    const [main, ...rest] = threads;
    const writer = rest.find((t) => t.sqlite);
    const perK = (n: number) => Math.round(n / o.requests / 100) / 10;
    const sum = (ts: { total: number }[]) => ts.reduce((a, t) => a + t.total, 0);
    return {
      target: target.name,
      body: bodyName,
      requests: o.requests,
      totalK: perK(sum(threads)),
      mainK: perK(main!.total),
      writerK: perK(writer?.total ?? 0),
      otherK: perK(sum(rest.filter((t) => t !== writer))),
    } satisfies InstructionCount;
  } finally {
    child?.kill('SIGKILL');
    if (o.keep) keepProfiles(dir, join(o.keep, `${target.name}-${bodyName}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

function keepProfiles(from: string, to: string) {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from))
    if (f.startsWith('callgrind.out')) copyFileSync(join(from, f), join(to, f));
}

async function main() {
  const o = options(process.argv.slice(2));
  const log = (m: string) => process.stderr.write(`${m}\n`);
  exitOnSignals(log);
  log(`gateway: ${o.entry}`);
  const group = new ChildGroup('quorum-instructions-', log);
  const results: InstructionCount[] = [];
  try {
    const fake = await group.upstream('fake upstream', 'bench/fake-upstream.ts');
    const targets = [
      quorumTarget(o.entry, fake.url, o.nodeFlags),
      ...(o.floor ? [floorTarget(fake.url)] : []),
    ];
    for (const body of o.bodies) for (const t of targets) results.push(await countOne(o, t, body, log));
  } finally {
    await group.close();
  }
  const cell = (v: string | number, w: number) => String(v).padStart(w);
  process.stdout.write('thousand instructions per request (callgrind)\n');
  process.stdout.write(
    `${'target'.padEnd(8)} ${'body'.padEnd(10)} ${cell('total', 8)} ${cell('main', 8)} ${cell('writer', 8)} ${cell('other', 8)}\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.target.padEnd(8)} ${r.body.padEnd(10)} ${cell(r.totalK, 8)} ${cell(r.mainK, 8)} ${cell(r.writerK, 8)} ${cell(r.otherK, 8)}\n`,
    );
  }
  for (const body of o.bodies) {
    const q = results.find((r) => r.target === 'quorum' && r.body === body);
    const f = results.find((r) => r.target === 'floor' && r.body === body);
    if (q && f)
      process.stdout.write(`${body}: Quorum ÷ floor ${(q.totalK / f.totalK).toFixed(2)}× (all threads)\n`);
  }
  process.stdout.write('("other": V8\'s compiler and GC threads, which vary most between runs)\n');
}

await main().catch((err) => {
  process.stderr.write(`bench/instructions: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
