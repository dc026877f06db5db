import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'bin/**',
      'test/fixtures/**',
      '.cache/**',
      '*.config.*',
      'benchmarks/**/*.js',
      'scripts/**/*.mjs',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // The statistics core is pure: no I/O, no clients, no adapters.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/**', '**/app/**', '**/cli/**', '**/config/**'],
              message: 'core/ never imports outside core/',
            },
            {
              group: [
                'kafkajs',
                'ioredis',
                'prom-client',
                'avsc',
                'pino',
                'node:fs*',
                'node:net',
                'node:http',
                'fs',
                'http',
              ],
              message: 'core/ is pure: no I/O',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/app/**', '**/cli/**'], message: 'adapters sit at the edges' }] },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'benchmarks/**/*.ts', 'scripts/**/*.ts'],
    // Tests parse JSON fixtures and hand kafkajs callbacks that need no await.
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
)
