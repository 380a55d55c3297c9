using System.Globalization;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace AntFlow.Dataflow.Tests.Web;

/// <summary>
/// End-to-end tests of examples/WebDashboard: the app runs as a child process, headless Chromium drives the page.
/// Skipped, with the reason, where Chromium or chromedriver is not installed.
/// </summary>
[TestFixture]
[Category("Browser")]
[NonParallelizable]
public sealed class WebDashboardBrowserTests
{
    // Far more items than a test gets through, so the run is still going when the test presses Stop.
    private const string DemoItems = "100000";
    private const int WorkerCount = 16 + 8 + 4;
    private const string ScreenshotVariable = "ANTFLOW_SCREENSHOT";

    // Generous: the machine may be busy; every wait ends as soon as its condition holds.
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(20);

    private string? _profileDirectory;
    private ChromeDriverService? _driverService;
    private ChromeDriver? _driver;
    private DashboardServer? _server;

    private IWebDriver Driver => _driver ?? throw new InvalidOperationException("The browser is not running.");

    [OneTimeSetUp]
    public void StartBrowser()
    {
        string chromium = Environment.GetEnvironmentVariable("ANTFLOW_CHROMIUM") ?? "/usr/bin/chromium";
        string chromedriver = Environment.GetEnvironmentVariable("ANTFLOW_CHROMEDRIVER") ?? "/usr/bin/chromedriver";
        if (!File.Exists(chromium) || !File.Exists(chromedriver))
        {
            Assert.Ignore($"Chromium or chromedriver not found ({chromium}, {chromedriver}); install them to run the browser tests (Debian: apt-get install chromium chromium-driver).");
        }

        // Both paths are given, so Selenium Manager has nothing to find; offline, it would not download anything anyway.
        Environment.SetEnvironmentVariable("SE_OFFLINE", "true");
        _profileDirectory = Directory.CreateTempSubdirectory("antflow-chromium-").FullName;
        _driverService = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(chromedriver)!, Path.GetFileName(chromedriver));
        _driverService.SuppressInitialDiagnosticInformation = true;
        _driverService.HideCommandPromptWindow = true;

