// Decides how to start `codelm serve`, or why it cannot be started, before any process is spawned,
// so a missing binary or checkpoint gets a clear message instead of a crashed language client.
import * as path from 'path';
import { CodeLmSettings } from './settings';

export interface FileProbe {
  isFile(p: string): boolean;
  isDirectory(p: string): boolean;
}

export interface LaunchEnvironment {
  /** The PATH variable, split with `path.delimiter`. */
  readonly pathVariable: string;
  readonly homeDir: string;
  /** First workspace folder, for relative paths and `${workspaceFolder}`. */
  readonly workspaceFolder?: string;
}

export type LaunchProblem = 'server' | 'checkpoint' | 'backend';

export type LaunchPlan =
  | { readonly ok: true; readonly command: string; readonly args: string[]; readonly checkpoint: string }
  | { readonly ok: false; readonly problem: LaunchProblem; readonly message: string; readonly setting: string };

/**
 * The language client's ServerOptions for a plan. No `transport`: the client then speaks LSP over the child's
 * stdin/stdout as is, whereas TransportKind.stdio would append `--stdio`, which `codelm serve` does not take.
 */
export function executableFor(plan: Extract<LaunchPlan, { ok: true }>, env: NodeJS.ProcessEnv): { command: string; args: string[]; options: { env: NodeJS.ProcessEnv } } {
  return { command: plan.command, args: [...plan.args], options: { env } };
}

export function planLaunch(settings: CodeLmSettings, env: LaunchEnvironment, probe: FileProbe): LaunchPlan {
  const server = resolveServer(settings.serverPath, env, probe);
  if (server === undefined) {
    return {
      ok: false,
      problem: 'server',
      setting: 'codelm.serverPath',
      message: `CodeLm: the server "${settings.serverPath}" was not found. Set "CodeLm: Server Path" to the codelm executable (or codelm.dll).`,
    };
  }
  if (settings.backendUrl !== '') {
    // The model runs on another server: this one only speaks LSP and forwards the prompts (no checkpoint needed).
    if (!/^https?:\/\/[^/\s]+/.test(settings.backendUrl)) {
      return {
        ok: false,
        problem: 'backend',
        setting: 'codelm.backendUrl',
        message: `CodeLm: the backend "${settings.backendUrl}" is not an http(s) URL. Set "CodeLm: Backend Url" to the server's /v1 URL, e.g. http://gpu-node:8000/v1.`,
      };
    }
    if (settings.backendModel === '') {
      return {
        ok: false,
        problem: 'backend',
        setting: 'codelm.backendModel',
        message: 'CodeLm: a backend is set but no model. Set "CodeLm: Backend Model" to the model\'s name on that server (as its /v1/models lists it).',
      };
    }
    const backendArgs = ['serve', '--backend', settings.backendUrl, '--model', settings.backendModel, ...(settings.verboseLog ? ['--verbose'] : [])];
    const model = `${settings.backendModel} at ${settings.backendUrl}`;
    return server.endsWith('.dll')
      ? { ok: true, command: 'dotnet', args: [server, ...backendArgs], checkpoint: model }
      : { ok: true, command: server, args: backendArgs, checkpoint: model };
  }
  if (settings.checkpointPath === '') {
    return {
      ok: false,
      problem: 'checkpoint',
      setting: 'codelm.checkpointPath',
      message: 'CodeLm: no checkpoint is set. Set "CodeLm: Checkpoint Path" to a checkpoint directory (it holds config.json).',
    };
  }
  const checkpoint = expand(settings.checkpointPath, env);
  if (!probe.isDirectory(checkpoint) || !probe.isFile(path.join(checkpoint, 'config.json'))) {
    return {
      ok: false,
      problem: 'checkpoint',
      setting: 'codelm.checkpointPath',
      message: `CodeLm: the checkpoint "${checkpoint}" is not a checkpoint directory (no config.json there). Fix "CodeLm: Checkpoint Path".`,
    };
  }
  const serveArgs = ['serve', '--checkpoint', checkpoint, ...(settings.verboseLog ? ['--verbose'] : [])];
  return server.endsWith('.dll')
    ? { ok: true, command: 'dotnet', args: [server, ...serveArgs], checkpoint }
    : { ok: true, command: server, args: serveArgs, checkpoint };
}

/** A bare name is looked up on PATH; anything with a separator is a path (relative to the workspace folder). */
export function resolveServer(serverPath: string, env: LaunchEnvironment, probe: FileProbe): string | undefined {
  const looksLikePath = serverPath.includes('/') || serverPath.includes('\\') || serverPath.startsWith('~') || serverPath.includes('${');
  if (looksLikePath) {
    const full = expand(serverPath, env);
    return probe.isFile(full) ? full : undefined;
  }
  for (const dir of env.pathVariable.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, serverPath);
    if (probe.isFile(candidate)) return candidate;
  }
  return undefined;
}

export function expand(p: string, env: LaunchEnvironment): string {
  let out = p;
  if (env.workspaceFolder !== undefined) out = out.split('${workspaceFolder}').join(env.workspaceFolder);
  if (out === '~' || out.startsWith('~/')) out = path.join(env.homeDir, out.slice(1));
  if (!path.isAbsolute(out) && env.workspaceFolder !== undefined) out = path.join(env.workspaceFolder, out);
  return path.normalize(out);
}
