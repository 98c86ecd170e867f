using CodeLm.Tests;

namespace CodeLm.Model.Tests;

/// <summary>Debian's python3 with python3-torch: the independent reference the export and open-model tests compare against.</summary>
public static class PythonTorch
{
    public const string Python = "/usr/bin/python3";

    public static void Ensure()
    {
        if (File.Exists(Python) && Proc.Run(Python, ["-c", "import torch"]).ExitCode == 0) return;
        var env = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        var install = Proc.Run("apt-get", ["install", "-y", "-q", "--no-install-recommends", "python3-torch", "libopenblas0-pthread"], env: env, timeoutMs: 900_000);
        Assert.True(install.ExitCode == 0 && Proc.Run(Python, ["-c", "import torch"]).ExitCode == 0,
            "python3-torch is needed for the reference checks and could not be installed: " + install.Stderr);
    }
}
