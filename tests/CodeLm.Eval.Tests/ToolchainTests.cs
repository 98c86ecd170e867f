using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;
using Xunit.Abstractions;

namespace CodeLm.Eval.Tests;

[Collection(ExecutorCollection.Name)]
public sealed class ToolchainTests(ExecutorFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void Probe_reports_every_language_and_the_machine_toolchains_are_available()
    {
        foreach (var note in fixture.Executor.SandboxNotes) output.WriteLine(note);
        foreach (var (lang, s) in fixture.Executor.Toolchains) output.WriteLine($"{lang}: {(s.Available ? "available" : "unavailable")} {s.Detail}");
        Assert.Equal(EvalLanguages.All.Order(), fixture.Executor.Toolchains.Keys.Order());
        // scripts/install-test-deps.sh installs every language's toolchain: none may be skipped as unavailable.
        foreach (var lang in EvalLanguages.All)
            Assert.True(fixture.Executor.IsAvailable(lang), $"{lang}: {fixture.Executor.Toolchains[lang].Detail}");
    }
}
