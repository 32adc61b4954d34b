/**
 * The one AEAD envelope and key derivation (src/crypto/aead.ts), pinned by test vectors computed with an
 * independent implementation (Python's `cryptography`: AESGCM and HKDF over the layout the module documents),
 * and the guarantee that a sealed value opens only under its own key, purpose and context.
 */
import t from 'tap';
import { deriveKey, ENVELOPE_OVERHEAD, EnvelopeError, open, seal, sealWithNonce } from '../../src/crypto/aead.js';
import { pseudonymizer } from '../../src/sanitize/pseudonyms.js';

const KEY = Buffer.alloc(32, 0x42);
const NONCE = Buffer.from('000102030405060708090a0b', 'hex');
const VECTOR = '02000102030405060708090a0b7efcfeff8b18c276bd277736063250ea7e5cfe03204b18bd';

t.test('test vectors: fixed key, nonce, purpose, context and plaintext give exactly these bytes', async (t) => {
  t.equal(sealWithNonce(KEY, 'cursor', ['report', 7], Buffer.from('{"o":40}'), NONCE).toString('hex'), VECTOR);
  t.equal(sealWithNonce(KEY, 'spill-record', [], Buffer.alloc(0), NONCE).toString('hex'), '02000102030405060708090a0b156660491b529241e3d1f1535efd42ba', 'empty plaintext: version, nonce, tag');
  t.equal(open(KEY, 'cursor', ['report', 7], Buffer.from(VECTOR, 'hex')).toString(), '{"o":40}', 'the fixed envelope opens');
  t.equal(sealWithNonce(KEY, 'cursor', ['report', 7], [Buffer.from('{"o'), Buffer.alloc(0), Buffer.from('":40}')], NONCE).toString('hex'), VECTOR, 'the plaintext in pieces: the same envelope');
});

t.test('key derivation: HKDF-SHA-256 vectors; pseudonyms consumers already hold are unchanged', async (t) => {
  t.equal(deriveKey(Buffer.alloc(32, 1), 'graph-privacy-proxy/sealed-tokens/v1').toString('hex'), 'd7aa6092ba0d6b51497e14b1e4fb2750ead89550755bef00a61b5685e2a234d1');
  t.equal(deriveKey(Buffer.alloc(32, 3), 'graph-privacy-proxy/pseudonyms/v1', 'licence-tool\u00001\u0000licence-tool').toString('hex'), 'a0972a8e87f5c04e149b99ef47523313d3d5c577e2ed7f1ea0088ae6f113c612');
  const pseudonym = pseudonymizer(new Map([['licence-tool', Buffer.alloc(32, 3)]]), { keyId: 'licence-tool', epoch: 1, consumer: 'licence-tool' });
  t.equal(pseudonym('Adele.Vance@contoso.com'), 'licence-tool.1.7g-XQnVBXgg_OxPvlyf7yJvW2P5OhloXIgOubqOGkxc', 'HMAC-SHA256 under the derived key, as before');
});

t.test('a sealed value opens only under its own key, purpose and context', async (t) => {
  const sealed = seal(KEY, 'shared-snapshot-record', ['v1.0 getX D30 csv', 3], Buffer.from('rows'));
  t.equal(sealed.length, 4 + ENVELOPE_OVERHEAD);
  t.equal(open(KEY, 'shared-snapshot-record', ['v1.0 getX D30 csv', 3], sealed).toString(), 'rows');
  t.not(seal(KEY, 'shared-snapshot-record', ['v1.0 getX D30 csv', 3], Buffer.from('rows')).toString('hex'), sealed.toString('hex'), 'a fresh nonce each time');
  const rejected = { code: 'EnvelopeRejected' };
  t.throws(() => open(KEY, 'spill-record', ['v1.0 getX D30 csv', 3], sealed), rejected, 'another purpose');
  t.throws(() => open(KEY, 'shared-snapshot-record', ['v1.0 getX D30 csv', 4], sealed), rejected, 'another index');
  t.throws(() => open(KEY, 'shared-snapshot-record', ['v1.0 getX D7 csv', 3], sealed), rejected, 'another snapshot');
  t.throws(() => open(KEY, 'shared-snapshot-record', ['v1.0 getX D30 csv3'], sealed), rejected, 'the same characters split otherwise');
  t.throws(() => open(KEY, 'shared-snapshot-record', ['v1.0 getX D30 csv', 3, ''], sealed), rejected, 'an extra empty part');
  t.throws(() => open(Buffer.alloc(32, 0x43), 'shared-snapshot-record', ['v1.0 getX D30 csv', 3], sealed), rejected, 'another key');
  const altered = Buffer.from(sealed);
  altered[15] = altered[15]! ^ 1;
  t.throws(() => open(KEY, 'shared-snapshot-record', ['v1.0 getX D30 csv', 3], altered), rejected, 'an altered byte');
  const otherVersion = Buffer.from(sealed);
  otherVersion[0] = 1;
  t.throws(() => open(KEY, 'shared-snapshot-record', ['v1.0 getX D30 csv', 3], otherVersion), { code: 'EnvelopeMalformed' }, 'another envelope version');
  t.throws(() => open(KEY, 'cursor', [], Buffer.alloc(ENVELOPE_OVERHEAD - 1, 2)), EnvelopeError, 'too short to be an envelope');
});
