/**
 * The directory's pages (src/graph/directory-source.ts): each next page is asked for before the last page's
 * entries are taken (issue 18: the pages come one after another, so work between a page's arrival and the next
 * request lengthens the whole chain), and asking ahead changes nothing else: the same directory, the pages in
 * order, the same refusals, and a request still in flight when the reading fails is never an unhandled rejection.
 */
import t from 'tap';
import type { GraphClient } from '../../src/graph/client.js';
import { DirectorySource } from '../../src/graph/directory-source.js';
import { UpstreamError } from '../../src/graph/upstream-error.js';

const PAGE = 4;

/** A Graph client answering `/admin/reportSettings` and `pages` pages of /users, noting what happened in order. */
function pagedGraph(pages: number, options: { failAt?: number; badAt?: number } = {}) {
  const events: string[] = [];
  const client = {
    getJson: async (path: string): Promise<unknown> => {
      const token = new URL(path, 'https://graph.invalid').searchParams.get('$skiptoken');
      const page = token === null ? 0 : Number(token);
      if (path.startsWith('/v1.0/users')) events.push(`ask ${page}`);
      // Answered in a later turn of the event loop, as a response is.
      await new Promise((resolve) => setImmediate(resolve));
      if (path.startsWith('/v1.0/admin/reportSettings')) return { displayConcealedNames: false };
      if (page === options.failAt) throw new UpstreamError('Unavailable', `page ${page} failed`);
      if (page === options.badAt) return { value: 'not an array' };
      const value = Array.from({ length: PAGE }, (_, i) => {
        const n = page * PAGE + i;
        // A getter notes when the directory takes the entry: after its page's next page was asked for, or before.
        return {
          get userPrincipalName() {
            if (i === 0 && !events.includes(`take ${page}`)) events.push(`take ${page}`);
            return `person${n}@contoso.example`;
          },
          department: `dept${n % 3}`,
          officeLocation: 'Lisbon',
        };
      });
      return { value, ...(page + 1 < pages ? { '@odata.nextLink': `https://graph.microsoft.com/v1.0/users?$skiptoken=${page + 1}` } : {}) };
    },
  } as unknown as GraphClient;
  return { client, events };
}

t.test('each next page is asked for before the last page is taken; the directory is the same', async (t) => {
  const { client, events } = pagedGraph(6);
  const directory = await new DirectorySource(client, 60_000).current();
  for (let page = 0; page < 5; page++) {
    t.ok(events.indexOf(`ask ${page + 1}`) < events.indexOf(`take ${page}`), `page ${page + 1} asked for before page ${page} was taken (${events.join(', ')})`);
  }
  t.same(events.filter((event) => event.startsWith('ask')), ['ask 0', 'ask 1', 'ask 2', 'ask 3', 'ask 4', 'ask 5'], 'each page asked for once, in order');
  t.same(events.filter((event) => event.startsWith('take')), ['take 0', 'take 1', 'take 2', 'take 3', 'take 4', 'take 5'], 'the pages taken in order');
  for (let n = 0; n < 6 * PAGE; n++) t.same(directory.entryOf(`person${n}@contoso.example`)?.slice(0, 2), [`dept${n % 3}`, 'Lisbon'], `person ${n}`);
  t.equal(directory.entryOf('person24@contoso.example'), undefined, 'nobody else');
});

t.test('a page that fails fails the directory, also when it was asked for ahead; nothing is left unhandled', async (t) => {
  const unhandled: unknown[] = [];
  const note = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', note);
  t.teardown(() => void process.off('unhandledRejection', note));

  await t.rejects(new DirectorySource(pagedGraph(6, { failAt: 3 }).client, 60_000).current(), { code: 'Unavailable', message: 'page 3 failed' }, 'the failed page');
  await t.rejects(new DirectorySource(pagedGraph(6, { badAt: 2 }).client, 60_000).current(), { code: 'BadResponse', message: 'a /users page has no value array' }, 'a page without a value array');
  await t.rejects(new DirectorySource(pagedGraph(6).client, 60_000, 4).current(), { code: 'BadResponse', message: 'the directory has more than 4 pages' }, 'more pages than allowed');
  const none = pagedGraph(1);
  await t.rejects(new DirectorySource(none.client, 60_000, 0).current(), { code: 'BadResponse', message: 'the directory has more than 0 pages' }, 'no page allowed');
  t.same(none.events, [], 'and none asked for');
  const { client, events } = pagedGraph(4);
  await new DirectorySource(client, 60_000, 4).current();
  t.equal(events.filter((event) => event.startsWith('ask')).length, 4, 'as many pages as allowed are read');
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.same(unhandled, [], 'no unhandled rejection');
});

t.test('the reading fails on a page while the next, asked for ahead, is in flight and then fails: no unhandled rejection, nothing more asked', async (t) => {
  // Found by a red-team helper: the test above never left a page asked for ahead unawaited.
  const unhandled: unknown[] = [];
  const note = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', note);
  t.teardown(() => void process.off('unhandledRejection', note));
  const asked: string[] = [];
  const client = {
    getJson: async (path: string): Promise<unknown> => {
      if (path.startsWith('/v1.0/admin/reportSettings')) return { displayConcealedNames: false };
      const token = new URL(path, 'https://graph.invalid').searchParams.get('$skiptoken');
      asked.push(token ?? 'first');
      if (token === null) {
        // An entry the directory cannot take (a getter that throws): the reading stops while page 1 is asked for.
        return {
          value: [{ get userPrincipalName(): string { throw new Error('cannot take the entry'); } }],
          '@odata.nextLink': 'https://graph.microsoft.com/v1.0/users?$skiptoken=1',
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new UpstreamError('Unavailable', 'page 1 failed');
    },
  } as unknown as GraphClient;
  await t.rejects(new DirectorySource(client, 60_000).current(), { message: 'cannot take the entry' });
  await new Promise((resolve) => setTimeout(resolve, 60));
  t.same(asked, ['first', '1'], 'page 1 was asked for ahead, nothing after');
  t.same(unhandled, [], 'no unhandled rejection');
});
