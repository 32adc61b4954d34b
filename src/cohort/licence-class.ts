/**
 * The licence class of a person, a derived cohort dimension: the highest Microsoft 365 / Office 365 suite among
 * the products Graph lists in Assigned Products, looked up in one table of product names. Add-ons (E5 Security,
 * E5 Compliance, F5 Security + Compliance, Enterprise Mobility + Security, Copilot, ...) are not suites and never
 * raise a class; a product the table does not list is not a suite either, so an unknown name can only lower a
 * class to 'Other', never invent one. Product names are Microsoft's licensing display names, upper-cased as
 * Graph writes them (../shared/graph-reports.md).
 */
import { NO_VALUE } from './directory.js';

/** Classes in rank order, highest first; the key set of the dimension is fixed (G8). */
export const LICENCE_CLASSES = ['E5', 'E3', 'E1', 'Frontline', 'Business', 'Other', NO_VALUE] as const;
export type LicenceClass = (typeof LICENCE_CLASSES)[number];

/** Suite product names -> class. Everything not listed here is an add-on or a standalone plan. */
const SUITES: ReadonlyMap<string, LicenceClass> = new Map<string, LicenceClass>([
  ...[
    'MICROSOFT 365 E5', 'MICROSOFT 365 E5 (NO TEAMS)', 'MICROSOFT 365 E5 EEA (NO TEAMS)',
    'MICROSOFT 365 E5 DEVELOPER (WITHOUT WINDOWS AND AUDIO CONFERENCING)', 'MICROSOFT 365 E5 WITHOUT AUDIO CONFERENCING',
    'OFFICE 365 E5', 'OFFICE 365 E5 (NO TEAMS)', 'OFFICE 365 E5 EEA (NO TEAMS)', 'OFFICE 365 E5 WITHOUT AUDIO CONFERENCING',
  ].map((name) => [name, 'E5'] as const),
  ...[
    'MICROSOFT 365 E3', 'MICROSOFT 365 E3 (NO TEAMS)', 'MICROSOFT 365 E3 EEA (NO TEAMS)', 'MICROSOFT 365 E3 - UNATTENDED LICENSE',
    'OFFICE 365 E3', 'OFFICE 365 E3 (NO TEAMS)', 'OFFICE 365 E3 EEA (NO TEAMS)', 'OFFICE 365 E3 DEVELOPER',
  ].map((name) => [name, 'E3'] as const),
  ...['OFFICE 365 E1', 'OFFICE 365 E1 (NO TEAMS)', 'OFFICE 365 E1 EEA (NO TEAMS)'].map((name) => [name, 'E1'] as const),
  ...['MICROSOFT 365 F1', 'MICROSOFT 365 F3', 'OFFICE 365 F3'].map((name) => [name, 'Frontline'] as const),
  ...[
    'MICROSOFT 365 BUSINESS BASIC', 'MICROSOFT 365 BUSINESS STANDARD', 'MICROSOFT 365 BUSINESS PREMIUM',
    'MICROSOFT 365 APPS FOR BUSINESS',
  ].map((name) => [name, 'Business'] as const),
]);

/** The licence class of a person's products: the highest suite's; no suite 'Other'; no products NO_VALUE. */
export function licenceClassOf(products: readonly string[]): LicenceClass {
  if (products.length === 0) return NO_VALUE;
  let best = LICENCE_CLASSES.indexOf('Other');
  for (const product of products) {
    const suite = SUITES.get(product.trim().replace(/\s+/g, ' ').toUpperCase());
    if (suite !== undefined) best = Math.min(best, LICENCE_CLASSES.indexOf(suite));
  }
  return LICENCE_CLASSES[best]!;
}
