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

describe('npm packages', () => {
  const packages = workspacePackages();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-pack-'));
  const project = path.join(work, 'app');

  // One empty project receives every tarball (each with the tarballs of its @kdsr dependencies), so
  // the addon is compiled once, by @kdsr/cuda's install script as for a user (CPU-only: the CUDA
// build is covered by the workspace build and would double CI time here).
  beforeAll(() => {
    const tarballs: string[] = [];
    for (const { dir } of packages.values()) {
      const output = execFileSync(npm, ['pack', '--pack-destination', work, '--json'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      tarballs.push(path.join(work, (JSON.parse(output) as Array<{ filename: string }>)[0].filename));
    }
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'kdsr-pack-check', version: '1.0.0', private: true, allowScripts: { '@kdsr/cuda': true } }));
    execFileSync(npm, ['install', '--no-audit', '--no-fund', ...tarballs], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KDSR_CUDA: 'OFF' } });
  }, 900000);

  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('the packages that exist so far are all packed', () => {
    expect([...packages.keys()]).toEqual(expect.arrayContaining(['@kdsr/cuda', '@kdsr/cli']));
  });

  test.each([...packages.keys()])('%s loads from its installed tarball', (name) => {
    const output = execFileSync(process.execPath, ['-e', `const m = require(${JSON.stringify(name)}); process.stdout.write(JSON.stringify(Object.keys(m)))`], { cwd: project, encoding: 'utf8' });
    expect((JSON.parse(output) as string[]).length).toBeGreaterThan(0);
    for (const bin of Object.keys(packages.get(name)?.manifest.bin ?? {})) {
      const info = execFileSync(path.join(project, 'node_modules', '.bin', bin), ['info', '--json'], { cwd: project, encoding: 'utf8' });
      expect(JSON.parse(info).backends).toContain('cpu');
    }
  });

  test('every @kdsr dependency resolves to a packed workspace package', () => {
    for (const { manifest } of packages.values())
      for (const dep of Object.keys(manifest.dependencies ?? {})) if (dep.startsWith('@kdsr/')) expect([...packages.keys()]).toContain(dep);
  });
});
