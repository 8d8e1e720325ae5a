// Option-value parsers for commander: each turns one argument into a value or rejects it with
// InvalidArgumentError, which commander reports as "option '--x <n>' argument 'y' is invalid. <reason>".
import { InvalidArgumentError, Option } from 'commander';
import type { LrSchedule } from '@kdsr/core';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('Expected a positive integer.');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('Expected a non-negative integer.');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('Expected a positive number.');
  return n;
}

/** A number strictly between 0 and 1 (a decay rate). */
export function openUnitInterval(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n < 1)) throw new InvalidArgumentError('Expected a number between 0 and 1, e.g. 0.999.');
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('Expected a non-negative number.');
  return n;
}

export function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('Expected a number from 0 to 1.');
  return n;
}

/** 'none', 'step:<every>:<gamma>' or 'multistep:<m1>,<m2>,...:<gamma>' (updates, factor). */
export function lrDecay(value: string): LrSchedule {
  if (value === 'none') return { type: 'constant' };
  const step = /^step:(\d+):([\d.eE+-]+)$/.exec(value);
  const multi = /^multistep:(\d+(?:,\d+)*):([\d.eE+-]+)$/.exec(value);
  const gamma = Number((step ?? multi)?.[2]);
  if ((step || multi) && Number.isFinite(gamma) && gamma > 0) {
    if (step && Number(step[1]) > 0) return { type: 'step', stepSize: Number(step[1]), gamma };
    const milestones = multi?.[1].split(',').map(Number) ?? [];
    if (multi && milestones.every((m, i) => m > 0 && (i === 0 || m > milestones[i - 1]))) return { type: 'multistep', milestones, gamma };
  }
  throw new InvalidArgumentError('Expected none, step:<every>:<gamma> or multistep:<m1>,<m2>,...:<gamma> with positive, increasing milestones and gamma > 0.');
}

/** 'size:step[:threshold]' for LMDB sub-images. */
export function subImages(value: string): { size: number; step: number; threshold: number } {
  const m = /^(\d+):(\d+)(?::(\d+))?$/.exec(value);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new InvalidArgumentError('Expected <size>:<step>[:<threshold>], e.g. 480:240.');
  return { size: Number(m[1]), step: Number(m[2]), threshold: Number(m[3] ?? 0) };
}

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Restricts an option to the given numbers (listed in the help) and parses it as a number. */
export function numberChoices(option: Option, values: readonly number[]): Option {
  const check = option.choices(values.map(String)).parseArg!;
  return option.argParser((arg: string) => Number(check(arg, undefined)));
}
