import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/util/paths.js';

// The project's runtime is the exact Node pinned as the `node` devDependency: tap runs every test file on
// it, and whatever a test starts by name ("node", the herald bin's `#!/usr/bin/env node`) finds it first
// on PATH, as npm scripts arrange.

const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const pinned = `v${pkg.devDependencies.node}`;

t.test('tests run on the pinned Node', async (t) => {
  t.equal(process.version, pinned);
  t.match(pkg.engines.node, /^>=\d+\.\d+\.\d+$/);
  const [major, minor] = pkg.engines.node.slice(2).split('.').map(Number) as [number, number];
  const [runMajor, runMinor] = process.versions.node.split('.').map(Number) as [number, number];
  t.ok(
    runMajor > major || (runMajor === major && runMinor >= minor),
    `${process.version} satisfies ${pkg.engines.node}`,
  );
});

t.test('a child started as "node" from PATH is the same Node', async (t) => {
  const env = { ...process.env, NODE_OPTIONS: '' };
  const version = execFileSync('node', ['-p', 'process.version'], { env, encoding: 'utf8' }).trim();
  t.equal(version, pinned);
});
