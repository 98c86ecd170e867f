using CodeLm.Bench.Train;
using CodeLm.Model.Native;

NativeAllocator.ReexecuteTuned(); // as `codelm` does: the bench measures what users run

// Usage:
//   dotnet run -c Release --project bench/train -- prepare   WORK [--vocab 32768]
//   dotnet run -c Release --project bench/train -- throughput WORK [--rounds 5 --steps 6 --batch 4 --seq 256 --preset small]
//                                  [--device cuda --compile --peak-tflops 989 --python python3]   (the GPU run, docs/gpu.md)
//   dotnet run -c Release --project bench/train -- parity     WORK [--steps 150 --batch 4 --seq 256 --preset small]
//   dotnet run -c Release --project bench/train -- parity     WORK --nanogpt NANOGPT_CLONE [--steps 600 --warmup 60 --lr 1e-3
//                                  --min-lr 1e-4 --seeds 1337,7,99 --batch 8 --seq 256 --preset tiny --shards QUICKSTART/shards]
//   dotnet run -c Release --project bench/train -- memory     WORK [--steps 1000 --batch 2 --seq 128 --preset tiny]
//   dotnet run -c Release --project bench/train -- allocators WORK [--rounds 2 --steps 150 --batch 8 --seq 256 --preset tiny]
//   dotnet run -c Release --project bench/train -- data-parallel WORK [--rounds 3 --steps 30 --batch 8 --seq 256 --preset tiny]
//                                  (needs Open MPI's mpirun and a Release build of Cli)
//   (every mode: --shards DIR trains on existing shards, e.g. a quickstart's WORK_DIR/shards, instead of the shared corpus)
var argList = args.ToList();
string Opt(string name, string fallback)
{
    int i = argList.IndexOf(name);
    return i >= 0 && i + 1 < argList.Count ? argList[i + 1] : fallback;
}
if (argList.Count < 2) { Console.Error.WriteLine("usage: bench <prepare|throughput|parity|memory|allocators|data-parallel> WORK [options]"); return 2; }
var work = Path.GetFullPath(argList[1]);
Directory.CreateDirectory(work);
var corpus = Opt("--corpus", Path.Combine(FindRoot(), "..", "shared", "corpus"));
var shards = argList.Contains("--shards") ? Path.GetFullPath(Opt("--shards", "")) : CorpusShards.Prepare(corpus, work, int.Parse(Opt("--vocab", "32768")));
bool nano = argList[0] == "parity" && argList.Contains("--nanogpt");
bool tinyDefaults = nano || argList[0] is "memory" or "allocators" or "one-run" or "data-parallel";
var settings = new BenchSettings(work, shards, Opt("--preset", tinyDefaults ? "tiny" : "small"),
    int.Parse(Opt("--batch", argList[0] == "memory" ? "2" : tinyDefaults ? "8" : "4")), int.Parse(Opt("--seq", argList[0] == "memory" ? "128" : "256")),
    int.Parse(Opt("--threads", "2")), Opt("--python", "/usr/bin/python3"))
{
    Device = Opt("--device", "cpu"),
    Compile = argList.Contains("--compile"),
    PeakFlops = argList.Contains("--peak-tflops") ? double.Parse(Opt("--peak-tflops", "0"), System.Globalization.CultureInfo.InvariantCulture) * 1e12 : null,
};
switch (argList[0])
{
    case "prepare": Console.WriteLine($"shards ready: {shards}"); break;
    case "throughput": TrainBench.Throughput(settings, int.Parse(Opt("--rounds", "5")), int.Parse(Opt("--steps", "6"))); break;
    case "parity" when nano:
        NanoGptParity.Run(settings, new NanoGptParity.Settings(Path.GetFullPath(Opt("--nanogpt", "")), int.Parse(Opt("--steps", "600")),
            int.Parse(Opt("--warmup", "60")), Num(Opt("--lr", "1e-3")), Num(Opt("--min-lr", "1e-4")),
            Opt("--seeds", "1337,7,99").Split(',').Select(int.Parse).ToList()));
        break;
    case "parity": TrainBench.Parity(settings, int.Parse(Opt("--steps", "150"))); break;
    case "memory": TrainBench.Memory(settings, int.Parse(Opt("--steps", "1000"))); break;
    case "allocators":
        AllocatorBench.Run(settings, int.Parse(Opt("--rounds", "2")), int.Parse(Opt("--steps", "150")),
            ["one-run", .. argList.Skip(1)]);
        break;
    case "data-parallel": DataParallelBench.Run(settings, FindRoot(), int.Parse(Opt("--rounds", "3")), int.Parse(Opt("--steps", "30"))); break;
    case "one-run": Console.WriteLine(TrainBench.OneRun(settings, int.Parse(Opt("--steps", "150"))).ToJsonString()); break;
    default: Console.Error.WriteLine($"unknown benchmark '{argList[0]}'"); return 2;
}
return 0;

static double Num(string s) => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture);

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir != null && !File.Exists(Path.Combine(dir.FullName, "CodeLm.sln"))) dir = dir.Parent;
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}
