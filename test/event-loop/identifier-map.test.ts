/** IdentifierMap (src/event-loop/identifier-map.ts) against a Map: the same answers, across generations. */
import t from 'tap';

t.test('IdentifierMap behaves as a Map of strings that is never deleted from: get, has, size, replacing a value in place, insertion order', async (t) => {
  const fc = (await import('fast-check')).default;
  const { IdentifierMap } = await import('../../src/event-loop/identifier-map.js');
  const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('', 'a', 'jane.doe@contoso.com', 'Jane.Doe@contoso.com', 'FE7CC8C15246EDCCA289C9A4022762F7', '\u00e9@x', '\ud83d\ude00'));
  const operation = fc.tuple(fc.constantFrom('set', 'get', 'addNew'), key, fc.integer());
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 60 }), (operations) => {
      const expected = new Map<string, number>();
      const actual = new IdentifierMap<number>();
      for (const [kind, name, value] of operations) {
        if (kind === 'get') {
          if (actual.get(name) !== expected.get(name) || actual.has(name) !== expected.has(name)) return false;
        } else if (kind === 'addNew' && expected.has(name)) {
          continue; // only for a name get has just not found
        } else {
          expected.set(name, value);
          if ((kind === 'set' ? actual.set(name, value) : actual.addNew(name, value)) !== actual) return false;
        }
      }
      return actual.size === expected.size && JSON.stringify([...actual]) === JSON.stringify([...expected]) && JSON.stringify([...actual.keys()]) === JSON.stringify([...expected.keys()]) && JSON.stringify([...actual.values()]) === JSON.stringify([...expected.values()]);
    }),
    { numRuns: 5_000 },
  );
});

t.test('IdentifierMap past several generations (200,000 UPNs, 65,536 a generation): every name found with its value, values replaced in place, insertion order kept', async (t) => {
  const { IdentifierMap } = await import('../../src/event-loop/identifier-map.js');
  const names = Array.from({ length: 200_000 }, (_, i) => `user${i}@contoso.onmicrosoft.com`);
  const map = new IdentifierMap<number>();
  for (const [i, name] of names.entries()) if (map.get(name) === undefined) map.addNew(name, i);
  for (let i = 0; i < names.length; i += 3) map.set(names[i]!, -i);
  map.set('late@contoso.onmicrosoft.com', 1);
  t.equal(map.size, 200_001);
  let wrong = 0;
  for (const [i, name] of names.entries()) if (map.get(name) !== (i % 3 === 0 ? -i : i) || !map.has(name)) wrong++;
  t.equal(wrong, 0, 'every name, in each generation, gives its value');
  t.equal(map.get('missing@contoso.onmicrosoft.com'), undefined);
  t.notOk(map.has('missing@contoso.onmicrosoft.com'));
  const keys = [...map.keys()];
  t.same(keys.slice(0, 2), names.slice(0, 2));
  t.same(keys.slice(65_535, 65_537), names.slice(65_535, 65_537), 'across a generation boundary');
  t.equal(keys.at(-1), 'late@contoso.onmicrosoft.com', 'a name set last iterates last');
  t.same([...map].slice(3, 4), [[names[3], -3]], 'entries give the value replaced in place');
});
