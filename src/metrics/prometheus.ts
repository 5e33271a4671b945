import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidOptionError } from '../errors.js';
import { loadOptionalPeer } from '../optional-peer.js';

/**
 * A Prometheus registry, as prom-client's `Registry` is: the app's own, to serve with its other
 * metrics (typed by shape, so an app without prom-client needs none of its types).
 */
export interface MetricsRegistryLike {
  /** The text exposition of every metric it holds. */
  metrics(): Promise<string>;
  /** The Content-Type of that text. */
  readonly contentType: string;
}

/** Where a worker or listener exposes Prometheus metrics (needs the optional peer prom-client). */
export interface MetricsOptions {
  /** Serve `GET /metrics` on this port (0 picks a free one) while it runs; closed when it stops. No server by default. */
  readonly port?: number;
  /** The interface that server listens on; default all interfaces (Node's default). */
  readonly host?: string;
  /** Register the metrics in this prom-client Registry (served on `port` too, when given); a registry of their own by default. */
  readonly registry?: MetricsRegistryLike;
}

type PromClient = typeof import('prom-client');
type Registry = import('prom-client').Registry;

/** The registry metrics go into, prom-client loaded, and the HTTP server when a port was asked for. */
export interface MetricsHost {
  readonly prom: PromClient;
  readonly registry: Registry;
  /** `http://host:port/metrics` when serving, else undefined. */
  readonly url: string | undefined;
  close(): Promise<void>;
}

/** Checks the options before anything starts: a port or a registry, a valid port. */
export function checkMetricsOptions(options: MetricsOptions, path: string): void {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError(`${path} takes { port } or { registry } (or both).`, path);
  if (options.port === undefined && options.registry === undefined)
    throw new InvalidOptionError(`${path} needs a port to serve /metrics on, or a prom-client registry.`, path);
  if (options.port !== undefined && !(Number.isSafeInteger(options.port) && options.port >= 0 && options.port <= 65535))
    throw new InvalidOptionError(`${path}.port must be a whole number from 0 to 65535.`, `${path}.port`);
  // Any object may be passed from JavaScript: look at it before trusting its type.
  const registry = options.registry as { metrics?: unknown } | undefined;
  if (registry !== undefined && typeof registry?.metrics !== 'function')
    throw new InvalidOptionError(`${path}.registry must be a prom-client Registry.`, `${path}.registry`);
}

/** Loads prom-client, and starts the HTTP server when a port is asked for. */
export async function openMetricsHost(options: MetricsOptions, purpose: string): Promise<MetricsHost> {
  const loaded = await loadOptionalPeer('prom-client', () => import('prom-client'), purpose);
  // prom-client is CommonJS: under ESM its exports may come as the default export.
  const prom = ((loaded as { default?: PromClient }).default ?? loaded) as PromClient;
  // Checked by checkMetricsOptions(); the option is typed loosely so prom-client stays optional.
  const registry = (options.registry as Registry | undefined) ?? new prom.Registry();
  if (options.port === undefined) return { prom, registry, url: undefined, close: async () => {} };
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404).end('Not found: metrics are at /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500).end(`${error instanceof Error ? error.message : String(error)}\n`),
    );
  });
  await listen(server, options.port, options.host).catch((error: unknown) => {
    const where = `${options.host ?? 'every interface'} port ${options.port}`;
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidOptionError(
      `${purpose} cannot serve metrics on ${where} (${reason}): choose another metrics.port, or 0 for any free one.`,
      'metrics.port',
    );
  });
  // A TCP listener's address is an AddressInfo (a string only for pipes and sockets).
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    prom,
    registry,
    url: `http://${host}:${address.port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The metric `name` of the registry, made by `make` unless another worker there made it already. */
export function metricOf<T>(registry: Registry, name: string, make: () => T): T {
  // The same name is only ever made by `make`, so what the registry holds is a T.
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** A started metrics hook's common part: its instruments once prom-client is loaded, and its lifecycle. */
export interface StartedMetrics<T> {
  /** Resolves to the /metrics URL once served (undefined without a port); rejects when prom-client is missing or the port is taken. */
  readonly ready: Promise<string | undefined>;
  /** The instruments, or undefined until `ready` (and forever if it failed). */
  instruments(): T | undefined;
  /** Closes the HTTP server, if one was opened. */
  close(): Promise<void>;
}

/**
 * Checks `options` now (at `path`), then loads prom-client and opens the port in the background
 * and builds the hook's instruments on the host; `ready` says how it went.
 */
export function startMetrics<T>(
  options: MetricsOptions,
  path: string,
  purpose: string,
  build: (host: MetricsHost) => T,
): StartedMetrics<T> {
  checkMetricsOptions(options, path);
  const opening = openMetricsHost(options, purpose);
  let made: T | undefined;
  let host: MetricsHost | undefined;
  const ready = opening.then((opened) => {
    host = opened;
    made = build(opened);
    return opened.url;
  });
  // The caller reads `ready`; an unread failure must not become an unhandled rejection.
  ready.catch(() => undefined);
  return {
    ready,
    instruments: () => made,
    async close() {
      await opening.catch(() => undefined);
      await host?.close();
    },
  };
}

/** Gauge and counter makers over `host`'s registry, with one set of label names, reused when already registered. */
export function instrumentMaker(host: MetricsHost, labelNames: readonly string[]) {
  const { prom, registry } = host;
  const registers = [registry];
  return {
    gauge: (name: string, help: string) =>
      metricOf(registry, name, () => new prom.Gauge({ name, help, labelNames, registers })),
    counter: (name: string, help: string) =>
      metricOf(registry, name, () => new prom.Counter({ name, help, labelNames, registers })),
  };
}
