// The kdsr command line: parses arguments and calls the packages; no logic of its own.
import { Command, Option } from 'commander';
import { DEFAULT_MODEL, bundledModels } from '@kdsr/core';
import { convertCheckpoint } from './commands/convert';
import { exportCommand } from './commands/export';
import { formatModels } from './commands/models';
import { evaluate, formatEvalReport } from './commands/eval';
import { collectInfo, formatInfo } from './commands/info';
import { makeBenchmark } from './commands/make-benchmark';
import { packLmdb } from './commands/pack-lmdb';
import { formatScanReport, scan } from './commands/scan';
import { train, TrainOptions } from './commands/train';
import { upscaleImages } from './commands/upscale';
import { collect, fraction, lrDecay, nonNegativeInt, nonNegativeNumber, numberChoices, openUnitInterval, positiveInt, positiveNumber, subImages } from './options';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { version } = require('../package.json') as { version: string };

const deviceOption = () => new Option('--device <device>', 'cpu or cuda:<n>').default('cpu');
const scaleOption = (what: string) => numberChoices(new Option('--scale <s>', what), [2, 3, 4, 8]);
const tileOptions = (command: Command) =>
  command
    .addOption(new Option('--tile <n>', 'tile size in LR pixels (0: whole image)').argParser(nonNegativeInt).default(256))
    .addOption(new Option('--tile-pad <n>', 'LR pixels of context around each tile').argParser(nonNegativeInt).default(16))
    .option('--ensemble', 'average the 8 flips/rotations (x8 self-ensemble, 8 times slower)', false);

