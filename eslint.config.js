import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * The floors of src/ (docs/development.md, "Layers"): which other top-level folders each folder may
 * import. A folder not listed here fails the build until it gets its line. `only` narrows a folder to
 * some of its files (pure models, not the I/O around them).
 */
const FLOORS = {
  util: [],
  config: ['util'],
  allocator: ['config', 'util'],
  membership: ['util'],
  bgp: ['config', 'util'],
  // The owner watch (l2/watch) speaks BFD: it may use the pure codec and state machine, nothing else of bgp.
  l2: ['config', 'util', { folder: 'bgp', only: ['bfd/packet', 'bfd/machine'] }],
  // The datapath encodes l2's models into the XDP maps; it never imports l2's decisions.
  datapath: ['util', { folder: 'l2', only: ['buckets', 'flow-model'] }],
  health: ['config', 'util'],
  host: ['config', 'util'],
  placement: ['config', 'util', { folder: 'l2', only: ['rendezvous'] }],
  metrics: ['config', 'util'],
  api: ['config', 'util', 'l2', 'bgp', 'membership'],
  k8s: ['config', 'allocator', 'util'],
  lab: ['allocator', 'api', 'config', 'datapath', 'l2', 'util'],
  speaker: [
    'allocator',
    'api',
    'bgp',
    'config',
    'datapath',
    'health',
    'host',
    'k8s',
    'l2',
    'membership',
    'metrics',
    'placement',
    'util',
  ],
  // The CLI drives the roles; the datapath and the L2 machinery only through speaker/.
  cli: ['allocator', 'api', 'bgp', 'config', 'k8s', 'lab', 'membership', 'metrics', 'speaker', 'util'],
};

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Subfolders of src/<folder> (reached with ../ from inside it, e.g. cli/commands → ../tools/). */
const subfolders = (folder) =>
  readdirSync(join(dirname(fileURLToPath(import.meta.url)), 'src', folder), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);

function floorRule(folder, allowed) {
  const names = allowed.map((a) => (typeof a === 'string' ? a : a.folder));
  const own = [folder, ...subfolders(folder)];
  const patterns = [
    {
      regex: `^(\\.\\./)+(?!(${[...own, ...names].map(escape).join('|')})/)[a-z0-9-]+/`,
      message: `src/${folder} may import only ${names.join(', ') || 'nothing outside itself'} (docs/development.md, Layers).`,
    },
    ...allowed
      .filter((a) => typeof a !== 'string')
      .map((a) => ({
        regex: `^(\\.\\./)+${escape(a.folder)}/(?!(${a.only.map(escape).join('|')})\\.js$)`,
        message: `src/${folder} may import only ${a.only.map((o) => `${a.folder}/${o}`).join(', ')} of ${a.folder} (docs/development.md, Layers).`,
      })),
  ];
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'bench/results/**', 'charts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  ...Object.entries(FLOORS).map(([folder, allowed]) => floorRule(folder, allowed)),
  {
    // An ESM import of a builtin reads every export to build its namespace, lazy getters included:
    // node:http's WebSocket/MessageEvent getters load all of undici (~13 MB of RSS in a process that
    // never opens a WebSocket) and node:crypto's webcrypto. process.getBuiltinModule() reads nothing.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[importKind='value'][source.value=/^node:(http|crypto)$/]",
          message:
            "use process.getBuiltinModule('node:http' / 'node:crypto'): an import statement loads their lazy exports (undici, webcrypto)",
        },
      ],
    },
  },
  {
    // A new top-level folder under src/ needs its line in FLOORS.
    files: ['src/*/**/*.ts'],
    ignores: Object.keys(FLOORS).map((f) => `src/${f}/**`),
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\.\\./', message: 'add this folder to FLOORS in eslint.config.js' }] },
      ],
    },
  },
  prettier,
);
