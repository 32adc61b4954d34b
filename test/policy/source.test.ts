import t from 'tap';
import { PolicySyntaxError, pointerSegments, readPolicySource } from '../../src/policy/source.js';

const YAML_POLICY = `# a vendor dashboard
name: vendor-dashboard
consumers: [acme]
reports:
  getEmailActivityUserDetail:
    rows:
      User Principal Name: pseudonymize
      userPrincipleName: keep
  a/b: deny
periods:
  - D7
  - D30
`;

t.test('YAML: values and keys are located by JSON Pointer, as ajv reports them', async (t) => {
  const source = readPolicySource('policies/vendor.yaml', YAML_POLICY);
  t.same((source.value as { consumers: string[] }).consumers, ['acme']);
  t.same(source.locate('/name'), { line: 2, column: 7 });
  t.same(source.locate('/reports/getEmailActivityUserDetail/rows/userPrincipleName'), { line: 8, column: 26 });
  t.same(source.locate('/reports/getEmailActivityUserDetail/rows/userPrincipleName', 'key'), { line: 8, column: 7 }, 'the misspelt key itself');
  t.same(source.locate('/periods/1'), { line: 12, column: 5 });
  t.same(source.locate('/reports/a~1b'), { line: 9, column: 8 }, "'/' in a key is escaped as ~1");
  t.same(source.locate('/reports/getEmailActivityUserDetail/columns/missing'), { line: 6, column: 5 }, 'absent paths resolve to the deepest existing node');
  t.same(source.locate(''), { line: 2, column: 1 });
});

t.test('JSON files: strict JSON, positions from the same mapping', async (t) => {
  const text = '{\n  "name": "deny-all",\n  "reports": {\n    "getEmailActivityCounts": "deny"\n  }\n}\n';
  const source = readPolicySource('policies/deny.json', text);
  t.same(source.locate('/reports/getEmailActivityCounts'), { line: 4, column: 31 });
  t.same(source.locate('/reports/getEmailActivityCounts', 'key'), { line: 4, column: 5 });
  const error = t.throws(() => readPolicySource('policies/bad.json', '{\n  "name": "x",\n  reports: {}\n}')) as PolicySyntaxError;
  t.equal(error.code, 'PolicySyntaxError');
  t.match(error.message, /^policies\/bad\.json:3:3: not valid JSON/);
  t.throws(() => readPolicySource('p.json', 'name: yaml-in-a-json-file'), { code: 'PolicySyntaxError' }, 'YAML syntax is not accepted in a .json file');
});

t.test('syntax errors and duplicate keys name the file, line and column', async (t) => {
  const broken = t.throws(() => readPolicySource('p.yaml', 'name: x\nreports:\n  a: [1, 2\n')) as PolicySyntaxError;
  t.equal(broken.file, 'p.yaml');
  t.ok(broken.position.line >= 3, `line ${broken.position.line}`);
  const duplicate = t.throws(() => readPolicySource('p.yaml', 'name: x\nname: y\n')) as PolicySyntaxError;
  t.same(duplicate.position, { line: 2, column: 1 });
  t.match(duplicate.reason, /unique/i);
});

t.test('a BOM is tolerated and pointer escapes are undone', async (t) => {
  t.same(readPolicySource('p.yaml', '\uFEFFname: x\n').value, { name: 'x' });
  t.same(pointerSegments('/a~1b/c~0d/0'), ['a/b', 'c~d', '0']);
  t.same(pointerSegments(''), []);
});

t.test('toPointer is the inverse of pointerSegments', async (t) => {
  const { toPointer } = await import('../../src/policy/source.js');
  t.equal(toPointer('reports', 'a/b', 'c~d'), '/reports/a~1b/c~0d');
  t.same(pointerSegments(toPointer('x/y', '~', '0')), ['x/y', '~', '0']);
});
