# syntax=docker/dockerfile:1
# Quorum: multi-LLM gateway. One stage compiles the TypeScript sources to JavaScript (`npm run build`,
# dist/: faster start-up and less memory than type stripping), one installs production dependencies,
# the final stage holds only those two.
#
#   docker build -t quorum .
#   docker run -p 8080:8080 -e OPENAI_API_KEY=... quorum
#   docker run -p 8080:8080 -v $PWD/quorum.yaml:/app/config/quorum.yaml:ro -v quorum-data:/app/data quorum
#   docker run quorum validate --config /app/config/quorum.yaml

# ---- build: the sources compiled to dist/ -------------------------------------------------------
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/ ./scripts/
COPY config/ ./config/
COPY routing/ ./routing/
COPY consensus/ ./consensus/
COPY src/ ./src/
RUN node scripts/build.ts

# ---- production dependencies -------------------------------------------------------------------
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev also drops the `node` devDependency (the pinned Node binary for local runs): the base
# image's Node 24 runs the gateway. Install scripts follow package.json `allowScripts`.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime -----------------------------------------------------------------------------------
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080

# Code and dependencies stay root-owned (read-only for the service user); only /app/data is writable.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY config/ ./config/
COPY --from=build /app/dist ./dist/

# Default store: QUORUM_DATABASE_URL=sqlite:./data/quorum.db, i.e. /app/data/quorum.db.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]

USER node
EXPOSE 8080

# No curl in the slim image: Node's own fetch probes the liveness endpoint.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

# `serve` handles SIGTERM/SIGINT itself, so it can run as PID 1: /readyz turns 503 at once, in-flight
# requests get server.drain_timeout_ms (30 s) to finish, the ledger is flushed, exit 0 — give
# `docker stop -t 40` (compose: stop_grace_period) room for it. With `serve --workers N` (needs
# QUORUM_REDIS_URL) it is the primary and drains every worker. deploy/ has compose and Kubernetes
# manifests that match this image (port 8080, user node, /healthz, /readyz).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["serve"]
