using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace WebDashboard;

/// <summary>Builds the dashboard's web application: the page, the live event stream and the run commands.</summary>
internal static class WebDashboardApp
{
    /// <summary>Where the app listens unless <c>--urls</c> (or <c>ASPNETCORE_URLS</c>) says otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Commands must carry this header: a form or a plain cross-site request cannot send it.</summary>
    public const string CommandHeader = "X-Dashboard";

    public static WebApplication Build(string[] args)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,

            // The page is copied next to the program, so it is found whatever the working directory.
            ContentRootPath = AppContext.BaseDirectory,
        });

        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // Request logs would drown the demo's own messages.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        builder.Services.AddSingleton(TimeProvider.System);
        int items = builder.Configuration.GetValue("items", DemoOptions.DefaultItems);
        if (items < 1)
        {
            throw new ArgumentException($"--items must be at least 1 (was {items}).", nameof(args));
        }

        builder.Services.AddSingleton(new DemoOptions { Items = items });
        builder.Services.AddSingleton<ActivityFeed>();
        builder.Services.AddSingleton<DemoRunner>();
        builder.Services.AddSingleton<DashboardHub>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DashboardHub>());

        WebApplication app = builder.Build();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        MapApi(app);
        return app;
    }

    /// <summary>The addresses the server listens on, once started (with the real port when <c>:0</c> was asked for).</summary>
    public static IReadOnlyCollection<string> GetAddresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];

    private static void MapApi(WebApplication app)
    {
        RouteGroupBuilder api = app.MapGroup("/api");

        api.MapGet("/state", (DashboardHub hub) => TypedResults.Json(hub.GetHello(), DashboardJsonContext.Default.HelloMessage));

        api.MapGet("/events", (DashboardHub hub, HttpContext context) =>
        {
            // Proxies must not hold the stream back.
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers["X-Accel-Buffering"] = "no";
            return TypedResults.ServerSentEvents(hub.StreamAsync(context.RequestAborted));
        });

        RouteGroupBuilder run = api.MapGroup("/run").AddEndpointFilter(async (context, next) =>
            context.HttpContext.Request.Headers.ContainsKey(CommandHeader)
                ? await next(context)
                : TypedResults.Problem($"Commands need the {CommandHeader} header.", statusCode: StatusCodes.Status403Forbidden));

        run.MapPost("/start", (DemoRunner runner) => runner.TryStart() is { } started
            ? TypedResults.Json(started, DashboardJsonContext.Default.RunInfo, statusCode: StatusCodes.Status202Accepted)
            : TypedResults.Json(runner.GetCurrent().Run, DashboardJsonContext.Default.RunInfo, statusCode: StatusCodes.Status409Conflict));

        run.MapPost("/stop", async (DemoRunner runner) => await runner.StopAsync() is { } stopped
            ? TypedResults.Json(stopped, DashboardJsonContext.Default.RunInfo)
            : TypedResults.Json(runner.GetCurrent().Run, DashboardJsonContext.Default.RunInfo, statusCode: StatusCodes.Status409Conflict));
    }
}
