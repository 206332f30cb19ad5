/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // deploy/aws/test: the CDK stack's assertions, with aws-cdk-lib from deploy/aws/node_modules.
  roots: ['<rootDir>/test', '<rootDir>/deploy/aws/test'],
  testRegex: '\\.(spec|e2e-spec)\\.ts$',
  transform: {
    // tsconfig has isolatedModules, so ts-jest only transpiles; `npm run typecheck` checks types once.
    '^.+\\.ts$': 'ts-jest',
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 30000,
  // Suites start real processes and servers on fixed ports: two workers fit this 2-core machine.
  maxWorkers: 2,
};
