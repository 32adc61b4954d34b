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
