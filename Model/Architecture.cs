namespace CodeLm.Model;

/// <summary>Which normalisation a block uses: GPT-2's LayerNorm, or Llama's RMSNorm (no mean, no bias).</summary>
public enum NormKind { LayerNorm, RmsNorm }

/// <summary>How a token learns where it is: GPT-2's learned table, or rotary embeddings applied to queries and keys.</summary>
public enum PositionKind { Learned, Rotary }

/// <summary>The feed-forward: GELU (exact erf, or its tanh approximation as GPT-2 and StarCoder use), or Llama's SwiGLU.</summary>
public enum MlpKind { Gelu, GeluTanh, SwiGlu }
