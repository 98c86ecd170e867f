namespace CodeLm.Eval.Execution;

/// <summary>How much isolation this machine allows; probed once at start (<see cref="SandboxProbe"/>).</summary>
public enum SandboxMode
{
    /// <summary>Root: new network, mount and PID namespaces, private tmpfs for /tmp, /var/tmp, /dev/shm, and the
    /// candidate runs as an unprivileged per-slot uid (so RLIMIT_NPROC is enforced, which it never is for root).</summary>
    RootNamespaces,

    /// <summary>Not root but user namespaces work: the same namespaces and tmpfs, as the mapped user; RLIMIT_NPROC
    /// counts every process of the invoking user.</summary>
    UserNamespaces,

    /// <summary>No namespaces: own session/process group, rlimits, and (as root) an unprivileged uid; no network isolation.</summary>
    RlimitsOnly,
}
