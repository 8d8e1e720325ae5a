// Where `kdsr upscale` writes each output, decided for the whole run before any work: inputs are
// never overwritten, two inputs never share an output, existing outputs are replaced only with
// --overwrite, and a folder's earlier outputs (<name>_x<s>.png beside <name>.<ext>, or in the
// --out folder) are not upscaled again.
import * as fs from 'fs';
import * as path from 'path';
import { IMAGE_EXTENSIONS, listImageFiles } from '@kdsr/data';

export interface PlannedOutput {
  /** The input image. */
  file: string;
  /** Its path below the folder named on the command line (the file name for a file). */
  rel: string;
  target: string;
}

export interface OutputPlan {
  outputs: PlannedOutput[];
  /** Earlier outputs found in input folders and left alone. */
  skipped: string[];
}

export interface PlanOptions {
  /** An image file (one input) or a folder; default: beside each input. */
  out?: string;
  scale: number;
  overwrite: boolean;
}

const stem = (file: string) => file.slice(0, file.length - path.extname(file).length);

/** Whether `out` names one image file (by its extension) rather than a folder. */
export function outNamesFile(out: string | undefined): boolean {
  return out !== undefined && IMAGE_EXTENSIONS[path.extname(out).toLowerCase()] !== undefined;
}

async function inputFiles(inputs: readonly string[], scale: number, outFolder: string | null): Promise<{ files: Array<{ file: string; rel: string }>; skipped: string[] }> {
  const files: Array<{ file: string; rel: string }> = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  const add = (file: string, rel: string) => {
    const key = path.resolve(file);
    if (!seen.has(key)) files.push({ file, rel });
    seen.add(key);
  };
  for (const input of inputs) {
    if (!fs.existsSync(input)) throw new Error(`${input}: no such file or folder`);
    if (!fs.statSync(input).isDirectory()) {
      add(input, path.basename(input));
      continue;
    }
    const found = await listImageFiles(input);
    const stems = new Set(found.map(stem));
    const suffix = new RegExp(`_x${scale}$`);
    for (const rel of found) {
      const s = stem(rel);
      const file = path.join(input, rel);
      const earlier = path.extname(rel).toLowerCase() === '.png' && suffix.test(s) && (stems.has(s.replace(suffix, '')) || (outFolder !== null && path.resolve(file).startsWith(outFolder + path.sep)));
      if (earlier) skipped.push(file);
      else add(file, rel);
    }
    if (found.length === 0) throw new Error(`${input}: no images in this folder (looked for ${Object.keys(IMAGE_EXTENSIONS).join(', ')})`);
  }
  return { files, skipped };
}

export async function planOutputs(inputs: readonly string[], options: PlanOptions): Promise<OutputPlan> {
  const toFile = outNamesFile(options.out);
  // Outputs of an earlier run into an --out folder inside an input folder are not inputs either.
  const { files, skipped } = await inputFiles(inputs, options.scale, options.out !== undefined && !toFile ? path.resolve(options.out) : null);
  if (toFile && files.length !== 1) throw new Error(`--out ${options.out} names one image but there are ${files.length} inputs; give a folder`);
  const targetOf = ({ file, rel }: { file: string; rel: string }) => {
    if (toFile) return options.out!;
    const name = `${stem(rel)}_x${options.scale}.png`;
    return options.out !== undefined ? path.join(options.out, name) : path.join(path.dirname(file), path.basename(name));
  };
  const outputs = files.map((f) => ({ ...f, target: targetOf(f) }));
  const inputPaths = new Map(files.map((f) => [path.resolve(f.file), f.file]));
  const byTarget = new Map<string, string>();
  for (const { file, target } of outputs) {
    const key = path.resolve(target);
    const input = inputPaths.get(key);
    if (input !== undefined) throw new Error(`the output for ${file} would overwrite the input ${input}: choose another --out (inputs are never overwritten)`);
    const other = byTarget.get(key);
    if (other !== undefined) throw new Error(`${other} and ${file} would both be written to ${target}: upscale them in separate runs or to different --out folders`);
    byTarget.set(key, file);
  }
  const existing = outputs.filter((o) => fs.existsSync(o.target));
  if (existing.length > 0 && !options.overwrite) {
    const names = existing.slice(0, 3).map((o) => o.target).join(', ') + (existing.length > 3 ? ', ...' : '');
    throw new Error(`${existing.length === 1 ? `${names} exists` : `${existing.length} outputs exist (${names})`}: pass --overwrite to replace ${existing.length === 1 ? 'it' : 'them'}, or choose another --out`);
  }
  const folder = existing.find((o) => fs.statSync(o.target).isDirectory());
  if (folder) throw new Error(`${folder.target} is a folder: choose another --out`);
  return { outputs, skipped };
}
