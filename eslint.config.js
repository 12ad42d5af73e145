import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/** Folders of the ads domain, seen from a sibling folder of functions/src. */
const ADS_DOMAIN = '^\\.\\./(providers|sync|scheduler|schema|budget|alerts|connect|integrations|http|status|auth|config)/|^\\.\\./context\\.js$';

/** One `no-restricted-imports` entry per folder (type-aware, so `import type` can be allowed). */
function boundaries(folders) {
  return folders.map(({ files, patterns }) => ({ files, rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] } }));
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/lib/**', '**/dist/**', '.emulators/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['web/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      // The web app shares only the schema and the cadence grid with the functions: nothing
      // that needs the Admin SDK or Node.
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^@functions/(?!schema/|scheduler/cadence)', message: 'web imports only @functions/schema and @functions/scheduler/cadence' }] },
      ],
    },
  },
  // The direction of imports between the functions' folders (docs/architecture.md, "Module
  // map"); a violation fails `npm run lint`, which `npm test` runs.
  ...boundaries([
    {
      files: ['functions/src/queue/**/*.ts'],
      // The queue is generic: tasks, lanes and group keys are its callers' strings.
      patterns: [{ regex: ADS_DOMAIN, message: 'queue/ knows nothing of the ads domain: take what it needs as options (tasks, groups, handlers)' }],
    },
    {
      files: ['functions/src/queue/job.ts'],
      // The job document's schema is shared with the web app through schema/.
      patterns: [
        { regex: ADS_DOMAIN, message: 'queue/ knows nothing of the ads domain' },
        { regex: '^firebase-admin', message: 'queue/job.ts is shared with the web app: zod only' },
      ],
    },
    {
      files: ['functions/src/providers/**/*.ts'],
      // Connectors talk to platforms; storing what they fetch is sync/'s job.
      patterns: [
        { regex: '^(firebase-admin|@google-cloud/firestore)', message: 'providers/ never touches Firestore' },
        { regex: '^\\.\\./(queue|sync|scheduler|firestore|budget|alerts|connect|integrations|http|status)/', message: 'providers/ depends on config/ and schema/ only' },
      ],
    },
    {
      files: ['functions/src/http/**/*.ts'],
      // Handlers parse, authorize, call a service and map the result; types of the Admin SDK are fine.
      patterns: [
        { regex: '^(firebase-admin|@google-cloud/firestore)', allowTypeImports: true, message: 'http/ calls services, never the Admin SDK itself' },
        { regex: '^\\.\\./(providers|firestore)/', message: 'http/ calls services (scheduler/, connect/, integrations/, status/, alerts/, queue/), not platforms or Firestore' },
      ],
    },
    {
      files: ['functions/src/schema/**/*.ts'],
      // Imported by the web app: zod, the queue's job document and the time limits only.
      patterns: [
        { regex: '^firebase-admin', message: 'schema/ is shared with the web app: no Admin SDK' },
        { regex: '^\\.\\./(?!queue/job\\.js$|config/limits\\.js$)', message: 'schema/ imports only its own modules, queue/job.js and config/limits.js (shared with the web app too)' },
      ],
    },
  ]),
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
