// Builds the tiny checkpoint the integration test serves: test shards from test/tiny-shards (a BPE tokenizer and
// fill-in-the-middle documents laid out like the server's prompts), then the real `codelm train`.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot, runCodelm } from './codelmServer';

const FILE = 'def greet(name):\n    return "Hello, " + name\n\n\ndef add(a, b):\n    return a + b\n';

/** The editor's document: `greet`'s body is empty and the cursor sits on its indented line. */
export const TRAINED_DOCUMENT = {
  text: 'def greet(name):\n    \n\n\ndef add(a, b):\n    return a + b\n',
  cursor: { line: 1, character: 4 },
  expected: 'return "Hello, " + name',
};

/**
 * A file that imports a helper: its memorized body calls the helper only when the helper's definition is in the
 * prompt, i.e. when `helpers.py` is open in the editor and the server put it there as repository context.
 */
export const HELPERS = { name: 'helpers.py', text: 'def shout(text):\n    return text.upper() + "!"\n' };
export const CONTEXT_DOCUMENT = {
  name: 'loud.py',
  /** On disk: the cursor goes to the end, and Enter indents into the body. */
  text: 'from helpers import shout\n\n\ndef greet(name):',
  withoutContext: 'return "Hello, " + name',
  withContext: 'return shout("Hello, " + name)',
};
const CONTEXT_PREFIX = `${CONTEXT_DOCUMENT.text}\n    `;

const SPEC = {
  language: 'Python',
  vocabSize: 320,
  files: [FILE, HELPERS.text, CONTEXT_DOCUMENT.text],
  samples: [
    { prefix: CONTEXT_PREFIX, suffix: '', middle: CONTEXT_DOCUMENT.withoutContext },
    { prefix: CONTEXT_PREFIX, suffix: '', middle: CONTEXT_DOCUMENT.withContext, context: [{ path: HELPERS.name, text: HELPERS.text.trimEnd() }] },
    { prefix: 'def greet(name):\n    ', suffix: '\n\n\ndef add(a, b):\n    return a + b\n', middle: 'return "Hello, " + name' },
    { prefix: 'def greet(name):\n    return ', suffix: '\n\n\ndef add(a, b):\n    return a + b\n', middle: '"Hello, " + name' },
    { prefix: 'def greet(name):\n    return "Hello, " + name\n\n\ndef add(a, b):\n    ', suffix: '\n', middle: 'return a + b' },
  ],
};

function run(command: string, args: string[], timeoutMs: number): string {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      timeout: timeoutMs,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', MSBUILDDISABLENODEREUSE: '1', DOTNET_NOLOGO: '1' },
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${(e.stdout ?? '').slice(-3000)}\n${(e.stderr ?? '').slice(-3000)}`);
  }
}

/** Returns the checkpoint directory (the run's best/). */
export async function buildTinyCheckpoint(work: string): Promise<string> {
  const project = path.join(repoRoot, 'vscode-extension', 'test', 'tiny-shards');
  run('dotnet', ['build', project, '-c', 'Release', '-nologo', '-clp:ErrorsOnly'], 300_000);
  const specFile = path.join(work, 'spec.json');
  fs.writeFileSync(specFile, JSON.stringify(SPEC));
  const shards = path.join(work, 'shards');
  run('dotnet', [path.join(project, 'bin', 'Release', 'net10.0', 'TinyShards.dll'), specFile, shards], 120_000);

  // Smaller than the `tiny` preset so it learns these documents by heart in seconds on a busy CPU.
  const config = path.join(work, 'model.json');
  fs.writeFileSync(config, JSON.stringify({ model_type: 'codelm-gpt', vocab_size: 1, context_length: 256, layers: 2, heads: 2, embedding: 64, layer_norm_epsilon: 1e-5 }));
  const runDir = path.join(work, 'run');
  // prettier-ignore
  runCodelm(['train', '--data', shards, '--config', config, '--out', runDir, '--device', 'cpu', '--precision', 'fp32',
    '--max-steps', '200', '--warmup', '10', '--lr', '5e-3', '--batch-size', '8', '--seq-len', '128', '--fim-rate', '0',
    '--eval-interval', '200', '--eval-batches', '1', '--threads', '1', '--seed', '7', '--peak-tflops', '1', '--skip-memory-check']);
  const best = path.join(runDir, 'best');
  if (!fs.existsSync(path.join(best, 'config.json'))) throw new Error(`codelm train left no checkpoint in ${best}`);
  return best;
}
