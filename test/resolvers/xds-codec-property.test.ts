/**
 * Round trips of switchyard's ADS codec against the reference one (proto-loader over the envoy protos, as a control
 * plane uses it): requests we encode read back field for field; responses a control plane encodes decode exactly.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DiscoveryRequestMessage,
  decodeDiscoveryResponse,
  encodeDiscoveryRequest,
} from '../../src/resolvers/xds/proto/codec.js';
import { checkProperty } from '../helpers/properties.js';
import { envoyProtos, TYPE } from '../helpers/xds-control-plane.js';

// biome-ignore lint/suspicious/noExplicitAny: proto-loader's method definitions are untyped here.
let method: any;
beforeAll(() => {
  method = envoyProtos().ads.service.StreamAggregatedResources;
});

const text = fc.string({ maxLength: 16 });
const json = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 6 }),
  fc.oneof(text, fc.boolean(), fc.integer({ min: -1_000, max: 1_000 })),
  { maxKeys: 3 },
);
const request = fc.record({
  version_info: text,
  node: fc.option(
    fc.record({
      id: text,
      cluster: text,
      locality: fc.record({ region: text, zone: text, sub_zone: text }),
      metadata: json,
      user_agent_name: text,
      user_agent_version: text,
      client_features: fc.array(text, { maxLength: 3 }),
    }),
    { nil: undefined },
  ),
  resource_names: fc.array(text, { maxLength: 4 }),
  type_url: fc.constantFrom(TYPE.CDS, TYPE.EDS, TYPE.LDS, TYPE.RDS),
  response_nonce: text,
  error_detail: fc.option(fc.record({ code: fc.integer({ min: 0, max: 16 }), message: text }), {
    nil: undefined,
  }),
});

describe('ADS codec round trips', () => {
  it('a DiscoveryRequest we encode reads back field for field with the reference decoder', () => {
    checkProperty(
      fc.property(request, (r) => {
        const message: DiscoveryRequestMessage = {
          version_info: r.version_info,
          resource_names: r.resource_names,
          type_url: r.type_url,
          response_nonce: r.response_nonce,
          ...(r.node === undefined ? {} : { node: r.node }),
          ...(r.error_detail === undefined ? {} : { error_detail: r.error_detail }),
        };
        const back = method.requestDeserialize(encodeDiscoveryRequest(message));
        expect(back.version_info).toBe(r.version_info);
        expect(back.resource_names).toEqual(r.resource_names);
        expect(back.type_url).toBe(r.type_url);
        expect(back.response_nonce).toBe(r.response_nonce);
        if (r.error_detail === undefined) expect(back.error_detail).toBeNull();
        else expect(back.error_detail).toMatchObject(r.error_detail);
        if (r.node === undefined) expect(back.node).toBeNull();
        else {
          expect(back.node).toMatchObject({
            id: r.node.id,
            cluster: r.node.cluster,
            locality: r.node.locality,
            user_agent_name: r.node.user_agent_name,
            user_agent_version: r.node.user_agent_version,
            client_features: r.node.client_features,
          });
          // Struct: every metadata key is there, with its value in the Struct's oneof.
          const fields = back.node.metadata?.fields ?? {};
          expect(Object.keys(fields).sort()).toEqual(Object.keys(r.node.metadata).sort());
          for (const [key, value] of Object.entries(r.node.metadata)) {
            // google.protobuf.Struct's Value oneof (the reference loader names its members in camelCase).
            const field = fields[key];
            expect(field[field.kind]).toBe(value);
            expect(field.kind).toBe(
              typeof value === 'string'
                ? 'stringValue'
                : typeof value === 'boolean'
                  ? 'boolValue'
                  : 'numberValue',
            );
          }
        }
      }),
      { seed: 1451, numRuns: 200 },
    );
  });

  it('a DiscoveryResponse a control plane encodes decodes exactly', () => {
    const response = fc.record({
      version_info: text,
      resources: fc.array(
        fc.record({ type_url: fc.constantFrom(TYPE.CDS, TYPE.EDS), value: fc.uint8Array({ maxLength: 40 }) }),
        { maxLength: 4 },
      ),
      type_url: fc.constantFrom(TYPE.CDS, TYPE.EDS),
      nonce: text,
      control_plane: fc.option(fc.record({ identifier: text }), { nil: undefined }),
    });
    checkProperty(
      fc.property(response, (r) => {
        const decoded = decodeDiscoveryResponse(method.responseSerialize(r));
        expect(decoded.version_info).toBe(r.version_info);
        expect(decoded.type_url).toBe(r.type_url);
        expect(decoded.nonce).toBe(r.nonce);
        expect(decoded.resources.map((x) => ({ type_url: x.type_url, value: Array.from(x.value) }))).toEqual(
          r.resources.map((x) => ({ type_url: x.type_url, value: Array.from(x.value) })),
        );
        expect(decoded.control_plane).toEqual(r.control_plane);
      }),
      { seed: 1452, numRuns: 200 },
    );
  });
});
