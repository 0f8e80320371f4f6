// Lint rules: typescript-eslint's recommended set, a ban on process.env outside config/ (STYLE §2.7), and the
// dependency direction of DESIGN §1: config/ and nips/ import nothing of policies/, market/ or relay/; market/
// takes only types from relay/, besides the store's and the key's owners, which its publisher thread opens; client/
// and the market page (web/) import none of the server (relay/, market/, policies/, config/).
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
  // The client commands' own settings (AGORA_CLIENT_*), read in one place.
  { files: ['client/cli/options.ts'], rules: { 'no-restricted-properties': 'off' } },
  {
    files: ['client/**', 'web/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/relay/*', '**/market/*', '**/policies/*', '**/config/*'],
              message: 'the client speaks to relays like any client: it never imports server internals',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['config/**', 'nips/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/policies/*', '**/market/*', '**/relay/*'], message: 'config/ and nips/ are leaves' },
          ],
        },
      ],
    },
  },
)
