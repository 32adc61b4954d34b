/**
 * The architecture of src/ as dependency rules: which folder may import which. `npm run depcheck` (part of
 * `npm test`) fails on any import they forbid; docs/architecture.md says the same in prose, and
 * test/architecture.test.ts checks that both name every folder and that a back-edge fails. Format:
 * dependency-cruiser's rules reference (doc/rules-reference.md in its repository). CommonJS because the
 * package is an ES module package and dependency-cruiser loads its configuration with require.
 */

/**
 * The layers, bottom to top. A folder may import its own files and the folders of the layers below it, never a
 * folder of its own layer or above. `simulator/` is in no layer: it stands in for Graph and shares only the
 * catalogue with the proxy (see the simulator rules). Files directly in src/ are the entry points, on top.
 */
const LAYERS = [
  ['errors', 'event-loop'], //  one catalogue of error codes; sharing the event loop at scale; import nothing of ours
  ['crypto', 'catalogue'], //   AEAD and key derivation; reports, columns, values, CSV, the OData grammar
  ['store', 'sanitize'], //     persistence behind one interface; the per-user sanitiser (pure)
  ['cohort'], //                aggregates, suppression, noise, budget (pure but for the budget store)
  ['score'], //                 the organisation's adoption score over cohort aggregates
  ['policy'], //                schema, load, decide, lint, explain, preview: shared by server and CLI
  ['graph'], //                 I/O to Graph: client, token, snapshots, spill files, directory source
  ['server'], //                fastify plugins and the app factory: wiring only
];
const SIMULATOR_DEPENDENCIES = ['errors', 'crypto', 'catalogue'];
/** The simulated tenant's data, without its HTTP server: deterministic and pure (see the policy exception). */
const SIMULATED_DATA = '^src/simulator/(tenant|reports|render|random)\\.ts$';

const FOLDERS = [...LAYERS.flat(), 'simulator'];
const anyOf = (folders) => `^src/(${folders.join('|')})/`;

const layerRules = LAYERS.flatMap((layer, index) => {
  const below = LAYERS.slice(0, index).flat();
  return layer.map((folder) => ({
    name: `${folder}-imports-only-below`,
    comment: `${folder}/ may import ${below.length === 0 ? 'nothing of ours' : below.map((f) => `${f}/`).join(', ')} and its own files; a lower layer never imports a higher one.`,
    severity: 'error',
    from: {
      path: `^src/${folder}/`,
      // The one exception, fenced by policy-samples-only-simulated-data below.
      ...(folder === 'policy' ? { pathNot: '^src/policy/sample-reports\\.ts$' } : {}),
    },
    to: { path: '^src/', pathNot: anyOf([folder, ...below]) },
  }));
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'only-entry-points-import-server',
      comment: 'server/ only wires the layers below into fastify; nothing but the command line (cli.ts) builds on it.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/server/', '^src/cli\\.ts$'] },
      to: { path: '^src/server/' },
    },
    {
      name: 'nothing-imports-entry-points',
      comment: 'The files directly in src/ (cli.ts and the commands it runs) are the top; no folder imports them.',
      severity: 'error',
      from: { path: '^src/[^/]+/' },
      to: { path: '^src/[^/]+\\.ts$' },
    },
    {
      name: 'simulator-imports-only-catalogue',
      comment:
        'The simulator stands in for Graph: it may share the catalogue (and errors/, crypto/) with the proxy, never ' +
        'import the proxy itself, so the proxy is tested against a tenant that knows nothing of it.',
      severity: 'error',
      from: { path: '^src/simulator/' },
      to: { path: '^src/', pathNot: anyOf(['simulator', ...SIMULATOR_DEPENDENCIES]) },
    },
    {
      name: 'policy-samples-only-simulated-data',
      comment:
        "The one exception to the layers: the policy tooling (release lint, `policy preview`) measures policies " +
        "against reports of the simulated tenant when it has no snapshots, so policy/sample-reports.ts may import the " +
        "simulated tenant's data (tenant, reports, render, random), never its HTTP server; otherwise it is policy/.",
      severity: 'error',
      from: { path: '^src/policy/sample-reports\\.ts$' },
      to: { path: '^src/', pathNot: [anyOf(['policy', ...LAYERS.slice(0, 5).flat()]), SIMULATED_DATA] },
    },
    {
      name: 'simulated-data-is-pure',
      comment: "What policy/ may sample stays pure: the simulated tenant's data imports no other simulator module.",
      severity: 'error',
      from: { path: SIMULATED_DATA },
      to: { path: '^src/', pathNot: [SIMULATED_DATA, anyOf(SIMULATOR_DEPENDENCIES)] },
    },
    {
      name: 'pure-core-does-no-io',
      comment:
        'catalogue/, sanitize/, cohort/ and score/ work over rows and streams they are handed: no file system, ' +
        'network, HTTP server or client, Redis or logger, so they can be tested and benchmarked alone.',
      severity: 'error',
      from: { path: anyOf(['catalogue', 'sanitize', 'cohort', 'score']) },
      to: {
        path: [
          '^(node:)?(fs|fs/promises|net|tls|http|https|http2|dgram|dns|child_process|worker_threads|cluster)$',
          'node_modules/(fastify|@fastify|undici|ioredis|pino|@azure)/',
        ],
      },
    },
    {
      name: 'every-folder-has-a-layer',
      comment: `A new folder of src/ gets a place in LAYERS (and a sentence in docs/architecture.md) before it is used. Placed: ${FOLDERS.join(', ')}.`,
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: anyOf(FOLDERS) },
      to: {},
    },
    {
      name: 'every-folder-has-a-layer',
      comment: `A new folder of src/ gets a place in LAYERS (and a sentence in docs/architecture.md) before it is used. Placed: ${FOLDERS.join(', ')}.`,
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/[^/]+/', pathNot: anyOf(FOLDERS) },
    },
    {
      name: 'no-folder-cycles',
      comment: 'No two folders import each other, directly or around a loop, not even for a type.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-circular',
      comment:
        'No module cycle that exists at run time. A cycle closed by a type-only import is allowed (within a folder, ' +
        'as no-folder-cycles and the layers forbid it between folders): the compiler erases it, so it changes no ' +
        'load order, and it lets a settings or result type sit beside the code that consumes it (ProxySettings in ' +
        'server/proxy.ts, read by server/config.ts, which produces it).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-orphans',
      comment: 'A module nothing imports and that imports nothing is dead code (entry points import others).',
      severity: 'error',
      from: { orphan: true, path: '^src/' },
      to: {},
    },
    {
      name: 'not-to-dev-dep',
      comment: 'Production code uses dependencies only: `npm ci --omit=dev` (the container build) has no devDependencies.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'no-non-package-json',
      comment: 'Every package src/ imports is declared in package.json.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves to a file or a package.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a layer must not even name the types of a layer above it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
