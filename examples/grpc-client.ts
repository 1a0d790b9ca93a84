/**
 * switchyard in a grpc-js client: `channelOptions()` selects the `switchyard` load-balancing policy through the
 * channel's service config, so a generated (or dynamic) client needs nothing else. The `switchyard-static:` scheme
 * takes endpoints set in code; `switchyard-dns:` and `switchyard-xds:` resolve them (see docs/grpc.md).
 *
 * The example starts three grpc-js servers on 127.0.0.1 with a one-method service defined inline.
 *
 * Run: npx tsx examples/grpc-client.ts
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { channelOptions, deleteStaticEndpoints, setStaticEndpoints } from '../src/grpc/index.js';

// test.Echo/Who: the reply names the server that answered (a protobuf JSON descriptor; a .proto file works too).
const descriptor = {
  nested: {
    test: {
      nested: {
        WhoRequest: { fields: { key: { type: 'string', id: 1 } } },
        WhoReply: { fields: { server: { type: 'string', id: 1 } } },
        Echo: { methods: { Who: { requestType: 'WhoRequest', responseType: 'WhoReply' } } },
      },
    },
  },
};
const definition = protoLoader.fromJSON(descriptor as Parameters<typeof protoLoader.fromJSON>[0], {
  keepCase: true,
});
const { test } = grpc.loadPackageDefinition(definition) as unknown as {
  test: { Echo: grpc.ServiceClientConstructor };
};

async function startServer(name: string, delayMs: number): Promise<{ address: string; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService(test.Echo.service, {
    Who: (_call: unknown, callback: grpc.sendUnaryData<{ server: string }>) =>
      setTimeout(() => callback(null, { server: name }), delayMs),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { address: `127.0.0.1:${port}`, server };
}

const servers = await Promise.all([startServer('a', 1), startServer('b', 1), startServer('slow', 30)]);
setStaticEndpoints(
  'echo',
  servers.map((s) => s.address),
);

const client = new test.Echo(
  'switchyard-static:///echo',
  grpc.credentials.createInsecure(),
  channelOptions({ policy: 'p2c_peak_ewma', balancer: { name: 'echo' } }),
);
const who = (key: string) =>
  new Promise<string>((resolve, reject) =>
    (
      client as unknown as {
        Who(
          req: { key: string },
          cb: (error: grpc.ServiceError | null, reply: { server: string }) => void,
        ): void;
      }
    ).Who({ key }, (error, reply) => (error ? reject(error) : resolve(reply.server))),
  );

const answeredBy = new Map<string, number>();
// Ten concurrent calls at a time: the slow server holds its calls longer, and p2c_peak_ewma sends it fewer.
for (let round = 0; round < 20; round++) {
  const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => who(`k${round}-${i}`)));
  for (const server of replies) answeredBy.set(server, (answeredBy.get(server) ?? 0) + 1);
}
console.log('answered by:', Object.fromEntries([...answeredBy].sort()));

client.close();
deleteStaticEndpoints('echo');
await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.server.tryShutdown(() => resolve()))));
