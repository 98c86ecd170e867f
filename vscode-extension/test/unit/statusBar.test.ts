import * as assert from 'assert';
import { StatusController } from '../../src/statusBar';
import { FakeStatusItem } from '../support/fakes';

describe('StatusController', () => {
  it('shows each state with its icon, label and click action', () => {
    const item = new FakeStatusItem();
    const status = new StatusController(item);
    assert.ok(item.shown);
    assert.strictEqual(status.state, 'starting');

    status.setReady();
    assert.strictEqual(item.text, '$(check) CodeLm');
    assert.strictEqual(item.accessibilityInformation?.label, 'CodeLm: ready');
    assert.strictEqual(item.command, 'codelm.toggle');

    status.requestStarted();
    status.requestStarted();
    status.requestEnded();
    assert.strictEqual(status.state, 'generating');
    status.requestEnded();
    assert.strictEqual(status.state, 'ready');

    status.setError('the server "x" was not found');
    assert.strictEqual(item.text, '$(error) CodeLm');
    assert.strictEqual(item.tooltip, 'CodeLm: the server "x" was not found');
    assert.strictEqual(item.command, 'codelm.showLog');

    status.setDisabled();
    assert.strictEqual(item.accessibilityInformation?.label, 'CodeLm: disabled');
    status.requestStarted();
    assert.strictEqual(status.state, 'disabled', 'requests do not show as generating while disabled');
  });

  it('warns when the p95 of recent latencies is over the threshold, with what to try', () => {
    const item = new FakeStatusItem();
    let threshold = 1000;
    const status = new StatusController(item, () => threshold);
    status.setReady();
    for (const ms of [100, 200, 300, 400]) status.latency(ms);
    status.latency(5000); // five samples: the p95 is the slowest
    assert.strictEqual(item.text, '$(warning) CodeLm');
    assert.match(String(item.tooltip), /p95 5000 ms over the last 5\)\. Try a smaller model, `codelm serve --precision int8`/);
    assert.strictEqual(item.accessibilityInformation?.label, 'CodeLm: ready (slow)');
    threshold = 0; // turned off
    status.latency(100);
    assert.strictEqual(item.text, '$(check) CodeLm');
    threshold = 1000;
    for (let i = 0; i < 20; i++) status.latency(100); // the slow one left the window
    assert.strictEqual(item.text, '$(check) CodeLm');
  });
});
