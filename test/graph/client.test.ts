import t from 'tap';
import { downloadAllowed, hostRule, retryAfterSeconds } from '../../src/graph/client.js';

t.test("download allow-list: Graph's regional hosts pass, look-alikes, other schemes, ports and paths do not", async (t) => {
  const rules = ['https://reports*.office.com/data/', 'http://127.0.0.1:4011/data/'].map(hostRule);
  const allowed = (url: string) => downloadAllowed(rules, new URL(url));
  for (const url of [
    'https://reports.office.com/data/download/JDFKdf2',
    'https://reportsweu.office.com/data/v1.0/download?token=x',
    'https://REPORTSNCU.office.com/data/v1.0/download',
    'http://127.0.0.1:4011/data/v1.0/download?token=x',
  ]) t.ok(allowed(url), url);
  for (const url of [
    'https://reports.office.com.evil.example/data/x',
    'https://evilreports.office.com/data/x',
    'https://reports.evil.office.com/data/x',
    'https://reports-x.office.com.evil.example/data/',
    'http://reports.office.com/data/x',
    'https://reports.office.com:8443/data/x',
    'https://reports.office.com/admin/x',
    'https://user:pw@reports.office.com/data/x',
    'http://127.0.0.1:4012/data/x',
    'http://127.0.0.1/data/x',
    'http://169.254.169.254/data/x',
    'http://[::1]:4011/data/x',
  ]) t.notOk(allowed(url), url);
  t.throws(() => hostRule('reports.office.com'), /scheme:\/\/host/);
});

t.test('Retry-After: seconds or an HTTP date; anything else is unreadable', async (t) => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  t.equal(retryAfterSeconds('7', now), 7);
  t.equal(retryAfterSeconds(['3', '9'], now), 3);
  t.equal(retryAfterSeconds('Mon, 23 Nov 2026 12:00:30 GMT', now), 30);
  t.equal(retryAfterSeconds('Mon, 23 Nov 2026 11:00:00 GMT', now), 0, 'a date in the past means now');
  t.equal(retryAfterSeconds(undefined, now), undefined);
  t.equal(retryAfterSeconds('soon', now), undefined);
});
