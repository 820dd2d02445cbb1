import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { allocateAll } from '../../../src/allocator/allocate-all.js';
import { formatProblem, HERALD_API_VERSION, parseConfigDocuments } from '../../../src/config/index.js';
import { projectRoot } from '../../../src/util/paths.js';

// The example objects of MetalLB's documentation (test/unit/config/fixtures/metallb) load unchanged: no
// problems, and every object of the model equals the document it came from except for the apiVersion.

const dir = join(projectRoot(), 'test/unit/config/fixtures/metallb');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

t.ok(files.length >= 5, 'fixtures present');

for (const file of files) {
  t.test(file, async (t) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const { model, problems } = parseConfigDocuments(text, file);
    t.same(problems.map(formatProblem), [], 'no problems');
    const docs = parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
    const objects = [
      ...model.pools,
      ...model.l2Advertisements,
      ...model.bgpAdvertisements,
      ...model.bgpPeers,
      ...model.bfdProfiles,
      ...model.communities,
    ];
    for (const obj of objects) {
      t.equal(obj.apiVersion, HERALD_API_VERSION);
      const src = docs.find(
        (d) => d.kind === obj.kind && (d.metadata as { name: string }).name === obj.metadata.name,
      );
      t.ok(src, `${obj.kind}/${obj.metadata.name} comes from a document`);
      const expected = { spec: {}, ...src, apiVersion: HERALD_API_VERSION };
      t.same(obj, expected, `${obj.kind}/${obj.metadata.name} unchanged`);
    }
    t.equal(
      objects.length + model.services.length,
      docs.filter((d) => d).length,
      'every document is in the model',
    );
  });
}

t.test('the sharing example of MetalLB docs shares 1.2.3.4 between TCP and UDP', async (t) => {
  const text = readFileSync(join(dir, 'services.yaml'), 'utf8');
  const r = allocateAll(parseConfigDocuments(text, 'services.yaml').model);
  t.same(r.get('default/dns-service-tcp'), { ips: ['1.2.3.4'], pool: 'production' });
  t.same(r.get('default/dns-service-udp'), { ips: ['1.2.3.4'], pool: 'production' });
  t.same(r.get('default/nginx'), { ips: ['1.2.3.10'], pool: 'production' });
  t.ok(parseYaml('a: 1'), 'yaml sanity');
});
