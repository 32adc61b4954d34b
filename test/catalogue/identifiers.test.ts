import t from 'tap';
import { isConcealedName, isPlaceholderIdentifier, NameForms } from '../../src/catalogue/identifiers.js';

t.test("Graph's placeholders name no one: (Unknown), transient <PII:...> names, zero GUIDs, empty cells", async (t) => {
  for (const text of ['(Unknown)', '(unknown)', ' (Unknown) ', 'Unknown', '', '   ', '00000000-0000-0000-0000-000000000000', '<PII:H105(se/njcX9qwMG.....8mXJy0s+hqA0Iw=)>@contoso.com', '<PII:H1(x)>']) {
    t.ok(isPlaceholderIdentifier(text), JSON.stringify(text));
  }
  for (const text of ['jane.doe@contoso.com', 'FE7CC8C15246EDCCA289C9A4022762F7', 'unknown.user@contoso.com', '00000000-0000-4000-8000-000000000001', 'PII@contoso.com']) {
    t.notOk(isPlaceholderIdentifier(text), JSON.stringify(text));
  }
});

t.test('the form of user names: concealed (32 hex, no @) or clear; placeholders are neither', async (t) => {
  t.ok(isConcealedName('FE7CC8C15246EDCCA289C9A4022762F7'));
  t.notOk(isConcealedName('jane.doe@contoso.com'));
  const forms = new NameForms();
  t.equal(forms.form, undefined, 'no names, no form');
  for (const text of ['(Unknown)', '(Unknown)', 'FE7CC8C15246EDCCA289C9A4022762F7']) forms.add(text);
  t.equal(forms.form, 'concealed');
  for (const text of ['a@contoso.com', 'b@contoso.com']) forms.add(text);
  t.equal(forms.form, 'clear', 'the form most names are in');
});

t.test('a user-name column is judged by what a user name looks like: a clear UPN or the concealed form, nothing else', async (t) => {
  const { isUserName } = await import('../../src/catalogue/identifiers.js');
  for (const text of ['jane.doe@contoso.com', "o'brien@contoso.com", 'jane_gmail.com#EXT#@contoso.onmicrosoft.com', 'FE7CC8C15246EDCCA289C9A4022762F7']) t.ok(isUserName(text), text);
  for (const text of ['(Unknown)', '(Unknown)@contoso.example', '<PII:H105(se/njcX9qwMG', '<PII:H1(x)>@contoso.com', '', 'jane doe@contoso.com', 'no-at-sign', '00000000-0000-0000-0000-000000000000']) t.notOk(isUserName(text), text);
});

t.test('isUserName and isConcealedName answer as their regular expressions do, on any text (the ASCII fast path changes nothing)', async (t) => {
  const fc = (await import('fast-check')).default;
  const { isUserName } = await import('../../src/catalogue/identifiers.js');
  const CLEAR = /^[^\s@<>()]+@[^\s@<>()]+$/;
  const concealed = (text: string) => /^[0-9A-F]{32}$/i.test(text.trim());
  const userName = (text: string) => concealed(text.trim()) || CLEAR.test(text.trim());
  const piece = fc.constantFrom('a', 'F', '0', '9', 'g', '@', '<', '>', '(', ')', ' ', '\t', '\n', '\u00a0', '\ufeff', '\u2028', 'é', '\u0010', '\u007f', '.', 'contoso.com', 'FE7CC8C15246EDCCA289C9A4022762F7');
  fc.assert(fc.property(fc.array(piece, { maxLength: 8 }).map((parts) => parts.join('')), (text) => isUserName(text) === userName(text) && isConcealedName(text) === concealed(text)), { numRuns: 20_000 });
  for (const text of ['FE7CC8C15246EDCCA289C9A4022762F7', ' FE7CC8C15246EDCCA289C9A4022762F7\t', 'FE7CC8C15246EDCC\u0010289C9A4022762F7', 'a@b', '@b', 'a@', 'a@@b', 'a@b@c', 'a(b@c']) {
    t.equal(isUserName(text), userName(text), JSON.stringify(text));
    t.equal(isConcealedName(text), concealed(text), JSON.stringify(text));
  }
});

t.test('userNameAt judges a cell where it lies as isUserName and isConcealedName do, and says CANONICAL_NAME only of a name that is its canonical form', async (t) => {
  const fc = (await import('fast-check')).default;
  const { userNameAt, isUserName, NOT_A_USER_NAME, CONCEALED_NAME, CLEAR_NAME, CANONICAL_NAME } = await import('../../src/catalogue/identifiers.js');
  const { canonicalIdentifier } = await import('../../src/sanitize/pseudonyms.js');
  const piece = fc.constantFrom('a', 'F', 'Z', '0', '9', 'g', '@', '<', '>', '(', ')', ' ', '\t', '\u00a0', '\ufeff', 'é', 'É', '\u0010', '\u007f', '.', ',', 'contoso.com', 'Contoso.COM', 'FE7CC8C15246EDCCA289C9A4022762F7', 'fe7cc8c15246edcca289c9a4022762f7');
  const expected = (text: string) => (!isUserName(text) ? NOT_A_USER_NAME : isConcealedName(text) ? CONCEALED_NAME : CLEAR_NAME);
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 8 }).map((parts) => parts.join('')), fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), (text, before, after) => {
      const judged = userNameAt(before + text + after, before.length, before.length + text.length);
      if ((judged & ~CANONICAL_NAME) !== expected(text)) return false;
      return (judged & CANONICAL_NAME) === 0 || (judged !== CANONICAL_NAME && canonicalIdentifier(text) === text);
    }),
    { numRuns: 20_000 },
  );
  t.equal(userNameAt('jane.doe@contoso.com', 0, 20), CLEAR_NAME + CANONICAL_NAME);
  t.equal(userNameAt('Jane.Doe@contoso.com', 0, 20), CLEAR_NAME, 'a capital letter: to be lower-cased');
  t.equal(userNameAt(' jane.doe@contoso.com', 0, 21), CLEAR_NAME, 'a space: to be trimmed');
  t.equal(userNameAt('FE7CC8C15246EDCCA289C9A4022762F7', 0, 32), CONCEALED_NAME);
  t.equal(userNameAt('fe7cc8c15246edcca289c9a4022762f7', 0, 32), CONCEALED_NAME + CANONICAL_NAME);
  t.equal(userNameAt('x,(Unknown),y', 2, 11), NOT_A_USER_NAME);
});
