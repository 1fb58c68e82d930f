/**
 * Stops a process on a Node older than the one Scoregate is pinned to, with one line that says
 * what to do. Every entry point (each service, the feature ingestor, the CLI) imports this module
 * first: ES modules run in import order, so the check runs before any other module's code. It
 * cannot stop a module that fails to load at all on an older Node (a static import of a built-in
 * such as `node:sqlite`); such modules are imported lazily, where they are used.
 */

/** The Node major of `engines` and of the `node` devDependency in the root package.json. */
export const REQUIRED_NODE_MAJOR = 24;

const running = process.versions.node;
if (Number(running.split('.')[0]) < REQUIRED_NODE_MAJOR) {
  process.stderr.write(
    `scoregate needs Node ${REQUIRED_NODE_MAJOR} (this is v${running}); run it through npm ` +
      '(npm start / npm run scoregate -- …), which uses the pinned Node in node_modules/.bin, ' +
      `or install Node ${REQUIRED_NODE_MAJOR}\n`,
  );
  process.exit(1);
}
