/**
 * The keyed row order of a consumer's released rows (privacy.md G11, threat model: two consumers may collude).
 * Rows in Graph's order let two tools join their outputs by position: a tool that sees names in clear, or
 * other columns, then reads another tool's pseudonyms off the same line number. Each consumer's rows are put in
 * the order of an HMAC, under a key of its own (per key id and epoch when its policy pseudonymises), of what
 * the row is about (its identifier cells), so two consumers' orders are unrelated, CSV and JSON agree, and
 * paging is stable. Rows about no one in particular (a placeholder name) are ordered by an HMAC of their
 * released text. Counts reports keep Graph's order (it is by date, and meaningful); they are about no person.
 */
import { createHmac, type KeyObject } from 'node:crypto';
import { columnsFor, type ColumnSpec, type ReportSpec } from '../catalogue/catalogue.js';
import { isPlaceholderIdentifier } from '../catalogue/identifiers.js';
import { deriveHmacKey } from '../crypto/aead.js';
import { canonicalIdentifier } from './pseudonyms.js';

const HKDF_SALT = 'graph-privacy-proxy/row-order/v1';

/** What a consumer's order depends on: the consumer, and its pseudonym key id and epoch (rotation reorders). */
export interface RowOrderScope {
  readonly consumer: string;
  readonly pseudonyms?: { readonly keyId: string; readonly epoch: number };
}

/** Order keys derived before, per secret and scope: the same KeyObject each time, so its sort keys are memoised. */
const derivedKeys = new WeakMap<Buffer, Map<string, KeyObject>>();
/** Scopes (consumer, key id, epoch) whose order key is kept per secret; past this the kept keys are dropped. */
const MAX_SCOPES = 1024;

/** The order key of one scope, from a secret every replica holds (so they page alike). */
export function rowOrderKey(secret: Buffer, scope: RowOrderScope): KeyObject {
  const p = scope.pseudonyms;
  const info = `${scope.consumer}\u0000${p === undefined ? '-' : `${p.keyId}\u0000${p.epoch}`}`;
  let keys = derivedKeys.get(secret);
  if (keys === undefined) derivedKeys.set(secret, (keys = new Map()));
  let key = keys.get(info);
  if (key === undefined) {
    if (keys.size >= MAX_SCOPES) keys.clear();
    key = deriveHmacKey(secret, HKDF_SALT, info);
    keys.set(info, key);
  }
  return key;
}

/**
 * Sort keys of named rows computed before, per order key, so a report released again (another download with
 * the snapshot cache off, the other format) is not hashed again row by row: up to MAX_MEMO identities per
 * key (about 5 MB), emptied when full. The identities are the upstream identifier cells, held in this
 * process's memory only, as the pseudonym memo holds them.
 */
const sortKeyMemo = new WeakMap<KeyObject, Map<string, string>>();
const MAX_MEMO = 32_768;

/** The columns that say what a row is about (top-level identifiers present in both formats). */
export function identityColumns(report: ReportSpec): ColumnSpec[] {
  const json = new Set(columnsFor(report, 'json'));
  return columnsFor(report, 'csv').filter((c) => c.role === 'identifier' && c.nested !== true && json.has(c));
}

/** Whether a report's rows are put in the keyed order (per-person and per-thing reports; not counts). */
export function isKeyedOrder(report: ReportSpec): boolean {
  return report.shape !== 'counts' && identityColumns(report).length > 0;
}

/**
 * The sort key of one released row: 16 hexadecimal characters of an HMAC of its identity (identifier cells,
 * NUL-joined, as read upstream), or of its released text when every identifier cell is a placeholder.
 */
export function rowSortKey(key: KeyObject, identity: string, releasedText: string): string {
  let memo = sortKeyMemo.get(key);
  const known = memo?.get(identity);
  if (known !== undefined) return known;
  const cells = identity.split('\u0000');
  const named = cells.some((cell) => !isPlaceholderIdentifier(cell));
  const subject = named ? `i\u0000${cells.map(canonicalIdentifier).join('\u0000')}` : `t\u0000${releasedText}`;
  const sortKey = createHmac('sha256', key).update(subject).digest('hex').slice(0, 16);
  // Only named rows: a placeholder row's key depends on its released text, not on its identity.
  if (named) {
    if (memo === undefined) sortKeyMemo.set(key, (memo = new Map()));
    if (memo.size >= MAX_MEMO) memo.clear();
    memo.set(identity, sortKey);
  }
  return sortKey;
}

/** The identity of a JSON item (its identifier properties, null as empty), as `rowSortKey` reads it. */
export function jsonIdentity(item: Readonly<Record<string, unknown>>, columns: readonly ColumnSpec[]): string {
  return columns.map((c) => (typeof item[c.json] === 'string' ? (item[c.json] as string) : '')).join('\u0000');
}
