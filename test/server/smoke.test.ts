import t from 'tap';
import { KEYS, proxyCsv, proxyJsonPages, startStack } from '../helpers/proxy-stack.js';

t.test('smoke', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const csv = await proxyCsv(stack, "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence);
  t.equal(csv.status, 200, csv.text.slice(0, 300));
  console.log(csv.text.slice(0, 400));
  const json = await proxyJsonPages(stack, "/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=50", KEYS.licence);
  t.equal(json.status, 200, JSON.stringify(json.pages.at(-1)).slice(0, 300));
  console.log(json.pages.length, JSON.stringify(json.pages[0]).slice(0, 600));
  console.log(stack.logs.slice(-3).join('\n'));
});
