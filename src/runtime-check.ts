/**
 * Stops the command line with one clear line on a Node older than the one it is built and tested for. It is
 * cli.ts's first import, so it runs before any library that needs Node 24's APIs is loaded (undici 8 fails
 * with a TypeError deep inside itself on Node 20).
 */
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `graph-privacy-proxy needs Node 24 or later; this is ${process.version}. In the project folder, 'npx node dist/cli.js <command>' runs the Node 24 that npm ci installed.\n`,
  );
  process.exit(1);
}
export {};
