using System.Text.Json.Serialization;

namespace CodeLm.Tokenizer;

/// <summary>Where a tokenizer comes from, which decides the conventions of the documents made with it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TokenizerKind>))]
public enum TokenizerKind
{
    /// <summary>Trained by <c>codelm tokenizer train</c>: its models learn from documents that begin with a language tag line.</summary>
    [JsonStringEnumMemberName("codelm")] CodeLm,

    /// <summary>A pretrained model's tokenizer.json: its models never saw CodeLm's tag lines.</summary>
    [JsonStringEnumMemberName("hugging-face")] HuggingFace,
}
