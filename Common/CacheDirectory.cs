namespace CodeLm.Common;

/// <summary>Where CodeLm keeps what it can rebuild or what belongs to this user only (crates, native glue, the acceptance log).</summary>
public static class CacheDirectory
{
    /// <summary>CODELM_CACHE, else $XDG_CACHE_HOME/codelm, else ~/.cache/codelm.</summary>
    public static string Root
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("CODELM_CACHE");
            if (!string.IsNullOrEmpty(env)) return env;
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            var root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(string.IsNullOrEmpty(home) ? Path.GetTempPath() : home, ".cache");
            return Path.Combine(root, "codelm");
        }
    }
}
