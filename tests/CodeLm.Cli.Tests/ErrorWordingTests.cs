using CodeLm.Common;
using CodeLm.Model.Training;
using CodeLm.Server.Completion;
using CodeLm.Tests;

namespace CodeLm.Cli.Tests;

/// <summary>Libraries name a setting by its options-record property; the CLI must turn each into a flag it really has.</summary>
public class ErrorWordingTests
{
    [Fact]
    public void Every_train_option_names_a_flag_of_codelm_train()
    {
        var flags = TrainCommands.Create().Options.Select(o => o.Name).ToHashSet();
        foreach (var property in typeof(TrainOptions).GetProperties().Where(p => p.CanWrite))
            Assert.True(flags.Contains(CliErrors.Flag(property.Name)), $"{property.Name} → {CliErrors.Flag(property.Name)} is not a flag of codelm train");
    }

    [Fact]
    public void Serve_settings_name_flags_of_codelm_serve()
    {
        var flags = ServeCommands.Create().Options.Select(o => o.Name).ToHashSet();
        foreach (var name in new[] { nameof(CompletionSettings.MaxNewTokens), nameof(CompletionSettings.Temperature), nameof(CompletionSettings.ContextBudget) })
            Assert.Contains(CliErrors.Flag(name), flags);
    }

    [Fact]
    public void Http_and_backend_settings_name_flags_of_codelm_serve()
    {
        var flags = ServeCommands.Create().Options.Select(o => o.Name).ToHashSet();
        foreach (var name in new[]
                 {
                     nameof(CodeLm.Server.Http.HttpServeOptions.Listen), nameof(CodeLm.Server.Http.HttpServeOptions.ApiKey), nameof(CodeLm.Server.Http.HttpServeOptions.QueueLimit),
                     nameof(CodeLm.Server.Http.HttpServeOptions.ModelName), nameof(CodeLm.Server.Http.HttpServeOptions.MaxN), nameof(CodeLm.Server.ServeOptions.Checkpoint),
                     nameof(CodeLm.Server.ServeOptions.Backend), nameof(CodeLm.Server.ServeOptions.Model), nameof(CodeLm.Server.ServeOptions.BackendFim),
                     nameof(CodeLm.Server.ServeOptions.ApiKeyFile),
                 })
            Assert.Contains(CliErrors.Flag(name), flags);
        var r = CodeLmCli.Run("serve", "--backend", "gpu-node:8000", "--model", "m");
        Assert.Equal(ExitCodes.Failed, r.ExitCode);
        Assert.Equal("codelm serve: error: --backend 'gpu-node:8000' is not an http(s) URL such as http://gpu-node:8000/v1", r.Stderr.Trim());
        var http = CodeLmCli.Run("serve", "--checkpoint", "x", "--http", "example.com:80");
        Assert.StartsWith("codelm serve: error: --http 'example.com' is not an IP address", http.Stderr.Trim());
    }

    [Fact]
    public void A_bad_setting_is_one_line_naming_the_flag_and_exit_code_1()
    {
        // The server library checks its settings first and throws OptionException("MaxNewTokens", ...).
        using var dir = new TempDir();
        var r = CodeLmCli.Run("serve", "--checkpoint", dir.Path, "--max-new-tokens", "0");
        Assert.Equal(ExitCodes.Failed, r.ExitCode);
        Assert.Equal("codelm serve: error: --max-new-tokens must be in [1, 1024], got 0", r.Stderr.Trim());
        Assert.Equal("--lr must be positive.", CliErrors.Describe(new OptionException(nameof(TrainOptions.LearningRate), "must be positive.")));
    }
}
