using System.Collections;
using System.Net;
using System.Net.Sockets;
using CodeLm.Model.Distributed;
using CodeLm.Model.Training;

namespace CodeLm.Model.Tests;

public class LaunchEnvironmentTests
{
    private static LaunchEnvironment From(params (string Name, string Value)[] vars) =>
        LaunchEnvironment.From(new Hashtable(vars.ToDictionary(v => v.Name, v => (object)v.Value)));

    [Fact]
    public void Each_launcher_s_variables_give_the_rank_world_size_and_local_rank()
    {
        Assert.Equal(new LaunchEnvironment(3, 8, 1, Launcher.Torchrun), From(("RANK", "3"), ("WORLD_SIZE", "8"), ("LOCAL_RANK", "1")) with { MasterAddress = "127.0.0.1" });
        Assert.Equal(new LaunchEnvironment(1, 2, 1, Launcher.Mpirun), From(("OMPI_COMM_WORLD_RANK", "1"), ("OMPI_COMM_WORLD_SIZE", "2"), ("OMPI_COMM_WORLD_LOCAL_RANK", "1")));
        Assert.Equal(new LaunchEnvironment(5, 16, 1, Launcher.Srun), From(("SLURM_PROCID", "5"), ("SLURM_STEP_NUM_TASKS", "16"), ("SLURM_LOCALID", "1"), ("SLURM_NTASKS", "16")));
        var torchrun = From(("RANK", "0"), ("WORLD_SIZE", "2"), ("MASTER_ADDR", "node-a"), ("MASTER_PORT", "29400"));
        Assert.Equal(("node-a", 29400), (torchrun.MasterAddress, torchrun.MasterPort));
    }

    [Fact]
    public void A_process_started_by_hand_or_as_an_sbatch_script_is_the_whole_job()
    {
        Assert.Equal(LaunchEnvironment.Single, From());
        // The batch script itself has a task id and count, but it is no task of a step: the ranks come from its srun.
        var script = From(("SLURM_PROCID", "0"), ("SLURM_NTASKS", "4"), ("SLURM_JOB_ID", "12"));
        Assert.False(script.IsDistributed);
        Assert.Equal(Launcher.None, script.Launcher);
    }

    [Fact]
    public void An_inconsistent_launch_is_refused_rather_than_guessed()
    {
        var e = Assert.Throws<InvalidOperationException>(() => From(("RANK", "2"), ("WORLD_SIZE", "2")));
        Assert.Equal("The Torchrun environment is inconsistent: rank '2' of world size '2'.", e.Message);
    }

    [Fact]
    public void Ranks_reading_their_slices_together_read_the_global_batch_one_process_reads()
    {
        var docs = new InMemoryDocuments(Enumerable.Range(0, 30).Select(d => Enumerable.Range(d * 100, 5 + d % 7).ToArray()).ToList());
        const int window = 9, perRank = 3, ranks = 3;
        var whole = new TokenStream(docs, endOfText: -1, seed: 5, fim: null);
        var slices = Enumerable.Range(0, ranks).Select(_ => new TokenStream(docs, endOfText: -1, seed: 5, fim: null)).ToArray();
        for (int step = 0; step < 20; step++) // several epochs: 30 short documents make few windows
        {
            var expected = new int[perRank * ranks * window];
            whole.NextBatch(expected, perRank * ranks, window);
            var got = slices.SelectMany((s, r) => { var b = new int[perRank * window]; s.NextSlice(b, perRank, window, r, ranks); return b; }).ToArray();
            Assert.Equal(expected, got);
            Assert.All(slices, s => Assert.Equal(whole.Position, s.Position));
        }
    }

    [Fact]
    public void Rendezvous_hands_rank_zero_s_bytes_to_every_other_rank()
    {
        int port = FreePort();
        var id = Enumerable.Range(0, 128).Select(i => (byte)(i * 7)).ToArray();
        var timeout = TimeSpan.FromSeconds(20);
        // The other ranks start first and retry until rank 0 listens, as they do when launched together.
        var others = Enumerable.Range(1, 2).Select(r => Task.Run(() => Rendezvous.Share(null, new LaunchEnvironment(r, 3, r, Launcher.Torchrun) { MasterPort = port }, 128, timeout))).ToArray();
        Thread.Sleep(300);
        var root = Rendezvous.Share(id, new LaunchEnvironment(0, 3, 0, Launcher.Torchrun) { MasterPort = port }, 128, timeout);
        Assert.Equal(id, root);
        Assert.All(others, t => Assert.Equal(id, t.Result));
    }

    [Fact]
    public void A_rendezvous_without_rank_zero_times_out()
    {
        var e = Assert.Throws<CollectiveTimeoutException>(() =>
            Rendezvous.Share(null, new LaunchEnvironment(1, 2, 1, Launcher.Torchrun) { MasterPort = FreePort() }, 128, TimeSpan.FromSeconds(1)));
        Assert.StartsWith("rank 1 of 2: the rendezvous with rank 0 at 127.0.0.1:", e.Message);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
