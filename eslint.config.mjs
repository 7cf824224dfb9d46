import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.data/', 'coverage/', 'test/.generated/', '*.js', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/require-await': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
      // A log line's `err` is the error itself: the logger's serializer writes its name, code, message and
      // AWS request id (src/logging/serialize-error.ts). A string there loses all but the message.
      'no-restricted-syntax': [
        'error',
        ...[
          "Property[key.name='err'] > CallExpression[callee.name='String']",
          "Property[key.name='err'] > MemberExpression[property.name='message']",
          "Property[key.name='err'] > TemplateLiteral",
          "Property[key.name='err'] > ConditionalExpression",
        ].map((selector) => ({ selector, message: 'Log the error itself under `err`, not a string made from it' })),
      ],
    },
  },
  {
    // Request bodies: JSON null is a value, not an absent field (see src/api/dto/omittable.ts).
    files: ['src/api/**/*.ts', 'src/**/*.dto.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'class-validator',
              importNames: ['IsOptional'],
              message: 'IsOptional lets null through every rule: use IsOmittable (src/api/dto/omittable.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    // Commands talk to a person on stdout and stderr.
    files: ['src/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'src/**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'off',
    },
  },
);
