namespace CodeLm.Eval.Execution;

/// <summary>Whether a language can run here: its tools were found and its hello-world passed inside the sandbox.</summary>
public sealed record ToolchainStatus(string Language, bool Available, string Detail);
