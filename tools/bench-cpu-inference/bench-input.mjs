// The benchmark's synthetic LR image (1, 3, H, W) in [0, 1], the same formula as bench_input() in
// kdsr_torch.py, and the output sample every runner reports for the cross-check.
export function benchInput(height, width) {
  const data = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        data[(c * height + y) * width + x] = 0.5 + 0.25 * Math.sin(0.05 * x + 0.9 * c) * Math.cos(0.07 * y - 0.4 * c) + 0.2 * Math.sin(0.61 * x * y + c);
  return data;
}

/** At most 4096 values spread evenly over the output (stride floor(n / 4096)). */
export function outputSample(data) {
  const stride = Math.max(1, Math.floor(data.length / 4096));
  const out = [];
  for (let i = 0; i < data.length && out.length < 4096; i += stride) out.push(data[i]);
  return out;
}

/** Command-line options --name value into an object. */
export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}
