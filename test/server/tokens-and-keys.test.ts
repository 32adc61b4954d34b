import t from 'tap';
import { ConsumerKeys, hashConsumerKey, newConsumerKey } from '../../src/server/consumer-keys.js';
import { Sealer } from '../../src/server/sealed-tokens.js';

t.test('consumer keys: stored as digests, several per consumer (rotation), unknown keys map to no one', async (t) => {
  const oldKey = newConsumerKey();
  const newKey = newConsumerKey();
  t.match(oldKey, /^gpp_[A-Za-z0-9_-]{43}$/);
  const keys = ConsumerKeys.parse(`# rotation in progress\nlicence-tool=sha256:${hashConsumerKey(oldKey)}\nlicence-tool=sha256:${hashConsumerKey(newKey)}, other=${hashConsumerKey('x')}`);
  t.equal(keys.size, 3);
  t.equal(keys.consumerFor(oldKey), 'licence-tool');
  t.equal(keys.consumerFor(newKey), 'licence-tool');
  t.equal(keys.consumerFor('x'), 'other');
  t.equal(keys.consumerFor(`${newKey} `), undefined);
  t.equal(keys.consumerFor(''), undefined);
  t.throws(() => ConsumerKeys.parse(`licence-tool=${newKey}`), /store the key's digest, never the key/);
});

t.test('sealed tokens: round trip, bound to purpose, tamper-evident, expiring', async (t) => {
  const sealer = new Sealer(Buffer.alloc(32, 1));
  const token = sealer.seal('cursor', { o: 40 }, 60);
  t.same(sealer.open<{ o: number }>('cursor', token), { ok: true, payload: { o: 40, exp: Math.floor(Date.now() / 1000) + 60 } });
  t.same(sealer.open('download', token), { ok: false, reason: 'tampered' }, 'a cursor is not a download link');
  t.same(new Sealer(Buffer.alloc(32, 2)).open('cursor', token), { ok: false, reason: 'tampered' }, 'another secret');
  const bytes = Buffer.from(token, 'base64url');
  bytes[20] = bytes[20]! ^ 1;
  t.same(sealer.open('cursor', bytes.toString('base64url')), { ok: false, reason: 'tampered' });
  t.same(sealer.open('cursor', token, Date.now() + 61_000), { ok: false, reason: 'expired' });
  t.same(sealer.open('cursor', '../../etc/passwd'), { ok: false, reason: 'malformed' });
  t.notOk(Buffer.from(token, 'base64url').toString('latin1').includes('"o"'), 'the payload is encrypted, not just signed');
  t.throws(() => new Sealer(Buffer.alloc(16)), /at least 32 bytes/);
});
