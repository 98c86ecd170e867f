import * as assert from 'assert';
import { AcceptanceTracker, CompletionEvent } from '../../src/acceptance';

function tracker() {
  const events: CompletionEvent[] = [];
  return { events, t: new AcceptanceTracker((e) => events.push(e)) };
}

describe('AcceptanceTracker', () => {
  it('reports a shown item once, and its full accept with the characters taken', () => {
    const { events, t } = tracker();
    t.shown('file:///a.py', 10, ['range(10):'], 'python', 123.4);
    t.shown('file:///a.py', 10, ['range(10):'], 'python', 5); // asked again at the same place: still the same item
    t.changed('file:///a.py', 10, 0, 'range(10):'); // the editor inserts it, then runs the item's command
    t.accepted('range(10):', 'python');
    assert.deepStrictEqual(events, [
      { kind: 'shown', languageId: 'python', latencyMs: 123 },
      { kind: 'accepted', languageId: 'python', chars: 10 },
    ]);
  });

  it('tells a word or line accepted at once from typing along, and follows the item as it shrinks', () => {
    const { events, t } = tracker();
    t.shown('file:///a.py', 0, ['range(len(items)):', 'zip(a, b):'], 'python', 50);
    t.changed('file:///a.py', 0, 0, 'r'); // typed along: nothing to report
    t.changed('file:///a.py', 1, 0, 'ange('); // the next word accepted
    t.shown('file:///a.py', 6, ['len(items)):'], 'python', 1); // the rest, answered from what was shown: not a new item
    t.changed('file:///a.py', 6, 0, 'len(items)):'); // the rest taken whole
    t.accepted('len(items)):', 'python');
    assert.deepStrictEqual(events, [
      { kind: 'shown', languageId: 'python', latencyMs: 50 },
      { kind: 'partial', languageId: 'python', chars: 5 },
      { kind: 'accepted', languageId: 'python', chars: 12 },
    ]);
  });

  it('counts an item left for another edit, or for another completion, as dismissed', () => {
    const { events, t } = tracker();
    t.shown('file:///a.py', 0, ['print(x)'], 'python', 10);
    t.changed('file:///other.py', 0, 0, 'zzz'); // another document: not this item's business
    t.changed('file:///a.py', 0, 0, 'q');
    t.shown('file:///a.go', 4, ['fmt.Println()'], 'go', 20);
    t.shown('file:///a.go', 9, ['return nil'], 'go', 30);
    t.superseded('go');
    assert.deepStrictEqual(
      events.map((e) => `${e.kind} ${e.languageId}`),
      ['shown python', 'dismissed python', 'shown go', 'dismissed go', 'shown go', 'superseded go'],
    );
  });
});
