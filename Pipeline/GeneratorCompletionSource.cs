using System.Security.Cryptography;
using System.Text;
using CodeLm.Eval.Generation;
using CodeLm.Model.Generation;

namespace CodeLm.Pipeline;

/// <summary>
/// Completions from the model's <see cref="Generator"/> (batched: one prefill per prompt, n sample rows). Each prompt
/// gets its own seed derived from the base seed and the prompt text, so a resumed run draws the same samples.
/// </summary>
public sealed class GeneratorCompletionSource(Generator generator, SamplingOptions options) : ICompletionSource
{
    public IReadOnlyList<string> Complete(string prompt, int n, IReadOnlyList<string> stop, CancellationToken ct)
    {
        var seed = options.Seed + BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(prompt)), 0);
        var stops = (options.StopSequences ?? []).Concat(stop).Distinct().ToList();
        var completions = generator.Generate(prompt, n, options with { StopSequences = stops, Seed = seed }, null, ct);
        return completions.Select(c => c.Text).ToList();
    }

    public IReadOnlyList<string> Infill(string prefix, string suffix, int n, Func<string, bool> shouldStop, CancellationToken ct)
    {
        var seed = options.Seed + BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(prefix + "\u0000" + suffix)), 0);
        var fim = options with { Seed = seed };
        var texts = Enumerable.Range(0, n).Select(_ => new StringBuilder()).ToArray();
        var completions = generator.Decode(generator.BuildFimPrompt(prefix, suffix, fim), n, fim, (i, delta) => delta.Length > 0 && shouldStop(texts[i].Append(delta).ToString()), ct);
        return completions.Select(c => c.Text).ToList();
    }
}
