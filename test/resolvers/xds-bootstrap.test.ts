/**
 * Bootstrap loading (gRFC A27): the option object, a file path, GRPC_XDS_BOOTSTRAP, GRPC_XDS_BOOTSTRAP_CONFIG,
 * credentials selection, and a ConfigError naming the field for everything wrong.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isConfigError } from '../../src/errors/config-error.js';
import { loadXdsBootstrap, parseXdsBootstrap } from '../../src/resolvers/xds/bootstrap.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sy-xds-bootstrap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const valid = {
  xds_servers: [
    { server_uri: 'xds.internal:18000', channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
  ],
  node: {
    id: 'orders-1',
    cluster: 'orders',
    locality: { region: 'eu', zone: 'eu-1a', sub_zone: 'r1' },
    metadata: { team: 'core' },
  },
  authorities: {}, // used by gRPC federation; ignored here, not rejected
};

function write(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

function configError(fn: () => unknown): { field: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (isConfigError(error)) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('xDS bootstrap', () => {
  it('reads an object', () => {
    expect(loadXdsBootstrap(valid, {})).toEqual({
      serverUri: 'xds.internal:18000',
      credentials: { type: 'insecure' },
      serverFeatures: ['xds_v3'],
      node: {
        id: 'orders-1',
        cluster: 'orders',
        locality: { region: 'eu', zone: 'eu-1a', sub_zone: 'r1' },
        metadata: { team: 'core' },
      },
      source: 'options',
    });
  });

  it('reads a file given as the option, then GRPC_XDS_BOOTSTRAP, then GRPC_XDS_BOOTSTRAP_CONFIG', () => {
    const file = write('a.json', JSON.stringify(valid));
    const other = write(
      'b.json',
      JSON.stringify({ ...valid, xds_servers: [{ ...valid.xds_servers[0], server_uri: 'env-file:1' }] }),
    );
    const inline = JSON.stringify({
      ...valid,
      xds_servers: [{ ...valid.xds_servers[0], server_uri: 'env-inline:1' }],
    });
    expect(
      loadXdsBootstrap(file, { GRPC_XDS_BOOTSTRAP: other, GRPC_XDS_BOOTSTRAP_CONFIG: inline }),
    ).toMatchObject({
      serverUri: 'xds.internal:18000',
      source: file,
    });
    expect(
      loadXdsBootstrap(undefined, { GRPC_XDS_BOOTSTRAP: other, GRPC_XDS_BOOTSTRAP_CONFIG: inline }).serverUri,
    ).toBe('env-file:1');
    expect(loadXdsBootstrap(undefined, { GRPC_XDS_BOOTSTRAP_CONFIG: inline })).toMatchObject({
      serverUri: 'env-inline:1',
      source: 'GRPC_XDS_BOOTSTRAP_CONFIG',
    });
  });

  it('picks the first supported channel_creds entry, reading TLS files', () => {
    const ca = write('ca.pem', 'CA');
    const cert = write('cert.pem', 'CERT');
    const key = write('key.pem', 'KEY');
    const tls = parseXdsBootstrap({
      xds_servers: [
        {
          server_uri: 'x:1',
          channel_creds: [
            { type: 'google_default' },
            {
              type: 'tls',
              config: { ca_certificate_file: ca, certificate_file: cert, private_key_file: key },
            },
            { type: 'insecure' },
          ],
        },
      ],
    });
    expect(tls.credentials).toEqual({
      type: 'tls',
      rootCerts: Buffer.from('CA'),
      certChain: Buffer.from('CERT'),
      privateKey: Buffer.from('KEY'),
    });
    expect(
      parseXdsBootstrap({ xds_servers: [{ server_uri: 'x:1', channel_creds: [{ type: 'tls' }] }] })
        .credentials,
    ).toEqual({ type: 'tls' });
    expect(
      parseXdsBootstrap({ xds_servers: [{ server_uri: 'x:1', channel_creds: [{ type: 'insecure' }] }] }).node,
    ).toEqual({ id: '', cluster: '' });
  });

  it.each([
    ['no source at all', () => loadXdsBootstrap(undefined, {}), 'bootstrap'],
    ['a missing file', () => loadXdsBootstrap(path.join(dir, 'nope.json'), {}), 'bootstrap'],
    ['invalid JSON', () => loadXdsBootstrap(write('bad.json', '{ "xds_servers": '), {}), 'bootstrap'],
    [
      'invalid JSON in the env',
      () => loadXdsBootstrap(undefined, { GRPC_XDS_BOOTSTRAP_CONFIG: '{' }),
      'bootstrap',
    ],
    ['no servers', () => parseXdsBootstrap({ xds_servers: [] }), 'bootstrap.xds_servers'],
    [
      'a server without a URI',
      () => parseXdsBootstrap({ xds_servers: [{ channel_creds: [{ type: 'insecure' }] }] }),
      'bootstrap.xds_servers[0].server_uri',
    ],
    [
      'no channel_creds',
      () => parseXdsBootstrap({ xds_servers: [{ server_uri: 'x:1' }] }),
      'bootstrap.xds_servers[0].channel_creds',
    ],
    [
      'only unsupported creds',
      () =>
        parseXdsBootstrap({
          xds_servers: [{ server_uri: 'x:1', channel_creds: [{ type: 'google_default' }] }],
        }),
      'bootstrap.xds_servers[0].channel_creds',
    ],
    [
      'a cert without its key',
      () =>
        parseXdsBootstrap({
          xds_servers: [
            { server_uri: 'x:1', channel_creds: [{ type: 'tls', config: { certificate_file: '/x' } }] },
          ],
        }),
      'bootstrap.xds_servers[0].channel_creds[0].config.private_key_file',
    ],
    [
      'an unreadable CA file',
      () =>
        parseXdsBootstrap({
          xds_servers: [
            {
              server_uri: 'x:1',
              channel_creds: [
                { type: 'tls', config: { ca_certificate_file: path.join(dir, 'missing.pem') } },
              ],
            },
          ],
        }),
      'bootstrap.xds_servers[0].channel_creds[0].config.ca_certificate_file',
    ],
    ['a non-string node id', () => parseXdsBootstrap({ ...valid, node: { id: 7 } }), 'bootstrap.node.id'],
    [
      'a non-object locality',
      () => parseXdsBootstrap({ ...valid, node: { id: 'a', locality: 'eu' } }),
      'bootstrap.node.locality',
    ],
    [
      'non-string server_features',
      () => parseXdsBootstrap({ xds_servers: [{ ...valid.xds_servers[0], server_features: [1] }] }),
      'bootstrap.xds_servers[0].server_features',
    ],
  ])('rejects %s with a ConfigError naming the field', (_what, fn, field) => {
    expect(configError(fn).field).toBe(field);
  });
});
