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
});
