// Safe file writing: folders made with one-line errors, atomic writes that leave no temporary
// file, and the cleanup of temporary files left by killed processes (and only those).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeDirectory, removeStaleTemporaryFiles, temporaryPath, writeFileAtomic, writeFileAtomicSync } from '../src/ts/files';

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-files-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('makeDirectory creates missing parents and names the folder it cannot create', () => {
  makeDirectory(path.join(dir, 'a', 'b', 'c'));
  expect(fs.statSync(path.join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true);
  makeDirectory(path.join(dir, 'a', 'b'));
  fs.writeFileSync(path.join(dir, 'file'), '');
  expect(() => makeDirectory(path.join(dir, 'file'))).toThrow(`Cannot create the folder ${path.join(dir, 'file')}: a file of that name exists`);
  expect(() => makeDirectory(path.join(dir, 'file', 'sub'))).toThrow(`Cannot create the folder ${path.join(dir, 'file', 'sub')}: a file stands where a parent folder should be`);
  expect(() => makeDirectory('/proc/kdsr-test/x')).toThrow('Cannot create the folder /proc/kdsr-test: this file system does not allow new folders there');
});

test('atomic writes replace the target whole and leave no temporary file, also when the writer fails', async () => {
  const file = path.join(dir, 'out', 'data.txt');
  writeFileAtomicSync(file, 'first');
  await writeFileAtomic(file, (temporary) => fs.promises.writeFile(temporary, 'second'));
  expect(fs.readFileSync(file, 'utf8')).toBe('second');
  await expect(
    writeFileAtomic(file, async (temporary) => {
      await fs.promises.writeFile(temporary, 'half');
      throw new Error('encoder failed');
    }),
  ).rejects.toThrow('encoder failed');
  expect(fs.readFileSync(file, 'utf8')).toBe('second');
  expect(fs.readdirSync(path.dirname(file))).toEqual(['data.txt']);
});

test('removeStaleTemporaryFiles removes the temporary files of processes that no longer run, and only those', () => {
  const folder = path.join(dir, 'stale');
  fs.mkdirSync(folder);
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  const files = {
    dead: `.model.safetensors.${dead}.0.tmp`,
    deadEarlierVersion: `.model.safetensors.${dead}.tmp`,
    mine: path.basename(temporaryPath(path.join(folder, 'x.png'))),
    alive: `.y.png.${process.ppid}.3.tmp`,
    other: 'model.safetensors',
  };
  for (const name of Object.values(files)) fs.writeFileSync(path.join(folder, name), '');
  expect(removeStaleTemporaryFiles(folder).sort()).toEqual([files.dead, files.deadEarlierVersion].sort());
  expect(fs.readdirSync(folder).sort()).toEqual([files.mine, files.alive, files.other].sort());
});
