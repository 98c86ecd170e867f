using CodeLm.Bench.Data;

if (args.Length >= 1 && args[0] == "cli") return CliBench.Run(args[1..]);
if (args.Length >= 1 && args[0] == "jit") return JitTrace.Run(args[1..]);
if (args.Length >= 1 && args[0] == "staged") return StagedBench.Run(args[1..]);
if (args.Length >= 1 && args[0] == "cluster-memory") return StagedBench.ClusterMemory(args[1..]);
if (args.Length >= 2 && args[0] == "profile") { Profile.Run(args[1]); return 0; }
if (args.Length >= 2 && args[0] == "audit-redaction") { RedactionAudit.Run(args[1..]); return 0; }
return await DataBench.RunAsync(args);
