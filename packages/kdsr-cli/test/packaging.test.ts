// The published form, as a user gets it: `npm pack` every workspace package (the prebuilt platform
// package included, built here by tools/build-platform-package.sh), install the tarballs into an empty
// project with --ignore-scripts (nothing compiles there: the platform package carries the addon, oneDNN
// and, where this machine builds it, the CUDA module), then run `npx kdsr` in it (with cuDNN/cuBLAS
// hidden, and found in a Python virtual environment), import the packages from ESM and CJS files,
// type-check a TypeScript program against the published .d.ts files, and hide the platform package to
// see the loader's error.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { buildInfo } from '@kdsr/cuda';
import type { CudaBuildInfo } from '@kdsr/cuda';
import { fixturesDir, kdsrOk } from './helpers';

const root = path.resolve(__dirname, '..', '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const platformPackage = '@kdsr/cuda-linux-x64-gnu';
const image = path.resolve(root, '..', 'shared', 'datasets', 'Set5', 'HR', 'bird.png');
// The workspace's source build: the platform package carries its CUDA module when it has one.
const workspaceCuda = buildInfo().cuda;
const expectCuda = process.env.KDSR_EXPECT_CUDA === '1';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

interface Packed {
  name: string;
  tarball: string;
  size: number;
  unpackedSize: number;
  files: string[];
}

const manifests = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces.map((w) => ({
  dir: path.join(root, w),
  manifest: JSON.parse(fs.readFileSync(path.join(root, w, 'package.json'), 'utf8')) as Manifest,
}));

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('npm packages, installed from their tarballs', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-pack-'));
  const project = path.join(work, 'app');
  const packed = new Map<string, Packed>();
  let installSeconds = 0;

  beforeAll(() => {
    run(path.join(root, 'tools', 'build-platform-package.sh'), [], root);
    for (const { dir } of manifests) {
      const [entry] = JSON.parse(run(npm, ['pack', '--json', '--pack-destination', work], dir)) as Array<{ name: string; filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> }>;
      packed.set(entry.name, { name: entry.name, tarball: path.join(work, entry.filename), size: entry.size, unpackedSize: entry.unpackedSize, files: entry.files.map((f) => f.path) });
    }
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'kdsr-pack-check', version: '1.0.0', private: true }));
    const start = process.hrtime.bigint();
    run(npm, ['install', '--ignore-scripts', '--no-audit', '--no-fund', ...[...packed.values()].map((p) => p.tarball)], project);
    installSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    run(npx, ['--no', 'kdsr', 'convert', path.join(fixturesDir(), 'student_tiny.pth'), 'student_tiny.safetensors'], project);
  }, 1800000);

  afterAll(() => {
    // The numbers README.md records ("Install"): tarball sizes and the install time.
    const sizes = [...packed.values()].map((p) => `${p.name} ${(p.size / 1e6).toFixed(2)} MB packed, ${(p.unpackedSize / 1e6).toFixed(2)} MB unpacked`);
    process.stdout.write(`packaging: ${sizes.join('; ')}; npm install --ignore-scripts of the tarballs: ${installSeconds.toFixed(1)} s\n`);
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('every workspace package is packed, and every @kdsr dependency is one of them', () => {
    expect([...packed.keys()].sort()).toEqual(manifests.map((m) => m.manifest.name).sort());
    for (const { manifest } of manifests)
      for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) if (dep.startsWith('@kdsr/')) expect([...packed.keys()]).toContain(dep);
  });

  test('the platform package carries the addon, oneDNN and what oneDNN needs, the CUDA module where built, and nothing was compiled', () => {
    const files = packed.get(platformPackage)?.files;
    expect(files).toEqual(expect.arrayContaining(['lib/kdsr_native.node', 'lib/libdnnl.so.2', 'lib/libgomp.so.1', 'lib/libOpenCL.so.1']));
    // The CUDA module links cuDNN and cuBLAS, which stay the user's: they are not in the package.
    expect(files?.filter((f) => /libcu(dnn|blas)/.test(f))).toEqual([]);
    if (workspaceCuda || expectCuda) expect(files).toEqual(expect.arrayContaining(['lib/kdsr_cuda_backend.so', 'lib/licenses/cuda-runtime.EULA.txt']));
    else expect(files).not.toContain('lib/kdsr_cuda_backend.so');
    expect(fs.existsSync(path.join(project, 'node_modules', '@kdsr', 'cuda', 'build'))).toBe(false);
  });

  interface InfoJson {
    backends: string[];
    onednn: string | null;
    addon: { file: string; from: string };
    cuda: CudaBuildInfo | null;
    cudaAvailability: { available: boolean; reason?: string };
  }
  const installedLib = () => path.join(fs.realpathSync(project), 'node_modules', '@kdsr', 'cuda-linux-x64-gnu', 'lib');
  /** The environment of a machine without cuDNN/cuBLAS: none on the loader's path, none where kdsr looks. */
  const withoutCudaLibraries = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, KDSR_CUDA_LIBRARY_PATH: path.join(work, 'no-cuda-libraries') };
    delete env.LD_LIBRARY_PATH;
    return env;
  };

  test('npx kdsr info: the prebuilt addon, with oneDNN; without cuDNN/cuBLAS, CPU only, saying which library is missing and what to install', () => {
    const env = withoutCudaLibraries();
    const report = JSON.parse(run(npx, ['--no', 'kdsr', 'info', '--json'], project, env)) as InfoJson;
    expect(report.onednn).toMatch(/^\d+\.\d+/);
    expect(report.backends).toEqual(['cpu']);
    expect(report.addon).toEqual({ from: 'platform package', file: path.join(installedLib(), 'kdsr_native.node') });
    const text = run(npx, ['--no', 'kdsr', 'info'], project, env);
    if (!workspaceCuda) {
      expect(report.cuda).toBeNull();
      expect(text).toMatch(/^CUDA: not in this addon: this prebuilt package was built without the CUDA toolkit/m);
      return;
    }
    const cuda = report.cuda;
    if (!cuda || cuda.loaded) throw new Error(`expected a CUDA module that did not load, got ${JSON.stringify(cuda)}`);
    expect(cuda.module).toBe(path.join(installedLib(), 'kdsr_cuda_backend.so'));
    expect(cuda.error).toMatch(/^lib(cudnn|cublas)\S*\.so\.\d+: cannot open shared object file: No such file or directory$/);
    expect(report.cudaAvailability).toEqual({ available: false, reason: `the CUDA backend did not load: ${cuda.error}` });
    expect(text).toContain(`\nbackends: cpu\nCUDA: unavailable, using the CPU: ${cuda.error}\n  to use an NVIDIA GPU, install cuDNN 9 and cuBLAS for CUDA 13: \`pip install nvidia-cudnn-cu13 nvidia-cublas\``);
  });

  test('npx kdsr info: with cuDNN and cuBLAS from pip in the active virtual environment, the prebuilt addon loads its CUDA module', () => {
    if (!workspaceCuda?.loaded) {
      if (workspaceCuda || expectCuda) throw new Error(`the workspace's CUDA module does not load here: ${JSON.stringify(workspaceCuda)}`);
      return; // a CPU-only package: nothing to load
    }
    // A virtual environment's layout after `pip install nvidia-cudnn-cu13 nvidia-cublas`, its lib
    // folders linked to the copies the workspace build uses.
    const venv = path.join(work, 'venv');
    const nvidia = path.join(venv, 'lib', 'python3.12', 'site-packages', 'nvidia');
    for (const [wheel, file] of [['cudnn', workspaceCuda.cudnn.file], ['cu13', workspaceCuda.cublas.file]]) {
      fs.mkdirSync(path.join(nvidia, wheel), { recursive: true });
      fs.symlinkSync(path.dirname(file), path.join(nvidia, wheel, 'lib'));
    }
    const env: NodeJS.ProcessEnv = { ...process.env, VIRTUAL_ENV: venv };
    delete env.LD_LIBRARY_PATH;
    delete env.KDSR_CUDA_LIBRARY_PATH;
    const report = JSON.parse(run(npx, ['--no', 'kdsr', 'info', '--json'], project, env)) as InfoJson;
    expect(report.backends).toEqual(['cpu', 'cuda']);
    const cuda = report.cuda;
    if (!cuda?.loaded) throw new Error(`expected the CUDA module to load, got ${JSON.stringify(cuda)}`);
    expect(cuda.module).toBe(path.join(installedLib(), 'kdsr_cuda_backend.so'));
    expect(cuda.cudnn.file).toBe(path.join(nvidia, 'cudnn', 'lib', path.basename(workspaceCuda.cudnn.file)));
    expect(cuda.cublas.file).toBe(path.join(nvidia, 'cu13', 'lib', path.basename(workspaceCuda.cublas.file)));
    expect({ runtime: cuda.runtime, architectures: cuda.architectures }).toEqual({ runtime: workspaceCuda.runtime, architectures: workspaceCuda.architectures });
    const text = run(npx, ['--no', 'kdsr', 'info'], project, env);
    expect(text).toMatch(/^backends: cpu, cuda$/m);
    if (report.cudaAvailability.available) expect(text).toMatch(/^ {2}cuda:0 /m);
    else expect(text).toContain(`; unavailable: no usable CUDA GPU: `);
  });

  test('npx kdsr upscale: a Set5 image comes out 4x larger, as the workspace build computes it', async () => {
    // With the model bundled in @kdsr/core: no --model.
    run(npx, ['--no', 'kdsr', 'upscale', image, '--out', 'bird_x4.png'], project);
    const reference = path.join(work, 'bird_x4_workspace.png');
    kdsrOk(['upscale', image, '--out', reference], project);
    const input = await sharp(image).metadata();
    const ours = await sharp(path.join(project, 'bird_x4.png')).raw().toBuffer({ resolveWithObject: true });
    const theirs = await sharp(reference).raw().toBuffer();
    expect([ours.info.width, ours.info.height, ours.info.channels]).toEqual([4 * input.width!, 4 * input.height!, 3]);
    // Same code, same oneDNN version: at most a rounding step apart.
    let worst = 0;
    for (let i = 0; i < theirs.length; i++) worst = Math.max(worst, Math.abs(ours.data[i] - theirs[i]));
    expect(worst).toBeLessThanOrEqual(1);
    expect((await sharp(ours.data, { raw: ours.info }).stats()).channels[0].stdev).toBeGreaterThan(10);
  });

  // One program, run as ESM and as CJS (and type-checked as both below): load a model, upscale an 8x8 image.
  const program = (load: string): string => `${load}
const { model } = loadKdsrModel(${JSON.stringify(path.join(fixturesDir(), 'student_tiny.pth'))});
if (!(model instanceof KdsrStudent)) throw new Error('expected a student');
const sr = upscale(model, Tensor.fromArray(new Float32Array(3 * 8 * 8).fill(0.5), [1, 3, 8, 8]));
console.log(JSON.stringify(sr.shape));
`;
  const esm = "import { loadKdsrModel, upscale, KdsrStudent } from '@kdsr/core';\nimport { Tensor } from '@kdsr/cuda';";
  const cjs = "const { loadKdsrModel, upscale, KdsrStudent } = require('@kdsr/core');\nconst { Tensor } = require('@kdsr/cuda');";

  test('@kdsr/core (and @kdsr/cuda) from an ESM file and from a CJS file', () => {
    fs.writeFileSync(path.join(project, 'app.mjs'), program(esm));
    fs.writeFileSync(path.join(project, 'app.cjs'), program(cjs));
    for (const file of ['app.mjs', 'app.cjs']) expect({ file, shape: JSON.parse(run(process.execPath, [file], project)) }).toEqual({ file, shape: [1, 3, 32, 32] });
  });

  test('every package has the same exports, and the same module instance, from import and require', () => {
    const names = manifests.map((m) => m.manifest.name).filter((n) => n !== platformPackage);
    const check = `import { createRequire } from 'module';
const require = createRequire(import.meta.url);
const out = {};
for (const name of ${JSON.stringify(names)}) {
  const esm = await import(name), cjs = require(name);
  const keys = Object.keys(cjs);
  out[name] = { missing: keys.filter((k) => !(k in esm)), same: keys.every((k) => esm[k] === cjs[k]) && esm.default === cjs, count: keys.length };
}
console.log(JSON.stringify(out));`;
    fs.writeFileSync(path.join(project, 'exports.mjs'), check);
    const out = JSON.parse(run(process.execPath, ['exports.mjs'], project)) as Record<string, { missing: string[]; same: boolean; count: number }>;
    for (const name of names) expect({ name, ...out[name], count: out[name].count > 0 }).toEqual({ name, missing: [], same: true, count: true });
  });

  test('a TypeScript program type-checks against the published .d.ts files, as ESM and as CJS', () => {
    const typed = (load: string): string => `${program(load)}
// @ts-expect-error: upscale takes a student, so the types are really there (not any)
upscale('not a model', sr);
`;
    // The same import lines in both: a .cts file resolves them through the packages' "require" conditions.
    fs.writeFileSync(path.join(project, 'typed.mts'), typed(esm));
    fs.writeFileSync(path.join(project, 'typed.cts'), typed(esm));
    fs.writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, typeRoots: [path.join(root, 'node_modules', '@types')], types: ['node'] },
        files: ['typed.mts', 'typed.cts'],
      }),
    );
    run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], project);
  });

  test('npm rebuild with the prebuilt package installed compiles nothing', () => {
    const out = run(npm, ['rebuild', '@kdsr/cuda', '--foreground-scripts'], project);
    expect(out).toContain('> node install/check.js || cmake-js compile');
    expect(out).not.toMatch(/compiling the native addon|Configuring done/);
    expect(fs.existsSync(path.join(project, 'node_modules', '@kdsr', 'cuda', 'build'))).toBe(false);
  });

  test('without the platform package: one error naming what was tried, why, and the fixes', () => {
    const installed = path.join(project, 'node_modules', '@kdsr', 'cuda-linux-x64-gnu');
    const hidden = path.join(work, 'hidden-platform-package');
    fs.renameSync(installed, hidden);
    try {
      const r = spawnSync(npx, ['--no', 'kdsr', 'info'], { cwd: project, encoding: 'utf8' });
      expect(r.status).toBe(1);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toEqual([
        expect.stringMatching(/^kdsr: @kdsr\/cuda: could not load the native addon on linux-x64-gnu with Node v[\d.]+\. Tried:$/),
        `  - source build ${path.join(fs.realpathSync(project), 'node_modules', '@kdsr', 'cuda', 'build', 'Release', 'kdsr_native.node')}: not built`,
        expect.stringMatching(/^ {2}- prebuilt package @kdsr\/cuda-linux-x64-gnu: not installed \(npm leaves optional dependencies out with --omit=optional/),
        'Possible solutions:',
        '  - install the prebuilt addon (Linux x64 with glibc): npm install --include=optional @kdsr/cuda',
        expect.stringMatching(/^ {2}- build it from source \(needs cmake >= 3\.18, a C\+\+17 compiler and make;/),
        '      npm rebuild @kdsr/cuda --foreground-scripts',
      ]);
      // The install script agrees: without a prebuilt addon it would compile one (cmake-js, not run here).
      const check = spawnSync(process.execPath, [path.join('node_modules', '@kdsr', 'cuda', 'install', 'check.js')], { cwd: project, encoding: 'utf8' });
      expect(check.status).toBe(1);
      expect(check.stdout).toMatch(/^@kdsr\/cuda: compiling the native addon from source: @kdsr\/cuda: could not load the native addon on linux-x64-gnu .*\n {2}- source build .*: not built\n {2}- prebuilt package @kdsr\/cuda-linux-x64-gnu: not installed .*\n$/);
    } finally {
      fs.renameSync(hidden, installed);
    }
  });
});
