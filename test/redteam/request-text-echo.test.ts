/**
 * Red team (house rule "nothing unparsed reaches an error body"; privacy.md G9 and "error bodies are sanitised like
 * data"): the `by=` refusals quote back only a name that could be a dimension (server/errors.ts quotedName), but
 * other refusals echoed up to 80 characters of any request text: a report name in /cohorts/<name>, an unknown
 * parameter of /cohorts and /org-score, the function segment and a query option of a report URL. An address or
 * markup sent by a tool (or pasted by a person into a dashboard's URL) came back in the body. Found on c9d516c
 * (s9 red team); each failed before: the address was echoed.
 */
import t from 'tap';
import { KEYS, startStack } from '../helpers/proxy-stack.js';

const ODD = ['alice@contoso.com', '<script>x</script>', "x'); drop"];

t.test('a refusal quotes back a name from the request only when it could be one: never an address or markup', async (t) => {
  const stack = await startStack({ simulator: { users: 20 } });
  t.teardown(() => stack.close());
  for (const odd of ODD) {
    const e = encodeURIComponent(odd);
    const paths: [string, number][] = [
      [`/cohorts/${e}?period=D30`, 404],
      [`/cohorts/getTeamsUserActivityUserDetail?period=D30&${e}=1`, 400],
      [`/org-score?period=D30&${e}=1`, 400],
      [`/v1.0/reports/${e}(period='D30')`, 400],
      [`/v1.0/reports/getTeamsUserActivityUserDetail(period='D30')?${e}=1`, 400],
      [`/v1.0/reports/getTeamsUserActivityUserDetail(period='D30')?$${e}=1`, 400],
    ];
    for (const [path, status] of paths) {
      const res = await stack.get(path, KEYS.vendor);
      const body = res.body.toString();
      t.equal(res.status, status, `${path}: refused`);
      t.notOk(body.includes(odd.slice(0, 8)) || body.includes(e.slice(0, 8)), `${path}: the request text is not echoed (${body})`);
    }
  }
  // A name that could be one is still named, so a caller can tell which of its names was wrong.
  t.match((await stack.get('/cohorts/getNoSuchReport?period=D30', KEYS.vendor)).body.toString(), /'getNoSuchReport'/);
  t.match((await stack.get('/org-score?period=D30&perod=D7', KEYS.vendor)).body.toString(), /'perod'/);
  t.match((await stack.get("/v1.0/reports/getTeamsUserActivityUserDetail(period='D30')?$filter=x", KEYS.vendor)).body.toString(), /'\$filter'/);
});
