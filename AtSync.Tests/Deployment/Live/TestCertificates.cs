using System.Security.Cryptography.X509Certificates;

namespace AtSync.Tests.Deployment.Live;

/// <summary>Throwaway TLS certificates for one deployment run, made with openssl as an operator would make a self-signed one.</summary>
public static class TestCertificates
{
    /// <summary>
    /// A self-signed P-256 certificate for 127.0.0.1 (SAN IP and localhost), valid two days, as <paramref name="certificateFile"/>
    /// and <paramref name="keyFile"/> in <paramref name="directory"/> (and the certificate again as <paramref name="caFile"/>, the
    /// authority that signed it). Readable by every container user: test material only, deleted with the work folder.
    /// </summary>
    public static X509Certificate2 SelfSigned(string directory, string certificateFile, string keyFile, string? caFile = null)
    {
        Directory.CreateDirectory(directory);
        Chmod(directory, (UnixFileMode)0b111_101_101);
        var certificate = Path.Combine(directory, certificateFile);
        var key = Path.Combine(directory, keyFile);
        var result = CommandRunner.RunAsync("openssl",
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", certificate],
            timeout: TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        result.EnsureSuccess();
        if (caFile is not null) File.Copy(certificate, Path.Combine(directory, caFile), overwrite: true);
        foreach (var file in Directory.GetFiles(directory)) Chmod(file, (UnixFileMode)0b110_100_100);
        return X509Certificate2.CreateFromPem(File.ReadAllText(certificate));
    }

    /// <summary>Permissions the containers' users need (the deployment test runs on Linux only).</summary>
    public static void Chmod(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, mode);
    }
}
