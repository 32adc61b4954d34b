/**
 * Graph's JSON bodies read in pieces (src/graph/json-body.ts) give what JSON.parse gives for the body whole, for
 * Graph's collection pages and for anything else: other shapes, arrays of objects inside entries, strings that
 * hold the bytes a cut looks for, members named twice or __proto__, a byte-order mark, and bodies that are not
 * JSON (the same SyntaxError).
 */
import t, { type Test } from 'tap';
import { collectionInPieces, parseJsonBody } from '../../src/graph/json-body.js';

/** A string value that tries to look like a cut: quotes, braces and commas escaped as JSON escapes them. */
const tricky = ['},{"', '"},{"x":1}', '\\"},{\\"', 'a}]', '],"value":[{"', '\u65e5\u672c', '\\u0000'];

function page(entries: number, options: { before?: Record<string, unknown>; after?: Record<string, unknown>; nested?: boolean; seed?: number } = {}): Record<string, unknown> {
  let seed = options.seed ?? 1;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  const value = Array.from({ length: entries }, (_, i) => ({
    id: `${i}`.padStart(36, '0'),
    userPrincipalName: `user${i}@contoso.com`,
    department: tricky[next() % tricky.length],
    officeLocation: next() % 5 === 0 ? null : `Office ${next() % 40}`,
    ...(options.nested === true && i % 7 === 0 ? { assignedLicenses: [{ skuId: 'a' }, { skuId: 'b', disabledPlans: [{ x: 1 }, { y: 2 }] }] } : {}),
  }));
  return { ...options.before, value, ...options.after };
}

const same = (t: Test, body: string | Buffer, name: string, cut?: boolean) => {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const text = bytes.toString('utf8').replace(/^\ufeff/, '');
  let expected: unknown;
  try {
    expected = JSON.parse(text);
  } catch (error) {
    t.throws(() => parseJsonBody(bytes), { name: (error as Error).name }, `${name}: the same error`);
    return;
  }
  const actual = parseJsonBody(bytes);
  if (cut !== undefined) t.equal(collectionInPieces(bytes) !== undefined, cut, `${name}: ${cut ? 'read in pieces' : 'parsed whole'}`);
  t.same(actual, expected, name);
  t.equal(JSON.stringify(actual), JSON.stringify(expected), `${name}: the same members in the same order`);
};

t.test('collection pages large enough to be cut: the same value as parsed whole', async (t) => {
  const graphPage = page(3000, { before: { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users' }, after: { '@odata.nextLink': 'https://graph.microsoft.com/v1.0/users?$skiptoken=X' } });
  const text = JSON.stringify(graphPage);
  t.ok(text.length > 300_000, `a page of ${text.length} bytes`);
  same(t, text, 'a Graph page', true);
  same(t, JSON.stringify(page(3000, { after: { '@odata.nextLink': 'https://x/y?$skiptoken=1' } })), 'value first, the next link after it', true);
  same(t, JSON.stringify(page(3000)), 'value alone', true);
  same(t, JSON.stringify(page(3000, { nested: true })), 'entries holding arrays of objects');
  same(t, JSON.stringify(page(3000, { before: { odd: [{ a: 1 }, { b: 2 }] } })), 'an array of objects before value');
  same(t, JSON.stringify(page(3000, { after: { odd: [{ a: 1 }, { b: 2 }], more: { c: [1, { d: '},{"' }] } } })), 'objects after value');
  same(t, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), 'a byte-order mark', true);
  same(t, JSON.stringify(page(3000).value), 'a top-level array', false);
  same(t, JSON.stringify({ data: page(3000) }), 'the envelope nested', false);
  same(t, JSON.stringify(page(3000)).replaceAll('},{"', '}, {"'), 'spaces between the objects', false);
  same(t, text.replace('{"@odata.context"', '{"value":[1],"@odata.context"'), 'value named twice, the array last', true);
  same(t, text.replace(/}$/, ',"value":[{"a":1}]}'), 'value named again after the array', false);
  same(t, text.replace(/}$/, ',"value":null}'), 'value named again after the array, not an array', false);
  same(t, text.replace(/}$/, ',"__proto__":{"polluted":true}}'), '__proto__ after the array', true);
  same(t, text.replace(/}$/, ',"@odata.nextLink":"again"}'), 'the next link named twice');
  same(t, text.replace('{"@odata.context"', '{"__proto__":{"x":1},"@odata.context"'), '__proto__ before the array');
  // Found by a red-team helper: the open array is another member's, though value is the head's last key as
  // Object.keys lists them (integer-like keys first; a key named twice where it was first named).
  const objects = (n: number) => Array.from({ length: n }, (_, i) => `{"id":"${String(i).padStart(60, '0')}"}`).join(',');
  same(t, `{"value":[],"0":[${objects(4000)}]}`, 'an integer-like key after value holds the open array', false);
  same(t, `{"x":null,"value":["v"],"x":[${objects(4000)}]}`, 'a key named twice, again after value, holds the open array', false);
  same(t, `{"__proto__":0,"value":[],"__proto__":[${objects(4000)}]}`, '__proto__ named twice around value', false);
  same(t, `{"@odata.context":"c","value":[{"id":"a"}],"7":[${objects(4000)}],"@odata.nextLink":"n"}`, 'an integer-like key between value and the next link', false);
  same(t, `{"0":[],"value":[${objects(4000)}],"1":"n"}`, 'integer-like keys around value', true);
  t.equal(Object.getPrototypeOf(parseJsonBody(Buffer.from(text.replace(/}$/, ',"__proto__":{"polluted":true}}')))), Object.prototype, 'no prototype set');
});

t.test('bodies that are not JSON fail as JSON.parse fails, wherever the fault lies', async (t) => {
  const text = JSON.stringify(page(3000, { after: { '@odata.nextLink': 'https://x' } }));
  for (const at of [10, Math.floor(text.length / 3), Math.floor(text.length / 2), text.length - 40, text.length - 1]) {
    same(t, `${text.slice(0, at)}\u0001${text.slice(at)}`, `a control character at ${at}`);
    same(t, text.slice(0, at), `cut off at ${at}`);
  }
  same(t, `${text}x`, 'trailing bytes');
  same(t, `${text.slice(0, -1)},}`, 'a trailing comma');
});

t.test('random pages: the same value as parsed whole (property)', async (t) => {
  const fc = (await import('fast-check')).default;
  const entry = fc.dictionary(fc.constantFrom('a', 'b', 'value', '__proto__', 'userPrincipalName'), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });
  fc.assert(
    fc.property(fc.array(entry, { minLength: 1, maxLength: 40 }), fc.dictionary(fc.constantFrom('@odata.nextLink', 'value', 'x'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }), fc.nat(2000), (entries, after, padding) => {
      // Large enough to be cut: each entry padded; the members after value drawn, value among them sometimes.
      const value = entries.map((e, i) => ({ ...e, pad: 'p'.repeat(3000 + ((i * padding) % 5000)) }));
      const text = JSON.stringify({ '@odata.context': 'c', value, ...after });
      const bytes = Buffer.from(text);
      return JSON.stringify(parseJsonBody(bytes)) === JSON.stringify(JSON.parse(text));
    }),
    { numRuns: 150 },
  );
  t.pass('150 pages');
});
