#!/usr/bin/env node
// The `kdsr` command. Committed rather than built, so that npm links it on a fresh clone before
// `npm run build` has written dist/ (npm links a workspace's bins when it installs, not later).
'use strict';
const fs = require('fs');
const path = require('path');

const entry = path.join(__dirname, '..', 'dist', 'bin.js');
if (!fs.existsSync(entry)) {
  process.stderr.write(`kdsr: ${entry} is missing: build kdsr first (npm run build at the repository root)\n`);
  process.exit(1);
}
require(entry);
