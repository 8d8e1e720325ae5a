// A dataset named on the command line: an HR image folder, or an LMDB file made by `kdsr pack-lmdb`.
import * as fs from 'fs';
import { Dataset, openHrFolder, openLmdbDataset } from '@kdsr/data';

export async function openDatasetPath(location: string): Promise<Dataset> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(location);
  } catch {
    throw new Error(`${location}: no such folder or LMDB file`);
  }
  return stat.isDirectory() ? openHrFolder(location) : openLmdbDataset(location);
}
