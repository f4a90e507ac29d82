// The container image (issue 9 §6). No container engine runs on the project's machines, so the Dockerfile is
// checked twice: statically (stages, base images, user, entrypoint, .dockerignore), and by replaying it —
// the build context filtered by .dockerignore, the build stage's RUNs (npm ci with the addon, tsc, prune) in a
// scratch directory, the runtime stage assembled from its COPY lines — then starting the entrypoint from the
// assembled runtime tree as the image's user. About 20-60 s, most of it `npm ci` (from the npm cache when it
// can: prefer-offline) and tsc.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/cli.js';
import {
  copyBuildContext,
  execForm,
  hostPath,
  isIgnored,
  parseCopy,
  parseDockerfile,
  parseDockerignore,
  replay,
  runCommand,
  treeBytes,
  type ReplayedStage,
} from '../../helpers/dockerfile.js';

const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const build = stages.find((s) => s.name === 'build');
const runtime = stages[stages.length - 1]!;
const IMAGE_USER = 65534;

describe('Dockerfile: static checks', () => {
  test('two stages: build on node:20-bookworm, the final one on node:20-bookworm-slim', () => {
    assert.deepEqual(
      stages.map((s) => [s.name, s.image]),
      [
        ['build', 'node:20-bookworm'],
        ['runtime', 'node:20-bookworm-slim'],
      ],
    );
    // The replay below uses this host's Node for the base images' one: it must be the same major.
    assert.match(process.version, /^v20\./, 'the replay stands in for node:20 with this host\'s node');
  });

  test('the build stage installs, builds and prunes with npm only (the replay runs these on this host)', () => {
    const runs = build!.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    assert.deepEqual(runs.map((r) => r.split(' ').slice(0, 2).join(' ')), ['npm ci', 'npm run', 'npm prune']);
    assert.ok(runs[1]!.startsWith('npm run build'));
    assert.match(runs[2]!, /--omit=dev/);
  });

  test('the runtime stage only copies: no RUN, nothing from the build context but bin/', () => {
    const kws = new Set(runtime.instructions.map((i) => i.keyword));
    assert.ok(!kws.has('RUN') && !kws.has('ADD'), [...kws].join(' '));
    const fromContext = runtime.instructions
      .filter((i) => i.keyword === 'COPY')
      .map((i) => parseCopy(i.args))
      .filter((c) => c.from === null)
      .flatMap((c) => c.sources);
    assert.deepEqual(fromContext, ['bin/']);
  });

  test(`the runtime user is ${IMAGE_USER}, the entrypoint is node on dist/cli/main.js in exec form`, () => {
    const users = runtime.instructions.filter((i) => i.keyword === 'USER').map((i) => i.args);
    assert.deepEqual(users, [`${IMAGE_USER}:${IMAGE_USER}`]);
    const eps = runtime.instructions.filter((i) => i.keyword === 'ENTRYPOINT').map((i) => execForm(i.args));
    assert.equal(eps.length, 1);
    const ep = eps[0]!;
    assert.ok(ep !== null, 'exec form: node is PID 1 and gets SIGTERM itself');
    assert.equal(ep[0], 'node');
    assert.equal(ep[ep.length - 1], '/app/dist/cli/main.js');
    assert.ok(!runtime.instructions.some((i) => i.keyword === 'CMD'), 'no CMD: the arguments are the ingot command line');
  });

  test('the image version label is package.json\'s version', () => {
    const label = runtime.instructions.filter((i) => i.keyword === 'LABEL').map((i) => i.args).join(' ');
    assert.match(label, new RegExp(`org\\.opencontainers\\.image\\.version="${pkg.version.replace(/\./g, '\\.')}"`));
  });

  test('.dockerignore lets in the build inputs only', () => {
    const rules = parseDockerignore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));
    for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/cli/main.ts', 'native/binding.gyp', 'native/src/addon.cc', 'bin/ingot']) {
      assert.equal(isIgnored(rules, p), false, p);
    }
    for (const p of ['node_modules', 'node_modules/yaml/package.json', 'dist/cli/main.js', 'native/build/Release/ingot_native.node', '.git', 'test/unit/x.test.ts', 'bench/results/latest.json', 'manifests/ingot.yaml', 'README.md', '.ci/run']) {
      assert.equal(isIgnored(rules, p), true, p);
    }
  });
});

