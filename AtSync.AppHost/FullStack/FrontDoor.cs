namespace AtSync.AppHost;

/// <summary>
/// The published deployment's one public entrance (README: Front door): nginx terminating TLS, redirecting HTTP to HTTPS,
/// adding the security headers and rate-limiting the OAuth endpoints, with <c>/atproto/</c> going to the linking
/// service and everything else to phpBB (docker/proxy/nginx.conf). Published only: under <c>dotnet run</c> the forum
/// and the linking service are reached directly on loopback http, as AT OAuth allows for localhost clients.
/// </summary>
internal static class FrontDoor
{
    public const string Image = "docker.io/library/nginx";
    public const string ImageTag = "1.30.1-alpine";
    /// <summary>The multi-platform index digest of <see cref="ImageTag"/> (verify: docker buildx imagetools inspect nginx:1.30.1-alpine).</summary>
    public const string ImageDigest = "sha256:c819f83c54b0361f5557601bf5eb4943d09360e7a7fdf426afc466570f45874d";

    /// <summary>nginx listens above 1024 inside its container (it runs as the image's non-root <c>nginx</c>, 101).</summary>
    public const int ContainerHttpPort = 8000;
    public const int ContainerHttpsPort = 8443;
    public const int PublishedHttpPort = 80;
    public const int PublishedHttpsPort = 443;

    public const string ConfigSource = "../docker/proxy/nginx.conf";
    public const string ConfigTarget = "/etc/nginx/nginx.conf";
    /// <summary>The certificate chain (<c>fullchain.pem</c>) and its key (<c>privkey.pem</c>), git-ignored, mounted read-only.</summary>
    public const string TlsSource = "../secrets/tls";
    public const string TlsTarget = "/etc/nginx/tls";

    public static void Add(IDistributedApplicationBuilder builder, IResourceBuilder<ContainerResource> forum, IResourceBuilder<ProjectResource> linking)
    {
        builder.AddContainer("proxy", Image, ImageTag)
            .WithImageSHA256(ImageDigest["sha256:".Length..])
            .WithBindMount(ConfigSource, ConfigTarget, isReadOnly: true)
            .WithBindMount(TlsSource, TlsTarget, isReadOnly: true)
            .WithHttpEndpoint(port: PublishedHttpPort, targetPort: ContainerHttpPort, name: "http")
            .WithHttpsEndpoint(port: PublishedHttpsPort, targetPort: ContainerHttpsPort, name: "https")
            .WithExternalHttpEndpoints()
            .WaitFor(forum)
            .WaitFor(linking)
            .PublishAsDockerComposeService((resource, service) => ComposeDeployment.Proxy(service));
    }
}
