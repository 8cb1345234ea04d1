using System.Text.Json;

namespace AtSync.AtProto.Xrpc;

public partial class XrpcClient
{
    public const string CreateRecordNsid = "com.atproto.repo.createRecord";
    public const string PutRecordNsid = "com.atproto.repo.putRecord";
    public const string DeleteRecordNsid = "com.atproto.repo.deleteRecord";
    public const string RefreshSessionNsid = "com.atproto.server.refreshSession";
    public const string CreateSessionNsid = "com.atproto.server.createSession";
    public const string ResolveHandleNsid = "com.atproto.identity.resolveHandle";

    /// <summary><c>com.atproto.repo.createRecord</c> with the user's access JWT.</summary>
    public Task<XrpcResponse<RecordWriteOutput>> CreateRecordAsync(CreateRecordInput input, string accessToken, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentException.ThrowIfNullOrEmpty(accessToken);
        return ProcedureAsync(CreateRecordNsid, input, XrpcJsonContext.Default.CreateRecordInput,
            XrpcJsonContext.Default.RecordWriteOutput, accessToken, cancellationToken);
    }

    /// <summary><c>com.atproto.repo.putRecord</c> (create or replace at a known rkey).</summary>
    public Task<XrpcResponse<RecordWriteOutput>> PutRecordAsync(PutRecordInput input, string accessToken, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentException.ThrowIfNullOrEmpty(accessToken);
        return ProcedureAsync(PutRecordNsid, input, XrpcJsonContext.Default.PutRecordInput,
            XrpcJsonContext.Default.RecordWriteOutput, accessToken, cancellationToken);
    }

    /// <summary><c>com.atproto.repo.deleteRecord</c>. Deleting a record that does not exist succeeds.</summary>
    public async Task<XrpcResponse<DeleteRecordOutput>> DeleteRecordAsync(DeleteRecordInput input, string accessToken, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentException.ThrowIfNullOrEmpty(accessToken);
        var body = JsonSerializer.SerializeToUtf8Bytes(input, XrpcJsonContext.Default.DeleteRecordInput);
        var raw = await ProcedureAsync(DeleteRecordNsid, body, accessToken, cancellationToken).ConfigureAwait(false);
        if (raw.Value.Length == 0)
        {
            return new XrpcResponse<DeleteRecordOutput>(new DeleteRecordOutput(), raw.StatusCode, raw.RateLimit);
        }
        return Decode(DeleteRecordNsid, new RawResponse(raw.Value, raw.StatusCode, raw.RateLimit),
            XrpcJsonContext.Default.DeleteRecordOutput, accessToken);
    }

    /// <summary><c>com.atproto.server.refreshSession</c>: the bearer is the <em>refresh</em> JWT; returns new tokens.</summary>
    public Task<XrpcResponse<SessionOutput>> RefreshSessionAsync(string refreshToken, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(refreshToken);
        return RefreshCoreAsync(refreshToken, cancellationToken);
    }

    private async Task<XrpcResponse<SessionOutput>> RefreshCoreAsync(string refreshToken, CancellationToken cancellationToken)
    {
        var raw = await ProcedureAsync(RefreshSessionNsid, utf8JsonInput: null, refreshToken, cancellationToken).ConfigureAwait(false);
        return Decode(RefreshSessionNsid, new RawResponse(raw.Value, raw.StatusCode, raw.RateLimit),
            XrpcJsonContext.Default.SessionOutput, refreshToken);
    }

    /// <summary>
    /// <c>com.atproto.server.createSession</c>: signs in with an identifier (handle, DID or e-mail) and a password (an app
    /// password for services). A server that echoes the password back in an error has it redacted.
    /// </summary>
    public async Task<XrpcResponse<SessionOutput>> CreateSessionAsync(string identifier, string password, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        ArgumentException.ThrowIfNullOrEmpty(password);
        try
        {
            return await ProcedureAsync(CreateSessionNsid, new CreateSessionInput(identifier, password), XrpcJsonContext.Default.CreateSessionInput,
                XrpcJsonContext.Default.SessionOutput, bearerToken: null, cancellationToken).ConfigureAwait(false);
        }
        catch (XrpcException ex) when (ex.Message.Contains(password, StringComparison.Ordinal))
        {
            throw new XrpcException(ex.Kind, ex.Nsid, ex.StatusCode, ex.Error, Sanitize(ex.ErrorMessage, password), ex.RateLimit);
        }
    }

    /// <summary><c>com.atproto.identity.resolveHandle</c> (no authentication).</summary>
    public Task<XrpcResponse<ResolveHandleOutput>> ResolveHandleAsync(string handle, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(handle);
        return QueryAsync(ResolveHandleNsid, [new("handle", handle)], XrpcJsonContext.Default.ResolveHandleOutput, null, cancellationToken);
    }
}
