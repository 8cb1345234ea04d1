using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Outside Development the console logger writes one JSON object per line (<c>docker compose logs</c> and log shippers
/// read it without multi-line parsing): UTC timestamp, level, category, event id, the formatted message, its structured
/// state, and the scopes — which carry <c>TraceId</c>/<c>SpanId</c> of the current activity. Exception text is never
/// logged by AtSync's own messages ([LoggerMessage] with type names only), so the JSON holds nothing the text did not.
/// Development keeps the readable multi-line format.
/// </summary>
public static class StructuredConsoleLogs
{
    public static TBuilder AddStructuredConsoleLogs<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        if (builder.Environment.IsDevelopment()) return builder;
        builder.Logging.Configure(options =>
            options.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        builder.Logging.AddJsonConsole(options =>
        {
            options.IncludeScopes = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            options.JsonWriterOptions = new JsonWriterOptions
            {
                Indented = false,
                // Readable non-ASCII (forum text, handles) instead of \u escapes; output is a log line, never HTML.
                Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            };
        });
        return builder;
    }
}
