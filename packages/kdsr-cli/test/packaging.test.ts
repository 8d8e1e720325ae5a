// The published form: `npm pack` every workspace package, then install each tarball together with
// the tarballs of the @kdsr packages it depends on into an empty project, and load it there
// (the native addon is compiled by @kdsr/cuda's install script, as for a user).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  bin?: Record<string, string>;
}

function workspacePackages(): Map<string, { dir: string; manifest: Manifest }> {
  const { workspaces } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
  const found = new Map<string, { dir: string; manifest: Manifest }>();
  for (const w of workspaces) {
    const dir = path.join(root, w);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
    // A package without a build output has nothing to publish yet.
    if (fs.existsSync(path.join(dir, 'dist', 'index.js'))) found.set(manifest.name, { dir, manifest });
  }
  return found;
}

function withLocalDependencies(name: string, packages: Map<string, { manifest: Manifest }>, out = new Set<string>()): Set<string> {
  out.add(name);
  for (const dep of Object.keys(packages.get(name)?.manifest.dependencies ?? {}))
    if (packages.has(dep) && !out.has(dep)) withLocalDependencies(dep, packages, out);
  return out;
}

describe('npm packages', () => {
  const packages = workspacePackages();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-pack-'));
  const tarballs = new Map<string, string>();

  beforeAll(() => {
    for (const [name, { dir }] of packages) {
      const output = execFileSync(npm, ['pack', '--pack-destination', work, '--json'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      tarballs.set(name, path.join(work, (JSON.parse(output) as Array<{ filename: string }>)[0].filename));
    }
  });

  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('the core packages are among those packed', () => {
    expect([...packages.keys()]).toEqual(expect.arrayContaining(['@kdsr/cuda', '@kdsr/cli']));
  });

  test.each([...packages.keys()])('%s installs from its tarball into an empty project and loads', (name) => {
    const project = fs.mkdtempSync(path.join(work, 'app-'));
    fs.writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'kdsr-pack-check', version: '1.0.0', private: true, allowScripts: { '@kdsr/cuda': true } }),
    );
    const needed = [...withLocalDependencies(name, packages)].map((n) => tarballs.get(n) as string);
    execFileSync(npm, ['install', '--no-audit', '--no-fund', ...needed], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_cmake_KDSR_CUDA: 'OFF' } });
    const loaded = execFileSync(process.execPath, ['-e', `const m = require(${JSON.stringify(name)}); console.log(Object.keys(m).length)`], { cwd: project, encoding: 'utf8' });
    expect(Number(loaded)).toBeGreaterThan(0);
    const bins = packages.get(name)?.manifest.bin ?? {};
    for (const bin of Object.keys(bins)) {
      const info = execFileSync(path.join(project, 'node_modules', '.bin', bin), ['info', '--json'], { cwd: project, encoding: 'utf8' });
      expect(JSON.parse(info).backends).toContain('cpu');
    }
  }, 600000);
});
