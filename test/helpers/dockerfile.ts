// Replays a Dockerfile without a container engine (none runs on the project's CI machines): parse it, build the
// context the way Docker does from .dockerignore, then run each stage in its own scratch directory standing in
// for the stage's root filesystem. RUN executes on this host (so the caller must vet the commands: see
// test/unit/image/dockerfile.test.ts), COPY follows Docker's rules for files and directories, WORKDIR and ENV
// carry over. What this cannot reproduce: the base image itself (the host's Node and tools stand in for it),
// file ownership, and RUN commands that change the system (the caller refuses them).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  readonly args: string;
  /** 1-based line of the keyword. */
  readonly line: number;
}

export interface Stage {
  readonly image: string;
  readonly name: string | null;
  readonly instructions: readonly Instruction[];
}

/** Instructions grouped by stage. Comment lines (also inside continuations) and parser directives drop out. */
export function parseDockerfile(text: string): Stage[] {
  const lines = text.split('\n');
  const instructions: Instruction[] = [];
  let buf: string[] = [];
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const trimmed = raw.trim();
    if (trimmed.startsWith('#')) continue;
    if (buf.length === 0) {
      if (trimmed === '') continue;
      start = i + 1;
    }
    if (trimmed.endsWith('\\')) {
      buf.push(trimmed.slice(0, -1).trim());
      continue;
    }
    buf.push(trimmed);
    const joined = buf.filter((s) => s !== '').join(' ');
    buf = [];
    const m = /^(\S+)\s*(.*)$/.exec(joined);
    if (m === null) continue;
    instructions.push({ keyword: m[1]!.toUpperCase(), args: m[2]!, line: start });
  }
  if (buf.length > 0) throw new Error(`Dockerfile ends inside a continuation started at line ${start}`);

  const stages: { image: string; name: string | null; instructions: Instruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (m === null) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ image: m[1]!, name: m[2] ?? null, instructions: [] });
    } else if (ins.keyword === 'ARG' && stages.length === 0) {
      throw new Error(`line ${ins.line}: ARG before FROM is not supported by this replay`);
    } else {
      const stage = stages[stages.length - 1];
      if (stage === undefined) throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
      stage.instructions.push(ins);
    }
  }
  return stages;
}

/** The exec form `["a", "b"]` of RUN/CMD/ENTRYPOINT/COPY, or null for the shell form. */
export function execForm(args: string): string[] | null {
  if (!args.trimStart().startsWith('[')) return null;
  const v: unknown = JSON.parse(args);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`not a JSON string array: ${args}`);
  return v as string[];
}

export interface CopyArgs {
  readonly from: string | null;
  readonly flags: Readonly<Record<string, string>>;
  readonly sources: readonly string[];
  readonly dest: string;
}

