// @kdsr/cuda's install script, first half: exits 0 (nothing to compile) when the prebuilt platform
// package loads; exits 1, saying why, when the addon must be compiled from source (the second half of
// the script, cmake-js): in a source checkout (no dist/ yet), on a platform without a prebuilt package,
// when the prebuilt one fails to load, or when KDSR_BUILD_FROM_SOURCE=1 asks for it.
'use strict';
const fs = require('fs');
const path = require('path');

function reasonToBuild() {
  if (process.env.KDSR_BUILD_FROM_SOURCE === '1') return 'KDSR_BUILD_FROM_SOURCE=1';
  const entry = path.join(__dirname, '..', 'dist', 'index.js');
  if (!fs.existsSync(entry)) return 'a source checkout (no dist/)';
  delete process.env.KDSR_NATIVE_PATH;
  try {
    const { from, file } = require(entry).nativeOrigin();
    // A source build found here is rebuilt: `npm rebuild @kdsr/cuda` asks for exactly that.
    return from === 'platform package' ? null : `the addon in use is a ${from} (${file})`;
  } catch (error) {
    // What was tried and why it failed; its "Possible solutions" are what this script is doing.
    return error.message.split('\nPossible solutions:')[0];
  }
}

const reason = reasonToBuild();
if (reason) {
  console.log(`@kdsr/cuda: compiling the native addon from source: ${reason}`);
  process.exit(1);
}
