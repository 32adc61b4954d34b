/**
 * Graph's JSON bodies parsed as JSON.parse parses them, a large collection page in pieces (issue 18). A page of
 * `/users` (999 entries, about 250 KB) decoded whole is one string in V8's large-object space, on memory of its
 * own that the system maps afresh for every page: 63 page faults a page, and decoding and parsing a 300,000-user
 * directory cost about 2.2 ms a page where the same bytes in pieces of 64 KiB cost 0.7 ms (60 pages, image
 * flags, /tmp microbenchmark; 300 pages at 300,000 users).
 *
 * The pieces: Graph's collection envelope `{"@odata...": ..., "value": [{...},{...}, ...], "@odata.nextLink": ...}`
 * is cut between two objects where the bytes read `},{"`. Those four bytes never lie inside a JSON string (a
 * quote inside one is escaped, so `{"` cannot occur there), so a cut is always between two objects of some array.
 * The head (up to the first cut) is closed with a marker object under a random key, which must then end `value`:
 * the array cut is value's, at the envelope's top level. Any other shape (a piece that does not parse with its
 * wrapper, the marker elsewhere, `value` named again after the array) is parsed whole instead. When every piece
 * parses and the marker ends `value`, the body's value is the same as JSON.parse of it whole.
 */
import { randomBytes } from 'node:crypto';

/** Bytes per piece, at least (under V8's 128 KiB regular-object limit once decoded: one-byte text). */
const PIECE_BYTES = 64 * 1024;
/** Between two objects of an array, where a body is cut (the comma is dropped). */
const BETWEEN_OBJECTS = Buffer.from('},{"');

/**
 * The JSON value of a body's bytes (UTF-8, a leading byte-order mark skipped as undici's `json()` does). Throws
 * JSON.parse's SyntaxError for a body that is not JSON.
 */
export function parseJsonBody(bytes: Buffer): unknown {
  return collectionInPieces(bytes) ?? JSON.parse(bytes.toString('utf8', bomLength(bytes), bytes.length));
}

function bomLength(bytes: Buffer): number {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}

/**
 * The body as Graph's collection envelope read in pieces; undefined when it is too small to cut, is not that
 * envelope, names `value` again after its array, or is not JSON (parseJsonBody then parses it whole).
 */
export function collectionInPieces(bytes: Buffer): Record<string, unknown> | undefined {
  const start = bomLength(bytes);
  if (bytes.length - start < 2 * PIECE_BYTES) return undefined;
  // The commas cut at, each at least PIECE_BYTES after the last.
  const cuts: number[] = [];
  for (let from = start + PIECE_BYTES; from < bytes.length; ) {
    const at = bytes.indexOf(BETWEEN_OBJECTS, from);
    if (at === -1) break;
    cuts.push(at + 1);
    from = at + 1 + PIECE_BYTES;
  }
  if (cuts.length === 0) return undefined;
  // A key the body cannot name (drawn at random here): it marks the open array in the head and the rest in the tail.
  const mine = `gpp-${randomBytes(16).toString('hex')}`;
  try {
    // The envelope up to the first cut, its open array closed after a marker object: the marker must end `value`
    // (the open array is value's, whatever order Object.keys gives: integer-like keys first, a key named twice
    // where it was first named; found by a red-team helper).
    const head = JSON.parse(`${bytes.toString('utf8', start, cuts[0]!)},{"${mine}":0}]}`) as unknown;
    if (typeof head !== 'object' || head === null || Array.isArray(head)) return undefined;
    const members = head as Record<string, unknown>;
    const value = members.value;
    if (!Array.isArray(value)) return undefined;
    const marker = value.pop() as unknown;
    if (typeof marker !== 'object' || marker === null || !Object.hasOwn(marker, mine)) return undefined;
    for (let i = 1; i < cuts.length; i++) {
      const objects = JSON.parse(`[${bytes.toString('utf8', cuts[i - 1]! + 1, cuts[i]!)}]`) as unknown[];
      for (const object of objects) value.push(object);
    }
    // The rest under the same key, so that a later `value` would be seen.
    const tail = JSON.parse(`{"${mine}":[${bytes.toString('utf8', cuts.at(-1)! + 1, bytes.length)}`) as Record<string, unknown>;
    if (Object.hasOwn(tail, 'value') || !Array.isArray(tail[mine])) return undefined;
    for (const object of tail[mine] as unknown[]) value.push(object);
    // Defined, not assigned: a member named __proto__ stays a member, as JSON.parse makes it.
    for (const [key, member] of Object.entries(tail)) if (key !== mine) Object.defineProperty(members, key, { value: member, writable: true, enumerable: true, configurable: true });
    return members;
  } catch {
    return undefined;
  }
}