export function createProgram(): Command {
  const program = new Command();
  program.name('kdsr').description('Blind image super-resolution (KDSR, ICLR 2023) on a native CPU/CUDA engine').version(version);

  program
    .command('info')
    .description('show the version, the addon in use, the backends (CUDA: its libraries, or why it cannot run), oneDNN and available devices')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }) => {
      const info = collectInfo(version);
      process.stdout.write((options.json ? JSON.stringify(info, null, 2) : formatInfo(info)) + '\n');
    });

  program
    .command('train')
    .description('train the teacher (stage 1), distil the student from it (stage 2) or fine-tune the student as KDSR-GAN (stage 3) on HR images with synthesised degradations')
    .addOption(numberChoices(new Option('--stage <stage>', '1: teacher, 2: student, 3: KDSR-GAN (student + discriminator)'), [1, 2, 3]).makeOptionMandatory())
    .requiredOption('--data <path>', 'training HR images: a folder, or an LMDB file from kdsr pack-lmdb')
    .requiredOption('--out <dir>', 'folder for checkpoints (teacher.safetensors / student.safetensors) and logs')
    .option('--teacher <checkpoint>', 'stages 2, 3: the trained teacher (default <out>/teacher.safetensors)')
    .option('--student <checkpoint>', 'stage 3: the stage-2 student to fine-tune (default <out>/student.safetensors)')
    .option('--vgg <weights>', "stage 3: torchvision's VGG19 weights (vgg19-dcbb9e9d.pth or a safetensors of it) for the perceptual loss")
    .option('--d-checkpoint <file>', 'stage 3: start the discriminator from these weights (BasicSR net_d .pth, or discriminator.safetensors of a run)')
    .addOption(new Option('--d-lr <rate>', 'stage 3: discriminator learning rate (default 1e-4)').argParser(positiveNumber))
    .addOption(new Option('--d-feats <n>', "stage 3: the discriminator's feature channels (default 64, the recipe's)").argParser(positiveInt))
    .addOption(new Option('--gan-weight <w>', "stage 3: weight of the generator's GAN loss (default 1)").argParser(nonNegativeNumber))
    .addOption(new Option('--preset <name>', 'network size (default M)').choices(['M', 'L', 'GAN']))
    .addOption(new Option('--n-feats <n>', 'feature channels (overrides the preset)').argParser(positiveInt))
    .addOption(new Option('--n-blocks <n>', 'IDR-DCRB blocks of the generator (overrides the preset)').argParser(nonNegativeInt))
    .addOption(new Option('--n-resblocks <n>', 'residual blocks of the encoder (overrides the preset)').argParser(nonNegativeInt))
    .addOption(scaleOption('upscaling factor (default 4; stage 2: the teacher\'s)'))
    .addOption(new Option('--batch <n>', 'batch size').argParser(positiveInt).default(16))
    .addOption(new Option('--patch <n>', 'LR patch size (HR patches are patch x scale)').argParser(positiveInt).default(48))
    .addOption(new Option('--steps <n>', 'total number of updates (a resumed run continues up to it)').argParser(positiveInt).default(500_000))
    .addOption(new Option('--lr <rate>', 'Adam learning rate (default 2e-4; stage 3: 1e-4)').argParser(positiveNumber))
    .addOption(new Option('--lr-decay <schedule>', 'none, step:<every>:<gamma> or multistep:<m1>,<m2>,...:<gamma> (default step:125000:0.5; stage 3: none)').argParser(lrDecay))
    .addOption(
      new Option('--degradation <kind>', "iso: isotropic Gaussian blur; aniso: anisotropic blur and noise; realesrgan: Real-ESRGAN's second-order pipeline (KDSR-GAN)")
        .choices(['iso', 'aniso', 'realesrgan'])
        .default('iso'),
    )
    .addOption(new Option('--noise <level>', 'training noise level N, noise sigma ~ U(0, N) (default 0 for iso, 25 for aniso)').argParser(nonNegativeNumber))
    .addOption(new Option('--pool <pairs>', 'realesrgan: size of the training-pair pool that mixes batches, a multiple of --batch (default 180 rounded to one; 0: none)').argParser(nonNegativeInt))
    .addOption(new Option('--kd-weight <w>', 'stage 2: weight of the distillation loss').argParser(nonNegativeNumber).default(1))
    .addOption(new Option('--warmup-steps <n>', 'stage 2: first updates with the distillation loss alone').argParser(nonNegativeInt).default(0))
    .option('--val <folder>', 'validation HR images (PSNR on synthesised LR)')
    .addOption(new Option('--val-every <n>', 'validate every n updates (default 1000)').argParser(positiveInt))
    .option('--val-setting <setting>', 'validation degradation (default iso:<0.65 x scale> or aniso:4.0,1.5,120:10; see kdsr eval)')
    .addOption(new Option('--save-every <n>', 'write a checkpoint every n updates (and at the end)').argParser(positiveInt).default(1000))
    .addOption(new Option('--log-every <n>', 'print the losses every n updates').argParser(positiveInt).default(100))
    .option('--resume', 'continue the run saved in --out', false)
    .addOption(deviceOption())
    .addOption(new Option('--seed <n>', 'seed of the weights, crops and degradations').argParser(nonNegativeInt).default(0))
    .addOption(new Option('--workers <n>', 'image decoding threads (default: CPU count - 1)').argParser(positiveInt))
    .addOption(new Option('--ema <decay>', 'also keep an exponential moving average of the weights (e.g. 0.999), saved with the checkpoint; stage 3 always keeps one (default 0.999)').argParser(openUnitInterval))
    .addOption(new Option('--max-unreadable <fraction>', 'start a new run even if up to this fraction of the training images is unreadable (they are skipped and listed)').argParser(fraction).default(0.01))
    .action(async (options: TrainOptions) => {
      await train(options);
    });

  tileOptions(
    program
      .command('upscale')
      .description('super-resolve images with a student checkpoint')
      .argument('<input...>', 'image files or folders')
      .option('--model <checkpoint>', `a kdsr .safetensors checkpoint, an official .pth, or a bundled model's name (default: the bundled ${DEFAULT_MODEL})`)
      .option('--out <path>', 'output folder, or an image file for one input (default: beside each input as <name>_x<s>.png)')
      .option('--overwrite', 'replace outputs that exist (refused by default)', false),
  )
    .addOption(deviceOption())
    .action(async (inputs: string[], options: Parameters<typeof upscaleImages>[1]) => {
      await upscaleImages(inputs, options);
    });

  tileOptions(
    program
      .command('eval')
      .description('PSNR/SSIM of a checkpoint on HR images under fixed synthesised degradations')
      .option('--model <checkpoint>', `a kdsr .safetensors checkpoint, an official .pth, or a bundled model's name (default: the bundled ${DEFAULT_MODEL})`)
      .requiredOption('--hr <folder>', 'HR test images')
      .option(
        '--setting <setting>',
        'gaussian8, aniso, aniso:<noise>, iso:<sigma>[:<noise>], aniso:<l1>,<l2>,<theta deg>[:<noise>] or a setting name (repeatable; default gaussian8)',
        collect,
      )
      .addOption(scaleOption("check the model's upscaling factor")),
  )
    .addOption(new Option('--seed <n>', 'seed of the LR noise (as kdsr make-benchmark)').argParser(nonNegativeInt).default(0))
    .addOption(deviceOption())
    .option('--json', 'print the per-image scores as JSON', false)
    .option('--report <file.html>', 'also write a self-contained HTML page: the score tables, and LR / bicubic / SR / HR crops of each image')
    .action(async (options: Omit<Parameters<typeof evaluate>[0], 'settings'> & { setting?: string[] }) => {
      const report = await evaluate({ ...options, settings: options.setting ?? ['gaussian8'] });
      process.stdout.write((options.json ? JSON.stringify(report, null, 2) : formatEvalReport(report)) + '\n');
      if (options.report && !options.json) process.stdout.write(`report: ${options.report}\n`);
      if (report.failed.length > 0) process.exitCode = 1;
    });

  program
    .command('models')
    .description('list the models bundled with kdsr, with how they were trained and what they measured')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }) => {
      const models = bundledModels();
      process.stdout.write((options.json ? JSON.stringify(models, null, 2) : formatModels(models)) + '\n');
    });

  program
    .command('export')
    .description('write the weights of a training checkpoint for release: raw or EMA, float16 by default, with descriptive metadata')
    .argument('<checkpoint>', 'a kdsr checkpoint (teacher.safetensors / student.safetensors of kdsr train)')
    .argument('<output>', 'the .safetensors file to write')
    .option('--ema', 'export the moving average of a run trained with --ema', false)
    .option('--float32', 'keep float32 weights (default: float16, half the size)', false)
    .option('--meta <key=value>', 'metadata to store (repeatable; key=@file reads the value from a file)', collect)
    .action((checkpoint: string, output: string, options: { ema: boolean; float32: boolean; meta?: string[] }) => {
      process.stdout.write(exportCommand(checkpoint, output, options) + '\n');
    });

  program
    .command('convert')
    .description('convert an official PyTorch checkpoint (.pt / .pth) to a kdsr safetensors file')
    .argument('<input>', 'the .pth file')
    .argument('<output>', 'the .safetensors file to write')
    .action((input: string, output: string) => {
      process.stdout.write(convertCheckpoint(input, output) + '\n');
    });

  program
    .command('make-benchmark')
    .description('write the LR images of fixed test settings for an HR folder')
    .requiredOption('--hr <folder>', 'HR images')
    .requiredOption('--out <dir>', 'output folder: HR_x<s>/, one folder per setting, manifest.json')
    .addOption(scaleOption('downscaling factor').default(4))
    .option('--setting <setting>', 'as in kdsr eval (repeatable; default gaussian8)', collect)
    .addOption(new Option('--seed <n>', 'seed of the LR noise').argParser(nonNegativeInt).default(0))
    .action(async (options: { hr: string; out: string; scale: number; setting?: string[]; seed: number }) => {
      process.stdout.write((await makeBenchmark({ ...options, settings: options.setting ?? ['gaussian8'] })) + '\n');
    });

  program
    .command('pack-lmdb')
    .description('pack an image folder into an LMDB file for fast training reads')
    .argument('<folder>', 'images to pack')
    .argument('<output>', 'the LMDB file to create')
    .addOption(new Option('--sub-images <size:step[:threshold]>', 'cut images into overlapping sub-images, e.g. 480:240').argParser(subImages))
    .action(async (folder: string, output: string, options: { subImages?: { size: number; step: number; threshold: number } }) => {
      process.stdout.write((await packLmdb(folder, output, options)) + '\n');
    });

  program
    .command('scan')
    .description('decode every image of a folder or LMDB once and list the unreadable ones (exit code 1 if any)')
    .argument('<path>', 'a folder or an LMDB file')
    .addOption(new Option('--workers <n>', 'decoding threads (default: CPU count - 1)').argParser(positiveInt))
    .action(async (location: string, options: { workers?: number }) => {
      const report = await scan(location, options);
      process.stdout.write(formatScanReport(location, report) + '\n');
      if (report.corrupt.length > 0) process.exitCode = 1;
    });

  return program;
}
