using CodeLm.Model.Gguf;
using CodeLm.Model.Hf;

namespace CodeLm.Model;

/// <summary>The formats <c>codelm export</c> writes.</summary>
public enum ExportFormat { Hf, Gguf }

/// <summary>
/// A checkpoint (or a Hugging Face folder) as a GGUF file for llama.cpp and the tools built on it. GGUF conversion reads
/// Hugging Face folders, so a CodeLm checkpoint goes through <see cref="HfExport"/> first, into a scratch folder beside
/// the output that is removed afterwards.
/// </summary>
public static class ModelExport
{
    public static GgufExport Gguf(string checkpointDir, string outFile, GgufType type, IProgress<GgufProgress>? progress = null)
    {
        checkpointDir = Checkpoint.Resolve(checkpointDir);
        if (HfCheckpoint.IsHfFolder(checkpointDir)) return GgufConverter.Convert(checkpointDir, outFile, type, progress);
        var scratch = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outFile))!, $".{Path.GetFileName(outFile)}.hf-{Environment.ProcessId}");
        try
        {
            HfExport.Export(checkpointDir, scratch);
            return GgufConverter.Convert(scratch, outFile, type, progress);
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
    }
}