        var options = new ChromeOptions { BinaryLocation = chromium };
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        options.AddArguments(
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1440,1500",
            $"--user-data-dir={_profileDirectory}");
        try
        {
            _driver = new ChromeDriver(_driverService, options, TimeSpan.FromSeconds(60));
        }
        catch
        {
            StopBrowser();
            throw;
        }
    }

    [OneTimeTearDown]
    public void StopBrowser()
    {
        try
        {
            _driver?.Quit();
        }
        finally
        {
            _driver?.Dispose();
            _driver = null;
            _driverService?.Dispose();
            _driverService = null;
            if (_profileDirectory is not null && Directory.Exists(_profileDirectory))
            {
                Directory.Delete(_profileDirectory, recursive: true);
            }
        }
    }

    [TearDown]
    public async Task StopServer()
    {
        if (_server is null)
        {
            return;
        }

        try
        {
            if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed)
            {
                await TestContext.Out.WriteLineAsync($"Dashboard output:{Environment.NewLine}{_server.Output}");
            }

            // Leave the page first, so it does not keep reconnecting to a server that is gone (and logging it).
            _driver?.Navigate().GoToUrl("about:blank");
        }
        finally
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task Open_NoRunYet_ShowsIdleStateStagesAndWorkers(CancellationToken cancellationToken)
    {
        await OpenDashboardAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(Driver.FindElement(By.Id("run-state")).Text, Is.EqualTo("idle"));
            Assert.That(StageRowNames(), Is.EqualTo(new[] { "Fetch", "Parse", "Save" }));
            Assert.That(Driver.FindElements(By.CssSelector(".worker")), Has.Count.EqualTo(WorkerCount));
            Assert.That(Driver.FindElements(By.CssSelector(".worker.idle")), Has.Count.EqualTo(WorkerCount));
            Assert.That(ReadCount("done-count"), Is.Zero);
            Assert.That(Driver.FindElement(By.Id("start")).Enabled, Is.True);
            Assert.That(Driver.FindElement(By.Id("stop")).Enabled, Is.False);
            Assert.That(BrowserErrors(), Is.Empty, "errors in the browser console");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task StartThenStop_DemoRun_CountsRiseWhileRunningAndFreezeOnceStopped(CancellationToken cancellationToken)
    {
        await OpenDashboardAsync(cancellationToken);

        Click("start");
        WaitUntil(() => RunState() == "running", "the run state to show running");
        WaitUntil(() => ReadCount("done-count") > 0, "the done counter to leave zero");
        WaitUntil(() => Driver.FindElements(By.CssSelector(".worker.busy")).Count > 0, "a worker to turn busy");
        long seen = ReadCount("done-count");
        WaitUntil(() => ReadCount("done-count") > seen, "the done counter to rise further");
        Assert.That(Driver.FindElement(By.Id("start")).Enabled, Is.False, "Start while a run is going on");
        SaveScreenshotIfAsked();

        Click("stop");
        WaitUntil(() => RunState() == "stopped", "the run state to show stopped");
        long final = ReadCount("done-count");
        int seq = SnapshotSequence();
        WaitUntil(() => SnapshotSequence() >= seq + 2, "two more snapshots after the stop");

        Assert.Multiple(() =>
        {
            Assert.That(ReadCount("done-count"), Is.EqualTo(final), "done count after the stop");
            Assert.That(ReadCount("cancelled-count"), Is.GreaterThan(0), "queued items come out cancelled");
            Assert.That(ReadCount("inflight-count"), Is.Zero);
            Assert.That(Driver.FindElements(By.CssSelector(".worker.busy")), Is.Empty);
            Assert.That(Driver.FindElement(By.Id("start")).Enabled, Is.True);
            Assert.That(Driver.FindElement(By.Id("stop")).Enabled, Is.False);
            Assert.That(BrowserErrors(), Is.Empty, "errors in the browser console");
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Reload_WhileRunning_ShowsTheServersRunAndThroughputHistory(CancellationToken cancellationToken)
    {
        await OpenDashboardAsync(cancellationToken);
        Click("start");
        WaitUntil(() => ChartPoints() >= 2, "two throughput points");
        long before = ReadCount("done-count");

        Driver.Navigate().Refresh();
        WaitUntil(() => RunState() == "running" && Connected(), "the reloaded page to show the running run");

        Assert.Multiple(() =>
        {
            Assert.That(Driver.FindElement(By.Id("run-label")).Text, Is.EqualTo("run #1"));
            Assert.That(ReadCount("done-count"), Is.GreaterThanOrEqualTo(before));
            Assert.That(ChartPoints(), Is.GreaterThanOrEqualTo(2), "throughput history after the reload");
            Assert.That(Driver.FindElement(By.Id("stop")).Enabled, Is.True);
            Assert.That(BrowserErrors(), Is.Empty, "errors in the browser console");
        });

        Click("stop");
        WaitUntil(() => RunState() == "stopped", "the run state to show stopped");
    }

    private async Task OpenDashboardAsync(CancellationToken cancellationToken)
    {
        string appPath = DashboardServer.FindAppPath()
            ?? throw new AssertionException("examples/WebDashboard is not built next to the tests (build the solution first).");
        _server = await DashboardServer.StartAsync(appPath, ["--items", DemoItems], cancellationToken);
        _ = BrowserErrors(); // reading the log empties it: start each test afresh
        Driver.Navigate().GoToUrl(_server.Address);
        WaitUntil(() => Connected() && RunState() == "idle", "the page to connect and show an idle run");
    }

    private void Click(string id)
    {
        IWebElement button = Driver.FindElement(By.Id(id));
        WaitUntil(() => button.Enabled, $"#{id} to be enabled");
        button.Click();
    }

    private void WaitUntil(Func<bool> condition, string what)
    {
        var wait = new WebDriverWait(Driver, WaitTimeout)
        {
            PollingInterval = TimeSpan.FromMilliseconds(100),
            Message = $"Waited {WaitTimeout.TotalSeconds:0} s for {what}.",
        };
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException), typeof(NoSuchElementException), typeof(FormatException));
        wait.Until(_ => condition());
    }

    /// <summary>Severe entries of the browser console since the last call (script errors, failed requests).</summary>
    private string[] BrowserErrors() =>
        [.. Driver.Manage().Logs.GetLog(LogType.Browser).Where(e => e.Level == LogLevel.Severe).Select(e => e.Message)];

    private string RunState() => Driver.FindElement(By.Id("run-state")).Text;

    private bool Connected() => Driver.FindElement(By.Id("connection")).GetAttribute("data-connected") == "true";

    private int SnapshotSequence() => int.Parse(Driver.FindElement(By.Id("last-update")).GetAttribute("data-seq") ?? "0", CultureInfo.InvariantCulture);

    private int ChartPoints() => int.Parse(Driver.FindElement(By.Id("throughput-chart")).GetAttribute("data-points") ?? "0", CultureInfo.InvariantCulture);

    /// <summary>Reads a counter shown with thousands separators ("1,234").</summary>
    private long ReadCount(string id) =>
        long.Parse(Driver.FindElement(By.Id(id)).Text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    /// <summary>With ANTFLOW_SCREENSHOT set, saves the running dashboard as docs/images/web-dashboard.png.</summary>
    private void SaveScreenshotIfAsked()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(ScreenshotVariable)))
        {
            return;
        }

        // A few seconds of chart and some failures make a more telling picture.
        WaitUntil(() => ChartPoints() >= 8 && ReadCount("failed-count") > 0, "a fuller chart for the screenshot");
        string root = DashboardServer.FindRepositoryRoot() ?? throw new AssertionException("Repository root not found.");
        string path = Path.Combine(root, "docs", "images", "web-dashboard.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        // The whole page in one picture: make the window as tall as the page first.
        object? height = ((IJavaScriptExecutor)Driver).ExecuteScript("return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;");
        Driver.Manage().Window.Size = new System.Drawing.Size(1440, Convert.ToInt32(height, CultureInfo.InvariantCulture));
        ((ITakesScreenshot)Driver).GetScreenshot().SaveAsFile(path);
        TestContext.Progress.WriteLine($"Screenshot saved to {path}");
    }

    /// <summary>The stage rows' names, read in one script call: the page rebuilds the rows on every snapshot.</summary>
    private IReadOnlyList<string?> StageRowNames()
    {
        object? names = ((IJavaScriptExecutor)Driver).ExecuteScript(
            "return Array.from(document.querySelectorAll('#stages tbody tr'), r => r.getAttribute('data-stage'));");
        return names is IEnumerable<object?> list ? list.Select(n => n as string).ToArray() : [];
    }
}
