import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { packageVersion } from '../../src/cli/version.js';
import { projectRoot } from '../../src/util/paths.js';

t.test('projectRoot finds the package root from dist/', async (t) => {
  t.ok(existsSync(join(projectRoot(), 'package.json')));
  t.match(packageVersion(), /^\d+\.\d+\.\d+/);
});
