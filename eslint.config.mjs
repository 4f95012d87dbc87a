// One lint setup for the project: typescript-eslint's recommended rules, plus the rule
// that keeps environment reads in src/config.ts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.data/', 'loadtest/k6/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A variable a signal handler reads before its one assignment stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Only src/config.ts reads process.env.' }],
    },
  },
  { files: ['src/config.ts', 'test/**', 'loadtest/**'], rules: { 'no-restricted-properties': 'off' } },
);
