// Test helpers: @kdsr/cuda's testing module (fixtures, the fixtures README's error metric, seeded
// random inputs).
import { testing } from '@kdsr/cuda';

export const { fixturePath, fixture, fixtureTensor, fixtureGroup, relativeError, expectClose, randomArray, randomTensor } = testing;
