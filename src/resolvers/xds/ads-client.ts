/**
 * A state-of-the-world ADS client: one gRPC stream to the control plane carrying every subscribed type.
 *
 * Protocol, as envoy and gRPC clients speak it (envoy `xds_protocol` docs, gRFC A27):
 * - one `StreamAggregatedResources` stream; a `DiscoveryRequest` per type naming the resources we want
 *   (never wildcard); `node` on the first request of each stream only.
 * - every response is answered: ACK = the response's `version_info` and `nonce`; NACK = the rejected `nonce`, the
 *   last *accepted* `version_info` and `error_detail { code: INVALID_ARGUMENT, message }`. A response with any
 *   unusable resource is rejected whole and the last accepted resources stay in force (envoy does the same).
 * - on a broken stream: reconnect after a jittered exponential backoff (gRPC connection backoff: 1 s × 1.6^n,
 *   ±20 %, at most 120 s; reset once a stream has delivered a response), then re-request every type with its last
 *   accepted version and an empty nonce, so the server can skip resending what we already have — and must answer
 *   (both sides may have lost state).
 *
 * Resource types plug in as decoders; the client knows nothing of clusters or endpoints.
 */
import * as grpc from '@grpc/grpc-js';
import type { Clock, TimerHandle } from '../../clock.js';
import { join, readNumber, readObject } from '../../config/validate.js';
import { ConfigError } from '../../errors/config-error.js';
import { isXdsResourceError, XdsResourceError } from '../../errors/xds-resource-error.js';
import { XdsStreamError } from '../../errors/xds-stream-error.js';
import type { RandomSource } from '../../random.js';
import type { XdsBootstrap } from './bootstrap.js';
import {
  ADS_METHOD,
  type DiscoveryRequestMessage,
  type DiscoveryResponseMessage,
  decodeDiscoveryResponse,
  encodeDiscoveryRequest,
} from './proto/codec.js';

/** Reconnect backoff of the ADS stream. */
export interface AdsBackoffOptions {
  /** First delay, ms. Default 1,000 (gRPC connection backoff INITIAL_BACKOFF). */
  readonly initialMs: number;
  /** Largest delay, ms. Default 120,000 (gRPC MAX_BACKOFF). */
  readonly maxMs: number;
  /** Growth per failed attempt. Default 1.6 (gRPC MULTIPLIER). */
  readonly multiplier: number;
  /** Relative jitter, delays are spread ± this fraction. Default 0.2 (gRPC JITTER). */
  readonly jitter: number;
}

/** gRPC's connection backoff (doc/connection-backoff.md). */
export const defaultAdsBackoff: AdsBackoffOptions = {
  initialMs: 1_000,
  maxMs: 120_000,
  multiplier: 1.6,
  jitter: 0.2,
};

/** Validates `backoff` options (each field optional, defaulting to {@link defaultAdsBackoff}). */
export function readBackoff(raw: unknown, path = 'backoff'): AdsBackoffOptions {
  const obj = readObject(raw, path, ['initialMs', 'maxMs', 'multiplier', 'jitter']);
  const ms = { min: 1, max: 3_600_000 };
  const backoff: AdsBackoffOptions = {
    initialMs: readNumber(obj, 'initialMs', path, ms, defaultAdsBackoff.initialMs),
    maxMs: readNumber(obj, 'maxMs', path, ms, defaultAdsBackoff.maxMs),
    multiplier: readNumber(obj, 'multiplier', path, { min: 1, max: 10 }, defaultAdsBackoff.multiplier),
    jitter: readNumber(obj, 'jitter', path, { min: 0, max: 1 }, defaultAdsBackoff.jitter),
  };
  if (backoff.maxMs < backoff.initialMs) {
    throw new ConfigError({
      field: join(path, 'maxMs'),
      allowed: `a number >= ${join(path, 'initialMs')} (${backoff.initialMs})`,
      received: backoff.maxMs,
    });
  }
  return backoff;
}

/** One resource type the client can subscribe to. */
export interface AdsResourceType<T> {
  readonly typeUrl: string;
  /** Decodes and validates one resource; throws {@link XdsResourceError}. */
  decode(bytes: Uint8Array): T;
  /** The resource's name (the name it is subscribed under). */
  nameOf(resource: T): string;
  /**
   * True when every response carries every subscribed resource, so a missing one was deleted (CDS, LDS).
   * False when responses may be partial (EDS, RDS): missing ones keep their last accepted value.
   */
  readonly complete: boolean;
}

