import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

// One config for the whole workspace. Nx runs `eslint .` inside each project folder and ESLint
// finds this file by looking upwards, so every `files` glob below is relative to the repo root.

/**
 * Third-party packages that only one place may import (DESIGN.md, "Repository layout").
 * Everyone else goes through the owner's public API.
 */
const ownedImports = [
  {
    modules: ['@grpc/grpc-js', '@grpc/reflection', '@grpc/proto-loader', 'grpc-health-check'],
    owners: ['libs/rpc/**', 'libs/telemetry/**'],
    message: 'gRPC transport belongs to libs/rpc (and libs/telemetry); use @scoregate/rpc.',
  },
  {
    modules: ['onnxruntime-node'],
    owners: ['libs/inference/**'],
    message: 'ONNX sessions belong to libs/inference; use @scoregate/inference.',
  },
  {
    modules: ['kafkajs'],
    owners: ['libs/messaging/**'],
    message: 'Kafka belongs to libs/messaging; use its bus instead of kafkajs.',
  },
  {
    modules: ['ioredis'],
    owners: ['libs/redis-store/**', 'apps/feature-service/src/redis-store*.ts'],
    message: 'Redis belongs to the Redis store module; depend on the store, not on ioredis.',
  },
];

/** `no-restricted-imports` options banning every owned package except those in `allowed`. */
function restrictOwnedImports(allowed = []) {
  const banned = ownedImports.filter((entry) => !allowed.includes(entry));
  return [
    'error',
    {
      paths: banned.flatMap(({ modules, message }) => modules.map((name) => ({ name, message }))),
      patterns: banned.map(({ modules, message }) => ({
        group: modules.map((name) => `${name}/*`),
        message,
      })),
    },
  ];
}

// A later config object replaces a rule's options rather than merging them, so each owner gets
// the full list minus what it owns.
const ownerGlobs = [...new Set(ownedImports.flatMap(({ owners }) => owners))];
const ownerOverrides = ownerGlobs.map((glob) => ({
  name: `scoregate/owned-imports/${glob}`,
  files: [glob],
  rules: {
    'no-restricted-imports': restrictOwnedImports(
      ownedImports.filter(({ owners }) => owners.includes(glob)),
    ),
  },
}));

export default defineConfig([
  globalIgnores([
    '**/dist/',
    '**/out-tsc/',
    '**/coverage/',
    '**/node_modules/',
    '.nx/',
    '.infra/',
    'tools/models/.venv/',
    'tools/interop/.venv/',
    'libs/contracts/src/gen/',
    '**/*_pb.ts',
    '**/*.timestamp*',
  ]),

  ...nx.configs['flat/base'],
  js.configs.recommended,
  tseslint.configs.recommended,

  {
    name: 'scoregate/base',
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
      'no-restricted-imports': restrictOwnedImports(),
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports' },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },

  {
    // Each project's vitest config extends the shared root preset (../../vitest.shared.js), a
    // workspace file outside every project; the boundary rule would flag that relative import.
    name: 'scoregate/vitest-config',
    files: ['*/*/vitest.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },

  ...ownerOverrides,
  {
    // Infrastructure smoke tests and e2e suites talk to Redis, Kafka and gRPC directly.
    name: 'scoregate/test-projects',
    files: ['test/**'],
    rules: { 'no-restricted-imports': 'off' },
  },

  {
    // Modules a reader takes in at a sitting: a source file under 350 lines, a function under 60
    // (a factory's returned methods count towards the factory, so a long one is split by concern).
    name: 'scoregate/module-size',
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.test.ts', '**/*.behaviour.ts', '**/testing/**', '**/gen/**'],
    rules: {
      'max-lines': ['error', { max: 350 }],
      'max-lines-per-function': ['error', { max: 60 }],
    },
  },

  {
    // Services log through @scoregate/telemetry; a stray console call is worth a look.
    name: 'scoregate/console-in-code',
    files: ['libs/**', 'apps/**'],
    rules: { 'no-console': 'warn' },
  },
  {
    // The CLI, the test suites and the tools talk to people on stdout.
    name: 'scoregate/console-allowed',
    files: ['apps/cli/**', 'test/**', 'tools/**'],
    rules: { 'no-console': 'off' },
  },
]);
