// Learning-rate schedules, as a function of the number of updates already made (so that a resumed
// run continues the same curve). The classic KDSR recipe halves the rate at fixed intervals (step);
// the GAN recipe uses milestones (multistep).
export type LrSchedule =
  | { type: 'constant' }
  | { type: 'step'; stepSize: number; gamma: number }
  | { type: 'multistep'; milestones: readonly number[]; gamma: number };

export function validateSchedule(schedule: LrSchedule): void {
  if (schedule.type === 'step' && !(Number.isInteger(schedule.stepSize) && schedule.stepSize > 0)) throw new Error(`lr schedule: stepSize must be a positive integer, got ${schedule.stepSize}`);
  if (schedule.type !== 'constant' && !(schedule.gamma > 0)) throw new Error(`lr schedule: gamma must be positive, got ${schedule.gamma}`);
  if (schedule.type === 'multistep' && schedule.milestones.some((m, i) => !Number.isInteger(m) || m <= 0 || (i > 0 && m <= schedule.milestones[i - 1])))
    throw new Error(`lr schedule: milestones must be increasing positive integers, got ${schedule.milestones.join(', ')}`);
}

/** The learning rate of update number `done` (0 for the first update). */
export function learningRate(base: number, schedule: LrSchedule, done: number): number {
  switch (schedule.type) {
    case 'constant':
      return base;
    case 'step':
      return base * schedule.gamma ** Math.floor(done / schedule.stepSize);
    case 'multistep':
      return base * schedule.gamma ** schedule.milestones.filter((m) => m <= done).length;
  }
}
