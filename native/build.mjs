// Builds the native addon (native/build/Release/ingot_native.node). Run by npm's `install` lifecycle on
// `npm ci`/`npm install`, and by `npm run build:native`. It lives in a file rather than in package.json
// because it has to explain itself:
// - node-gyp is npm's bundled copy: npm names it in $npm_config_node_gyp for lifecycle scripts; outside npm it
//   is looked up beside the npm that ships with this node.
// - The Node headers come from the local installation (--nodedir): CI machines reach no header download site.
//   `nodedir` in ~/.npmrc works today, but npm warns it will stop passing unknown user config, so the directory
//   is worked out here as well: the prefix of the running node (/usr for /usr/bin/node).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const candidates = [process.env.npm_config_nodedir, dirname(dirname(process.execPath))].filter(Boolean);
const nodedir = candidates.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
if (!nodedir) {
  process.stderr.write(`ingot: Node headers not found (looked for include/node/node_api.h under ${candidates.join(', ')}); ` +
    'install the package that provides them (Debian: nodejs headers, /usr/include/node)\n');
  process.exit(1);
}
const gyps = [process.env.npm_config_node_gyp, join(nodedir, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
const gyp = gyps.find((p) => p && existsSync(p));
if (!gyp) {
  process.stderr.write(`ingot: npm's node-gyp not found (looked at ${gyps.filter(Boolean).join(', ')}); run: npm run build:native\n`);
  process.exit(1);
}
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--directory=${here}`, `--nodedir=${nodedir}`], { stdio: 'inherit' });
if (r.error) {
  process.stderr.write(`ingot: cannot run node-gyp: ${r.error.message}\n`);
  process.exit(1);
}
process.exit(r.status ?? 1);
