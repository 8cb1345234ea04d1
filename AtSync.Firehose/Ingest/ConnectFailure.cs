using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;

namespace AtSync.Firehose.Ingest;

/// <summary>
/// Why a stream's connect failed, in words an operator can act on (refused, no such host, TLS, timed out, …), and the
/// URL it tried without user info or query. Built from error codes, never from exception messages.
/// </summary>
public static class ConnectFailure
{
    public static string Describe(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
    }

    public static string Cause(Exception exception, TimeSpan connectTimeout)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is OperationCanceledException) return $"no answer within {connectTimeout.TotalSeconds:0.##} s";
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException socket:
                    return socket.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => "connection refused",
                        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
                        SocketError.TimedOut => "connection timed out",
                        SocketError.NetworkUnreachable or SocketError.HostUnreachable => "network unreachable",
                        SocketError.ConnectionReset => "connection reset",
                        var code => $"socket error {code}",
                    };
                case AuthenticationException:
                    return "TLS handshake failed";
            }
        }
        return exception switch
        {
            HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } http => $"HTTP request failed ({http.HttpRequestError})",
            WebSocketException ws when ws.WebSocketErrorCode != WebSocketError.Faulted => $"WebSocket handshake failed ({ws.WebSocketErrorCode})",
            _ => $"{exception.GetType().Name}",
        };
    }
}
