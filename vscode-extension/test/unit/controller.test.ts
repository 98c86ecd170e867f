import * as assert from 'assert';
import { Controller, OPEN_SETTINGS, SHOW_LOG } from '../../src/controller';
import { StatusController } from '../../src/statusBar';
import { FakeHost, FakeStatusItem, tick } from '../support/fakes';

function setup() {
  const host = new FakeHost();
  const item = new FakeStatusItem();
  const status = new StatusController(item);
  let cancelled = 0;
  const controller = new Controller(host, status, () => cancelled++);
  return { host, status, controller, cancelledCount: () => cancelled };
}

describe('Controller', () => {
  it('starts the server and is ready', async () => {
    const { host, status, controller } = setup();
    await controller.start();
    assert.strictEqual(host.clients.length, 1);
    assert.deepStrictEqual(host.clients[0].plan.args, ['serve', '--checkpoint', '/ckpt']);
    assert.strictEqual(status.state, 'ready');
    assert.ok(controller.isActive);
  });

  it('explains a missing checkpoint, and its button opens that setting', async () => {
    const { host, status, controller } = setup();
    host.answer = OPEN_SETTINGS;
    host.plan = () => ({ ok: false, problem: 'checkpoint', setting: 'codelm.checkpointPath', message: 'CodeLm: no checkpoint is set.' });
    await controller.start();
    await tick();
    assert.strictEqual(host.clients.length, 0, 'no process for a plan that cannot work');
    assert.strictEqual(status.state, 'error');
    assert.deepStrictEqual(host.errors, [{ message: 'CodeLm: no checkpoint is set.', actions: [OPEN_SETTINGS, SHOW_LOG] }]);
    assert.deepStrictEqual(host.openedSettings, ['codelm.checkpointPath']);
    assert.strictEqual(controller.isActive, false);
  });

  it('reports a server that fails to start, offering the log', async () => {
    const { host, status, controller } = setup();
    host.answer = SHOW_LOG;
    host.nextClientFails = new Error('spawn EACCES');
    await controller.start();
    await tick();
    assert.strictEqual(status.state, 'error');
    assert.match(host.errors[0].message, /failed to start: spawn EACCES/);
    assert.strictEqual(host.logShown, 1);
  });

  it('pushes model settings to the running server without a restart', async () => {
    const { host, controller } = setup();
    await controller.start();
    host.settings = { ...host.settings, temperature: 0.7, maxNewTokens: 16 };
    await controller.configurationChanged();
    host.settings = { ...host.settings, debounceMs: 50 };
    await controller.configurationChanged();
    assert.strictEqual(host.clients.length, 1);
    assert.strictEqual(host.clients[0].stopped, 0);
    assert.deepStrictEqual(host.clients[0].notifications, [
      {
        method: 'workspace/didChangeConfiguration',
        params: {
          settings: {
            codelm: {
              maxNewTokens: 16,
              temperature: 0.7,
              contextBudget: 1024,
              enabledLanguages: host.settings.enabledLanguages,
              candidates: 3,
              candidateMode: 'onCycle',
              candidateTemperature: 0.8,
              repoContext: true,
              repoContextTokens: 512,
              acceptanceLog: true,
            },
          },
        },
      },
    ]);
    assert.strictEqual(controller.settings.debounceMs, 50, 'client-side settings apply at once too');
  });

  it('restarts the server for a new checkpoint or language list', async () => {
    const { host, controller, status } = setup();
    await controller.start();
    host.settings = { ...host.settings, checkpointPath: '/other' };
    await controller.configurationChanged();
    host.settings = { ...host.settings, enabledLanguages: ['python'] };
    await controller.configurationChanged();
    assert.strictEqual(host.clients.length, 3);
    assert.deepStrictEqual(host.clients.map((c) => c.stopped), [1, 1, 0]);
    assert.deepStrictEqual(host.clients[1].plan.args, ['serve', '--checkpoint', '/other']);
    assert.deepStrictEqual(host.clients[2].settings.enabledLanguages, ['python']);
    assert.strictEqual(status.state, 'ready');
  });

  it('disable stops the server and cancels requests; enable starts it again', async () => {
    const { host, controller, status, cancelledCount } = setup();
    await controller.start();
    await controller.setEnabled(false);
    assert.strictEqual(host.settings.enabled, false, 'persisted');
    assert.strictEqual(host.clients[0].stopped, 1);
    assert.strictEqual(status.state, 'disabled');
    assert.strictEqual(controller.isActive, false);
    assert.ok(cancelledCount() >= 1);
    await controller.toggle();
    assert.strictEqual(host.settings.enabled, true);
    assert.strictEqual(host.clients.length, 2);
    assert.strictEqual(status.state, 'ready');
  });

  it('starts disabled when the setting says so', async () => {
    const { host, controller, status } = setup();
    host.settings = { ...host.settings, enabled: false };
    await controller.start();
    assert.strictEqual(host.clients.length, 0);
    assert.strictEqual(status.state, 'disabled');
  });

  it('fixing a bad setting starts the server', async () => {
    const { host, controller, status } = setup();
    const good = host.plan;
    host.plan = () => ({ ok: false, problem: 'server', setting: 'codelm.serverPath', message: 'not found' });
    await controller.start();
    assert.strictEqual(status.state, 'error');
    host.plan = good;
    host.settings = { ...host.settings, serverPath: '/bin/codelm' };
    await controller.configurationChanged();
    assert.strictEqual(status.state, 'ready');
    assert.strictEqual(host.clients.length, 1);
  });

  it('follows the client: a crash shows error, its automatic restart shows ready', async () => {
    const { host, controller, status } = setup();
    await controller.start();
    host.clients[0].emitState(2, 1);
    assert.strictEqual(status.state, 'error');
    host.clients[0].emitState(3, 2);
    assert.strictEqual(status.state, 'ready');
  });

  it('restart replaces the client', async () => {
    const { host, controller } = setup();
    await controller.start();
    await controller.restart();
    assert.strictEqual(host.clients.length, 2);
    assert.strictEqual(host.clients[0].stopped, 1);
    host.clients[0].emitState(2, 1);
    assert.strictEqual(controller.isActive, true, 'events of the old client are ignored');
  });
});
