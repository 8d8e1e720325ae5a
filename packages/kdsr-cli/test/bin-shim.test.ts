// bin/kdsr.js, the committed shim npm links as `kdsr` (a fresh clone has no dist/ when npm links bins).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { scratchDir } from './helpers';

const shim = path.resolve(__dirname, '..', 'bin', 'kdsr.js');

describe('bin/kdsr.js', () => {
  test('runs the built command', () => {
    const r = spawnSync(process.execPath, [shim, '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  test('before the build, says which file is missing and how to build it', () => {
    const { dir, cleanup } = scratchDir();
    try {
      fs.mkdirSync(path.join(dir, 'bin'));
      fs.copyFileSync(shim, path.join(dir, 'bin', 'kdsr.js'));
      const r = spawnSync(process.execPath, [path.join(dir, 'bin', 'kdsr.js'), 'info'], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`kdsr: ${path.join(dir, 'dist', 'bin.js')} is missing: build kdsr first (npm run build at the repository root)\n`);
    } finally {
      cleanup();
    }
  });
});
