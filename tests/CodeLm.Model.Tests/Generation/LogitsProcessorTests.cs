using CodeLm.Model.Generation;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests.Generation;

public class LogitsProcessorTests
{
    public LogitsProcessorTests() => Torch.Init();

    private static float[] Row(Tensor t, int row = 0) => t[row].data<float>().ToArray();

    [Fact]
    public void Repetition_penalty_divides_positive_and_multiplies_negative_seen_logits_only()
    {
        using var logits = tensor(new[] { 2f, -2f, 3f, -1f }).view(1, 4);
        using var seen = tensor(new[] { true, true, false, false }).view(1, 4);
        using var result = LogitsProcessors.RepetitionPenalty(logits, seen, 2f);
        Assert.Equal(new[] { 1f, -4f, 3f, -1f }, Row(result));
        Assert.Equal(new[] { 2f, -2f, 3f, -1f }, Row(logits)); // input untouched
    }

    [Fact]
    public void Top_k_returns_the_k_largest_sorted_with_their_ids()
    {
        using var logits = tensor(new[] { 0.1f, 5f, -3f, 2f, 4f, 1f, 0.3f, 1.9f, 1.5f, 4f, 3f, 1f, 0.5f, 5f, 0f, 0.2f, 0.1f, 6f }).view(2, 9);
        var (values, ids) = LogitsProcessors.TopK(logits, 3);
        Assert.Equal(new[] { 5f, 4f, 2f }, Row(values, 0));
        Assert.Equal(new long[] { 1, 4, 3 }, ids[0].data<long>().ToArray());
        Assert.Equal(new[] { 6f, 5f, 4f }, Row(values, 1));
        Assert.Equal(new long[] { 8, 4, 0 }, ids[1].data<long>().ToArray());
        var (all, _) = LogitsProcessors.TopK(logits, 100); // k above the vocabulary keeps everything
        Assert.Equal(9, all.shape[1]);
    }

    [Fact]
    public void Top_p_keeps_the_smallest_nucleus_reaching_p_and_always_the_top_token()
    {
        using var probs = tensor(new[] { 0.5f, 0.3f, 0.15f, 0.05f }).view(1, 4);
        using var sorted = probs.log();
        Assert.Equal(new[] { false, false, true, true }, IsMasked(LogitsProcessors.TopP(sorted, 0.75f)));   // 0.5 + 0.3 reaches 0.75
        Assert.Equal(new[] { false, false, false, true }, IsMasked(LogitsProcessors.TopP(sorted, 0.85f)));
        Assert.Equal(new[] { false, true, true, true }, IsMasked(LogitsProcessors.TopP(sorted, 0.01f)));
        Assert.Equal(new[] { false, false, false, false }, IsMasked(LogitsProcessors.TopP(sorted, 1f)));
    }

    private static bool[] IsMasked(Tensor t) => Row(t).Select(float.IsNegativeInfinity).ToArray();

    [Fact]
    public void Greedy_is_argmax_and_the_repetition_penalty_can_change_it()
    {
        using var logits = tensor(new[] { 1f, 3f, 2.5f, -1f }).view(1, 4);
        using var seen = tensor(new[] { false, true, false, false }).view(1, 4);
        Assert.Equal(new long[] { 1 }, TokenSampler.Sample(logits, null, new SamplingOptions(), [0.5]));
        Assert.Equal(new long[] { 2 }, TokenSampler.Sample(logits, seen, new SamplingOptions(RepetitionPenalty: 1.5f), [0.5]));
    }

