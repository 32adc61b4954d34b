import t from 'tap';
import { licenceClassOf } from '../../src/cohort/licence-class.js';

t.test('licence class: the highest suite decides; add-ons do not; no products is (none)', async (t) => {
  t.equal(licenceClassOf(['MICROSOFT 365 E5']), 'E5');
  t.equal(licenceClassOf(['MICROSOFT 365 E3', 'ENTERPRISE MOBILITY + SECURITY E5']), 'E3');
  t.equal(licenceClassOf(['OFFICE 365 E5', 'MICROSOFT 365 COPILOT']), 'E5');
  t.equal(licenceClassOf(['OFFICE 365 E1', 'POWER BI (FREE)']), 'E1');
  t.equal(licenceClassOf(['MICROSOFT 365 F3']), 'Frontline');
  t.equal(licenceClassOf(['MICROSOFT 365 BUSINESS PREMIUM']), 'Business');
  t.equal(licenceClassOf(['POWER BI (FREE)']), 'Other');
  t.equal(licenceClassOf([]), '(none)');
});

t.test('licence class: add-on SKUs never raise a person\'s class (E5 Security, E5 Compliance, F5 add-ons, EMS, Copilot)', async (t) => {
  t.equal(licenceClassOf(['MICROSOFT 365 E3', 'MICROSOFT 365 E5 SECURITY']), 'E3');
  t.equal(licenceClassOf(['OFFICE 365 E3', 'MICROSOFT 365 E5 COMPLIANCE']), 'E3');
  t.equal(licenceClassOf(['MICROSOFT 365 E3', 'MICROSOFT 365 E5 INFORMATION PROTECTION AND GOVERNANCE']), 'E3');
  t.equal(licenceClassOf(['MICROSOFT 365 E3', 'MICROSOFT 365 E5 EDISCOVERY AND AUDIT']), 'E3');
  t.equal(licenceClassOf(['MICROSOFT 365 F3', 'MICROSOFT 365 F5 SECURITY + COMPLIANCE']), 'Frontline');
  t.equal(licenceClassOf(['MICROSOFT 365 E5 SECURITY']), 'Other', 'an add-on alone is no suite');
  t.equal(licenceClassOf(['ENTERPRISE MOBILITY + SECURITY E5']), 'Other');
  t.equal(licenceClassOf(['MICROSOFT 365 COPILOT']), 'Other');
});

t.test('licence class: the suites as Graph names them, developer and no-Teams editions included', async (t) => {
  t.equal(licenceClassOf(['MICROSOFT 365 E5 DEVELOPER (WITHOUT WINDOWS AND AUDIO CONFERENCING)', 'MICROSOFT POWER AUTOMATE FREE']), 'E5');
  t.equal(licenceClassOf(['OFFICE 365 E3 DEVELOPER', 'POWER BI (FREE)']), 'E3');
  t.equal(licenceClassOf(['MICROSOFT 365 E5 (NO TEAMS)', 'MICROSOFT TEAMS ENTERPRISE']), 'E5');
  t.equal(licenceClassOf(['OFFICE 365 E1 (NO TEAMS)']), 'E1');
  t.equal(licenceClassOf(['MICROSOFT 365 F1']), 'Frontline');
  t.equal(licenceClassOf(['OFFICE 365 F3']), 'Frontline');
  t.equal(licenceClassOf(['MICROSOFT 365 BUSINESS BASIC']), 'Business');
  t.equal(licenceClassOf(['MICROSOFT 365 BUSINESS STANDARD']), 'Business');
  t.equal(licenceClassOf(['MICROSOFT 365 APPS FOR BUSINESS']), 'Business');
  t.equal(licenceClassOf(['microsoft 365 e3']), 'E3', 'case does not matter');
});
