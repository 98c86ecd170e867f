namespace CodeLm.DataPipeline.Corpus;

/// <summary>
/// One kept source file of the corpus. <see cref="Content"/> is the cleaned, redacted text without the language tag line
/// (the tokenizer adds <c>LanguageTag.Prefix(Language)</c>). <see cref="Sha"/> is the commit the file was read from.
/// </summary>
public sealed record CorpusRecord(string Repo, string Path, string Language, string License, string Sha, string Content);
