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
  const plain = plainUserName(text);
  if (plain !== undefined) return plain;
  const value = text.trim();
  return isConcealedName(value) || CLEAR_USER_NAME.test(value);
}

/**
 * isUserName without a regular expression for text of printable ASCII only (no space, no control character:
 * nothing to trim, no white space inside), which nearly every cell is; undefined for any other text. Every
 * report row asks this, some twice (issue 18's profile: the two expressions were 5% of a score).
 */
function plainUserName(text: string): boolean | undefined {
  let at = -1;
  let reserved = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32 || c >= 127) return undefined;
    if (c === 64) {
      reserved ||= at !== -1;
      at = i;
    } else if (c === 60 || c === 62 || c === 40 || c === 41) {
      reserved = true;
    }
  }
  if (at === -1) return text.length === 32 && isHex(text);
  return !reserved && at > 0 && at < text.length - 1;
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
    if (!isUserName(text)) return;
    if (isConcealedName(text)) this.concealed++;
    else this.clear++;
  }

  /** The form most names are in, or undefined when the report named no one. */
  get form(): NameForm | undefined {
    if (this.concealed === 0 && this.clear === 0) return undefined;
    return this.concealed > this.clear ? 'concealed' : 'clear';
  }
}
