/**
 * The gRPC xDS bootstrap (gRFC A27): which control plane to talk to, how, and who we are.
 *
 * The same JSON file gRPC clients read, so one bootstrap serves a mixed fleet:
 *
 * ```json
 * { "xds_servers": [{ "server_uri": "xds.internal:18000",
 *                     "channel_creds": [{ "type": "tls", "config": { "ca_certificate_file": "/etc/xds/ca.pem" } }],
 *                     "server_features": ["xds_v3"] }],
 *   "node": { "id": "orders-7f9c", "cluster": "orders", "locality": { "zone": "eu-west-1a" } } }
 * ```
 *
 * Where it comes from, first match wins: the `bootstrap` option (an object, or a path to a JSON file), else the
 * file named by `GRPC_XDS_BOOTSTRAP`, else the JSON text in `GRPC_XDS_BOOTSTRAP_CONFIG` (both as in gRPC).
 * Only the first `xds_servers` entry is used (gRPC does the same without federation). Fields we do not use
 * (`authorities`, `certificate_providers`, `server_listener_resource_name_template`, …) are ignored, because
 * the file is shared with gRPC clients that do use them; the fields we read are validated strictly.
 */
import { readFileSync } from 'node:fs';
import { join } from '../../config/validate.js';
import { ConfigError } from '../../errors/config-error.js';

/** A bootstrap as an object, or the path of a JSON file holding one. */
export type XdsBootstrapInput = string | Readonly<Record<string, unknown>>;

/** How to secure the channel to the control plane. */
export type XdsChannelCredentials =
  | { readonly type: 'insecure' }
  | {
      readonly type: 'tls';
      /** PEM contents read from `config.ca_certificate_file`; system roots when absent. */
      readonly rootCerts?: Buffer;
      /** PEM contents of `config.private_key_file` and `config.certificate_file` (mutual TLS; both or neither). */
      readonly privateKey?: Buffer;
      readonly certChain?: Buffer;
    };

/** Locality of this client, as in envoy `core.v3.Locality`. */
export interface XdsNodeLocality {
  readonly region?: string;
  readonly zone?: string;
  readonly sub_zone?: string;
}

/** Who we are to the control plane (envoy `core.v3.Node`). */
export interface XdsNode {
  readonly id: string;
  readonly cluster: string;
  readonly locality?: XdsNodeLocality;
  /** Free-form JSON sent as a `google.protobuf.Struct`. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** A validated bootstrap. */
export interface XdsBootstrap {
  /** `host:port` (or any gRPC target) of the control plane. */
  readonly serverUri: string;
  readonly credentials: XdsChannelCredentials;
  /** `server_features` of that server, e.g. `ignore_resource_deletion` (gRFC A53). */
  readonly serverFeatures: readonly string[];
  readonly node: XdsNode;
  /** Where it was read from, for messages: `options`, a file path, or `GRPC_XDS_BOOTSTRAP_CONFIG`. */
  readonly source: string;
}

/** Channel credential types we can build, in the order gRPC defines them; the first supported entry wins. */
const SUPPORTED_CREDS = ['insecure', 'tls'] as const;

/**
 * Loads and validates a bootstrap. Throws {@link ConfigError} naming the field (`bootstrap.xds_servers[0].server_uri`)
 * for anything missing or mistyped, and when no source is given at all.
 */
export function loadXdsBootstrap(
  input: XdsBootstrapInput | undefined,
  env: NodeJS.ProcessEnv = process.env,
): XdsBootstrap {
  if (input !== undefined && typeof input === 'object') return parseXdsBootstrap(input, 'options');
  const path = typeof input === 'string' ? input : env.GRPC_XDS_BOOTSTRAP;
  if (path !== undefined && path !== '') return parseXdsBootstrap(readJsonFile(path), path);
  const inline = env.GRPC_XDS_BOOTSTRAP_CONFIG;
  if (inline !== undefined && inline !== '') {
    return parseXdsBootstrap(parseJson(inline, 'GRPC_XDS_BOOTSTRAP_CONFIG'), 'GRPC_XDS_BOOTSTRAP_CONFIG');
  }
  throw new ConfigError({
    field: 'bootstrap',
    allowed:
      'a bootstrap object, a file path, or the GRPC_XDS_BOOTSTRAP / GRPC_XDS_BOOTSTRAP_CONFIG variable',
    received: input,
  });
}

/** Validates a bootstrap object (already parsed JSON). */
export function parseXdsBootstrap(raw: unknown, source = 'options'): XdsBootstrap {
  const root = asObject(raw, 'bootstrap');
  const servers = root.xds_servers;
  if (!Array.isArray(servers) || servers.length === 0) {
    throw new ConfigError({
      field: 'bootstrap.xds_servers',
      allowed: 'a non-empty array of servers',
      received: servers,
    });
  }
  const serverPath = 'bootstrap.xds_servers[0]';
  const server = asObject(servers[0], serverPath);
  const serverUri = server.server_uri;
  if (typeof serverUri !== 'string' || serverUri === '') {
    throw new ConfigError({
      field: join(serverPath, 'server_uri'),
      allowed: 'a non-empty string (host:port)',
      received: serverUri,
    });
  }
  const serverFeatures = readStringArray(server.server_features, join(serverPath, 'server_features'));
  return {
    serverUri,
    credentials: parseCredentials(server.channel_creds, join(serverPath, 'channel_creds')),
    serverFeatures,
    node: parseNode(root.node, 'bootstrap.node'),
    source,
  };
}

function parseCredentials(raw: unknown, path: string): XdsChannelCredentials {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigError({ field: path, allowed: 'a non-empty array of { type, config? }', received: raw });
  }
  for (let i = 0; i < raw.length; i++) {
    const entry = asObject(raw[i], `${path}[${i}]`);
    const type = entry.type;
    if (typeof type !== 'string')
      throw new ConfigError({ field: `${path}[${i}].type`, allowed: 'a string', received: type });
    if (type === 'insecure') return { type: 'insecure' };
    if (type === 'tls') return parseTlsConfig(entry.config, `${path}[${i}].config`);
    // Unsupported types (google_default, …) are skipped, as gRPC does; the next entry may be usable.
  }
  throw new ConfigError({
    field: path,
    allowed: `at least one entry of type ${SUPPORTED_CREDS.map((t) => `"${t}"`).join(' or ')}`,
    received: raw.map((e) => (e as { type?: unknown })?.type).join(', '),
  });
}

