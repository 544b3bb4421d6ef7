/** @type {import('jest').Config} */
const config = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  // workers and the CLI run dist/: refuse to test the sources against an older build
  globalSetup: '<rootDir>/test/support/build-fresh.ts',
  setupFilesAfterEnv: ['<rootDir>/test/support/fast-check.ts'],
  testTimeout: 60_000,
};

export default config;
