using System.Text.Json.Serialization;

namespace WebDashboard;

/// <summary>Source-generated JSON for every message the server sends (no reflection at run time).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HelloMessage))]
[JsonSerializable(typeof(SnapshotMessage))]
[JsonSerializable(typeof(EventsMessage))]
[JsonSerializable(typeof(RunInfo))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
