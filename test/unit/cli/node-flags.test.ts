import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { HERALD_NODE_FLAGS } from '../../../src/util/node-flags.js';
import { projectRoot } from '../../../src/util/paths.js';

t.test('the herald command runs Node with the flags of long-running processes', async (t) => {
  const shebang = readFileSync(join(projectRoot(), 'dist', 'src', 'cli', 'main.js'), 'utf8').split('\n')[0];
  t.equal(shebang, `#!/usr/bin/env -S node ${HERALD_NODE_FLAGS.join(' ')}`);
});
