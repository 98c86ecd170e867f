using System.Collections.Immutable;
using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CodeLm.Eval.Languages;

/// <summary>
/// C#: compiled in the harness with Roslyn against a short list of framework assemblies (no networking, no process
/// APIs), then run in a child <c>dotnet</c> process. A harness entry class finds the test's <c>Main</c> by reflection,
/// calls it, and prints the sentinel after it returns. DEBUG is defined so <c>Debug.Assert</c> stays in.
/// </summary>
public sealed class CSharpRunner : LanguageRunner
{
    private const string Runner = "CodeLmRunner";

    /// <summary>What tests need: the core library, collections, LINQ, console, regex, big integers, Debug.Assert.</summary>
    private static readonly string[] ReferencedAssemblies =
    [
        "System.Private.CoreLib", "System.Runtime", "System.Console", "System.Collections", "System.Linq",
        "System.Text.RegularExpressions", "System.Runtime.Numerics", "System.Diagnostics.Debug", "System.Memory",
    ];

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(LoadReferences);

    public override string Language => EvalLanguages.CSharp;
    public override IReadOnlyList<string> Tools => ["dotnet"];
    public override string InstallHint => "install the .NET 10 SDK (https://dot.net)";

    public override Problem HelloWorld { get; } = new("C#/hello", EvalLanguages.CSharp,
        "public static class Solution\n{\n    public static string Hello()\n    {\n", "        return \"hello\";\n    }\n}\n",
        "public static class Tests\n{\n    public static void Main()\n    {\n        if (Solution.Hello() != \"hello\") throw new System.Exception(\"wrong\");\n    }\n}\n", "Hello");

    public override string BuildProgram(Problem problem, string completion, string sentinel) =>
        problem.Prompt + completion + "\n\n" + problem.Test + "\n\n" + RunnerSource(sentinel);

    private static string RunnerSource(string sentinel) => $$"""
        internal static class {{Runner}}
        {
            public static int Main(string[] args)
            {
                const System.Reflection.BindingFlags Any = System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic;
                System.Reflection.MethodInfo? main = null;
                foreach (var type in typeof({{Runner}}).Assembly.GetTypes())
                    if (type != typeof({{Runner}}) && type.GetMethod("Main", Any) is { } m) { main = m; break; }
                if (main == null) { System.Console.Error.WriteLine("codelm: the test defines no static Main"); return 3; }
                object? result;
                try { result = main.Invoke(null, main.GetParameters().Length == 1 ? new object[] { args } : null); }
                catch (System.Reflection.TargetInvocationException e) when (e.InnerException != null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                    throw;
                }
                if (result is System.Threading.Tasks.Task task) task.GetAwaiter().GetResult();
                if (result is int code && code != 0) return code;
                if (result is System.Threading.Tasks.Task<int> t && t.Result != 0) return t.Result;
                System.Console.Out.Write("\n{{sentinel}}\n");
                System.Console.Out.Flush();
                return 0;
            }
        }
        """;

    public override PreparedRun Prepare(string workDir, string program, RunnerTools tools, TimeSpan timeout, CancellationToken ct)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest, preprocessorSymbols: ["DEBUG", "TRACE"]);
        var tree = CSharpSyntaxTree.ParseText(program, parse, cancellationToken: ct);
        var options = new CSharpCompilationOptions(OutputKind.ConsoleApplication, mainTypeName: Runner,
            optimizationLevel: OptimizationLevel.Debug, nullableContextOptions: NullableContextOptions.Enable,
            generalDiagnosticOption: ReportDiagnostic.Default, concurrentBuild: false, deterministic: true);
        var compilation = CSharpCompilation.Create("program", [tree, ImplicitUsings(parse)], References.Value, options);
        var dll = Path.Combine(workDir, "program.dll");
        using (var output = File.Create(dll))
        {
            var emit = compilation.Emit(output, cancellationToken: ct);
            if (!emit.Success)
            {
                var errors = emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10).Select(d => d.ToString());
                return new PreparedRun([], string.Join('\n', errors));
            }
        }
        var version = Environment.Version;
        File.WriteAllText(Path.Combine(workDir, "program.runtimeconfig.json"),
            $$$"""{"runtimeOptions":{"tfm":"net{{{version.Major}}}.{{{version.Minor}}}","framework":{"name":"Microsoft.NETCore.App","version":"{{{version.Major}}}.{{{version.Minor}}}.0"},"rollForward":"LatestMinor"}}""");
        var dotnet = tools["dotnet"];
        var env = new Dictionary<string, string>
        {
            ["PATH"] = ToolDirPath(dotnet), ["DOTNET_GCHeapHardLimit"] = "0x20000000", ["DOTNET_EnableDiagnostics"] = "0",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1", ["DOTNET_TieredPGO"] = "0", ["DOTNET_gcServer"] = "0",
        };
        return new PreparedRun([
            new SandboxStep([dotnet, "program.dll"], env, new StepLimits(4096 * StepLimits.MiB, CpuSeconds(timeout), 64)),
        ]);
    }

    /// <summary>The implicit usings of a console project, so problems can be written like ordinary .NET code.</summary>
    private static SyntaxTree ImplicitUsings(CSharpParseOptions parse) => CSharpSyntaxTree.ParseText(
        "global using System;\nglobal using System.Collections.Generic;\nglobal using System.Linq;\nglobal using System.Text;\n", parse);

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var tpa = (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "").Split(Path.PathSeparator);
        var wanted = new HashSet<string>(ReferencedAssemblies, StringComparer.OrdinalIgnoreCase);
        var refs = tpa.Where(p => wanted.Contains(Path.GetFileNameWithoutExtension(p))).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
        if (refs.Length < ReferencedAssemblies.Length)
            throw new InvalidOperationException("framework assemblies for C# evaluation not found: " +
                string.Join(", ", ReferencedAssemblies.Except(tpa.Select(Path.GetFileNameWithoutExtension).OfType<string>(), StringComparer.OrdinalIgnoreCase)));
        return refs;
    }
}