/** gRFC A65 file-based TLS config: `ca_certificate_file`, `certificate_file`, `private_key_file`. */
function parseTlsConfig(raw: unknown, path: string): XdsChannelCredentials {
  const config = raw === undefined ? {} : asObject(raw, path);
  const ca = readOptionalString(config.ca_certificate_file, join(path, 'ca_certificate_file'));
  const cert = readOptionalString(config.certificate_file, join(path, 'certificate_file'));
  const key = readOptionalString(config.private_key_file, join(path, 'private_key_file'));
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError({
      field: join(path, cert === undefined ? 'certificate_file' : 'private_key_file'),
      allowed: 'both certificate_file and private_key_file, or neither',
      received: undefined,
    });
  }
  return {
    type: 'tls',
    ...(ca === undefined ? {} : { rootCerts: readFile(ca, join(path, 'ca_certificate_file')) }),
    ...(key === undefined ? {} : { privateKey: readFile(key, join(path, 'private_key_file')) }),
    ...(cert === undefined ? {} : { certChain: readFile(cert, join(path, 'certificate_file')) }),
  };
}

function parseNode(raw: unknown, path: string): XdsNode {
  // gRFC A27: `node` is optional; control planes that need an id will say so.
  if (raw === undefined) return { id: '', cluster: '' };
  const node = asObject(raw, path);
  const id = readOptionalString(node.id, join(path, 'id')) ?? '';
  const cluster = readOptionalString(node.cluster, join(path, 'cluster')) ?? '';
  let locality: XdsNodeLocality | undefined;
  if (node.locality !== undefined) {
    const loc = asObject(node.locality, join(path, 'locality'));
    const region = readOptionalString(loc.region, join(path, 'locality.region'));
    const zone = readOptionalString(loc.zone, join(path, 'locality.zone'));
    const subZone = readOptionalString(loc.sub_zone, join(path, 'locality.sub_zone'));
    locality = {
      ...(region === undefined ? {} : { region }),
      ...(zone === undefined ? {} : { zone }),
      ...(subZone === undefined ? {} : { sub_zone: subZone }),
    };
  }
  const metadata = node.metadata === undefined ? undefined : asObject(node.metadata, join(path, 'metadata'));
  return {
    id,
    cluster,
    ...(locality === undefined ? {} : { locality }),
    ...(metadata === undefined ? {} : { metadata }),
  };
}

function asObject(raw: unknown, path: string): Readonly<Record<string, unknown>> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError({ field: path, allowed: 'an object', received: raw });
  }
  return raw as Readonly<Record<string, unknown>>;
}

function readOptionalString(raw: unknown, path: string): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw new ConfigError({ field: path, allowed: 'a string', received: raw });
  return raw;
}

function readStringArray(raw: unknown, path: string): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'string')) {
    throw new ConfigError({ field: path, allowed: 'an array of strings', received: raw });
  }
  return raw as string[];
}

function readJsonFile(path: string): unknown {
  return parseJson(readFile(path, 'bootstrap').toString('utf8'), path);
}

function readFile(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError({
      field,
      allowed: `a readable file (${(error as NodeJS.ErrnoException).code ?? 'read failed'})`,
      received: path,
    });
  }
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError({
      field: 'bootstrap',
      allowed: `valid JSON in ${source} (${(error as Error).message})`,
      received: text,
    });
  }
}
