namespace CodeLm.Model.Training;

/// <summary>The number format of the forward and backward passes; the weights the optimizer updates and its moments stay fp32.</summary>
public enum TrainPrecision
{
    /// <summary>bf16 on CUDA, fp32 on a CPU. Zero: what an unset value means.</summary>
    Auto = 0,
    Fp32,
    /// <summary>bf16 forward/backward on a copy of the fp32 master weights, on any device.</summary>
    Bf16,
}
