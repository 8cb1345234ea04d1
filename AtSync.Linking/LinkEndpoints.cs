using System.Buffers.Text;
using System.Security.Cryptography;
using AtSync.AtProto.OAuth;
using AtSync.Core.Storage;
using AtSync.Linking.Accounts;
using AtSync.Linking.Pages;
using AtSync.Linking.Phpbb;
using Microsoft.AspNetCore.Antiforgery;
using static AtSync.Linking.Pages.Html;

namespace AtSync.Linking;

/// <summary>
/// The pages: the link form (handle or DID), the start of the sign-in (resolve, PAR, redirect), the callback (state,
/// iss, code exchange, sub), the "linked as" page, unlinking; and the client metadata document and JWKS. Every page
/// needs a signed-in phpBB member (from phpBB's cookies); every failure is a clear page and stores nothing.
/// </summary>
internal static class LinkEndpoints
{
    public static readonly TimeSpan SignInLifetime = TimeSpan.FromMinutes(10);

    public static void Map(WebApplication app, LinkingClient client)
    {
        app.MapGet(client.Path("link"), LinkPageAsync);
        app.MapPost(client.Path("link"), StartAsync);
        app.MapGet(client.Path("oauth/callback"), CallbackAsync);
        app.MapPost(client.Path("unlink"), UnlinkAsync);
        app.MapGet(client.Path("oauth/client-metadata.json"), (LinkingClient c) => Results.Json(c.MetadataDocument()));
        app.MapGet(client.Path("oauth/jwks.json"), (LinkingClient c) =>
            c.SigningKey is { } key ? Results.Json(ClientMetadata.Jwks(key)) : Results.NotFound());
    }

    private static string Back(LinkingClient client) => client.Path("link");

    private static IResult NotSignedIn(LinkingClient client, PhpbbSessionProblem problem) => problem switch
    {
        PhpbbSessionProblem.Anonymous => Error("Sign in to the forum first",
            "You are browsing the forum as a guest. Sign in to the forum, then come back to link your AT Protocol account.", Back(client), 401),
        PhpbbSessionProblem.Expired => Error("Your forum session has expired",
            "Your forum session has expired. Sign in to the forum again, then come back to link your account.", Back(client), 401),
        PhpbbSessionProblem.NotAllowed => Error("This forum account cannot be linked",
            "This forum account is not active, so it cannot be linked.", Back(client), 403),
        _ => Error("Sign in to the forum first",
            "You are not signed in to the forum. Sign in to the forum, then come back to link your AT Protocol account.", Back(client), 401),
    };

    private static async Task<IResult> LinkPageAsync(HttpContext context, PhpbbSessions sessions, LinkedAccounts accounts, LinkingClient client,
        IAntiforgery antiforgery)
    {
        var (member, problem) = await sessions.IdentifyAsync(context.Request, context.RequestAborted);
        if (member is null) return NotSignedIn(client, problem!.Value);
        var csrf = antiforgery.GetAndStoreTokens(context);
        var hidden = $"""<input type="hidden" name="{E(csrf.FormFieldName)}" value="{E(csrf.RequestToken)}">""";
        var linked = await accounts.FindAsync(member.UserId, context.RequestAborted);
        if (linked is not null)
        {
            var name = linked.Handle.Length > 0 ? "@" + linked.Handle : linked.Did;
            return Page("Your AT Protocol account", $"""
                <p id="linked" role="status">Linked as <strong>{E(name)}</strong>.</p>
                <p>Forum member: {E(member.Username)}. Your new forum posts are published to your AT Protocol account ({E(linked.Did)}).</p>
                <form method="post" action="{E(client.Path("unlink"))}">
                {hidden}
                <button type="submit">Unlink this account</button>
                </form>
                """);
        }
        return Page("Link your AT Protocol account", $"""
            <p>Forum member: {E(member.Username)}. Link an AT Protocol (Bluesky) account to publish your forum posts there.</p>
            <form method="post" action="{E(client.Path("link"))}">
            {hidden}
            <p><label for="identifier">Your handle or DID</label><br>
            <input id="identifier" name="identifier" type="text" required autocomplete="username" spellcheck="false"
              autocapitalize="none" placeholder="alice.example.com" maxlength="300"></p>
            <p><button type="submit">Continue to sign in</button></p>
            </form>
            """);
    }

