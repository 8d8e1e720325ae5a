// The native unit tests (test/native/*_test.cc, built with the addon into build/native-tests/): each
// program's cases run as jest tests. They cover native logic that the op tests cannot reach on this
// machine: the caching allocator behind every device, and the CUDA kernels' pixel-shuffle index maps.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const programs = ['caching_allocator_test', 'sub_pixel_layout_test'];

describe.each(programs)('%s', (program) => {
  const binary = path.resolve(__dirname, '..', 'build', 'native-tests', program);
  if (!fs.existsSync(binary)) {
    test('is built', () => {
      throw new Error(`${binary} is missing: build the addon (npm run build:native) with KDSR_NATIVE_TESTS on (the default)`);
    });
    return;
  }
  const cases = execFileSync(binary, ['--list'], { encoding: 'utf8' }).trim().split('\n');

  test.each(cases)('%s', (name) => {
    // A failing case exits non-zero and execFileSync throws with its message on stderr.
    const out = execFileSync(binary, [name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out.trim()).toBe(`ok ${name}`);
  });
});
