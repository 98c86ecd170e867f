using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

/// <summary>
/// `codelm serve --http` under load, over loopback HTTP like its clients. Mode `http`: throughput (generated tokens per
/// second of wall time) and per-request latency p50/p95 with 1, 4 and 16 concurrent clients on a server started with
/// --max-batch 8 (waiting requests decoded together), the same on a second server with --max-batch 1 (one at a time), and one client asking for n = 4 samples a request, against
/// the anchor in the same run: sequential serving, the same requests one after another from one client. Each repeat runs
/// every variant in turn (the order rotating between repeats).
/// Mode `soak`: 10,000 requests from 16 clients to a server with --max-batch 8 (so batches lose rows to abandoned
/// clients mid-decode), a third of them abandoned after 1–50 ms, streamed or not, with RSS
/// sampled throughout; at the end the server's /health must show nothing queued or decoding. Usage:
///   dotnet bench/server/bin/Release/net10.0/CodeLm.Bench.Server.dll http [--requests 48] [--repeats 3] [--max-tokens 32] [--trained DIR]
///   dotnet bench/server/bin/Release/net10.0/CodeLm.Bench.Server.dll soak [--requests 10000] [--clients 16] [--max-batch 8] [--preset tiny|small] [--trained DIR]
/// </summary>
static class HttpBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary><paramref name="Unbatched"/>: on the second server, started with --max-batch 1 (one request at a time).</summary>
    private sealed record Variant(string Name, int Clients, int N, bool Unbatched = false);

    private sealed record Result(double Ms, int Tokens, int Status);

    public static async Task<int> RunAsync(string[] args, bool soak)
    {
        string? Arg(string name) { var i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }
        var root = BenchSupport.FindRepoRoot();
        var sources = BenchSupport.CSharpSources(root);
        var codelm = Path.Combine(root, "Cli", "bin", "Release", "net10.0", "codelm.dll");
        if (!File.Exists(codelm)) throw new FileNotFoundException($"build first: dotnet build Cli -c Release ({codelm} is missing)");
        var temp = Directory.CreateTempSubdirectory("codelm-bench-http-").FullName;
        try
        {
            var preset = Arg("--preset") ?? (soak ? "tiny" : "small");
            var checkpoint = Arg("--trained") is { } t ? Path.GetFullPath(t) : BenchSupport.MakeCheckpoint(temp, sources, preset);
            return soak
                ? await SoakAsync(codelm, checkpoint, sources, int.Parse(Arg("--requests") ?? "10000", Inv), int.Parse(Arg("--clients") ?? "16", Inv), Arg("--max-batch") ?? "8")
                : await ThroughputAsync(codelm, checkpoint, sources, int.Parse(Arg("--requests") ?? "48", Inv), int.Parse(Arg("--repeats") ?? "3", Inv),
                    int.Parse(Arg("--max-tokens") ?? "32", Inv));
        }
        finally
        {
            try { Directory.Delete(temp, true); } catch (IOException) { }
        }
    }

    private static async Task<int> ThroughputAsync(string codelm, string checkpoint, List<string> sources, int requests, int repeats, int maxTokens)
    {
        // 600 characters before the cursor and 200 after: about 250 prompt tokens, so prompt and answer fit `small`'s 512.
        var cases = BenchSupport.MakeCases(sources, requests, 600, 200);
        Variant[] variants =
        [
            new("sequential (anchor)", 1, 1), new("1 client", 1, 1), new("4 clients", 4, 1), new("16 clients", 16, 1),
            new("4 clients, --max-batch 1", 4, 1, Unbatched: true), new("16 clients, --max-batch 1", 16, 1, Unbatched: true), new("1 client, n = 4", 1, 4),
        ];
        Console.WriteLine($"# codelm serve --http: {checkpoint}; {cases.Count} FIM requests per variant, ≤ {maxTokens} tokens each (temperature 0; n = 4 at 0.8), " +
                          $"{repeats} repeats; {Environment.ProcessorCount} cores, load average {BenchSupport.LoadAverage()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        using var server = await HttpChild.StartAsync(codelm, checkpoint, "--queue-limit", "64", "--max-batch", "8");
        using var unbatchedServer = await HttpChild.StartAsync(codelm, checkpoint, "--queue-limit", "64", "--max-batch", "1");
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
        using var unbatched = new HttpClient { BaseAddress = unbatchedServer.Address, Timeout = TimeSpan.FromMinutes(5) };
        // Warm up the request path and the model (JIT, first prefill, a batch).
        foreach (var client in new[] { http, unbatched })
        {
            for (var i = 0; i < 8; i++) await SendAsync(client, cases[i % cases.Count], maxTokens, 1, CancellationToken.None);
            await Task.WhenAll(Enumerable.Range(0, 4).Select(i => SendAsync(client, cases[i], maxTokens, 1, CancellationToken.None)));
        }
        var runs = variants.ToDictionary(v => v.Name, _ => new List<(double TokensPerSecond, double P50, double P95)>());
        var loadBefore = BenchSupport.LoadAverage();
        for (var rep = 0; rep < repeats; rep++)
            for (var k = 0; k < variants.Length; k++)
            {
                var v = variants[(k + rep) % variants.Length];
                var clock = Stopwatch.StartNew();
                var results = new List<Result>();
                var next = -1;
                await Task.WhenAll(Enumerable.Range(0, v.Clients).Select(async _ =>
                {
                    for (int i; (i = Interlocked.Increment(ref next)) < cases.Count;)
                    {
                        var r = await SendAsync(v.Unbatched ? unbatched : http, cases[i], maxTokens, v.N, CancellationToken.None);
                        lock (results) results.Add(r);
                    }
                }));
                var wall = clock.Elapsed.TotalSeconds;
                if (results.Any(r => r.Status != 200)) throw new InvalidOperationException($"{v.Name}: statuses {string.Join(",", results.Select(r => r.Status).Distinct())}");
                var ms = results.Select(r => r.Ms).ToList();
                runs[v.Name].Add((results.Sum(r => r.Tokens) / wall, BenchSupport.Percentile(ms, 0.5), BenchSupport.Percentile(ms, 0.95)));
                Console.Error.WriteLine($"repeat {rep + 1} {v.Name,-20} {runs[v.Name][^1].TokensPerSecond,7:F1} tokens/s  p50 {runs[v.Name][^1].P50,7:F0} ms  p95 {runs[v.Name][^1].P95,7:F0} ms");
            }
        Console.WriteLine($"load average (1/5/15 min) before {loadBefore}, after {BenchSupport.LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine("| variant | tokens/s, median (min–max) | vs sequential, median (min–max) | p50 latency ms | p95 latency ms |");
        Console.WriteLine("|---|---|---|---|---|");
        var anchor = runs[variants[0].Name];
        foreach (var v in variants)
        {
            var r = runs[v.Name];
            var ratios = r.Select((x, i) => x.TokensPerSecond / anchor[i].TokensPerSecond).ToList();
            Console.WriteLine($"| {v.Name} | {Spread(r.Select(x => x.TokensPerSecond).ToList(), "F1")} | {Spread(ratios, "F2")}× | {Spread(r.Select(x => x.P50).ToList(), "F0")} | {Spread(r.Select(x => x.P95).ToList(), "F0")} |");
        }
        Console.WriteLine();
        Console.WriteLine($"server: {await http.GetStringAsync("/health")}");
        Console.WriteLine($"server with --max-batch 1: {await unbatched.GetStringAsync("/health")}");
        return 0;
    }

    private static async Task<int> SoakAsync(string codelm, string checkpoint, List<string> sources, int requests, int clients, string maxBatch)
    {
        var cases = BenchSupport.MakeCases(sources, 200, 300, 100);
        Console.WriteLine($"# codelm serve --http --max-batch {maxBatch} soak: {checkpoint}; {requests} requests from {clients} clients, ~1/3 abandoned after 1–50 ms; " +
                          $"{Environment.ProcessorCount} cores, load average {BenchSupport.LoadAverage()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        using var server = await HttpChild.StartAsync(codelm, checkpoint, "--queue-limit", "64", "--max-batch", maxBatch);
        using var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
        for (var i = 0; i < 50; i++) await SendAsync(http, cases[i % cases.Count], 8, 1, CancellationToken.None);
        var rssStart = server.RssMiB();
        var rssSamples = new List<(double Seconds, double MiB)>();
        var clock = Stopwatch.StartNew();
        using var stopSampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                lock (rssSamples) rssSamples.Add((clock.Elapsed.TotalSeconds, server.RssMiB()));
                try { await Task.Delay(1000, stopSampling.Token); } catch (OperationCanceledException) { }
            }
        });
        var statuses = new Dictionary<string, int>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var random = new Random(1000 + c);
            for (int i; (i = Interlocked.Increment(ref next)) < requests;)
            {
                using var cts = new CancellationTokenSource();
                var abandon = random.Next(3) == 0;
                if (abandon) cts.CancelAfter(random.Next(1, 51));
                string outcome;
                try
                {
                    var r = await SendAsync(http, cases[i % cases.Count], random.Next(1, 33), random.Next(4) == 0 ? 2 : 1, cts.Token, stream: random.Next(2) == 0);
                    outcome = r.Status.ToString(Inv);
                }
                catch (OperationCanceledException) { outcome = "abandoned"; }
                catch (HttpRequestException e) { outcome = "transport error: " + e.Message; }
                lock (statuses) statuses[outcome] = statuses.GetValueOrDefault(outcome) + 1;
                if ((i + 1) % 1000 == 0) Console.Error.WriteLine($"{i + 1} requests, {clock.Elapsed.TotalSeconds:F0} s, RSS {server.RssMiB():F0} MiB");
            }
        }));
        var wall = clock.Elapsed.TotalSeconds;
        // A generation whose client left stops after its current step; give the server a moment to see the last ones go.
        JsonElement health = default;
        var settle = Stopwatch.StartNew();
        do
        {
            health = JsonDocument.Parse(await http.GetStringAsync("/health")).RootElement.Clone();
            if (health.GetProperty("active_generations").GetInt32() == 0 && health.GetProperty("queued").GetInt32() == 0) break;
            await Task.Delay(50);
        } while (settle.Elapsed < TimeSpan.FromSeconds(10));
        var settleMs = settle.Elapsed.TotalMilliseconds;
        stopSampling.Cancel();
        await sampler;
        var rssEnd = server.RssMiB();
        var rss = rssSamples.Select(s => s.MiB).ToList();
        var half = rssSamples.Where(s => s.Seconds >= wall / 2).Select(s => s.MiB).ToList();
        Console.WriteLine();
        Console.WriteLine($"- wall {wall:F0} s ({requests / wall:F1} requests/s); outcomes: {string.Join(", ", statuses.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"))}");
        Console.WriteLine($"- server /health at the end ({settleMs:F0} ms after the last client): {health}");
        Console.WriteLine($"- RSS: {rssStart:F0} MiB after warm-up, {rssEnd:F0} MiB at the end; max {rss.Max():F0}; second half of the run {half.Min():F0}–{half.Max():F0} MiB ({rssSamples.Count} samples, 1 s apart)");
        Console.WriteLine($"- server alive at the end: {!server.HasExited}");
        Console.WriteLine($"- load average after: {BenchSupport.LoadAverage()}");
        return health.GetProperty("active_generations").GetInt32() == 0 && !server.HasExited ? 0 : 1;
    }

    private static async Task<Result> SendAsync(HttpClient http, (string Text, int Offset) c, int maxTokens, int n, CancellationToken ct, bool stream = false)
    {
        var body = JsonSerializer.Serialize(new
        {
            prompt = c.Text[..c.Offset], suffix = c.Text[c.Offset..], max_tokens = maxTokens, n, temperature = n > 1 ? 0.8 : 0, stream,
            stream_options = stream ? new { include_usage = true } : null,
        });
        var clock = Stopwatch.StartNew();
        using var response = await http.PostAsync("/v1/completions", new StringContent(body, Encoding.UTF8, "application/json"), ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        var ms = clock.Elapsed.TotalMilliseconds;
        if (response.StatusCode != HttpStatusCode.OK) return new Result(ms, 0, (int)response.StatusCode);
        var usageJson = stream ? text.Split("\n\n").Select(e => e.StartsWith("data: {", StringComparison.Ordinal) ? e[6..] : null).LastOrDefault(e => e != null && e.Contains("\"usage\"")) : text;
        var tokens = usageJson is null ? 0 : JsonDocument.Parse(usageJson).RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        return new Result(ms, tokens, 200);
    }

    private static string Spread(List<double> v, string format) =>
        $"{BenchSupport.Median(v).ToString(format, Inv)} ({v.Min().ToString(format, Inv)}–{v.Max().ToString(format, Inv)})";

    /// <summary>A `codelm serve --http 127.0.0.1:0` child; its address read from its log.</summary>
    private sealed class HttpChild : IDisposable
    {
        private readonly Process process;
        public Uri Address { get; private set; } = null!;

        private HttpChild(Process process) => this.process = process;

        public static async Task<HttpChild> StartAsync(string codelm, string checkpoint, params string[] extra)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { codelm, "serve", "--checkpoint", checkpoint, "--http", "127.0.0.1:0" }.Concat(extra)) psi.ArgumentList.Add(a);
            var child = new HttpChild(Process.Start(psi)!);
            var address = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
            child.process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) { address.TrySetException(new InvalidOperationException("codelm serve --http exited")); return; }
                if (Regex.Match(e.Data, @"completions on (http://[^ /]+)/v1") is { Success: true } m) address.TrySetResult(new Uri(m.Groups[1].Value));
                else if (e.Data.Contains(" error ", StringComparison.Ordinal) || e.Data.Contains("warn", StringComparison.Ordinal)) Console.Error.WriteLine("server: " + e.Data);
            };
            child.process.OutputDataReceived += (_, _) => { };
            child.process.BeginErrorReadLine();
            child.process.BeginOutputReadLine();
            child.Address = await address.Task.WaitAsync(TimeSpan.FromMinutes(3));
            return child;
        }

        public bool HasExited => process.HasExited;

        public double RssMiB()
        {
            foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], Inv) / 1024.0;
            return double.NaN;
        }

        public void Dispose()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
        }
    }
}