    private static async Task<IResult> StartAsync(HttpContext context, PhpbbSessions sessions, LinkingClient client, IAntiforgery antiforgery,
        AccountResolver resolver, OAuthClient oauth, PendingSignIns pending, TimeProvider time, ILogger<LinkingClient> logger)
    {
        var (member, problem) = await sessions.IdentifyAsync(context.Request, context.RequestAborted);
        if (member is null) return NotSignedIn(client, problem!.Value);
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Error("Please try again", "The form had expired. Open the linking page again and resubmit.", Back(client), 400);
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var identifier = form["identifier"].ToString().Trim();
        if (identifier.Length is 0 or > 300)
        {
            return Error("Enter your handle", "Enter your handle (like alice.example.com) or your DID.", Back(client), 400);
        }
        try
        {
            var account = await resolver.ResolveAsync(identifier, context.RequestAborted);
            using var dpopKey = DpopKey.Generate();
            var pkce = Pkce.Create();
            var state = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
            var scope = OAuthScopes.For(account.Server.ScopesSupported, LinkingClient.Collections);
            var pushed = await oauth.PushAuthorizationAsync(account.Server,
                new AuthorizationRequest(client.RedirectUri, scope, state, pkce, account.Handle?.Value ?? account.Did.Value), dpopKey, context.RequestAborted);
            await pending.SaveAsync(new PendingSignIn(state, member.UserId, account.Did.Value, account.Handle?.Value ?? "", account.Pds.ToString(),
                account.Server.Issuer, pkce.Verifier, dpopKey.ExportPrivateKey(), scope, time.GetUtcNow() + SignInLifetime), context.RequestAborted);
            LinkingLog.Started(logger, member.UserId, account.Did.Value, account.Server.Issuer);
            return Results.Redirect(pushed.AuthorizeUrl.ToString(), permanent: false, preserveMethod: false);
        }
        catch (OAuthException ex)
        {
            LinkingLog.OAuthFailed(logger, ex.Error, ex.Message);
            return ex.Error == "invalid_identifier"
                ? Error("Account not found", $"We could not find that account: {ex.Message}.", Back(client), 400)
                : Error("Sign-in could not start", $"Your account's server could not be used for signing in ({ex.Message}). Try again later.", Back(client), 502);
        }
    }

    private static async Task<IResult> CallbackAsync(HttpContext context, PhpbbSessions sessions, LinkingClient client, PendingSignIns pending,
        AccountResolver resolver, OAuthClient oauth, LinkedAccounts accounts, ILogger<LinkingClient> logger)
    {
        var (member, problem) = await sessions.IdentifyAsync(context.Request, context.RequestAborted);
        if (member is null) return NotSignedIn(client, problem!.Value);
        var query = context.Request.Query;
        var signIn = await pending.TakeAsync(query["state"].ToString(), context.RequestAborted);
        if (signIn is null)
        {
            LinkingLog.Refused(logger, "unknown, expired or already used state");
            return Error("This sign-in is no longer valid",
                "This sign-in link is not valid, has expired, or was already used. Start again from the linking page.", Back(client), 400);
        }
        if (signIn.UserId != member.UserId)
        {
            LinkingLog.Refused(logger, "callback for another forum member");
            return Error("This sign-in belongs to someone else", "This sign-in was started by another forum member. Start again from the linking page.", Back(client), 403);
        }
        if (!string.Equals(query["iss"].ToString(), signIn.Issuer, StringComparison.Ordinal))
        {
            LinkingLog.Refused(logger, "iss is not the authorization server the sign-in started at");
            return Error("Unexpected sign-in server",
                "The answer did not come from the server your sign-in started at. Start again from the linking page.", Back(client), 400);
        }
        if (query["error"].ToString() is { Length: > 0 } error)
        {
            LinkingLog.Refused(logger, "the authorization server answered " + BoundedText(error));
            return Error("Access was not granted", error == "access_denied"
                ? "You did not approve the link. Nothing changed."
                : "Your account's server did not grant access. Start again from the linking page.", Back(client), 400);
        }
        var code = query["code"].ToString();
        if (code.Length is 0 or > 2048)
        {
            return Error("This sign-in is no longer valid", "The answer had no authorization code. Start again from the linking page.", Back(client), 400);
        }
        try
        {
            var server = await resolver.AuthorizationServerAsync(signIn.Issuer, context.RequestAborted);
            using var dpopKey = DpopKey.ImportPrivateKey(signIn.DpopPrivateKey);
            var tokens = await oauth.ExchangeCodeAsync(server, code, client.RedirectUri, Pkce.FromVerifier(signIn.PkceVerifier), dpopKey, context.RequestAborted);
            if (tokens.Subject.Value != signIn.Did)
            {
                LinkingLog.Refused(logger, "sub is not the DID that was resolved");
                await RevokeQuietlyAsync(oauth, server, tokens, dpopKey);
                return Error("A different account signed in",
                    "The server signed in a different account than the one you entered. Start again from the linking page.", Back(client), 400);
            }
            if (!LinkingClient.Collections.All(c => OAuthScopes.AllowsWrites(tokens.Scope, c)))
            {
                LinkingLog.Refused(logger, "the granted scope does not allow writing forum posts");
                await RevokeQuietlyAsync(oauth, server, tokens, dpopKey);
                return Error("Permission not granted", "Publishing forum posts needs permission to write them to your account. Start again and approve it.", Back(client), 400);
            }
            if (!await accounts.SaveOAuthAsync(member.UserId, signIn.Handle, new Uri(signIn.PdsUrl), server, tokens, dpopKey, context.RequestAborted))
            {
                LinkingLog.Refused(logger, "the DID is linked to another forum member");
                await RevokeQuietlyAsync(oauth, server, tokens, dpopKey);
                return Error("Already linked", "That AT Protocol account is already linked to another forum member.", Back(client), 409);
            }
            LinkingLog.Linked(logger, member.UserId, signIn.Did, tokens.Scope);
            return Results.Redirect(client.Path("link"), permanent: false);
        }
        catch (OAuthException ex)
        {
            LinkingLog.OAuthFailed(logger, ex.Error, ex.Message);
            return Error("Sign-in failed", $"Your account's server did not complete the sign-in ({ex.Error}). Start again from the linking page.", Back(client), 502);
        }
    }

