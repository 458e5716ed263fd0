export const MAIN_HELP = `quorum — a multi-LLM routing and consensus gateway with an OpenAI-compatible API

Usage: quorum <command> [options]

Commands:
  serve              start the gateway (the default for \`npm start\`)
  validate <file>    check a configuration or a workflow file and print every problem with its path
  route              show how the router would serve a chat body (no model is called)
  keys               create, list and revoke API keys (create|list|revoke)
  run <workflow>     run a workflow with live per-step progress (embedded, or --server URL)
  runs               list, show, follow, approve/reject, re-run and cancel runs on a running gateway
  graph <workflow>   validate a workflow definition and draw its DAG (mermaid or dot)
  spend              spend per day, model, key or team, from the ledger

Run \`quorum <command> --help\` for a command's options.

Environment:
  PORT (8080)  HOST (127.0.0.1)  QUORUM_CONFIG (config/quorum.yaml)  QUORUM_MASTER_KEY
  QUORUM_DATABASE_URL (sqlite:./data/quorum.db, or postgres://…)  QUORUM_REDIS_URL (shared limits)
  QUORUM_WORKERS (1; serve's --workers)
  QUORUM_URL (the gateway quorum runs talks to, http://127.0.0.1:8080)
  QUORUM_KEY (the key quorum run --server and quorum runs send; QUORUM_API_KEY is read too)
  OPENAI_API_KEY / ANTHROPIC_API_KEY / GEMINI_API_KEY  enable providers when no config names any
  OTEL_*  OpenTelemetry exporter settings (tracing is off unless an exporter is configured)
  QUORUM_LOG_LEVEL (info)  QUORUM_TRACE_CONTENT (false)

Docs: README.md and docs/ in the repository.
`;

export const SERVE_HELP = `quorum serve — start the gateway

Usage: quorum serve [--config <file>] [--port <n>] [--host <addr>] [--workers <n|auto>]

Options:
  --config <file>     configuration file (default: $QUORUM_CONFIG, else config/quorum.yaml if it exists)
  --port <n>          port to listen on (default: $PORT, else 8080)
  --host <addr>       address to bind (default: $HOST, else 127.0.0.1; use 0.0.0.0 in containers)
  --workers <n|auto>  processes sharing the port, one per core with auto (default: $QUORUM_WORKERS,
                      else 1). More than one needs QUORUM_REDIS_URL, so budgets and rate limits are
                      shared; a worker that exits is restarted; the workflow engine runs in worker 1
  -h, --help          show this help

With no configuration file and no provider keys in the environment, the built-in deterministic
demo provider answers, so every endpoint can be tried:

  quorum serve
  curl -s localhost:8080/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"demo","messages":[{"role":"user","content":"2+2?"}]}'

Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 2 for an invalid configuration (or one that
cannot run on that many workers), 1 otherwise.
`;

export const VALIDATE_HELP = `quorum validate — check a configuration file or a workflow definition

Usage: quorum validate [<config>]
       quorum validate <workflow.yaml|json> [--config <config>]

A configuration is loaded the way \`quorum serve\` would (environment interpolation, the built-in
catalog, every cross-reference); a workflow (a file with top-level \`steps\`) is checked the way
POST /v1/workflows checks it, and every model it names against that configuration's models, aliases
and presets (a team's allow-list is checked when the definition is stored). One line per problem, with
its path, e.g.

  models[2].price.input: Invalid input: expected number, received string
  steps.review.reviewers: The model \`claude-sonet\` does not exist. Served here: …

Examples:
  quorum validate config/quorum.yaml
  quorum validate examples/workflows/plan-then-execute.yaml

Exit codes: 0 when valid (a summary is printed), 2 when not.
`;

export const ROUTE_HELP = `quorum route — explain the routing decision for a chat body, without calling any model

Usage: quorum route --body <file.json | -> [--config <file>] [--json]

Options:
  --body <file>    a /v1/chat/completions body (JSON); - reads standard input
  --config <file>  configuration file (default: $QUORUM_CONFIG, else config/quorum.yaml if it exists)
  --json           print the decision as POST /v1/route returns it
  -h, --help       show this help

The body's model decides: auto, auto:cost, auto:quality, auto:latency or auto:balanced lets the router
choose; a catalog name shows how that model and its fallbacks fit the task. Every candidate is listed
with its scores, or the reason it was excluded.

  echo '{"model":"auto:cost","messages":[{"role":"user","content":"hi"}]}' | quorum route --body -

Exit codes: 0 decided, 1 no decision possible (e.g. unknown model), 2 bad input or configuration.
`;
