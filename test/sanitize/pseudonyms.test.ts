import { createHash } from 'node:crypto';
import t from 'tap';
import { parseKeyring, pseudonymizer } from '../../src/sanitize/pseudonyms.js';
import { bander, monthOf, weekOf } from '../../src/sanitize/generalize.js';

const keyring = parseKeyring(`licence-tool=${Buffer.alloc(32, 7).toString('base64')}\nother=hex:${'ab'.repeat(32)}`);
const upn = 'Anna.Berg@contoso.example';

t.test('G10: a pseudonym is the key id and epoch plus HMAC-SHA256, and no unkeyed digest of the id equals it', async (t) => {
  const p = pseudonymizer(keyring, { keyId: 'licence-tool', epoch: 1, consumer: 'licence-tool' })(upn);
  t.match(p, /^licence-tool\.1\.[A-Za-z0-9_-]{43}$/);
  const mac = p.split('.').at(-1)!;
  for (const variant of [upn, upn.toLowerCase()]) {
    for (const algorithm of ['sha256', 'md5', 'sha1']) {
      for (const encoding of ['hex', 'base64url'] as const) {
        const digest = createHash(algorithm).update(variant).digest(encoding);
        t.not(mac, digest);
        t.notOk(p.toLowerCase().includes(digest.toLowerCase()));
      }
    }
  }
});

t.test('G11: stable within a consumer and epoch, unrelated across consumers and epochs', async (t) => {
  const a1 = pseudonymizer(keyring, { keyId: 'licence-tool', epoch: 1, consumer: 'licence-tool' });
  const a2 = pseudonymizer(keyring, { keyId: 'licence-tool', epoch: 2, consumer: 'licence-tool' });
  const b1 = pseudonymizer(keyring, { keyId: 'licence-tool', epoch: 1, consumer: 'second-tool' });
  t.equal(a1(upn), a1(upn));
  t.equal(a1(upn), a1(`  ${upn.toUpperCase()} `), 'canonical: trimmed and lower-cased');
  const mac = (p: string) => p.split('.').at(-1);
  t.not(mac(a1(upn)), mac(a2(upn)));
  t.not(mac(a1(upn)), mac(b1(upn)));
  t.not(a1(upn), a1('someone.else@contoso.example'));
});

t.test('refuses missing, short and duplicate secrets with a clear message', async (t) => {
  t.throws(() => pseudonymizer(keyring, { keyId: 'nope', epoch: 1, consumer: 'x' }), /no pseudonym secret is configured for key id 'nope'/);
  t.throws(() => parseKeyring(`short=${Buffer.alloc(8).toString('base64')}`), { code: 'PseudonymKeyError' });
  t.throws(() => parseKeyring('missing-equals'), /keyId=secret/);
  const s = Buffer.alloc(32, 1).toString('base64');
  t.throws(() => parseKeyring(`a=${s},a=${s}`), /given twice/);
});

t.test('dates generalise to the Monday of their week or the first of their month; numbers to bands', async (t) => {
  t.equal(weekOf('2026-11-23'), '2026-11-23', 'a Monday is its own week');
  t.equal(weekOf('2026-11-29'), '2026-11-23', 'Sunday belongs to the week that began on Monday');
  t.equal(weekOf('2026-01-01'), '2025-12-29', 'weeks cross year ends');
  t.equal(monthOf('2026-11-29'), '2026-11-01');
  const band = bander([10, 0, 50]);
  t.same([-1, 0, 9, 10, 49, 50, 5000].map(band), ['<0', '0-9', '0-9', '10-49', '10-49', '50+', '50+']);
});