    [Theory]
    [InlineData(1.0f, 0, 1.0f)]
    [InlineData(0.7f, 0, 1.0f)]
    [InlineData(1.0f, 3, 1.0f)]
    [InlineData(1.0f, 0, 0.8f)]
    [InlineData(1.3f, 4, 0.9f)]
    public void Sampled_frequencies_match_the_filtered_distribution(float temperature, int topK, float topP)
    {
        var raw = new[] { 2.0f, 1.5f, 1.0f, 0.5f, 0.0f, -1.0f };
        var expected = ExpectedDistribution(raw, temperature, topK, topP);
        const int draws = 40_000;
        var rng = new SequenceRandom(99);
        var u = Enumerable.Range(0, draws).Select(_ => rng.NextOpenUnit()).ToArray();
        using var logits = tensor(raw).view(1, -1).expand(draws, -1);
        var tokens = TokenSampler.Sample(logits, null, new SamplingOptions(Temperature: temperature, TopK: topK, TopP: topP), u);
        for (int v = 0; v < raw.Length; v++)
        {
            double freq = tokens.Count(t => t == v) / (double)draws;
            if (expected[v] == 0) Assert.Equal(0, freq);
            else Assert.InRange(freq, expected[v] - 0.012, expected[v] + 0.012);
        }
    }

    /// <summary>The reference: softmax(logits / T), zero outside the top k and outside the top-p nucleus, renormalized.</summary>
    private static double[] ExpectedDistribution(float[] logits, float temperature, int topK, float topP)
    {
        var p = logits.Select(l => Math.Exp(l / temperature)).ToArray();
        var order = Enumerable.Range(0, p.Length).OrderByDescending(i => p[i]).ToArray();
        var keep = new bool[p.Length];
        int k = topK > 0 ? topK : p.Length;
        // top-p is applied to the distribution left after top-k (renormalized), as in HF's processor chain
        double kept = order.Take(k).Sum(i => p[i]), mass = 0;
        foreach (var i in order.Take(k))
        {
            if (mass > topP) break;
            keep[i] = true;
            mass += p[i] / kept;
        }
        double total = Enumerable.Range(0, p.Length).Where(i => keep[i]).Sum(i => p[i]);
        return Enumerable.Range(0, p.Length).Select(i => keep[i] ? p[i] / total : 0).ToArray();
    }

    [Fact]
    public void Each_row_depends_only_on_its_own_logits_and_draw()
    {
        manual_seed(5);
        using var logits = randn(5, 300);
        var u = new[] { 0.1, 0.5, 0.9, 0.33, 0.77 };
        var options = new SamplingOptions(Temperature: 0.8f, TopK: 50, TopP: 0.9f);
        var batched = TokenSampler.Sample(logits, null, options, u);
        for (int r = 0; r < 5; r++)
            Assert.Equal(batched[r], TokenSampler.Sample(logits[r..(r + 1)], null, options, [u[r]])[0]);
    }

    [Fact]
    public void Sequence_random_is_reproducible_per_seed_and_stays_inside_the_open_unit_interval()
    {
        var a = new SequenceRandom(7); var b = new SequenceRandom(7); var c = new SequenceRandom(8);
        var xs = Enumerable.Range(0, 1000).Select(_ => a.NextOpenUnit()).ToArray();
        Assert.Equal(xs, Enumerable.Range(0, 1000).Select(_ => b.NextOpenUnit()));
        Assert.NotEqual(xs[0], c.NextOpenUnit());
        Assert.All(xs, x => Assert.InRange(x, double.Epsilon, 1 - 1e-17));
        Assert.InRange(xs.Average(), 0.45, 0.55);
    }

    [Fact]
    public void Invalid_options_are_rejected_with_a_clear_message()
    {
        Assert.Contains("Top-p", Assert.Throws<ArgumentException>(() => new SamplingOptions(TopP: 0).Validate()).Message);
        Assert.Contains("Temperature", Assert.Throws<ArgumentException>(() => new SamplingOptions(Temperature: -1).Validate()).Message);
        Assert.Contains("Max new tokens", Assert.Throws<ArgumentException>(() => new SamplingOptions(MaxNewTokens: 0).Validate()).Message);
        Assert.Contains("Stop sequences", Assert.Throws<ArgumentException>(() => new SamplingOptions(StopSequences: [""]).Validate()).Message);
    }
}
