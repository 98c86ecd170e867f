import * as assert from 'assert';
import { RequestGate } from '../../src/requestGate';
import { FakeToken, tick } from '../support/fakes';

describe('RequestGate (debounce + stale cancellation)', () => {
  it('admits a lone request after the debounce delay', async () => {
    const gate = new RequestGate(() => 40);
    const started = Date.now();
    const token = await gate.admit(new FakeToken());
    assert.ok(token !== undefined);
    assert.ok(Date.now() - started >= 35, 'waited the delay');
    assert.strictEqual(token.isCancellationRequested, false);
  });

  it('lets only the last of a burst through', async () => {
    const gate = new RequestGate(() => 30);
    const results = [];
    for (let i = 0; i < 5; i++) {
      results.push(gate.admit(new FakeToken()));
      await tick(5);
    }
    const tokens = await Promise.all(results);
    assert.deepStrictEqual(tokens.map((t) => t !== undefined), [false, false, false, false, true]);
  });

  it('cancels the in-flight request when a newer one arrives', async () => {
    const gate = new RequestGate(() => 0);
    const first = await gate.admit(new FakeToken());
    assert.ok(first !== undefined);
    let cancelledEvent = false;
    first.onCancellationRequested(() => (cancelledEvent = true));
    const second = await gate.admit(new FakeToken());
    assert.strictEqual(first.isCancellationRequested, true);
    assert.strictEqual(cancelledEvent, true);
    assert.strictEqual(second?.isCancellationRequested, false);
  });

  it('does not cancel a request that already finished', async () => {
    const gate = new RequestGate(() => 0);
    const first = await gate.admit(new FakeToken());
    gate.finish(first!);
    await gate.admit(new FakeToken());
    assert.strictEqual(first!.isCancellationRequested, false);
  });

  it('drops a request whose editor token is cancelled during the delay, and follows it after', async () => {
    const gate = new RequestGate(() => 50);
    const parent = new FakeToken();
    const pending = gate.admit(parent);
    await tick(5);
    parent.cancel();
    assert.strictEqual(await pending, undefined);

    const parent2 = new FakeToken();
    const token = await new RequestGate(() => 0).admit(parent2);
    parent2.cancel();
    assert.strictEqual(token!.isCancellationRequested, true);
  });

  it('skips the delay for an explicit trigger, and cancelAll stops everything', async () => {
    const gate = new RequestGate(() => 10_000);
    const token = await gate.admit(new FakeToken(), true);
    assert.ok(token !== undefined);
    gate.cancelAll();
    assert.strictEqual(token.isCancellationRequested, true);
    const pending = gate.admit(new FakeToken());
    gate.cancelAll();
    assert.strictEqual(await pending, undefined);
  });
});
