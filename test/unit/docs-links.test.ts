import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/util/paths.js';

// Every relative link of the user docs (README.md, docs/*.md) points at a file of the repository, and
// every #anchor at a heading of that file (GitHub's slugs), so a renamed section breaks the test.

const root = projectRoot();
const files = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's heading anchor: lower case, punctuation dropped (hyphens and underscores kept), spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(text: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = /^#{1,6} (.*)$/.exec(line);
    if (m && !fenced) out.add(slug(m[1] ?? ''));
  }
  return out;
}

t.equal(slug('The `herald lab` (IPv4, 2 nodes)'), 'the-herald-lab-ipv4-2-nodes');

for (const file of files) {
  const text = readFileSync(join(root, file), 'utf8');
  const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
  const broken: string[] = [];
  for (const link of links) {
    if (/^[a-z]+:/.test(link)) continue; // https:, mailto:
    const [path = '', anchor] = link.split('#');
    const target = path === '' ? join(root, file) : normalize(join(root, dirname(file), path));
    if (!existsSync(target)) broken.push(`${link}: no file`);
    else if (
      anchor !== undefined &&
      target.endsWith('.md') &&
      !anchors(readFileSync(target, 'utf8')).has(anchor)
    )
      broken.push(`${link}: no heading with that anchor`);
  }
  t.same(broken, [], `${file}: ${links.length} links resolve`);
}
