import t from 'tap';
import { licenceClassOf } from '../../src/cohort/report-users.js';

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
