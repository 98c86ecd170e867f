import * as assert from 'assert';
import { TokenLike } from '../../src/cancellation';
import { createInlineCompletionMiddleware } from '../../src/inlineMiddleware';
import { RequestGate } from '../../src/requestGate';
import { StatusController } from '../../src/statusBar';
import { FakeStatusItem, FakeToken, tick } from '../support/fakes';

type Ctx = { triggerKind: number };
const INVOKE = 0;
const AUTOMATIC = 1;

function setup(delay: number, active = () => true, manual = () => false) {
  const item = new FakeStatusItem();
  const status = new StatusController(item);
  status.setReady();
  const gate = new RequestGate(() => delay);
  const middleware = createInlineCompletionMiddleware<string, number, Ctx, TokenLike, string[]>({
    gate,
    observer: status,
    isActive: active,
    isExplicit: (c) => c.triggerKind === INVOKE,
    isManualOnly: manual,
  });
  return { item, status, middleware };
}

describe('inline completion middleware', () => {
  it('in manual mode asks the server only when the user invokes a completion', async () => {
    const { middleware, status } = setup(0, () => true, () => true);
    const sent: number[] = [];
    const next = async (_d: string, position: number) => {
      sent.push(position);
      return [`completion at ${position}`];
    };
    assert.strictEqual(await middleware('doc', 1, { triggerKind: AUTOMATIC }, new FakeToken(), next), null);
    assert.strictEqual(status.state, 'ready');
    assert.deepStrictEqual(await middleware('doc', 2, { triggerKind: INVOKE }, new FakeToken(), next), ['completion at 2']);
    assert.deepStrictEqual(sent, [2]);
  });

  it('sends only the last request of a typing burst to the server', async () => {
    const { middleware } = setup(30);
    const sent: number[] = [];
    const next = async (_d: string, position: number) => {
      sent.push(position);
      return [`completion at ${position}`];
    };
    const results = [];
    for (let position = 1; position <= 4; position++) {
      results.push(middleware('doc', position, { triggerKind: AUTOMATIC }, new FakeToken(), next));
      await tick(5);
    }
    assert.deepStrictEqual(await Promise.all(results), [null, null, null, ['completion at 4']]);
    assert.deepStrictEqual(sent, [4]);
  });

  it('shows generating while the server works, then ready', async () => {
    const { item, status, middleware } = setup(0);
    let release!: () => void;
    const next = () => new Promise<string[]>((resolve) => (release = () => resolve(['x'])));
    const pending = middleware('doc', 1, { triggerKind: AUTOMATIC }, new FakeToken(), next);
    await tick();
    assert.strictEqual(status.state, 'generating');
    assert.strictEqual(item.accessibilityInformation?.label, 'CodeLm: generating');
    release();
    assert.deepStrictEqual(await pending, ['x']);
    assert.strictEqual(status.state, 'ready');
  });

  it('cancels the stale in-flight request and returns nothing for it', async () => {
    const { middleware, status } = setup(0);
    const seen: TokenLike[] = [];
    const next = (_d: string, _p: number, _c: Ctx, token: TokenLike) => {
      seen.push(token);
      return new Promise<string[]>((resolve) => token.onCancellationRequested(() => resolve(['late'])));
    };
    const first = middleware('doc', 1, { triggerKind: AUTOMATIC }, new FakeToken(), next);
    await tick();
    const secondToken = new FakeToken();
    const second = middleware('doc', 2, { triggerKind: AUTOMATIC }, secondToken, next);
    assert.strictEqual(await first, null, 'the stale answer is dropped');
    assert.strictEqual(seen[0].isCancellationRequested, true);
    secondToken.cancel();
    assert.strictEqual(await second, null);
    assert.strictEqual(status.state, 'ready');
  });

  it('answers an explicit trigger without waiting for the debounce', async () => {
    const { middleware } = setup(10_000);
    const started = Date.now();
    const result = await middleware('doc', 1, { triggerKind: INVOKE }, new FakeToken(), async () => ['now']);
    assert.deepStrictEqual(result, ['now']);
    assert.ok(Date.now() - started < 1000);
  });

  it('asks nothing while completions are disabled', async () => {
    let active = false;
    const { middleware } = setup(0, () => active);
    let calls = 0;
    const next = async () => {
      calls++;
      return ['x'];
    };
    assert.strictEqual(await middleware('doc', 1, { triggerKind: INVOKE }, new FakeToken(), next), null);
    active = true;
    assert.deepStrictEqual(await middleware('doc', 1, { triggerKind: INVOKE }, new FakeToken(), next), ['x']);
    assert.strictEqual(calls, 1);
  });

  it('leaves the status ready when the request fails', async () => {
    const { middleware, status } = setup(0);
    await assert.rejects(middleware('doc', 1, { triggerKind: INVOKE }, new FakeToken(), async () => Promise.reject(new Error('boom'))), /boom/);
    assert.strictEqual(status.state, 'ready');
  });

  it('hands an answer that is used to the answered hook with its latency, and a cancelled one to superseded', async () => {
    const item = new FakeStatusItem();
    const status = new StatusController(item);
    status.setReady();
    const answered: Array<[string, number, string[]]> = [];
    const superseded: string[] = [];
    const middleware = createInlineCompletionMiddleware<string, number, Ctx, TokenLike, string[]>({
      gate: new RequestGate(() => 0),
      observer: status,
      isActive: () => true,
      isExplicit: () => false,
      isManualOnly: () => false,
      answered: (doc, position, result, latencyMs) => {
        assert.ok(latencyMs >= 0);
        answered.push([doc, position, result]);
        return [...result, 'marked'];
      },
      superseded: (doc) => superseded.push(doc),
    });
    assert.deepStrictEqual(await middleware('a.py', 1, { triggerKind: AUTOMATIC }, new FakeToken(), async () => ['x']), ['x', 'marked']);
    assert.deepStrictEqual(answered, [['a.py', 1, ['x']]]);

    const token = new FakeToken();
    const slow = middleware('b.py', 2, { triggerKind: AUTOMATIC }, token, async () => {
      token.cancel();
      return ['late'];
    });
    assert.strictEqual(await slow, null);
    assert.deepStrictEqual(superseded, ['b.py']);
    assert.strictEqual(await middleware('c.py', 3, { triggerKind: AUTOMATIC }, new FakeToken(), async () => null), null);
    assert.strictEqual(answered.length, 1, 'no answer, nothing to report');
  });
});
