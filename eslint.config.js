// ESLint (flat config): the recommended rules of ESLint and typescript-eslint, two type-aware
// rules for promises (the code is async throughout: a promise nobody awaits loses its error),
// and, off or loosened, the few rules that fight the code's deliberate style.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'data/', 'coverage/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `if (g) (g.n++, g.sum += v)`: paired updates as one comma statement are the code's style
      '@typescript-eslint/no-unused-expressions': 'off',
      // a leading _ names what is deliberately unused (`for await (const _ of it)`, `{ skip: _s, ...rest }`)
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.ts', '**/*.cts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // tsc checks it with types (noFallthroughCasesInSwitch), and knows that process.exit() does not return
      'no-fallthrough': 'off',
    },
  },
);
