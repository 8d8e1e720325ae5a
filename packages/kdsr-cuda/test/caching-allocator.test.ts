// The CPU's caching allocator through the public API (its logic is unit-tested natively:
// test/native/caching_allocator_test.cc, run by test/native.test.ts).
import { emptyCache, fill, memory, resetPeakMemory } from '../src/ts';

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

  test('resetPeakMemory starts a new peak from the live bytes', () => {
    const big = fill(shape, 1);
    big.dispose();
    resetPeakMemory('cpu');
    const start = memory('cpu');
    expect(start.peakBytes).toBe(start.liveBytes);
    const small = fill([1024], 1);
    small.dispose();
    expect(memory('cpu').peakBytes).toBe(start.liveBytes + 4096);
  });
});
