namespace CodeLm.Eval.Generation;

/// <summary>
/// How an evaluation run samples by default: Codex's pass@k setting (n = 20 at temperature 0.8, top-p 0.95), with room
/// for a whole HumanEval function. Front ends start from these values; the model's sampler gets them as its options.
/// </summary>
public sealed record EvalSampling(int Samples = 20, float Temperature = 0.8f, float TopP = 0.95f, int MaxNewTokens = 256, long Seed = 0);
