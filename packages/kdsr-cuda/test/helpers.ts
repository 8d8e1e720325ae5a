// Test helpers: the package's testing module (fixtures, the fixtures README's error metric, seeded
// random inputs), also used by the other packages' tests.
export * from '../src/ts/testing';
