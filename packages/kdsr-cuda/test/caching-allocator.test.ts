// The caching allocator behind every device. Its logic (splitting, merging, reuse, statistics,
// emptyCache, the out-of-memory retry, thread safety) is unit-tested natively over a bounded host
// device (test/native/caching_allocator_test.cc, built with the addon); here each native case runs
// as a jest test, and the CPU allocator is checked through the public API.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { emptyCache, fill, memory } from '../src/ts';

const binary = path.resolve(__dirname, '..', 'build', 'native-tests', 'caching_allocator_test');

describe('CachingAllocator (native unit tests)', () => {
  if (!fs.existsSync(binary)) {
    test('the native test binary is built', () => {
      throw new Error(`${binary} is missing: build the addon (npm run build:native) with KDSR_NATIVE_TESTS on (the default)`);
    });
    return;
  }
  const cases = execFileSync(binary, ['--list'], { encoding: 'utf8' }).trim().split('\n');

  test('lists its cases', () => {
    expect(cases).toEqual(expect.arrayContaining(['neighbours_merge_on_release', 'out_of_memory_retries_then_throws', 'concurrent_use']));
  });

  test.each(cases)('%s', (name) => {
    // A failing case exits non-zero and execFileSync throws with its message on stderr.
    const out = execFileSync(binary, [name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out.trim()).toBe(`ok ${name}`);
  });
});

describe('the CPU allocator caches host memory', () => {
  // 64 MiB: above glibc's mmap threshold, the size whose fresh mapping per call this cache avoids.
  const shape = [16, 1024, 1024];
  const bytes = 64 << 20;

  test('a released buffer is kept and reused, and emptyCache returns it', () => {
    emptyCache('cpu');
    const before = memory('cpu');
    const t = fill(shape, 1);
    const during = memory('cpu');
    expect(during.liveBytes - before.liveBytes).toBe(bytes);
    expect(during.liveBuffers - before.liveBuffers).toBe(1);
    expect(during.peakBytes).toBeGreaterThanOrEqual(during.liveBytes);
    expect(during.reservedBytes).toBeGreaterThanOrEqual(during.liveBytes);
    t.dispose();
    const after = memory('cpu');
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.liveBuffers).toBe(before.liveBuffers);
    expect(after.reservedBytes).toBe(during.reservedBytes); // cached, not returned
    const again = fill(shape, 2);
    expect(memory('cpu').reservedBytes).toBe(during.reservedBytes); // the cached block is reused
    expect(again.toArray()[bytes / 4 - 1]).toBe(2);
    again.dispose();
    emptyCache('cpu');
    expect(memory('cpu').reservedBytes).toBeLessThanOrEqual(during.reservedBytes - bytes);
  });
});
