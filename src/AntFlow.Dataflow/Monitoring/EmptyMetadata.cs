using System.Collections.ObjectModel;

namespace AntFlow.Dataflow;

/// <summary>The shared empty metadata dictionary, so events without details allocate nothing for them.</summary>
internal static class EmptyMetadata
{
    public static readonly IReadOnlyDictionary<string, object?> Instance = ReadOnlyDictionary<string, object?>.Empty;
}
