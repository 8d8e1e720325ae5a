// A source build on a machine without oneDNN falls back to the reference CPU kernels without failing;
// training then runs about 4x slower (the default model's run on a 2-core AVX2 VM: 3.0 vs 12
// samples/s). Work on the CPU says so once, on stderr, with the fix.
import { buildInfo } from '@kdsr/cuda';

export function noteReferenceCpuKernels(device: string): void {
  if (device !== 'cpu' || buildInfo().onednn !== null) return;
  process.stderr.write(
    'kdsr: note: this addon was built without oneDNN, so CPU convolutions run on the slow reference kernels (training about 4x slower); ' +
      'install oneDNN (Debian: apt-get install libdnnl-dev) and run `npm rebuild @kdsr/cuda`\n',
  );
}
