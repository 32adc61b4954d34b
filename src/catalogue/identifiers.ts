/**
 * Which identifier cells name a person. Graph writes placeholders where it has no usable name: `(Unknown)` for
 * several different users at once, `<PII:...>@domain` for a while after a naming change, the zero GUID for every
 * user id when names are concealed, and empty cells. Such a cell says nothing about who the row is: rows that
 * carry one are never merged with each other, never joined to the directory, and never given a pseudonym (one
 * pseudonym would then stand for several people). Sources: ../shared/graph-reports.md ("Concealed names") and
 * ../shared/cases/real-graph/README.md.
 */

const ZERO_GUID = '00000000-0000-0000-0000-000000000000';
const UNKNOWN = /^\(?unknown\)?$/i;
const TRANSIENT_PII = /^<PII:[^>]*>/i;

/** Whether an identifier cell is one of Graph's placeholders rather than a person's (or entity's) name. */
export function isPlaceholderIdentifier(text: string): boolean {
  const value = text.trim();
  return value === '' || value === ZERO_GUID || UNKNOWN.test(value) || TRANSIENT_PII.test(value);
}

/** Whether a User Principal Name column holds Graph's concealed form (32 hexadecimal characters, no '@'). */
export function isConcealedName(text: string): boolean {
  if (isPlainAscii(text, 0) && isPlainAscii(text, text.length - 1)) return text.length === 32 && isHex(text);
  return /^[0-9A-F]{32}$/i.test(text.trim());
}

/** Whether the character at `at` is printable ASCII other than a space (trim never removes it). */
const isPlainAscii = (text: string, at: number) => {
  const c = text.charCodeAt(at);
  return c > 32 && c < 127;
};

function isHex(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const lower = c | 0x20;
    if (!((c >= 48 && c <= 57) || (lower >= 97 && lower <= 102))) return false;
  }
  return true;
}

/**
 * A UPN in clear: `local@domain`, without the whitespace, angle brackets or parentheses that user principal
 * names cannot contain and that Graph's placeholders are made of (`(Unknown)`, `<PII:...>@domain`, and the
 * same cut short or wrapped).
 */
const CLEAR_USER_NAME = /^[^\s@<>()]+@[^\s@<>()]+$/;

/**
 * Whether a user-name cell (User Principal Name, Owner Principal Name) names a person: a clear UPN or Graph's
 * concealed form. Anything else is a placeholder, however it is spelt: a user-name column is judged by what a
 * name must look like, not by a list of the placeholders seen so far.
 */
export function isUserName(text: string): boolean {
  return userNameAt(text, 0, text.length) !== NOT_A_USER_NAME;
}

/** What `userNameAt` says of a user-name cell: not a user name (a placeholder or empty), or its form. */
export const NOT_A_USER_NAME = 0;
export const CONCEALED_NAME = 1;
export const CLEAR_NAME = 2;
/**
 * Added by `userNameAt` to a user name that is its own canonical form (sanitize/pseudonyms.ts
 * canonicalIdentifier: nothing to trim, nothing to lower-case), so a caller can skip making it.
 */
export const CANONICAL_NAME = 4;

/**
 * Whether the cell `text[start, end)` names a person (isUserName) and in which form (isConcealedName), in one
 * reading and without slicing it when it is printable ASCII (no space, no control character: nothing to trim),
 * which nearly every cell is: NOT_A_USER_NAME, or CONCEALED_NAME or CLEAR_NAME plus CANONICAL_NAME when the
 * cell has no capital letter. Other text is sliced and judged by the regular expressions, never CANONICAL_NAME.
 * Every report row asks this (issue 18's profiles: the expressions were 5% of a score, then reading each cell
 * twice, as a slice, 10%), so the validation pass judges each cell once, where it lies.
 */
export function userNameAt(text: string, start: number, end: number): number {
  let at = -1;
  let reserved = false;
  let capital = false;
  let hex = true;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32 || c >= 127) return judgedByExpressions(text.slice(start, end));
    if (c === 64) {
      reserved ||= at !== -1;
      at = i;
    } else if (c === 60 || c === 62 || c === 40 || c === 41) {
      reserved = true;
    } else if (c >= 65 && c <= 90) {
      capital = true;
    }
    hex &&= (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
  }
  const canonical = capital ? 0 : CANONICAL_NAME;
  if (at === -1) return end - start === 32 && hex ? CONCEALED_NAME + canonical : NOT_A_USER_NAME;
  return !reserved && at > start && at < end - 1 ? CLEAR_NAME + canonical : NOT_A_USER_NAME;
}

/** userNameAt of a cell that is not printable ASCII only (what it trims is not part of the name). */
function judgedByExpressions(text: string): number {
  const value = text.trim();
  if (isConcealedName(value)) return CONCEALED_NAME;
  return CLEAR_USER_NAME.test(value) ? CLEAR_NAME : NOT_A_USER_NAME;
}

/** The two forms Graph writes user names in, per its concealed-names setting (admin/reportSettings). */
export type NameForm = 'concealed' | 'clear';

/**
 * Counts the forms of a report's user names (placeholders aside) while it is read: which form a report is in
 * tells whether the tenant's concealed-names setting was on when Graph generated it.
 */
export class NameForms {
  concealed = 0;
  clear = 0;

  add(text: string): void {
    this.count(userNameAt(text, 0, text.length));
  }

  /** Counts a cell already judged by `userNameAt`. */
  count(judged: number): void {
    if ((judged & CONCEALED_NAME) !== 0) this.concealed++;
    else if ((judged & CLEAR_NAME) !== 0) this.clear++;
  }

  /** The form most names are in, or undefined when the report named no one. */
  get form(): NameForm | undefined {
    if (this.concealed === 0 && this.clear === 0) return undefined;
    return this.concealed > this.clear ? 'concealed' : 'clear';
  }
}
