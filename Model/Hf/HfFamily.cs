namespace CodeLm.Model.Hf;

/// <summary>The Hugging Face decoder families CodeLm reads and writes (config.json's model_type).</summary>
public enum HfFamily { Llama, Mistral, Qwen2, Starcoder2, Gpt2, GptBigCode }

/// <summary>A model folder CodeLm cannot read: names what was found and what is supported.</summary>

