#!/usr/bin/env node
import { createProgram } from './program';

createProgram()
  .parseAsync(process.argv)
  .catch((error: Error) => {
    process.stderr.write(`kdsr: ${error.message}\n`);
    process.exitCode = 1;
  });
