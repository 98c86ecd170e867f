using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Tests;

/// <summary>One probed executor for the whole test collection (probing compiles a hello-world per language).</summary>
public sealed class ExecutorFixture : IDisposable
{
    public CandidateExecutor Executor { get; }

    public ExecutorFixture()
    {
        Executor = CandidateExecutor.CreateAsync(EvalLanguages.All, new ExecutorOptions(TimeSpan.FromSeconds(4))).GetAwaiter().GetResult();
    }

    public IEnumerable<string> AvailableLanguages => EvalLanguages.All.Where(Executor.IsAvailable);

    public void Dispose() => Executor.Dispose();
}

[CollectionDefinition(Name)]
public sealed class ExecutorCollection : ICollectionFixture<ExecutorFixture>
{
    public const string Name = "executor";
}