export function parseCopy(args: string): CopyArgs {
  const words = args.split(/\s+/).filter((w) => w !== '');
  const flags: Record<string, string> = {};
  while (words[0]?.startsWith('--')) {
    const w = words.shift()!;
    const eq = w.indexOf('=');
    flags[eq < 0 ? w.slice(2) : w.slice(2, eq)] = eq < 0 ? 'true' : w.slice(eq + 1);
  }
  const rest = words.join(' ');
  const list = execForm(rest) ?? words;
  if (list.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`);
  return { from: flags.from ?? null, flags, sources: list.slice(0, -1), dest: list[list.length - 1]! };
}

/** `ENV K=V [K2="V 2"]` (and the legacy `ENV K V`), with $VAR / ${VAR} taken from `env`. */
export function parseEnv(args: string, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const expand = (s: string) => s.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_, a?: string, b?: string) => env[(a ?? b)!] ?? '');
  const out: Record<string, string> = {};
  if (!/^\w+=/.test(args)) {
    const m = /^(\w+)\s+(.*)$/.exec(args);
    if (m === null) throw new Error(`cannot read ENV ${args}`);
    out[m[1]!] = expand(m[2]!);
    return out;
  }
  const re = /(\w+)=(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/g;
  for (const m of args.matchAll(re)) {
    const dq = m[2];
    out[m[1]!] = dq !== undefined ? expand(dq.replace(/\\(.)/g, '$1')) : m[3] !== undefined ? m[3] : expand(m[4] ?? '');
  }
  return out;
}

// ---- .dockerignore (Docker's semantics: github.com/moby/patternmatcher) ----------------------------------

interface IgnoreRule {
  readonly pattern: string;
  readonly negated: boolean;
  readonly re: RegExp;
}

/**
 * Rules in file order. A path is excluded when the LAST rule that matches it, or any of its parent
 * directories, is a plain pattern; a `!` rule that matches lets it back in.
 */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const rawLine of text.split('\n')) {
    let p = rawLine.trim();
    if (p === '' || p.startsWith('#')) continue;
    const negated = p.startsWith('!');
    if (negated) p = p.slice(1).trim();
    // filepath.Clean, then relative to the context root.
    p = posix.normalize(p).replace(/^\/+/, '').replace(/\/+$/, '');
    if (p === '' || p === '.') continue;
    rules.push({ pattern: p, negated, re: globToRegExp(p) });
  }
  return rules;
}

function globToRegExp(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      if (p[i + 1] === '*') {
        // `**` matches any number of directories, including none ("**/x" matches "x").
        i++;
        if (p[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = p.indexOf(']', i + 1);
      if (end < 0) throw new Error(`.dockerignore: unterminated [ in ${p}`);
      re += `[${p.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < p.length) {
      re += p[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/** Whether `rel` (slash-separated, relative to the context root) is left out of the build context. */
export function isIgnored(rules: readonly IgnoreRule[], rel: string): boolean {
  const parts = rel.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const r of rules) {
    if (prefixes.some((p) => r.re.test(p))) excluded = !r.negated;
  }
  return excluded;
}

/**
 * Copies the build context of `contextDir` into `dest` as Docker would send it, and returns the relative paths
 * that made it. Symbolic links are copied as links, never followed (as Docker does).
 */
export function copyBuildContext(contextDir: string, dest: string): string[] {
  const ignoreFile = join(contextDir, '.dockerignore');
  const rules = existsSync(ignoreFile) ? parseDockerignore(readFileSync(ignoreFile, 'utf8')) : [];
  // A negated rule can only re-include something under an excluded directory if it could match there.
  const canReinclude = (dir: string) =>
    rules.some((r) => r.negated && (/^[*?[]/.test(r.pattern) || r.pattern.includes('**') || r.pattern.startsWith(`${dir}/`)));
  const kept: string[] = [];
  const walk = (rel: string) => {
    for (const d of readdirSync(join(contextDir, rel), { withFileTypes: true })) {
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      const ignored = isIgnored(rules, r);
      if (d.isDirectory()) {
        if (!ignored || canReinclude(r)) walk(r);
        continue;
      }
      if (ignored) continue;
      mkdirSync(join(dest, rel), { recursive: true });
      cpSync(join(contextDir, r), join(dest, r), { verbatimSymlinks: true, preserveTimestamps: true });
      kept.push(r);
    }
  };
  walk('');
  return kept.sort();
}

// ---- replay ------------------------------------------------------------------------------------------------

export interface ReplayedStage {
  readonly stage: Stage;
  /** The directory standing in for the stage's `/`. */
  readonly root: string;
  workdir: string;
  readonly env: Record<string, string>;
  user: string | null;
  entrypoint: string[] | null;
}

export interface ReplayOptions {
  /** The build context, already filtered (copyBuildContext). */
  readonly context: string;
  /** Scratch directory; stage N gets `<scratch>/stage-N-<name>`. */
  readonly scratch: string;
  /** Runs one RUN command (shell form, or the exec form's words) with cwd and env; throws on failure. */
  readonly run: (cmd: string | string[], opts: { cwd: string; env: Record<string, string> }) => void;
  /** Environment the stages start from (the base image's, as far as the host stands in for it). */
  readonly baseEnv: Readonly<Record<string, string>>;
}

/** A container path of `st` on this host: the stage root + path when it exists there, else the host's own. */
export function hostPath(st: ReplayedStage, p: string): string {
  if (!p.startsWith('/')) return p;
  const inStage = join(st.root, p);
  return existsSync(inStage) ? inStage : p;
}

export function replay(stages: readonly Stage[], opts: ReplayOptions): ReplayedStage[] {
  const done: ReplayedStage[] = [];
  stages.forEach((stage, n) => {
    const root = join(opts.scratch, `stage-${n}-${stage.name ?? 'unnamed'}`);
    mkdirSync(root, { recursive: true });
    const st: ReplayedStage = { stage, root, workdir: '/', env: { ...opts.baseEnv }, user: null, entrypoint: null };
    for (const ins of stage.instructions) {
      const where = `line ${ins.line} (${ins.keyword} ${ins.args})`;
      switch (ins.keyword) {
        case 'WORKDIR':
          st.workdir = posix.resolve(st.workdir, ins.args);
          mkdirSync(join(root, st.workdir), { recursive: true });
          break;
        case 'ENV':
          Object.assign(st.env, parseEnv(ins.args, st.env));
          break;
        case 'COPY': {
          const c = parseCopy(ins.args);
          let srcRoot = opts.context;
          if (c.from !== null) {
            const from = done.find((s) => s.stage.name === c.from) ?? done[Number(c.from)];
            if (from === undefined) throw new Error(`${where}: no earlier stage ${c.from}`);
            srcRoot = from.root;
          }
          const destAbs = posix.resolve(st.workdir, c.dest);
          const destIsDir = c.dest.endsWith('/') || c.sources.length > 1;
          for (const s of c.sources) {
            if (/[*?[]/.test(s)) throw new Error(`${where}: wildcards in COPY sources are not replayed`);
            const src = join(srcRoot, s);
            if (!existsSync(src)) throw new Error(`${where}: ${s} is not in ${c.from === null ? 'the build context' : `stage ${c.from}`}`);
            const isDir = lstatSync(src).isDirectory();
            // A directory source copies its contents; a file goes into dest/ or becomes dest.
            const target = isDir ? join(root, destAbs) : destIsDir ? join(root, destAbs, basename(s)) : join(root, destAbs);
            mkdirSync(isDir ? target : dirname(target), { recursive: true });
            cpSync(src, target, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
          }
          break;
        }
        case 'RUN': {
          const cwd = join(root, st.workdir);
          mkdirSync(cwd, { recursive: true });
          opts.run(execForm(ins.args) ?? ins.args, { cwd, env: st.env });
          break;
        }
        case 'USER':
          st.user = ins.args.trim();
          break;
        case 'ENTRYPOINT': {
          const e = execForm(ins.args);
          if (e === null) throw new Error(`${where}: ENTRYPOINT must use the exec form, or SIGTERM goes to a shell`);
          st.entrypoint = e;
          break;
        }
        case 'LABEL':
        case 'EXPOSE':
        case 'CMD':
          break;
        default:
          throw new Error(`${where}: ${ins.keyword} is not replayed`);
      }
    }
    done.push(st);
  });
  return done;
}

/** Runs a shell-form or exec-form command with its output captured; throws with the output on failure. */
export function runCommand(cmd: string | string[], opts: { cwd: string; env: Record<string, string>; timeoutMs: number }): void {
  const [file, args] = typeof cmd === 'string' ? ['/bin/sh', ['-c', cmd]] : [cmd[0]!, cmd.slice(1)];
  const r = spawnSync(file, args, { cwd: opts.cwd, env: opts.env, encoding: 'utf8', timeout: opts.timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${JSON.stringify(cmd)}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${JSON.stringify(cmd)} exited ${r.status ?? r.signal}:\n${(r.stdout + r.stderr).slice(-4000)}`);
  }
}

/** Size in bytes of a directory tree (not following links), for the report. */
export function treeBytes(dir: string): number {
  let n = 0;
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    n += d.isDirectory() ? treeBytes(p) : lstatSync(p).size;
  }
  return n;
}
