/**
 * Properties of the hand-written grpc.health.v1 codec against a reference encoder (protobufjs, the library grpc-js's
 * own proto-loader uses): every response a server can send decodes to its status, unknown fields skipped; every
 * request we encode is the reference's `{ service }`; a truncated response is an Error, never a wrong status.
 */
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeHealthCheckResponse, encodeHealthCheckRequest } from '../../src/grpc/health-check.js';
import { checkProperty } from '../helpers/properties.js';

// HealthCheckResponse as in health.proto, plus fields a newer server might add (the decoder must skip them).
const root = protobuf.Root.fromJSON({
  nested: {
    HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
    HealthCheckResponse: {
      fields: {
        status: { type: 'int32', id: 1 },
        note: { type: 'string', id: 2 },
        checkedAt: { type: 'fixed64', id: 3 },
        weight: { type: 'fixed32', id: 4 },
        attempts: { type: 'uint64', id: 5 },
      },
    },
  },
});
const Request = root.lookupType('HealthCheckRequest');
const Response = root.lookupType('HealthCheckResponse');

const response = fc.record(
  {
    status: fc.integer({ min: 0, max: 3 }),
    note: fc.string({ maxLength: 40 }),
    checkedAt: fc.nat(),
    weight: fc.nat({ max: 0xffffffff }),
    attempts: fc.nat(),
  },
  { requiredKeys: ['status'] },
);

describe('grpc.health.v1 messages (properties)', () => {
  it('decodes the status of any response, skipping unknown fields', () => {
    checkProperty(
      fc.property(response, (message) => {
        const bytes = Buffer.from(Response.encode(Response.fromObject(message)).finish());
        expect(decodeHealthCheckResponse(bytes)).toBe(message.status);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('encodes requests the reference decodes to the same service', () => {
    checkProperty(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (service) => {
        const decoded = Request.toObject(Request.decode(encodeHealthCheckRequest(service)), {
          defaults: true,
        });
        expect(decoded).toEqual({ service });
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('a truncated response is an Error or a status the prefix really holds, never anything else', () => {
    checkProperty(
      fc.property(response, fc.nat(), (message, cut) => {
        const bytes = Buffer.from(Response.encode(Response.fromObject(message)).finish());
        const prefix = bytes.subarray(0, bytes.length === 0 ? 0 : cut % bytes.length);
        let decoded: number | Error;
        try {
          decoded = decodeHealthCheckResponse(prefix);
        } catch (error) {
          decoded = error as Error;
        }
        if (decoded instanceof Error) {
          expect(decoded.message).toMatch(/^HealthCheckResponse: /);
        } else {
          // Fields are written in field order, so a prefix that decodes holds the whole status field or none.
          expect([0, message.status]).toContain(decoded);
        }
      }),
      { seed: 42, numRuns: 500 },
    );
  });
});
