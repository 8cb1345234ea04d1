using System.Text.Encodings.Web;

namespace AtSync.Linking.Pages;

/// <summary>Plain, accessible pages: one language, a heading, a main landmark, labelled fields; everything shown is HTML-escaped.</summary>
public static class Html
{
    public static string E(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    public static IResult Page(string title, string body, int status = StatusCodes.Status200OK) => Results.Content($"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>{E(title)}</title>
        </head>
        <body>
        <main>
        <h1>{E(title)}</h1>
        {body}
        </main>
        </body>
        </html>
        """, "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);

    /// <summary>An error page: what went wrong and what to do, nothing stored.</summary>
    public static IResult Error(string title, string message, string backHref, int status) =>
        Page(title, $"""
            <p role="alert" id="error">{E(message)}</p>
            <p>Nothing was saved.</p>
            <p><a href="{E(backHref)}">Back to linking your account</a></p>
            """, status);
}
