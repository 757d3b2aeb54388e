// Lint rules; formatting is Prettier's (.prettierrc.json). These two files are the only style authority.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const CORE_DOOR = {
  group: [
    '**/src/**',
    '!**/src/index.js',
    '!**/src/provider.js',
    '!**/src/seam.js',
    '!**/src/front-seam.js',
  ],
  message:
    'Outside src/, the core is reached only through src/index.js, src/provider.js, src/seam.js or src/front-seam.js.',
};
const FRONT_DOOR = {
  group: [
    '../ai-sdk/**',
    '../livekit-agents/**',
    '../mcp/**',
    '../hooks/**',
    '../cli/**',
    '../kit/*',
    '!../kit/index.js',
  ],
  message: "A front is its framework's translation only: it shares code through ../kit/index.js.",
};

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/bridge/**',
                '**/proxy/**',
                '@livekit/*',
                'livekit-*',
                'ws',
                '@modelcontextprotocol/*',
                'node:*',
              ],
              message:
                'src/ is the transport-agnostic, browser-safe core: it imports no bridge, agent front or Node built-in.',
            },
          ],
        },
      ],
    },
  },
  {
    // The doors of test/layering.test.ts, here so editors flag a stray import as it is typed.
    files: ['bridge/**/*.ts', 'proxy/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [CORE_DOOR] }] },
  },
  {
    files: ['proxy/{ai-sdk,livekit-agents,mcp,hooks,kit}/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [CORE_DOOR, FRONT_DOOR] }] },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // vitest's asymmetric matchers (expect.any, expect.stringMatching) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // Tests throw and reject with odd values on purpose, to prove they are handled.
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    rules: { 'no-undef': 'off' }, // Node scripts; TypeScript's checker knows the globals
  },
  prettier,
);
