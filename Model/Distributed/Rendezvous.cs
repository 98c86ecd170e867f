using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CodeLm.Model.Distributed;

/// <summary>
/// Hands rank 0's bytes (NCCL's unique id) to every other rank over TCP at the launcher's MASTER_ADDR:MASTER_PORT, as
/// torch.distributed's TCP store does for the same id. Rank 0 listens; the others connect, retrying until rank 0 is up.
/// </summary>
public static class Rendezvous
{
    public static byte[] Share(byte[]? payload, LaunchEnvironment launch, int length, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        return launch.IsPrimary ? Serve(payload ?? throw new ArgumentNullException(nameof(payload)), launch, deadline, timeout) : Fetch(launch, length, deadline, timeout);
    }

    private static byte[] Serve(byte[] payload, LaunchEnvironment launch, Stopwatch clock, TimeSpan timeout)
    {
        using var listener = new TcpListener(IPAddress.Any, launch.MasterPort);
        listener.Start();
        for (int served = 1; served < launch.WorldSize; served++)
        {
            var accept = listener.AcceptTcpClientAsync();
            if (!accept.Wait(Remaining(clock, timeout)))
                throw new CollectiveTimeoutException($"rendezvous on port {launch.MasterPort} ({served} of {launch.WorldSize} ranks joined)", 0, launch.WorldSize, timeout);
            using var client = accept.Result;
            client.GetStream().Write(payload);
        }
        return payload;
    }

    private static byte[] Fetch(LaunchEnvironment launch, int length, Stopwatch clock, TimeSpan timeout)
    {
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                if (!client.ConnectAsync(launch.MasterAddress, launch.MasterPort).Wait(Remaining(clock, timeout))) break;
                var bytes = new byte[length];
                client.GetStream().ReadExactly(bytes);
                return bytes;
            }
            catch (Exception e) when (e is SocketException or AggregateException or IOException)
            {
                if (clock.Elapsed > timeout) break;
                Thread.Sleep(200); // rank 0 is not listening yet
            }
        }
        throw new CollectiveTimeoutException($"rendezvous with rank 0 at {launch.MasterAddress}:{launch.MasterPort}", launch.Rank, launch.WorldSize, timeout);
    }

    private static TimeSpan Remaining(Stopwatch clock, TimeSpan timeout) => timeout > clock.Elapsed ? timeout - clock.Elapsed : TimeSpan.Zero;
}
