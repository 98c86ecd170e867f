using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CodeLm.Eval.Problems;
using CodeLm.Eval.Scoring;
using CodeLm.Tests;
using Xunit.Abstractions;

namespace CodeLm.Eval.Tests;

/// <summary>
/// Hostile candidates in every available language, scored together two at a time (as a real run would): each must be
/// reported failed or timed out, leave no process and no file behind, see no secret, reach no network, and leave the
/// harness able to score a correct solution afterwards.
/// </summary>
[Collection(ExecutorCollection.Name)]
public sealed class HostileCandidateTests(ExecutorFixture fixture, ITestOutputHelper output)
{
    private const string SecretName = "CODELM_HOSTILE_SECRET";

    private sealed record Context(string Canary, string CanaryDir, string Marker, int Port, int HarnessPid);

    [Fact]
    public async Task Every_hostile_candidate_fails_or_times_out_and_leaves_nothing_behind()
    {
        using var canaryDir = new TempDir();
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(canaryDir.Path, (UnixFileMode)0b111_111_111); // world-writable: only the sandbox protects it
        var canary = canaryDir.File("canary.txt");
        File.WriteAllText(canary, "canary");
        var secret = "s3cr3t-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(SecretName, secret);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var connections = 0;
        _ = Task.Run(async () => { while (true) { using var c = await listener.AcceptTcpClientAsync(); Interlocked.Increment(ref connections); } });
        var ctx = new Context(canary, canaryDir.Path, "codelm-escape-" + Guid.NewGuid().ToString("N"), ((IPEndPoint)listener.LocalEndpoint).Port, Environment.ProcessId);

        var builtin = ProblemSet.LoadBuiltin();
        var problems = new List<Problem>();
        var samples = new List<Sample>();
        foreach (var lang in fixture.AvailableLanguages)
        {
            var basis = builtin.First(p => p.Language == lang);
            if (lang == EvalLanguages.Go) basis = GoBasis(basis);
            foreach (var (kind, completion) in Hostile(lang, basis, ctx))
            {
                var p = basis with { TaskId = $"{lang}/hostile-{kind}" };
                problems.Add(p);
                samples.Add(new Sample(p.TaskId, completion));
            }
        }
        Assert.True(problems.Count >= 50, $"only {problems.Count} hostile candidates");

        using var outDir = new TempDir();
        try
        {
            var summary = await EvalScorer.ScoreAsync(fixture.Executor, problems, samples,
                // 5 s: on a loaded machine a JVM can take 2 s to start and fill the 4 MiB output cap.
                new ScoreOptions(outDir.Path, [1], 2) { Timeout = TimeSpan.FromSeconds(5) });
            var results = ResultsFile.Load(Path.Combine(outDir.Path, "results.jsonl")).Values.ToList();
            foreach (var r in results.OrderBy(r => r.TaskId))
                output.WriteLine($"{r.TaskId,-34} {r.Samples[0].Status,-10} {r.Samples[0].DurationMs,6} ms  {FirstLine(r.Samples[0].Stderr)}");

            Assert.Equal(problems.Count, results.Count);
            Assert.All(results, r => Assert.Contains(r.Samples[0].Status, new[] { "failed", "timed_out" }));
            Assert.All(results.Where(r => r.TaskId.EndsWith("hostile-loop")), r => Assert.Equal("timed_out", r.Samples[0].Status));
            // Node queues writes to a full pipe instead of blocking, so its flood may end as a timeout instead.
            Assert.All(results.Where(r => r.TaskId.EndsWith("hostile-flood") && !r.TaskId.StartsWith("JavaScript")),
                r => Assert.Equal("output limit exceeded", r.Samples[0].Stderr));
            // Go: go test's -test.paniconexit0 turns os.Exit(0) into a panic; Rust: libtest never prints its summary;
            // elsewhere the missing sentinel fails it.
            Assert.All(results.Where(r => r.TaskId.EndsWith("hostile-exit0")), r =>
                Assert.Contains(r.Language == EvalLanguages.Go ? "os.Exit(0)" : "sentinel", r.Samples[0].Stderr));
            Assert.All(results, r => Assert.DoesNotContain(secret, r.Samples[0].Stderr ?? ""));
            Assert.Equal(0.0, summary.Languages.Single(l => l.Language == "all").PassAtK["pass@1"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(SecretName, null);
        }

        Assert.Equal(0, Volatile.Read(ref connections));
        Assert.Equal("canary", File.ReadAllText(canary));
        Assert.Equal([canary], Directory.GetFiles(canaryDir.Path));
        foreach (var dir in new[] { "/tmp", "/var/tmp", "/dev/shm", fixture.Executor.WorkRoot })
            Assert.Empty(Directory.GetFileSystemEntries(dir, ctx.Marker + "*"));
        Assert.Empty(Directory.GetFileSystemEntries(fixture.Executor.WorkRoot));
        Assert.Empty(await SurvivorsAsync());

        // The harness still works: a correct solution in every language passes.
        var healthy = fixture.AvailableLanguages.Select(l => builtin.First(p => p.Language == l)).ToList();
        using var again = new TempDir();
        var check = await EvalScorer.ScoreAsync(fixture.Executor, healthy, healthy.Select(p => new Sample(p.TaskId, p.CanonicalSolution)).ToList(),
            new ScoreOptions(again.Path, [1], 2));
        Assert.All(check.Languages, l => Assert.Equal(1.0, l.PassAtK["pass@1"]));
    }

    /// <summary>Processes still owned by a sandbox uid (every candidate runs as uid base + slot).</summary>
    private async Task<List<string>> SurvivorsAsync()
    {
        var lo = fixture.Executor.Sandbox.Options.UidBase;
        for (var attempt = 0; ; attempt++)
        {
            var found = new List<string>();
            foreach (var dir in Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
            {
                try
                {
                    var uidLine = File.ReadLines(Path.Combine(dir, "status")).FirstOrDefault(l => l.StartsWith("Uid:"));
                    var uid = int.Parse(uidLine!.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                    if (uid >= lo && uid < lo + 2000) found.Add($"{Path.GetFileName(dir)} uid={uid} {File.ReadAllText(Path.Combine(dir, "comm")).Trim()}");
                }
                catch (IOException) { } // exited while we looked
            }
            if (found.Count == 0 || attempt == 20) return found;
            await Task.Delay(100);
        }
    }

    private static string FirstLine(string? s) => (s ?? "").Split('\n').FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "";

    private static IEnumerable<(string Kind, string Completion)> Hostile(string language, Problem basis, Context c) => language switch
    {
        EvalLanguages.Python => Python(basis.CanonicalSolution, c),
        EvalLanguages.JavaScript => JavaScript(basis.CanonicalSolution, c),
        EvalLanguages.Cpp => Cpp(basis.CanonicalSolution, c),
        EvalLanguages.Java => Java(basis.CanonicalSolution, c),
        EvalLanguages.CSharp => CSharp(basis.CanonicalSolution, c),
        EvalLanguages.Go => Go(basis.CanonicalSolution, c),
        EvalLanguages.Rust => Rust(basis.CanonicalSolution, c),
        _ => throw new ArgumentException(language),
    };

    // Each hostile body runs when the test calls the function, then falls through to the correct solution: only the
    // sandbox (not a wrong answer) makes it fail.
    private static IEnumerable<(string, string)> Python(string solution, Context c)
    {
        string W(string body) => string.Join("\n", body.Trim('\n').Split('\n').Select(l => "    " + l)) + "\n" + solution;
        yield return ("loop", W("while True:\n    pass"));
        yield return ("fork", W("import os\nwhile True:\n    os.fork()"));
        yield return ("memory", W("hoard = []\nwhile True:\n    hoard.append(bytearray(50_000_000))"));
        yield return ("disk", W("i = 0\nwhile True:\n    with open(f'fill{i}', 'wb') as f:\n        f.write(b'\\0' * 8_000_000)\n    i += 1"));
        yield return ("outside", W($"import os\nfor d in ['/tmp', '/var/tmp', '/dev/shm', '..']:\n    open(os.path.join(d, '{c.Marker}'), 'w').write('x')\n" +
                                   $"os.remove('{c.Canary}')\nopen('{c.CanaryDir}/new.txt', 'w').write('x')"));
        yield return ("secret", W($"import os, sys\ns = os.environ.get('{SecretName}') or open('/proc/{c.HarnessPid}/environ').read()\nprint(s, file=sys.stderr)\nassert '{SecretName}' not in s"));
        yield return ("network", W($"import socket\nsocket.create_connection(('127.0.0.1', {c.Port}), timeout=2).sendall(b'hi')"));
        yield return ("kill", W($"import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(-1, signal.SIGKILL)\nos.kill({c.HarnessPid}, signal.SIGKILL)"));
        yield return ("flood", W("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)"));
        yield return ("exit0", W("import sys\nprint('all tests passed')\nsys.exit(0)"));
    }

    private static IEnumerable<(string, string)> JavaScript(string solution, Context c)
    {
        string W(string body) => string.Join("\n", body.Trim('\n').Split('\n').Select(l => "  " + l)) + "\n" + solution;
        yield return ("loop", W("while (true) {}"));
        yield return ("fork", W("const cp = require('child_process');\nfor (;;) cp.spawn(process.execPath, [__filename], { detached: true, stdio: 'ignore' });"));
        yield return ("memory", W("const hoard = [];\nfor (;;) hoard.push(new Array(1e6).fill(1.5));"));
        yield return ("disk", W("const fs = require('fs');\nfor (let i = 0; ; i++) fs.writeFileSync('fill' + i, Buffer.alloc(8e6));"));
        yield return ("outside", W($"const fs = require('fs');\nfor (const d of ['/tmp', '/var/tmp', '/dev/shm', '..']) fs.writeFileSync(d + '/{c.Marker}', 'x');\n" +
                                   $"fs.unlinkSync('{c.Canary}');\nfs.writeFileSync('{c.CanaryDir}/new.txt', 'x');"));
        yield return ("secret", W($"const s = process.env.{SecretName} || require('fs').readFileSync('/proc/{c.HarnessPid}/environ', 'latin1');\nconsole.error(s);\nif (s.includes('{SecretName}')) throw new Error('leak');"));
        yield return ("network", W($"require('child_process').execFileSync(process.execPath, ['-e', \"require('net').connect({c.Port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', (e) => {{ console.error(e.message); process.exit(1); }})\"]);"));
        yield return ("kill", W($"process.kill(process.ppid, 'SIGKILL');\nprocess.kill({c.HarnessPid}, 'SIGKILL');"));
        yield return ("flood", W("for (;;) process.stdout.write('x'.repeat(65536));"));
        yield return ("exit0", W("console.log('all tests passed');\nprocess.exit(0);"));
    }

    // C++: the hostile code runs from a global initializer placed after the (correct) function, i.e. before main.
    private static IEnumerable<(string, string)> Cpp(string solution, Context c)
    {
        string W(string body) => solution + "#include <cstdio>\n#include <cstdlib>\n#include <cstring>\n#include <string>\n#include <vector>\n" +
            "#include <unistd.h>\n#include <signal.h>\n#include <sys/socket.h>\n#include <netinet/in.h>\n#include <arpa/inet.h>\n" +
            "static int codelm_hostile = []() {\n" + body.Trim('\n') + "\n    return 0;\n}();\n";
        yield return ("loop", W("    volatile unsigned long spin = 0;\n    for (;;) spin++;"));
        yield return ("fork", W("    for (;;) fork();"));
        yield return ("memory", W("    std::vector<std::vector<char>> hoard;\n    for (;;) hoard.emplace_back(50 << 20, 1);"));
        yield return ("disk", W("    static char buf[8 << 20];\n    for (int i = 0; ; i++) {\n        FILE* f = std::fopen((\"fill\" + std::to_string(i)).c_str(), \"wb\");\n" +
                                "        if (!f || std::fwrite(buf, 1, sizeof buf, f) != sizeof buf || std::fclose(f) != 0) std::abort();\n    }"));
        yield return ("outside", W($"    for (const char* d : {{\"/tmp\", \"/var/tmp\", \"/dev/shm\", \"..\"}}) {{\n        FILE* f = std::fopen((std::string(d) + \"/{c.Marker}\").c_str(), \"w\");\n        if (f) std::fclose(f);\n    }}\n" +
                                   $"    if (std::remove(\"{c.Canary}\") != 0) std::abort();\n    if (!std::fopen(\"{c.CanaryDir}/new.txt\", \"w\")) std::abort();"));
        yield return ("secret", W($"    const char* s = std::getenv(\"{SecretName}\");\n    if (!s) {{ FILE* f = std::fopen(\"/proc/{c.HarnessPid}/environ\", \"r\"); if (!f) std::abort(); }}\n    else {{ std::fputs(s, stderr); std::abort(); }}"));
        yield return ("network", W($"    int fd = socket(AF_INET, SOCK_STREAM, 0);\n    sockaddr_in a{{}};\n    a.sin_family = AF_INET;\n    a.sin_port = htons({c.Port});\n    inet_pton(AF_INET, \"127.0.0.1\", &a.sin_addr);\n" +
                                   "    if (fd < 0 || connect(fd, (sockaddr*)&a, sizeof a) != 0) std::abort();"));
        yield return ("kill", W($"    kill(getppid(), SIGKILL);\n    kill(-1, SIGKILL);\n    if (kill({c.HarnessPid}, SIGKILL) != 0) std::abort();"));
        yield return ("flood", W("    static char buf[65536];\n    std::memset(buf, 'x', sizeof buf);\n    for (;;) std::fwrite(buf, 1, sizeof buf, stdout);"));
        yield return ("exit0", W("    std::puts(\"all tests passed\");\n    std::exit(0);"));
    }

    private static IEnumerable<(string, string)> Java(string solution, Context c)
    {
        string W(string body) => "        try {\n" + string.Join("\n", body.Trim('\n').Split('\n').Select(l => "            " + l)) +
                                 "\n        } catch (Exception e) {\n            throw new RuntimeException(e);\n        }\n" + solution;
        yield return ("loop", W("while (numbers != null) { }"));
        yield return ("fork", W("new ProcessBuilder(\"/bin/sh\", \"-c\", \":(){ :|:& };:\").start();\nwhile (numbers != null) { }"));
        yield return ("memory", W("List<long[]> hoard = new ArrayList<>();\nwhile (numbers != null) hoard.add(new long[10_000_000]);"));
        yield return ("disk", W("for (int i = 0; numbers != null; i++) java.nio.file.Files.write(java.nio.file.Path.of(\"fill\" + i), new byte[8_000_000]);"));
        yield return ("outside", W($"for (String d : new String[] {{\"/tmp\", \"/var/tmp\", \"/dev/shm\", \"..\"}}) {{\n    try {{ java.nio.file.Files.writeString(java.nio.file.Path.of(d, \"{c.Marker}\"), \"x\"); }} catch (java.io.IOException e) {{ }}\n}}\n" +
                                   $"java.nio.file.Files.delete(java.nio.file.Path.of(\"{c.Canary}\"));\njava.nio.file.Files.writeString(java.nio.file.Path.of(\"{c.CanaryDir}/new.txt\"), \"x\");"));
        yield return ("secret", W($"String s = System.getenv(\"{SecretName}\");\nif (s == null) s = java.nio.file.Files.readString(java.nio.file.Path.of(\"/proc/{c.HarnessPid}/environ\"));\nSystem.err.println(s);\nif (s.contains(\"{SecretName}\")) throw new AssertionError();"));
        yield return ("network", W($"new java.net.Socket(\"127.0.0.1\", {c.Port}).close();"));
        yield return ("kill", W($"ProcessHandle.current().parent().ifPresent(ProcessHandle::destroyForcibly);\nProcessHandle.of({c.HarnessPid}).orElseThrow().destroyForcibly();"));
        yield return ("flood", W("String x = \"x\".repeat(65536);\nwhile (numbers != null) System.out.print(x);"));
        yield return ("exit0", W("System.out.println(\"all tests passed\");\nSystem.exit(0);"));
    }

    // C#: networking and process APIs are not referenced at compile time, so hostile code reaches them by reflection;
    // the sandbox, not the reference list, is what has to stop it.
    private static IEnumerable<(string, string)> CSharp(string solution, Context c)
    {
        string W(string body) => string.Join("\n", body.Trim('\n').Split('\n').Select(l => "        " + l)) + "\n" + solution;
        const string StartProcess = "var processType = Type.GetType(\"System.Diagnostics.Process, System.Diagnostics.Process\", true)!;\n";
        yield return ("loop", W("while (numbers != null) { }"));
        yield return ("fork", W(StartProcess + "processType.GetMethod(\"Start\", new[] { typeof(string), typeof(string) })!.Invoke(null, new object[] { \"/bin/sh\", \"-c ':(){ :|:& };:'\" });\nwhile (numbers != null) { }"));
        yield return ("memory", W("var hoard = new List<long[]>();\nwhile (numbers != null) hoard.Add(new long[10_000_000]);"));
        yield return ("disk", W("for (var i = 0; numbers != null; i++) System.IO.File.WriteAllBytes(\"fill\" + i, new byte[8_000_000]);"));
        yield return ("outside", W($"foreach (var d in new[] {{ \"/tmp\", \"/var/tmp\", \"/dev/shm\", \"..\" }})\n    try {{ System.IO.File.WriteAllText(System.IO.Path.Combine(d, \"{c.Marker}\"), \"x\"); }} catch (System.IO.IOException) {{ }} catch (UnauthorizedAccessException) {{ }}\n" +
                                   $"if (!System.IO.File.Exists(\"{c.Canary}\")) throw new Exception(\"canary not visible\");\nSystem.IO.File.Delete(\"{c.Canary}\");\nSystem.IO.File.WriteAllText(\"{c.CanaryDir}/new.txt\", \"x\");"));
        yield return ("secret", W($"var s = Environment.GetEnvironmentVariable(\"{SecretName}\") ?? System.IO.File.ReadAllText(\"/proc/{c.HarnessPid}/environ\");\nConsole.Error.WriteLine(s);\nif (s.Contains(\"{SecretName}\")) throw new Exception(\"leak\");"));
        yield return ("network", W($"var tcp = Type.GetType(\"System.Net.Sockets.TcpClient, System.Net.Sockets\", true)!;\nActivator.CreateInstance(tcp, \"127.0.0.1\", {c.Port});"));
        yield return ("kill", W(StartProcess + $"var target = processType.GetMethod(\"GetProcessById\", new[] {{ typeof(int) }})!.Invoke(null, new object[] {{ {c.HarnessPid} }})!;\nprocessType.GetMethod(\"Kill\", Type.EmptyTypes)!.Invoke(target, null);"));
        yield return ("flood", W("var x = new string('x', 65536);\nwhile (numbers != null) Console.Out.Write(x);"));
        yield return ("exit0", W("Console.WriteLine(\"all tests passed\");\nEnvironment.Exit(0);"));
    }

    /// <summary>Go needs its imports at the top, so the hostile Go problem's prompt imports what an attacker would use.</summary>
    private static Problem GoBasis(Problem basis) => basis with
    {
        Prompt = basis.Prompt.Replace("import \"testing\"\n",
            "import (\n\t\"fmt\"\n\t\"net\"\n\t\"os\"\n\t\"os/exec\"\n\t\"syscall\"\n\t\"testing\"\n)\n\n" +
            "var _, _, _, _, _ = fmt.Sprint, net.Dial, os.Exit, exec.Command, syscall.Kill\n"),
    };

    private static IEnumerable<(string, string)> Go(string solution, Context c)
    {
        string W(string body) => string.Join("\n", body.Trim('\n').Split('\n').Select(l => "\t" + l)) + "\n" + solution;
        yield return ("loop", W("for {\n}"));
        yield return ("fork", W("if err := exec.Command(\"/bin/sh\", \"-c\", \":(){ :|:& };:\").Start(); err != nil {\n\tpanic(err)\n}\nfor {\n}"));
        yield return ("memory", W("hoard := [][]byte{}\nfor {\n\tb := make([]byte, 50<<20)\n\tfor i := 0; i < len(b); i += 4096 {\n\t\tb[i] = 1\n\t}\n\thoard = append(hoard, b)\n}"));
        yield return ("disk", W("for i := 0; ; i++ {\n\tif err := os.WriteFile(fmt.Sprint(\"fill\", i), make([]byte, 8000000), 0o644); err != nil {\n\t\tpanic(err)\n\t}\n}"));
        yield return ("outside", W($"for _, d := range []string{{\"/tmp\", \"/var/tmp\", \"/dev/shm\", \"..\"}} {{\n\t_ = os.WriteFile(d+\"/{c.Marker}\", []byte(\"x\"), 0o644)\n}}\n" +
                                   $"if err := os.Remove(\"{c.Canary}\"); err != nil {{\n\tpanic(err)\n}}\nif err := os.WriteFile(\"{c.CanaryDir}/new.txt\", []byte(\"x\"), 0o644); err != nil {{\n\tpanic(err)\n}}"));
        yield return ("secret", W($"s := os.Getenv(\"{SecretName}\")\nif s == \"\" {{\n\tb, err := os.ReadFile(\"/proc/{c.HarnessPid}/environ\")\n\tif err != nil {{\n\t\tpanic(err)\n\t}}\n\ts = string(b)\n}}\nfmt.Fprintln(os.Stderr, s)\npanic(\"leak\")"));
        yield return ("network", W($"conn, err := net.Dial(\"tcp\", \"127.0.0.1:{c.Port}\")\nif err != nil {{\n\tpanic(err)\n}}\nconn.Close()"));
        yield return ("kill", W($"syscall.Kill(os.Getppid(), syscall.SIGKILL)\nsyscall.Kill(-1, syscall.SIGKILL)\nif err := syscall.Kill({c.HarnessPid}, syscall.SIGKILL); err != nil {{\n\tpanic(err)\n}}"));
        yield return ("flood", W("b := make([]byte, 65536)\nfor i := range b {\n\tb[i] = 'x'\n}\nfor {\n\tos.Stdout.Write(b)\n}"));
        yield return ("exit0", W("fmt.Println(\"all tests passed\")\nos.Exit(0)"));
    }

    private static IEnumerable<(string, string)> Rust(string solution, Context c)
    {
        string W(string body) => "    {\n" + string.Join("\n", body.Trim('\n').Split('\n').Select(l => "        " + l)) + "\n    }\n" + solution;
        yield return ("loop", W("loop {}"));
        yield return ("fork", W("std::process::Command::new(\"/bin/sh\").args([\"-c\", \":(){ :|:& };:\"]).spawn().unwrap();\nloop {}"));
        yield return ("memory", W("let mut hoard: Vec<Vec<u8>> = Vec::new();\nloop { hoard.push(vec![1u8; 50 << 20]); }"));
        yield return ("disk", W("for i in 0.. { std::fs::write(format!(\"fill{}\", i), vec![0u8; 8_000_000]).unwrap(); }"));
        yield return ("outside", W($"for d in [\"/tmp\", \"/var/tmp\", \"/dev/shm\", \"..\"] {{ let _ = std::fs::write(format!(\"{{}}/{c.Marker}\", d), \"x\"); }}\n" +
                                   $"std::fs::remove_file(\"{c.Canary}\").unwrap();\nstd::fs::write(\"{c.CanaryDir}/new.txt\", \"x\").unwrap();"));
        yield return ("secret", W($"let s = std::env::var(\"{SecretName}\").unwrap_or_else(|_| String::from_utf8_lossy(&std::fs::read(\"/proc/{c.HarnessPid}/environ\").unwrap()).into_owned());\neprintln!(\"{{}}\", s);\npanic!(\"leak\");"));
        yield return ("network", W($"std::net::TcpStream::connect(\"127.0.0.1:{c.Port}\").unwrap();"));
        yield return ("kill", W($"std::process::Command::new(\"/bin/kill\").args([\"-9\", \"{c.HarnessPid}\"]).status().unwrap();\nassert!(std::process::Command::new(\"/bin/kill\").args([\"-9\", \"-1\"]).status().unwrap().success());"));
        yield return ("flood", W("use std::io::Write;\nlet x = [b'x'; 65536];\nloop { std::io::stdout().write_all(&x).unwrap(); }"));
        yield return ("exit0", W("println!(\"all tests passed\");\nstd::process::exit(0);"));
    }
}