/** What the client reports. Called from gRPC stream events, never synchronously from a method call. */
export interface AdsClientEvents {
  /** A response was accepted (and ACKed): the current resources of `typeUrl` by name, subscribed ones only. */
  onResources(typeUrl: string, resources: ReadonlyMap<string, unknown>, version: string): void;
  /** A response was rejected (and NACKed); the previous resources stay. */
  onRejected(error: XdsResourceError): void;
  /** The stream broke; a reconnect is scheduled. */
  onStreamError(error: XdsStreamError): void;
}

/** Options of {@link AdsClient}. */
export interface AdsClientOptions {
  readonly bootstrap: XdsBootstrap;
  readonly types: readonly AdsResourceType<unknown>[];
  readonly events: AdsClientEvents;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly backoff: AdsBackoffOptions;
  /** Largest response accepted, bytes (grpc `max_receive_message_length`). */
  readonly maxResponseBytes: number;
  /** `user_agent_version` sent in `Node`. */
  readonly userAgentVersion: string;
}

interface TypeState {
  readonly type: AdsResourceType<unknown>;
  names: ReadonlySet<string>;
  /** Last accepted version (sent in every request; survives reconnects). */
  version: string;
  /** Nonce of the last response on the current stream ('' on a new stream). */
  nonce: string;
  resources: Map<string, unknown>;
}

/** google.rpc.Code INVALID_ARGUMENT, the code gRPC and envoy clients NACK with. */
const INVALID_ARGUMENT = 3;

