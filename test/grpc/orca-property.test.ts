/**
 * Properties of the hand-written ORCA decoder against the reference encoder (proto-loader over grpc-js's own
 * orca_load_report.proto): every report decodes to the fields A58 uses; every prefix of an encoding decodes to a
 * report or `undefined`, never an exception.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeOrcaReport } from '../../src/grpc/orca.js';
import { checkProperty } from '../helpers/properties.js';

const require = createRequire(import.meta.url);
const grpcJs = path.dirname(require.resolve('@grpc/grpc-js/package.json'));
const OrcaLoadReport = protoLoader.loadSync('xds/data/orca/v3/orca_load_report.proto', {
  keepCase: true,
  includeDirs: [path.join(grpcJs, 'proto/xds'), path.join(grpcJs, 'proto/protoc-gen-validate')],
})['xds.data.orca.v3.OrcaLoadReport'] as protoLoader.MessageTypeDefinition<object, object>;
const encode = (report: Record<string, unknown>) => OrcaLoadReport.serialize(report);

const metricMap = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.double({ min: 0, max: 1e6, noNaN: true }),
  { maxKeys: 3 },
);
const report = fc.record(
  {
    cpu_utilization: fc.double({ min: 0, max: 64, noNaN: true }),
    mem_utilization: fc.double({ min: 0, max: 1, noNaN: true }),
    rps: fc.integer({ min: 0, max: 2 ** 40 }),
    rps_fractional: fc.double({ min: 0, max: 1e9, noNaN: true }),
    eps: fc.double({ min: 0, max: 1e9, noNaN: true }),
    application_utilization: fc.double({ min: 0, max: 64, noNaN: true }),
    request_cost: metricMap,
    utilization: metricMap,
    named_metrics: metricMap,
  },
  { requiredKeys: [] },
);

describe('decodeOrcaReport properties', () => {
  it('decodes every reference-encoded report to the fields A58 uses', () => {
    checkProperty(
      fc.property(report, (r) => {
        const decoded = decodeOrcaReport(encode(r));
        expect(decoded).toEqual({
          cpuUtilization: r.cpu_utilization ?? 0,
          applicationUtilization: r.application_utilization ?? 0,
          qps: r.rps_fractional || (r.rps ?? 0),
          eps: r.eps ?? 0,
        });
      }),
      { seed: 1441, numRuns: 300 },
    );
  });

  it('never throws on a prefix or a corrupted copy of an encoding', () => {
    checkProperty(
      fc.property(report, fc.nat(), fc.nat(255), (r, at, byte) => {
        const bytes = Uint8Array.from(encode(r));
        const cut = bytes.slice(0, at % (bytes.length + 1));
        const result = decodeOrcaReport(cut);
        if (result !== undefined)
          expect(Object.keys(result).sort()).toEqual([
            'applicationUtilization',
            'cpuUtilization',
            'eps',
            'qps',
          ]);
        if (bytes.length > 0) {
          bytes[at % bytes.length] = byte;
          expect(() => decodeOrcaReport(bytes)).not.toThrow();
        }
      }),
      { seed: 1442, numRuns: 500 },
    );
  });
});
