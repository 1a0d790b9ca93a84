/**
 * ORCA per-call load reports: the hand-written decoder against the real OrcaLoadReport proto (as vendored by
 * grpc-js), A58 weighting on a ManualClock, and weights steering weighted_round_robin between real servers.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors/index.js';
import { channelOptions, setup } from '../../src/grpc/index.js';
import { decodeOrcaReport, OrcaWeights, parseOrcaOptions } from '../../src/grpc/orca.js';
import { burst, useEchoFleet, waitFor, waitRoutable, who } from '../helpers/grpc-servers.js';

setup();

const require = createRequire(import.meta.url);
const grpcJs = path.dirname(require.resolve('@grpc/grpc-js/package.json'));
// Loaded once for the file: the reference encoder (the policy itself never parses the .proto).
const OrcaLoadReport = protoLoader.loadSync('xds/data/orca/v3/orca_load_report.proto', {
  keepCase: true,
  includeDirs: [path.join(grpcJs, 'proto/xds'), path.join(grpcJs, 'proto/protoc-gen-validate')],
})['xds.data.orca.v3.OrcaLoadReport'] as protoLoader.MessageTypeDefinition<object, object>;
const encode = (report: Record<string, unknown>) => OrcaLoadReport.serialize(report);

describe('decodeOrcaReport', () => {
  it('reads the fields A58 uses from reports encoded with the real proto, skipping the rest', () => {
    const bytes = encode({
      cpu_utilization: 0.25,
      mem_utilization: 0.5,
      request_cost: { db: 3 },
      utilization: { gpu: 0.7 },
      rps_fractional: 123.5,
      eps: 2.5,
      named_metrics: { queue: 9 },
      application_utilization: 0.75,
    });
    expect(decodeOrcaReport(bytes)).toEqual({
      cpuUtilization: 0.25,
      applicationUtilization: 0.75,
      qps: 123.5,
      eps: 2.5,
    });
    expect(decodeOrcaReport(encode({ cpu_utilization: 0.1, rps: 42 }))).toMatchObject({ qps: 42 });
    expect(decodeOrcaReport(encode({}))).toEqual({
      cpuUtilization: 0,
      applicationUtilization: 0,
      qps: 0,
      eps: 0,
    });
  });

  it('rejects truncated or malformed bytes', () => {
    const bytes = encode({ cpu_utilization: 0.25, rps_fractional: 10 });
    expect(decodeOrcaReport(bytes.subarray(0, bytes.length - 3))).toBeUndefined();
    expect(decodeOrcaReport(Buffer.from([0x0b]))).toBeUndefined(); // wire type 3 (groups) is not in this message
    expect(decodeOrcaReport(Buffer.from([0x22, 0x05, 0x01]))).toBeUndefined(); // length past the end
  });
});

describe('parseOrcaOptions', () => {
  it('defaults to A58 and validates', () => {
    expect(parseOrcaOptions(true, 'orca')).toEqual({
      weightUpdatePeriodMs: 1_000,
      blackoutPeriodMs: 10_000,
      expirationPeriodMs: 180_000,
      errorUtilizationPenalty: 1,
    });
    expect(parseOrcaOptions(undefined, 'orca')).toBeUndefined();
    expect(() => parseOrcaOptions({ weightUpdatePeriodMs: 10 }, 'orca')).toThrow(
      'orca.weightUpdatePeriodMs: expected a number from 100 to 3600000, got 10',
    );
    expect(() => channelOptions({ orca: { blackout: 1 } as never })).toThrow(ConfigError);
  });
});

describe('OrcaWeights', () => {
  const trailers = (report: Record<string, unknown>) => {
    const md = new Metadata();
    md.set('endpoint-load-metrics-bin', encode(report));
    return md;
  };

  it('weights qps / (utilization + eps/qps × penalty) after the blackout, until expiry; others get the mean', () => {
    const clock = new ManualClock();
    let changes = 0;
    const weights = new OrcaWeights(
      {
        weightUpdatePeriodMs: 1_000,
        blackoutPeriodMs: 5_000,
        expirationPeriodMs: 60_000,
        errorUtilizationPenalty: 1,
      },
      clock,
      () => changes++,
    );
    const endpoints = ['a:1', 'b:1', 'c:1'];
    weights.record('a:1', trailers({ cpu_utilization: 0.2, rps_fractional: 100 })); // 500
    // application_utilization wins over cpu; eps adds 10/100 × 1: 100 / (0.4 + 0.1) = 200
    weights.record(
      'b:1',
      trailers({ cpu_utilization: 0.9, application_utilization: 0.4, rps_fractional: 100, eps: 10 }),
    );
    weights.record('c:1', trailers({ cpu_utilization: 0.5 })); // no qps: ignored
    expect(weights.compute(endpoints).size).toBe(0); // blackout
    clock.advance(5_000);
    expect(changes).toBe(5);
    expect(Object.fromEntries(weights.compute(endpoints))).toEqual({
      'a:1': 142.86,
      'b:1': 57.14,
      'c:1': 100,
    });
    clock.advance(60_001);
    expect(weights.compute(endpoints).size).toBe(0); // expired
    weights.close();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('weights steering weighted_round_robin (real servers)', () => {
  const fleet = useEchoFleet(2);
  const { servers } = fleet;

  it('a server reporting 4× the utilization at the same qps gets about a quarter of the traffic', async () => {
    servers[0]!.behaviour.orca = encode({ cpu_utilization: 0.2, rps_fractional: 100 });
    servers[1]!.behaviour.orca = encode({ cpu_utilization: 0.8, rps_fractional: 100 });
    const client = fleet.open(
      fleet.target(),
      channelOptions({
        policy: 'weighted_round_robin',
        orca: { weightUpdatePeriodMs: 100, blackoutPeriodMs: 0 },
        balancer: { name: 'orca' },
      }),
    );
    await who(client);
    await waitRoutable('orca', 2);
    expect(await burst(client, 10)).toSatisfy(
      (c: Record<string, number>) => (c.s0 ?? 0) + (c.s1 ?? 0) === 10,
    );
    const weightOf = (i: number) =>
      fleet
        .balancer('orca')
        ?.stats()
        .endpoints.find((e) => e.address === servers[i]!.address)?.weight;
    // The weight timer runs on the Balancer's system clock (100 ms here): a real wait.
    await waitFor(() => weightOf(0) === 160 && weightOf(1) === 40, 3_000, 'ORCA weights');
    const counts = await burst(client, 100);
    expect(counts.s0).toBe(80);
    expect(counts.s1).toBe(20);
  });
});
