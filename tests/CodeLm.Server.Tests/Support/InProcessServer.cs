using System.IO.Pipes;
using CodeLm.Server.Completion;

namespace CodeLm.Server.Tests.Support;

/// <summary>
/// The LSP host running in this process over real OS pipes, with a client attached: for protocol tests that
/// need to look inside (the engine's calls) or to run many cases fast.
/// </summary>
public sealed class InProcessServer : IAsyncDisposable
{
    private readonly AnonymousPipeServerStream clientToServer = new(PipeDirection.Out);
    private readonly AnonymousPipeServerStream serverToClient = new(PipeDirection.In);
    private readonly AnonymousPipeClientStream serverIn, serverOut;
    public StringWriter LogText { get; } = new();
    public ServerLog Log { get; }
    public CompletionService Completions { get; }
    public Task<int> Run { get; }
    private readonly LspClient? client;
    public LspClient Client => client ?? throw new InvalidOperationException("created for raw access");
    public Stream ToServer => clientToServer;
    public Stream FromServer => serverToClient;

    /// <summary>With <paramref name="rpcClient"/> false no JsonRpc client is attached: use <see cref="ToServer"/>/<see cref="FromServer"/>.</summary>
    public InProcessServer(ICompletionEngine engine, bool rpcClient = true, Stats.AcceptanceLog? events = null, string model = "test-model")
    {
        serverIn = new AnonymousPipeClientStream(PipeDirection.In, clientToServer.ClientSafePipeHandle);
        serverOut = new AnonymousPipeClientStream(PipeDirection.Out, serverToClient.ClientSafePipeHandle);
        Log = new ServerLog(TextWriter.Synchronized(LogText), LogLevel.Debug);
        Completions = new CompletionService(engine, Log);
        Run = Task.Run(() => LspServerHost.RunAsync(serverIn, serverOut, Completions, Log, default, events, model));
        if (rpcClient) client = new LspClient(clientToServer, serverToClient);
    }

    public async ValueTask DisposeAsync()
    {
        client?.Dispose();
        clientToServer.Dispose();
        await Task.WhenAny(Run, Task.Delay(5000));
        serverIn.Dispose();
        serverOut.Dispose();
        serverToClient.Dispose();
    }
}
