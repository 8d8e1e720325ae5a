import { execFileSync } from 'child_process';
import * as path from 'path';
import { buildInfo, cpuIsa, cudaAvailability, nativeOrigin } from '@kdsr/cuda';

const bin = path.resolve(__dirname, '..', 'dist', 'bin.js');

describe('kdsr info', () => {
  test('reports the backends, the CUDA backend and the CPU device as JSON', () => {
    const report = JSON.parse(execFileSync(process.execPath, [bin, 'info', '--json'], { encoding: 'utf8' }));
    expect(report.backends).toEqual(buildInfo().backends);
    expect(report.backends).toContain('cpu');
    expect(report.devices[0].device).toBe('cpu');
    expect(report.onednn).toBe(buildInfo().onednn);
    expect(report.threads).toBeGreaterThan(0);
    expect(report.cpuIsa).toBe(cpuIsa());
    expect(report.addon).toEqual(nativeOrigin());
    expect(report.cuda).toEqual(buildInfo().cuda);
    expect(report.cudaAvailability).toEqual(cudaAvailability());
  });

  test('prints a readable summary', () => {
    const text = execFileSync(process.execPath, [bin, 'info'], { encoding: 'utf8' });
    expect(text).toMatch(/^kdsr \d+\.\d+\.\d+/);
    expect(text).toMatch(/^backends: cpu(, cuda)?$/m);
    expect(text).toMatch(/^CPU: .*, own kernels for (AVX-512|AVX2|baseline x86-64), \d+ threads$/m);
    // One CUDA line: why there is none, why it did not load, or the libraries it runs on.
    const { cuda } = buildInfo();
    const availability = cudaAvailability();
    if (!cuda) expect(text).toMatch(/^CUDA: not in this addon: .+$/m);
    else if (!cuda.loaded) expect(text).toContain(`CUDA: unavailable, using the CPU: ${cuda.error}\n`);
    else expect(text).toContain(`CUDA: CUDA ${cuda.runtime} (architectures ${cuda.architectures}), cuDNN ${cuda.cudnn.version} (${cuda.cudnn.file}), cuBLAS ${cuda.cublas.version} (${cuda.cublas.file})${availability.available ? '' : `; unavailable: ${availability.reason}`}\n`);
  });

  test('an unknown command fails with a message', () => {
    expect(() => execFileSync(process.execPath, [bin, 'no-such-command'], { encoding: 'utf8', stdio: 'pipe' })).toThrow(/unknown command/);
  });
});