export class AdsClient {
  readonly #options: AdsClientOptions;
  readonly #client: grpc.Client;
  readonly #types = new Map<string, TypeState>();
  #call: grpc.ClientDuplexStream<DiscoveryRequestMessage, DiscoveryResponseMessage> | undefined;
  #sentNode = false;
  #gotResponse = false;
  #attempt = 0;
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(options: AdsClientOptions) {
    this.#options = options;
    for (const type of options.types) {
      this.#types.set(type.typeUrl, { type, names: new Set(), version: '', nonce: '', resources: new Map() });
    }
    this.#client = new grpc.Client(options.bootstrap.serverUri, channelCredentials(options.bootstrap), {
      'grpc.max_receive_message_length': options.maxResponseBytes,
      'grpc.primary_user_agent': `switchyard/${options.userAgentVersion}`,
    });
  }

  /** Replaces the subscribed names of one type; opens the stream on first use. */
  subscribe(typeUrl: string, names: readonly string[]): void {
    const state = this.#types.get(typeUrl);
    if (state === undefined || this.#closed) return;
    state.names = new Set(names);
    for (const name of [...state.resources.keys()]) if (!state.names.has(name)) state.resources.delete(name);
    if (this.#call === undefined) {
      if (this.#timer === undefined) this.#openStream();
    } else {
      this.#send(state);
    }
  }

  /** Ends the stream and the channel, cancels the reconnect timer. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    const call = this.#call;
    this.#call = undefined;
    call?.cancel();
    this.#client.close();
  }

  #openStream(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const call = this.#client.makeBidiStreamRequest(
      ADS_METHOD,
      encodeDiscoveryRequest,
      (bytes: Buffer) => decodeDiscoveryResponse(bytes),
      new grpc.Metadata(),
      {},
    );
    this.#call = call;
    this.#sentNode = false;
    this.#gotResponse = false;
    call.on('data', (response: DiscoveryResponseMessage) => {
      if (this.#call === call) this.#onResponse(response);
    });
    // grpc-js also emits 'error' for non-OK statuses; 'status' covers every ending, so errors are handled there.
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => {
      if (this.#call === call) this.#onStreamEnd(status);
    });
    for (const state of this.#types.values()) {
      state.nonce = '';
      if (state.names.size > 0) this.#send(state);
    }
  }

  #onStreamEnd(status: grpc.StatusObject): void {
    this.#call = undefined;
    if (this.#closed) return;
    if (this.#gotResponse) this.#attempt = 0;
    const { initialMs, maxMs, multiplier, jitter } = this.#options.backoff;
    const base = Math.min(initialMs * multiplier ** this.#attempt, maxMs);
    const delay = Math.max(0, base * (1 + jitter * (2 * this.#options.random() - 1)));
    this.#attempt++;
    this.#timer = this.#options.clock.setTimer(() => this.#openStream(), delay);
    this.#options.events.onStreamError(
      new XdsStreamError({
        serverUri: this.#options.bootstrap.serverUri,
        grpcCode: status.code,
        grpcDetails: status.details,
        retryInMs: delay,
      }),
    );
  }

  #onResponse(response: DiscoveryResponseMessage): void {
    this.#gotResponse = true;
    const state = this.#types.get(response.type_url);
    if (state === undefined || state.names.size === 0) return; // not ours (or no longer): nothing to answer
    state.nonce = response.nonce;
    let accepted: Map<string, unknown>;
    try {
      accepted = this.#decode(state, response);
    } catch (error) {
      // Anything else thrown while decoding is still the response's fault as far as the stream is concerned.
      const rejected =
        error instanceof XdsResourceError
          ? error
          : new XdsResourceError(
              {
                problem: 'invalid',
                typeUrl: response.type_url,
                detail: String((error as Error)?.message ?? error),
              },
              { cause: error },
            );
      this.#send(state, { code: INVALID_ARGUMENT, message: rejected.message });
      this.#options.events.onRejected(rejected);
      return;
    }
    state.version = response.version_info;
    state.resources = accepted;
    this.#send(state);
    this.#options.events.onResources(state.type.typeUrl, accepted, response.version_info);
  }

  /** Decodes every resource of a response; throws on the first unusable one of ours. */
  #decode(state: TypeState, response: DiscoveryResponseMessage): Map<string, unknown> {
    const { type } = state;
    const decoded = new Map<string, unknown>();
    response.resources.forEach((any, i) => {
      if (any.type_url !== type.typeUrl) {
        throw new XdsResourceError({
          problem: 'invalid',
          typeUrl: type.typeUrl,
          detail: `resources[${i}].type_url is ${JSON.stringify(any.type_url)}, not the response's type`,
        });
      }
      let resource: unknown;
      try {
        resource = type.decode(any.value);
      } catch (error) {
        // A bad resource someone else subscribed to is not our problem; one without a readable name might be ours.
        const name = isXdsResourceError(error) ? error.resourceName : undefined;
        if (name !== undefined && !state.names.has(name)) return;
        throw error;
      }
      const name = type.nameOf(resource);
      if (!state.names.has(name)) return;
      if (decoded.has(name)) {
        throw new XdsResourceError({
          problem: 'invalid',
          typeUrl: type.typeUrl,
          resourceName: name,
          detail: `resources[${i}] repeats a resource already in this response`,
        });
      }
      decoded.set(name, resource);
    });
    if (type.complete) return decoded;
    // Partial types: what the response did not mention keeps its last accepted value.
    const merged = new Map(state.resources);
    for (const [name, resource] of decoded) merged.set(name, resource);
    return merged;
  }

  #send(state: TypeState, errorDetail?: { code: number; message: string }): void {
    const call = this.#call;
    if (call === undefined) return;
    const { bootstrap, userAgentVersion } = this.#options;
    const request: DiscoveryRequestMessage = {
      version_info: state.version,
      resource_names: [...state.names],
      type_url: state.type.typeUrl,
      response_nonce: state.nonce,
      ...(errorDetail === undefined ? {} : { error_detail: errorDetail }),
      ...(this.#sentNode
        ? {}
        : {
            node: {
              id: bootstrap.node.id,
              cluster: bootstrap.node.cluster,
              ...(bootstrap.node.locality === undefined ? {} : { locality: bootstrap.node.locality }),
              ...(bootstrap.node.metadata === undefined ? {} : { metadata: bootstrap.node.metadata }),
              user_agent_name: 'switchyard',
              user_agent_version: userAgentVersion,
              client_features: [],
            },
          }),
    };
    this.#sentNode = true;
    call.write(request);
  }
}

function channelCredentials(bootstrap: XdsBootstrap): grpc.ChannelCredentials {
  const creds = bootstrap.credentials;
  if (creds.type === 'insecure') return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    creds.rootCerts ?? null,
    creds.privateKey ?? null,
    creds.certChain ?? null,
  );
}
