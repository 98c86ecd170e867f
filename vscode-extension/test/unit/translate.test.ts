import * as assert from 'assert';
import { Controller } from '../../src/controller';
import { StatusController } from '../../src/statusBar';
import { TRANSLATE_TARGETS, TranslateParams, TranslateResult, translateSelection, TranslateTarget, TranslateUi } from '../../src/translate';
import { FakeHost, FakeStatusItem } from '../support/fakes';

class FakeUi implements TranslateUi {
  selection: { text: string; languageId: string } | undefined = { text: 'def add(a, b):\n    return a + b\n', languageId: 'python' };
  offered: readonly TranslateTarget[] = [];
  pick: string | undefined = 'Rust';
  progress: string[] = [];
  opened: Array<{ text: string; languageId: string }> = [];
  errors: string[] = [];

  source() {
    return this.selection;
  }
  async pickTarget(targets: readonly TranslateTarget[]) {
    this.offered = targets;
    return targets.find((t) => t.label === this.pick);
  }
  async withProgress<T>(title: string, work: () => Promise<T>): Promise<T> {
    this.progress.push(title);
    return work();
  }
  async openBeside(text: string, languageId: string) {
    this.opened.push({ text, languageId });
  }
  showError(message: string) {
    this.errors.push(message);
  }
}

describe('Translate Selection to…', () => {
  it('sends the selection and its language, and opens the answer beside it in the target language', async () => {
    const ui = new FakeUi();
    const sent: TranslateParams[] = [];
    await translateSelection(ui, async (p) => {
      sent.push(p);
      return { text: 'fn add(a: i64, b: i64) -> i64 {\n    a + b\n}\n', from: 'Python', to: 'Rust' };
    });
    assert.deepStrictEqual(sent, [{ text: ui.selection!.text, languageId: 'python', to: 'Rust' }]);
    assert.ok(!ui.offered.some((t) => t.languageId === 'python'), 'the source language is not offered as a target');
    assert.strictEqual(ui.offered.length, TRANSLATE_TARGETS.length - 1);
    assert.deepStrictEqual(ui.progress, ['CodeLm: translating to Rust…']);
    assert.deepStrictEqual(ui.opened, [{ text: 'fn add(a: i64, b: i64) -> i64 {\n    a + b\n}\n', languageId: 'rust' }]);
    assert.deepStrictEqual(ui.errors, []);
  });

  it('asks for a selection, does nothing when the pick is dismissed, and words a failed request', async () => {
    const ui = new FakeUi();
    ui.selection = { text: '  \n', languageId: 'python' };
    await translateSelection(ui, () => assert.fail('no request without code'));
    assert.deepStrictEqual(ui.errors, ['CodeLm: select the code to translate first.']);

    const dismissed = new FakeUi();
    dismissed.pick = undefined;
    await translateSelection(dismissed, () => assert.fail('no request without a target'));
    assert.deepStrictEqual(dismissed.opened, []);
    assert.deepStrictEqual(dismissed.errors, []);

    const failing = new FakeUi();
    await translateSelection(failing, () => Promise.reject(new Error('the text is 9000 tokens; select less')));
    assert.deepStrictEqual(failing.errors, ['CodeLm: translation failed: the text is 9000 tokens; select less']);
    assert.deepStrictEqual(failing.opened, []);
  });

  it('goes to the running server as codelm/translate, and says so when none is running', async () => {
    const host = new FakeHost();
    const controller = new Controller(host, new StatusController(new FakeStatusItem()));
    await assert.rejects(controller.request('codelm/translate', {}), /not running/);
    await controller.start();
    host.clients[0].respond = (method) => (method === 'codelm/translate' ? { text: 'x\n', from: 'Python', to: 'Go' } : undefined);
    const r = await controller.request<TranslateResult>('codelm/translate', { text: 'x', languageId: 'python', to: 'Go' });
    assert.strictEqual(r.text, 'x\n');
    assert.deepStrictEqual(host.clients[0].requests, [{ method: 'codelm/translate', params: { text: 'x', languageId: 'python', to: 'Go' } }]);
  });
});
