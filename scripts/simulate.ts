/**
 * `npm run simulate -- --scenario <name>` / `--config fleet.json`: the `switchyard-sim` command (src/sim/cli.ts) run
 * from source. `--scenario all --out docs/charts` is how docs/charts/ is generated.
 */
import { runSimulatorCli } from '../src/sim/cli.js';

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runSimulatorCli(process.argv.slice(2), { program: 'npm run simulate --' });
