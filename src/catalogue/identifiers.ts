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
  return /^[0-9A-F]{32}$/i.test(text.trim());
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
  const value = text.trim();
  return isConcealedName(value) || CLEAR_USER_NAME.test(value);
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
