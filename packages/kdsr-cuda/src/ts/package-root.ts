// The package's root folder, found from this file whether it runs from src/ts (tests) or dist.
import * as fs from 'fs';
import * as path from 'path';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === '@kdsr/cuda') return (root = dir);
  }
  throw new Error(`@kdsr/cuda: package.json not found above ${__dirname}`);
}