describe('.dockerignore matching follows Docker (moby/patternmatcher)', () => {
  const ignored = (rules: string, p: string) => isIgnored(parseDockerignore(rules), p);
  test('a pattern excludes a directory with everything under it; the last matching rule wins', () => {
    assert.equal(ignored('dist', 'dist/cli/main.js'), true);
    assert.equal(ignored('*\n!src', 'src/a/b.ts'), false);
    assert.equal(ignored('*\n!src\nsrc/gen', 'src/gen/x.ts'), true);
    assert.equal(ignored('!src\n*', 'src/a.ts'), true);
  });
  test('* and ? stay within one path segment; ** spans any number, including none', () => {
    assert.equal(ignored('*.md', 'README.md'), true);
    assert.equal(ignored('*.md', 'src/README.md'), false);
    assert.equal(ignored('**/*.md', 'src/README.md'), true);
    assert.equal(ignored('**/*.md', 'README.md'), true);
    assert.equal(ignored('src/?.ts', 'src/a.ts'), true);
    assert.equal(ignored('src/?.ts', 'src/ab.ts'), false);
  });
  test('leading and trailing slashes, comments and blank lines', () => {
    assert.equal(ignored('/dist/', 'dist/x'), true);
    assert.equal(ignored('# dist\n\n', 'dist/x'), false);
    assert.equal(ignored('native/build/', 'native/build/Release/a.node'), true);
    assert.equal(ignored('native/build/', 'native/binding.gyp'), false);
  });
});

