// Lint rules: typescript-eslint's recommended set, plus a ban on process.env outside config/ (STYLE §2.7).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tap/', 'bench/.cache/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read config through config/load.ts' },
      ],
    },
  },
  { files: ['config/**', 'test/**', 'bench/**'], rules: { 'no-restricted-properties': 'off' } },
)
