import { execFileSync } from 'child_process';
import * as path from 'path';
import { buildInfo, nativeOrigin } from '@kdsr/cuda';

const bin = path.resolve(__dirname, '..', 'dist', 'bin.js');

describe('kdsr info', () => {
  test('reports the compiled backends and the CPU device as JSON', () => {
    const report = JSON.parse(execFileSync(process.execPath, [bin, 'info', '--json'], { encoding: 'utf8' }));
    expect(report.backends).toEqual(buildInfo().backends);
    expect(report.backends).toContain('cpu');
    expect(report.devices[0].device).toBe('cpu');
    expect(report.onednn).toBe(buildInfo().onednn);
    expect(report.threads).toBeGreaterThan(0);
    expect(report.addon).toEqual(nativeOrigin());
  });

  test('prints a readable summary', () => {
    const text = execFileSync(process.execPath, [bin, 'info'], { encoding: 'utf8' });
    expect(text).toMatch(/^kdsr \d+\.\d+\.\d+/);
    expect(text).toContain('backends compiled: cpu');
  });

  test('an unknown command fails with a message', () => {
    expect(() => execFileSync(process.execPath, [bin, 'no-such-command'], { encoding: 'utf8', stdio: 'pipe' })).toThrow(/unknown command/);
  });
});
