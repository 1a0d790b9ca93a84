/**
 * Child-process probe: imports the module named by argv[2] and prints (as JSON) how many files of @grpc/* and
 * protobufjs that pulled in. Run with `node --import tsx test/helpers/loaded-modules.ts <module>`.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
await import(process.argv[2]!);
const heavy = Object.keys(require.cache).filter((file) =>
  /[\\/]node_modules[\\/](@grpc|protobufjs)[\\/]/.test(file),
);
console.log(JSON.stringify(heavy.length));
