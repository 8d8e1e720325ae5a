// The kdsr command line: parses arguments and calls the packages; no logic of its own.
import { Command } from 'commander';
import { collectInfo, formatInfo } from './commands/info';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { version } = require('../package.json') as { version: string };

export function createProgram(): Command {
  const program = new Command();
  program.name('kdsr').description('Blind image super-resolution (KDSR, ICLR 2023) on a native CPU/CUDA engine').version(version);

  program
    .command('info')
    .description('show the version, compiled backends, oneDNN and available devices')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }) => {
      const info = collectInfo(version);
      process.stdout.write((options.json ? JSON.stringify(info, null, 2) : formatInfo(info)) + '\n');
    });

  return program;
}
