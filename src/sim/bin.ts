#!/usr/bin/env node
/**
 * The `switchyard-sim` command (package.json `bin`): `npx switchyard-sim fleet.json`, or `npx switchyard-lb …`
 * (npm runs a package's only bin). See cli.ts for the options and exit codes.
 */
import { runSimulatorCli } from './cli.js';

// Piped into `head`: stop quietly when the reader goes away.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runSimulatorCli(process.argv.slice(2));
