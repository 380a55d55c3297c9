namespace WebDashboard;

/// <summary>Settings of the demo run, from the command line or configuration (<c>--items 5000</c>).</summary>
internal sealed class DemoOptions
{
    public const int DefaultItems = 5_000;

    /// <summary>Gets or sets how many documents a run pushes through the pipeline.</summary>
    public int Items { get; set; } = DefaultItems;
}
