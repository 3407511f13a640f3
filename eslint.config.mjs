// The layers' rules (docs/design.md) as lint: workflows and core stay deterministic and free of
// Node, nothing imports upward, and no promise is left floating. `npm test` runs it with zero warnings.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** `no-restricted-imports` paths of the folders a layer must not import values from. */
const folders = (...names) => names.map((name) => ({
  group: [`**/${name}`, `**/${name}/**`],
  allowTypeImports: true,
  message: `import only types from ${name}/ here (docs/design.md: layers)`,
}));

const nodeFree = (message) => nodeBuiltins.map((name) => ({ name, message }));

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', '.venv/', 'lab/bin/', 'lab/vcsim/', '.stryker-tmp/', 'reports/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.mjs', 'stryker.config.mjs', 'bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        // node:test runs what test() and describe() return itself.
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }],
      }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: nodeFree('workflows run in the deterministic sandbox: no Node built-ins'),
        patterns: folders('activities', 'scripts', 'workers', 'lab', 'inventory'),
      }],
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: nodeFree('core/ is workflow-safe: no Node built-ins (pass what needs them in, as a function)'),
        patterns: folders('activities', 'scripts', 'workers', 'lab', 'inventory', 'workflows'),
      }],
    },
  },
  {
    files: ['activities/**/*.ts', 'inventory/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: folders('workflows', 'scripts', 'workers', 'lab') }],
    },
  },
  {
    files: ['bin/*.js'],
    languageOptions: { globals: { require: 'readonly', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
