/**
 * The directory as built from Graph's `/users` entries (cohort/directory.ts), against a model of its rules: each
 * attribute trimmed, NO_VALUE when empty or not a string, users keyed by canonical UPN (a later entry of the same
 * user wins), entries without a UPN skipped; built at once or page by page, with any spellings.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { DIRECTORY_ATTRIBUTES, Directory, NO_VALUE, NOT_IN_DIRECTORY, type DirectoryEntry } from '../../src/cohort/directory.js';
import { canonicalIdentifier } from '../../src/sanitize/pseudonyms.js';
import { SimulatedTenant } from '../../src/simulator/tenant.js';

const tenant = new SimulatedTenant({ users: 400, seed: 3 });
const spellings = ['Sales', ' Sales', 'Sales  ', 'sales', '', '   ', null, 7, undefined, 'R&D', '\tR&D\n', NOT_IN_DIRECTORY, NO_VALUE, 'Zoë'];
const entries: DirectoryEntry[] = Array.from({ length: tenant.size }, (_, i) => {
  const user = tenant.user(i) as unknown as DirectoryEntry;
  const entry: DirectoryEntry = { userPrincipalName: user.userPrincipalName };
  for (const [a, attribute] of DIRECTORY_ATTRIBUTES.entries()) entry[attribute] = i % 3 === 0 ? spellings[(i + a) % spellings.length] : user[attribute];
  return entry;
});
// The same users again under other spellings of their UPN, and entries that name no one.
entries.push(...entries.slice(0, 40).map((e, i) => ({ ...e, userPrincipalName: ` ${String(e.userPrincipalName).toUpperCase()}`, department: spellings[i % spellings.length] })));
entries.push({ department: 'Nobody' }, { userPrincipalName: 42, department: 'Nobody' });

/** Each user's values (the last entry's), and every entry's values (a value or combination once held stays known). */
function model(all: readonly DirectoryEntry[]): { users: Map<string, string[]>; seen: string[][] } {
  const users = new Map<string, string[]>();
  const seen: string[][] = [];
  for (const entry of all) {
    if (typeof entry.userPrincipalName !== 'string') continue;
    const values = DIRECTORY_ATTRIBUTES.map((a) => {
      const raw = entry[a];
      return typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : NO_VALUE;
    });
    users.set(canonicalIdentifier(entry.userPrincipalName), values);
    seen.push(values);
  }
  return { users, seen };
}

t.test('a directory holds each user by canonical UPN with trimmed values, NO_VALUE for empty ones, at once or page by page', async (t) => {
  const { users: expected, seen } = model(entries);
  const atOnce = new Directory(entries);
  async function* pages() {
    for (let at = 0; at < entries.length; at += 29) yield entries.slice(at, at + 29);
  }
  const paged = await Directory.fromPages(pages());
  for (const directory of [atOnce, paged]) {
    t.equal(directory.size, expected.size);
    t.same([...expected.keys()].map((upn) => directory.entryOf(upn)), [...expected.values()]);
    t.same(directory.entryOf(' KWAME.GARCIA0@contoso.onmicrosoft.com '.toLowerCase().trim() + 'x'), undefined, 'an unknown user');
    for (const [a, attribute] of DIRECTORY_ATTRIBUTES.entries()) {
      const values = [...new Set([...seen.map((v) => v[a]!), NOT_IN_DIRECTORY])].sort();
      t.same(directory.domain(attribute), values, `${attribute}: every value held, sorted`);
    }
    const hash = createHash('sha256').update('department city\n');
    for (const upn of [...expected.keys()].sort()) hash.update(`${upn}\u0000${expected.get(upn)![0]}\u0000${expected.get(upn)![3]}\n`);
    t.equal(directory.digest(['department', 'city']), hash.digest('hex'));
    const held = [...new Map([...seen, [NOT_IN_DIRECTORY, NOT_IN_DIRECTORY]].map((v) => [`${v[0]}\u0000${v[1]}`, [v[0]!, v[1]!]])).values()];
    t.same(directory.heldCombinations(['department', 'officeLocation']), held.sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : x[1]! < y[1]! ? -1 : x[1]! > y[1]! ? 1 : 0)));
  }
  t.ok(atOnce.domain('department').includes('R&D') && !atOnce.domain('department').includes('\tR&D\n'), 'spellings trimmed to one value');
});
