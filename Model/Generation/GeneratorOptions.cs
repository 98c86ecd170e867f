using CodeLm.Model.Inference;

namespace CodeLm.Model.Generation;

/// <summary>How a <see cref="Generator"/> runs, beyond each request's <see cref="SamplingOptions"/>.</summary>
/// <param name="ReuseKvCache">
/// Keep the KV cache between calls and prefill only what a prompt does not share with the previous one (plus what was
/// generated after it): the editor's typing path. Off, every call prefills its whole prompt, so results never depend
/// on earlier calls (an evaluation resumed midway draws what an uninterrupted one would).
/// </param>
/// <param name="OneThreadSteps">
/// Run one-token steps (one sequence, one position) on one torch thread and prompt chunks on all of them. A step is a
/// chain of small ops on one row, where libtorch's thread hand-offs cost more than they save (measured 2.0 against
/// 3.3 ms per step for `small` on 2 cores).
/// </param>
/// <param name="Precision">
/// The weights <see cref="Generator.Load"/> computes with, as <see cref="CpuInference.Choose"/> picks them (the same
/// choice as the server's): on the CPU, <see cref="InferencePrecision.Auto"/> takes int8 decoding steps and bfloat16
/// prompts where they run fast. A model handed to the constructor is used as it is.
/// </param>
public sealed record GeneratorOptions(bool ReuseKvCache = false, bool OneThreadSteps = false, InferencePrecision Precision = InferencePrecision.Auto);
