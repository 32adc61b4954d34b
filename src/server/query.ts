/**
 * The query string of a proxy route with named parameters (`/org-score`, `/cohorts`): names are matched without
 * regard to case; an unknown or a repeated name is a 400 naming it (only a name that could be one: odata.ts quotedIdentifier), never ignored.
 */
import { quotedIdentifier } from '../catalogue/odata.js';
import { ProxyRefusal } from './errors.js';

/**
 * The parameters of `url` by lower-case name. `allowed` holds the lower-case names; `use` ends the refusal
 * "Unknown parameter 'x': use ..." (e.g. 'period or date, and by.'). Throws `ProxyRefusal` 400.
 */
export function queryParameters(url: string, allowed: ReadonlySet<string>, use: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(url.split(/\?(.*)/s)[1] ?? '')) {
    const name = key.toLowerCase();
    if (!allowed.has(name)) throw new ProxyRefusal(400, 'BadRequest', `Unknown parameter ${quotedIdentifier(key) ?? '(its name is not echoed)'}: use ${use}`);
    if (params.has(name)) throw new ProxyRefusal(400, 'BadRequest', `Parameter '${name}' is given twice.`);
    params.set(name, value);
  }
  return params;
}
