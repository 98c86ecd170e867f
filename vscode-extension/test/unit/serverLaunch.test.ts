import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { executableFor, expand, FileProbe, planLaunch } from '../../src/serverLaunch';
import { DEFAULTS } from '../../src/settings';

// The real file system: a temp dir with a codelm executable, a codelm.dll and checkpoint directories.
const probe: FileProbe = {
  isFile: (p) => fs.existsSync(p) && fs.statSync(p).isFile(),
  isDirectory: (p) => fs.existsSync(p) && fs.statSync(p).isDirectory(),
};

describe('planLaunch', () => {
  let root: string;
  let env: { pathVariable: string; homeDir: string; workspaceFolder: string };

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'codelm-launch-'));
    fs.mkdirSync(path.join(root, 'bin'));
    fs.writeFileSync(path.join(root, 'bin', 'codelm'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(root, 'codelm.dll'), '');
    fs.mkdirSync(path.join(root, 'ws', 'ckpt'), { recursive: true });
    fs.writeFileSync(path.join(root, 'ws', 'ckpt', 'config.json'), '{}');
    fs.mkdirSync(path.join(root, 'empty'));
    env = { pathVariable: ['/nonexistent', path.join(root, 'bin')].join(path.delimiter), homeDir: root, workspaceFolder: path.join(root, 'ws') };
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('finds a bare server name on PATH and passes serve --checkpoint', () => {
    const plan = planLaunch({ ...DEFAULTS, checkpointPath: path.join(root, 'ws', 'ckpt') }, env, probe);
    assert.deepStrictEqual(plan, {
      ok: true,
      command: path.join(root, 'bin', 'codelm'),
      args: ['serve', '--checkpoint', path.join(root, 'ws', 'ckpt')],
      checkpoint: path.join(root, 'ws', 'ckpt'),
    });
  });

  it('runs a codelm.dll with dotnet, resolving ~ and relative checkpoint paths', () => {
    const plan = planLaunch({ ...DEFAULTS, serverPath: '~/codelm.dll', checkpointPath: 'ckpt' }, env, probe);
    assert.ok(plan.ok);
    assert.strictEqual(plan.command, 'dotnet');
    assert.deepStrictEqual(plan.args, [path.join(root, 'codelm.dll'), 'serve', '--checkpoint', path.join(root, 'ws', 'ckpt')]);
    const verbose = planLaunch({ ...DEFAULTS, serverPath: '~/codelm.dll', checkpointPath: 'ckpt', verboseLog: true }, env, probe);
    assert.ok(verbose.ok);
    assert.deepStrictEqual(verbose.args.slice(-1), ['--verbose']);
  });

  it('passes serve --backend --model instead of a checkpoint when a backend is set', () => {
    const plan = planLaunch({ ...DEFAULTS, backendUrl: 'http://gpu-node:8000/v1', backendModel: 'qwen-coder' }, env, probe);
    assert.deepStrictEqual(plan, {
      ok: true,
      command: path.join(root, 'bin', 'codelm'),
      args: ['serve', '--backend', 'http://gpu-node:8000/v1', '--model', 'qwen-coder'],
      checkpoint: 'qwen-coder at http://gpu-node:8000/v1',
    });
    const noModel = planLaunch({ ...DEFAULTS, backendUrl: 'http://gpu-node:8000/v1' }, env, probe);
    assert.ok(!noModel.ok && noModel.problem === 'backend' && noModel.setting === 'codelm.backendModel');
    const notUrl = planLaunch({ ...DEFAULTS, backendUrl: 'gpu-node:8000', backendModel: 'm' }, env, probe);
    assert.ok(!notUrl.ok && notUrl.setting === 'codelm.backendUrl');
  });

  it('reports a missing server binary against the serverPath setting', () => {
    for (const serverPath of ['codelm-missing', '/nowhere/codelm', '${workspaceFolder}/codelm']) {
      const plan = planLaunch({ ...DEFAULTS, serverPath, checkpointPath: path.join(root, 'ws', 'ckpt') }, env, probe);
      assert.strictEqual(plan.ok, false, serverPath);
      if (!plan.ok) {
        assert.strictEqual(plan.problem, 'server');
        assert.strictEqual(plan.setting, 'codelm.serverPath');
        assert.match(plan.message, /was not found/);
      }
    }
  });

  it('reports an unset, missing or non-checkpoint directory against the checkpointPath setting', () => {
    for (const checkpointPath of ['', '/nowhere/ckpt', path.join(root, 'empty'), path.join(root, 'ws', 'ckpt', 'config.json')]) {
      const plan = planLaunch({ ...DEFAULTS, checkpointPath }, env, probe);
      assert.strictEqual(plan.ok, false, checkpointPath);
      if (!plan.ok) {
        assert.strictEqual(plan.problem, 'checkpoint');
        assert.strictEqual(plan.setting, 'codelm.checkpointPath');
      }
    }
  });

  it('expands ${workspaceFolder}', () => {
    assert.strictEqual(expand('${workspaceFolder}/a/../b', env), path.join(root, 'ws', 'b'));
    assert.strictEqual(expand('/abs/x', env), '/abs/x');
  });

  it('hands the language client the plan as is: no transport, so no --stdio is appended', () => {
    const plan = planLaunch({ ...DEFAULTS, checkpointPath: path.join(root, 'ws', 'ckpt') }, env, probe);
    assert.ok(plan.ok);
    const executable = executableFor(plan, { PATH: '/bin' });
    assert.deepStrictEqual(executable, { command: plan.command, args: plan.args, options: { env: { PATH: '/bin' } } });
    assert.ok(!('transport' in executable));
  });
});
