/** Validating a policy file against the schema, with every error placed at a file, line and column. */
import { Ajv, type ErrorObject } from 'ajv';
import { POLICY_SCHEMA, resolvePolicy, type PolicyDocument, type ResolvedPolicy } from './schema.js';
import { pointerSegments, PolicySyntaxError, readPolicySource, toPointer, type PolicySource, type SourcePosition } from './source.js';

export interface PolicyProblem {
  readonly file: string;
  readonly position: SourcePosition;
  /** Where in the document: the JSON Pointer ajv reports ('' is the whole file). */
  readonly path: string;
  readonly message: string;
}

export function formatProblem(p: PolicyProblem): string {
  return `${p.file}:${p.position.line}:${p.position.column}: ${p.message}`;
}

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validatePolicy = ajv.compile<PolicyDocument>(POLICY_SCHEMA);

const whereIn = (path: string, whole: string) => (path === '' ? whole : `'${pointerSegments(path).join('.')}'`);
const shown = (value: unknown) => JSON.stringify(value)?.slice(0, 60) ?? String(value);

/** One error a person can act on: what is wrong, the offending value, and what is allowed. */
function describe(error: ErrorObject, value: unknown, whole: string): { path: string; message: string; target: 'key' | 'value' } {
  const where = (p: string) => whereIn(p, whole);
  const path = error.instancePath;
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = String(p.additionalProperty);
      return { path: `${path}${toPointer(extra)}`, message: `unknown setting '${extra}' in ${where(path)}`, target: 'key' };
    }
    case 'required':
      return { path, message: `${where(path)} is missing '${String(p.missingProperty)}'`, target: 'key' };
    case 'const':
      return { path, message: `${where(path)} is ${shown(value)}; allowed: ${String(p.allowedValue)}`, target: 'value' };
    case 'enum':
      return { path, message: `${where(path)} is ${shown(value)}; allowed: ${(p.allowedValues as unknown[]).map((v) => String(v)).join(', ')}`, target: 'value' };
    case 'minimum':
    case 'maximum':
      return { path, message: `${where(path)} is ${shown(value)}; it must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${String(p.limit)}`, target: 'value' };
    case 'pattern':
      return { path, message: `${where(path)} is ${shown(value)}; use lower-case letters, digits, '.', '_' or '-' (at most 64)`, target: 'value' };
    default:
      return { path, message: `${where(path)} ${error.message ?? 'is not valid'}${value !== undefined ? ` (got ${shown(value)})` : ''}`, target: 'value' };
  }
}

function valueAt(document: unknown, path: string): unknown {
  let node = document;
  for (const segment of pointerSegments(path)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/**
 * ajv reports every branch of a union ('deny' | rows | cohort; keep | {generalize}); a person needs the one
 * mistake they made. So: keep only the union branch the user evidently meant for a report rule; prefer the
 * deepest error on a path; and drop 'anyOf' summaries and type mismatches when a more specific error stands
 * at the same place.
 */
function relevantErrors(errors: readonly ErrorObject[], document: unknown): ErrorObject[] {
  const intendedBranch = errors.filter((e) => {
    const match = /^#\/properties\/reports\/additionalProperties\/anyOf\/(\d)/.exec(e.schemaPath);
    if (match === null) return true;
    const rule = valueAt(document, e.instancePath.split('/').slice(0, 3).join('/'));
    const intended = typeof rule === 'string' ? '0' : rule !== null && typeof rule === 'object' && 'cohort' in rule ? '2' : '1';
    return match[1] === intended;
  });
  const isBelow = (deeper: string, path: string) => deeper.startsWith(`${path}/`);
  return intendedBranch.filter((e) => {
    const unionNoise = e.keyword === 'anyOf' || e.keyword === 'type' || (e.keyword === 'enum' && /anyOf/.test(e.schemaPath));
    if (!unionNoise) return true;
    const deeper = intendedBranch.some((o) => isBelow(o.instancePath, e.instancePath));
    if (deeper) return false;
    if (e.keyword === 'enum') return true;
    return !intendedBranch.some((o) => o !== e && o.instancePath === e.instancePath && o.keyword !== 'anyOf' && o.keyword !== 'type');
  });
}

/** A valid policy comes back resolved (every default filled in, `resolvePolicy`); `source.value` is as written. */
export type PolicyValidation =
  | { ok: true; policy: ResolvedPolicy; source: PolicySource }
  | { ok: false; problems: PolicyProblem[] };

/** Validates one policy's parsed source; every problem is reported, not just the first. */
export function validatePolicySource(source: PolicySource): PolicyValidation {
  if (validatePolicy(source.value)) return { ok: true, policy: resolvePolicy(source.value), source };
  return { ok: false, problems: schemaProblems(relevantErrors(validatePolicy.errors ?? [], source.value), source) };
}

/** ajv errors as problems placed in the source, each said once. Also used for `policy test` case files. */
export function schemaProblems(errors: readonly ErrorObject[], source: PolicySource, whole = 'the policy'): PolicyProblem[] {
  const seen = new Set<string>();
  const problems: PolicyProblem[] = [];
  for (const error of errors) {
    const { path, message, target } = describe(error, valueAt(source.value, error.instancePath), whole);
    if (seen.has(`${path}\u0000${message}`)) continue;
    seen.add(`${path}\u0000${message}`);
    problems.push({ file: source.file, position: source.locate(path, target), path, message });
  }
  return problems;
}

/** Reads and validates policy text; syntax errors come back as problems too. */
export function validatePolicyText(file: string, text: string): PolicyValidation {
  try {
    return validatePolicySource(readPolicySource(file, text));
  } catch (error) {
    if (!(error instanceof PolicySyntaxError)) throw error;
    return { ok: false, problems: [{ file, position: error.position, path: '', message: error.reason }] };
  }
}
