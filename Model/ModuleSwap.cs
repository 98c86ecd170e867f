using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>Puts another module in a child's place under the same name, so parameter names stay the model's own.</summary>
internal static class ModuleSwap
{
    public static T Replace<T>(nn.Module parent, string name, T replacement) where T : nn.Module
    {
        parent.register_module(name, null!); // frees the name: TorchSharp refuses to register over a module
        parent.register_module(name, replacement);
        return replacement;
    }
}