    private static async Task<IResult> UnlinkAsync(HttpContext context, PhpbbSessions sessions, LinkingClient client, IAntiforgery antiforgery,
        LinkedAccounts accounts, AccountResolver resolver, OAuthClient oauth, ILogger<LinkingClient> logger)
    {
        var (member, problem) = await sessions.IdentifyAsync(context.Request, context.RequestAborted);
        if (member is null) return NotSignedIn(client, problem!.Value);
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Error("Please try again", "The form had expired. Open the linking page again and resubmit.", Back(client), 400);
        }
        var revoked = false;
        var removed = await accounts.UnlinkAsync(member.UserId, async session =>
        {
            try
            {
                var server = await resolver.AuthorizationServerAsync(session.Issuer, context.RequestAborted);
                if (session.DpopPrivateKey is null) return;
                using var key = DpopKey.ImportPrivateKey(session.DpopPrivateKey);
                if (session.RefreshToken is not null) await oauth.RevokeAsync(server, session.RefreshToken, key, context.RequestAborted);
                if (session.AccessToken is not null) await oauth.RevokeAsync(server, session.AccessToken, key, context.RequestAborted);
                revoked = true;
            }
            catch (OAuthException ex)
            {
                LinkingLog.OAuthFailed(logger, ex.Error, ex.Message);
            }
        }, context.RequestAborted);
        if (removed) LinkingLog.Unlinked(logger, member.UserId, revoked);
        return Page("Account unlinked", $"""
            <p id="unlinked" role="status">Your AT Protocol account is no longer linked{(removed && !revoked ? " (its server could not confirm the sign-out; you can also revoke the app in your account's settings)" : "")}.</p>
            <p><a href="{E(Back(client))}">Link an account</a></p>
            """);
    }

    private static async Task RevokeQuietlyAsync(OAuthClient oauth, AuthorizationServerMetadata server, TokenSet tokens, DpopKey key)
    {
        try
        {
            if (tokens.RefreshToken is not null) await oauth.RevokeAsync(server, tokens.RefreshToken, key, CancellationToken.None);
            await oauth.RevokeAsync(server, tokens.AccessToken, key, CancellationToken.None);
        }
        catch (OAuthException)
        {
            // Nothing was stored; the unused session expires at the server.
        }
    }

    private static string BoundedText(string text) => new([.. text.Where(c => char.IsAsciiLetterOrDigit(c) || c == '_').Take(64)]);
}
