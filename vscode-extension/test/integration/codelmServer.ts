// Starts the real `codelm serve` (the built C# codelm.dll) the way the extension does, and connects to it
// over stdio with vscode-languageserver-protocol, the protocol layer under vscode-languageclient.
import { ChildProcessWithoutNullStreams, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createProtocolConnection, ProtocolConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver-protocol/node';
import { executableFor, FileProbe, planLaunch } from '../../src/serverLaunch';
import { CodeLmSettings } from '../../src/settings';

export const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');

export const realFiles: FileProbe = {
  isFile: (p) => fs.existsSync(p) && fs.statSync(p).isFile(),
  isDirectory: (p) => fs.existsSync(p) && fs.statSync(p).isDirectory(),
};

/** The built codelm.dll (Release, as scripts/test-all.sh builds it, else Debug); builds Cli if neither exists. */
export function codelmDll(): string {
  const candidates = ['Release', 'Debug'].map((c) => path.join(repoRoot, 'Cli', 'bin', c, 'net10.0', 'codelm.dll'));
  const found = candidates.find((p) => fs.existsSync(p));
  if (found !== undefined) return found;
  execFileSync('dotnet', ['build', path.join(repoRoot, 'Cli'), '-c', 'Release', '-nologo', '-clp:ErrorsOnly'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', MSBUILDDISABLENODEREUSE: '1', DOTNET_NOLOGO: '1' },
  });
  if (!fs.existsSync(candidates[0])) throw new Error(`dotnet build Cli did not produce ${candidates[0]}`);
  return candidates[0];
}

/** Runs `dotnet codelm.dll <args>` to completion, failing with its output tail. */
export function runCodelm(args: string[], timeoutMs = 300_000): string {
  try {
    return execFileSync('dotnet', [codelmDll(), ...args], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`codelm ${args.join(' ')} failed: ${e.message}\n${(e.stdout ?? '').slice(-2000)}\n${(e.stderr ?? '').slice(-4000)}`);
  }
}

export interface RunningServer {
  connection: ProtocolConnection;
  process: ChildProcessWithoutNullStreams;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Launches with the extension's own launch planning: serverPath = codelm.dll runs as `dotnet codelm.dll serve --checkpoint ...`. */
export function startServer(settings: CodeLmSettings): RunningServer {
  const plan = planLaunch(settings, { pathVariable: process.env.PATH ?? '', homeDir: os.homedir() }, realFiles);
  if (!plan.ok) throw new Error(plan.message);
  // The very ServerOptions the extension hands vscode-languageclient (which spawns command + args as given).
  const executable = executableFor(plan, process.env);
  const child = spawn(executable.command, executable.args, { stdio: ['pipe', 'pipe', 'pipe'], env: executable.options.env });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.listen();
  return { connection, process: child, stderr: () => stderr, exited };
}
