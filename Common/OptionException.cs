namespace CodeLm.Common;

/// <summary>
/// A setting that cannot be used, named by its options-record property (<c>LearningRate</c>, <c>Device</c>), so each
/// front end words it its own way: the CLI as its flag (<c>--lr must be positive</c>), a library caller as the property.
/// <see cref="Problem"/> reads after the setting's name.
/// </summary>
public sealed class OptionException(string option, string problem) : ArgumentException($"{option} {problem}")
{
    public string Option { get; } = option;
    public string Problem { get; } = problem;
}
