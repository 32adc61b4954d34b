/**
 * One error catalogue (src/errors/catalogue.ts): every error class the product raises is a ProductError with a
 * code from it, and an invariant violation is a named internal error that a consumer sees only as the generic
 * 500, its message kept for the log.
 */
import Fastify from 'fastify';
import t from 'tap';
import { EnvelopeError } from '../../src/crypto/aead.js';
import { InternalInvariantError, ProductError } from '../../src/errors/catalogue.js';
import { CohortPlanError } from '../../src/cohort/report-users.js';
import { CohortTableUnverifiable } from '../../src/cohort/attacker-decomposition.js';
import { ConcealedNamesError } from '../../src/cohort/directory.js';
import { UpstreamError } from '../../src/graph/upstream-error.js';
import { ValueFormatError } from '../../src/catalogue/values.js';
import { PolicyLoadError } from '../../src/policy/load.js';
import { PolicySyntaxError } from '../../src/policy/source.js';
import { ExportRefused } from '../../src/sanitize-export.js';
import { MissingColumnError, SanitizeError } from '../../src/sanitize/errors.js';
import { PseudonymKeyError } from '../../src/sanitize/pseudonyms.js';
import { ConsumerKeyError } from '../../src/server/consumer-keys.js';
import { errorResponse, sendError } from '../../src/server/errors.js';
import { StoreLockedError } from '../../src/store/file-lock.js';
import { StoreCorruptError } from '../../src/store/records.js';

t.test('every error class the product raises carries a code from the catalogue', async (t) => {
  const errors: [ProductError, string][] = [
    [new UpstreamError('Throttled', 'x'), 'Throttled'],
    [new SanitizeError('MalformedCsv', 'x'), 'MalformedCsv'],
    [new MissingColumnError('getX', 'Y', 'the policy'), 'MissingColumn'],
    [new ExportRefused('Denied', 'x'), 'Denied'],
    [new ConcealedNamesError(), 'ConcealedNames'],
    [new ValueFormatError('Y', 'x'), 'ValueFormatError'],
    [new PolicySyntaxError('p.yaml', { line: 1, column: 1 }, 'x'), 'PolicySyntaxError'],
    [new PolicyLoadError([]), 'PolicyLoadError'],
    [new CohortPlanError('x'), 'CohortPlanError'],
    [new CohortTableUnverifiable(200, 150), 'CohortTableUnverifiable'],
    [new StoreLockedError('f', 'pid 1'), 'StoreLockedError'],
    [new StoreCorruptError('f:1', 'x'), 'StoreCorruptError'],
    [new ConsumerKeyError('x'), 'ConsumerKeyError'],
    [new PseudonymKeyError('x'), 'PseudonymKeyError'],
    [new EnvelopeError('EnvelopeRejected'), 'EnvelopeRejected'],
    [new InternalInvariantError('x'), 'InternalInvariant'],
  ];
  for (const [error, code] of errors) {
    t.ok(error instanceof ProductError && error instanceof Error, `${error.constructor.name} is a ProductError`);
    t.equal(error.code, code, `${error.constructor.name}: ${code}`);
  }
});

t.test('an invariant violation is a 500 with the generic words: no detail reaches the consumer', async (t) => {
  const detail = "column 'User Principal Name' is pseudonymised but no pseudonym key is available (adele@contoso.com)";
  const response = errorResponse(new InternalInvariantError(detail));
  t.same(response, { status: 500, code: 'InternalServerError', message: 'The proxy failed while handling this request; nothing of the report was released.', cause: 'InternalInvariant' });
  t.same(errorResponse(new Error(detail)), { ...response, cause: 'Internal' }, 'the same answer as any unexpected failure; only the audit cause names it');
  t.equal(errorResponse(new EnvelopeError('EnvelopeRejected')).cause, 'EnvelopeRejected', 'another error of ours that reaches a request: 500, named by its code in the audit log');

  const app = Fastify();
  app.get('/boom', async (_request, reply) => sendError(reply, errorResponse(new InternalInvariantError(detail))));
  t.teardown(() => app.close());
  const answer = await app.inject({ method: 'GET', url: '/boom' });
  t.equal(answer.statusCode, 500);
  t.notMatch(answer.body, /adele|pseudonym|User Principal Name/, 'the body names nothing of the invariant');
  t.equal(JSON.parse(answer.body).error.code, 'InternalServerError');
});

t.test('an unverifiable cohort table is a 409 that releases nothing and says nothing of its suppression pattern', async (t) => {
  const response = errorResponse(new CohortTableUnverifiable(213, 150));
  t.match(response, { status: 409, code: 'CohortsUnavailable', cause: 'CohortTableUnverifiable' });
  t.notMatch(response.message, /213|150/, 'no data-dependent count in the body');
});
