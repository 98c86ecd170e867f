// Builds the tiny checkpoint the integration test serves, with the real `codelm` stages.
// PENDING: the model stage's tiny-checkpoint command has not landed on this branch yet (see docs/extension.md).

/** A Python file the tiny model is trained on until it memorizes it; the cursor sits inside `greet`'s body. */
export const TRAINED_DOCUMENT = {
  text: 'def greet(name):\n    \n\n\ndef add(a, b):\n    return a + b\n',
  cursor: { line: 1, character: 4 },
  expected: 'return "Hello, " + name',
};

export async function buildTinyCheckpoint(_work: string): Promise<string> {
  throw new Error('codelm cannot build a tiny checkpoint yet: the model stage (codelm train) has not landed on this branch.');
}
