import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { MINIMUM_NODE, nodeAtLeast, unsupportedNodeMessage } from '../../../src/cli/node-version.js';
import { projectRoot } from '../../../src/util/paths.js';

t.test('the minimum is the one package.json declares', async (t) => {
  const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as {
    engines: { node: string };
  };
  t.equal(pkg.engines.node, `>=${MINIMUM_NODE}`);
});

t.test('versions compare part by part, as numbers', async (t) => {
  t.ok(nodeAtLeast('22.19.0', '22.19.0'), 'equal');
  t.ok(nodeAtLeast('v24.21.0', '22.19.0'), 'newer major, with a v');
  t.ok(nodeAtLeast('22.20.0', '22.19.0'), 'newer minor');
  t.ok(nodeAtLeast('22.19.1', '22.19.0'), 'newer patch');
  t.notOk(nodeAtLeast('22.18.9', '22.19.0'), 'older minor');
  t.notOk(nodeAtLeast('20.20.2', '22.19.0'), 'older major, newer minor');
  t.notOk(nodeAtLeast('22.9.0', '22.19.0'), '9 < 19 as numbers, not text');
  t.ok(nodeAtLeast('100.0.0', '22.19.0'), '100 > 22 as numbers, not text');
});

t.test('a too old Node gets a message naming both versions and the binary', async (t) => {
  t.equal(unsupportedNodeMessage(process.versions.node, process.execPath), undefined, 'this Node runs');
  const message = unsupportedNodeMessage('20.20.2', '/usr/bin/node');
  t.match(message, /needs Node >= 22\.19\.0/);
  t.match(message, /\/usr\/bin\/node is Node v20\.20\.2/);
  t.match(unsupportedNodeMessage('v20.20.2', '/usr/bin/node'), /Node v20\.20\.2\./, 'one v only');
});