describe('Dockerfile: replayed build, then the runtime tree started as the image would start', { timeout: 600_000 }, () => {
  let scratch = '';
  let context = '';
  let contextFiles: string[] = [];
  let stagesDone: ReplayedStage[] = [];
  let rt!: ReplayedStage;
  let app = '';

  before(
    () => {
      scratch = mkdtempSync(join(tmpdir(), 'ingot-image-'));
      // mkdtemp makes 0700; the image's user must be able to reach the runtime tree below it.
      chmodSync(scratch, 0o755);
      context = join(scratch, 'context');
      contextFiles = copyBuildContext(REPO_ROOT, context);
      // The host stands in for node:20-bookworm: its PATH and HOME (npm's cache), without the npm_* variables
      // of an outer `npm test`, which would point npm at this repository.
      const baseEnv: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) {
        if (v !== undefined && !/^npm_/i.test(k) && k !== 'INIT_CWD' && !k.startsWith('NODE_')) baseEnv[k] = v;
      }
      stagesDone = replay(stages, {
        context,
        scratch,
        baseEnv,
        run: (cmd, o) => {
          // These run on this host, not in a container: only npm commands, which stay inside the scratch tree.
          // A RUN that changes the system (apt-get, useradd, ...) must not be replayed; refuse it.
          const text = typeof cmd === 'string' ? cmd : cmd.join(' ');
          if (!/^npm [a-z]/.test(text) || /[;&|`$<>]/.test(text)) throw new Error(`refusing to replay RUN ${text} on this host`);
          // prefer-offline: packages come from the npm cache when they are there (CI filled it with its own npm ci).
          runCommand(cmd, { cwd: o.cwd, env: { ...o.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' }, timeoutMs: 480_000 });
        },
      });
      rt = stagesDone[stagesDone.length - 1]!;
      app = join(rt.root, rt.workdir);
      chmodSync(rt.root, 0o755);
    },
    { timeout: 600_000 },
  );

  after(() => {
    if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  });

  /** The entrypoint with `args`, on this host: container paths mapped into the runtime tree, the image's env and user. */
  function startImage(args: readonly string[], opts: { asImageUser?: boolean } = {}) {
    const ep = rt.entrypoint!.map((a) => hostPath(rt, a));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(rt.env)) env[k] = k === 'PATH' ? v.split(':').map((p) => hostPath(rt, p)).join(':') : v;
    const asUser = opts.asImageUser !== false && process.getuid?.() === 0;
    return spawnSync(ep[0]!, [...ep.slice(1), ...args], {
      cwd: app,
      env,
      encoding: 'utf8',
      timeout: 60_000,
      ...(asUser ? { uid: IMAGE_USER, gid: IMAGE_USER } : {}),
    });
  }

  test('the build context holds the build inputs and nothing else', () => {
    const top = [...new Set(contextFiles.map((f) => f.split('/')[0]!))].sort();
    assert.deepEqual(top, ['bin', 'native', 'package-lock.json', 'package.json', 'src', 'tsconfig.build.json', 'tsconfig.json']);
    assert.ok(contextFiles.includes('src/cli/main.ts'));
    assert.ok(!contextFiles.some((f) => f.startsWith('native/build/')), 'no host build of the addon');
  });

  test('the runtime tree: compiled program, the addon, production dependencies only, no sources', (t) => {
    assert.equal(rt.workdir, '/app');
    for (const f of ['package.json', 'dist/cli/main.js', 'native/build/Release/ingot_native.node', 'bin/ingot']) {
      assert.ok(existsSync(join(app, f)), f);
    }
    assert.ok(statSync(join(app, 'bin/ingot')).mode & 0o111, 'bin/ingot is executable');
    for (const d of Object.keys(pkg.dependencies)) assert.ok(existsSync(join(app, 'node_modules', d, 'package.json')), `dependency ${d}`);
    // A devDependency that a production dependency also needs (the lock file does not mark it dev) stays.
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.keys(pkg.devDependencies).filter((d) => lock.packages[`node_modules/${d}`]?.dev === true);
    assert.ok(devOnly.length >= 3, 'the lock file marks dev-only packages');
    for (const d of devOnly) assert.ok(!existsSync(join(app, 'node_modules', d, 'package.json')), `no devDependency ${d}`);
    assert.deepEqual(readdirSync(app).sort(), ['bin', 'dist', 'native', 'node_modules', 'package.json']);
    assert.deepEqual(readdirSync(join(app, 'native')), ['build']);
    t.diagnostic(`runtime /app: ${(treeBytes(app) / 1e6).toFixed(1)} MB (node_modules ${(treeBytes(join(app, 'node_modules')) / 1e6).toFixed(1)} MB)`);
  });

  test(`the entrypoint prints the version, as user ${IMAGE_USER}`, () => {
    const r = startImage(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  test('`ingot` on the image PATH (bin/ingot) runs the compiled program without rebuilding it', () => {
    const main = join(app, 'dist/cli/main.js');
    const before = statSync(main).mtimeMs;
    const env: Record<string, string> = { ...rt.env, PATH: rt.env.PATH!.split(':').map((p) => hostPath(rt, p)).join(':') };
    const r = spawnSync('ingot', ['--version'], { cwd: '/', env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
    assert.equal(statSync(main).mtimeMs, before);
  });

  test('the native addon loads from the runtime tree (TCP-MD5 and GTSM need it)', () => {
    const native = join(app, 'dist/net/native.js');
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(native)}); console.log(m.loadNative().abiVersion === m.NATIVE_ABI_VERSION)`],
      { cwd: app, encoding: 'utf8', timeout: 60_000, ...(process.getuid?.() === 0 ? { uid: IMAGE_USER, gid: IMAGE_USER } : {}) },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'true');
  });

  test('production dependencies suffice: `config validate` of the example config through the entrypoint', () => {
    const cfg = readFileSync(join(REPO_ROOT, 'manifests/example-config.yaml'), 'utf8');
    const ep = rt.entrypoint!.map((a) => hostPath(rt, a));
    const r = spawnSync(ep[0]!, [...ep.slice(1), 'config', 'validate', '-'], {
      cwd: app,
      input: cfg,
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' },
    });
    assert.equal(r.status, 0, r.stderr);
  });
});
