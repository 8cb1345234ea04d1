using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace AtSync.AtProto.Crypto;

/// <summary>
/// SHA-256 for the hot paths (a CID per block, an MST key's layer, a commit's signed bytes). The platform's one-shot
/// <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/> goes through OpenSSL 3's EVP layer, which costs about
/// 0.7 µs of setup per call: more than hashing a 450-byte block takes. Where OpenSSL's libcrypto 3 is loadable (Linux),
/// this calls its SHA256_Init/Update/Final directly, with the context on the stack: the same code (SHA-NI where the CPU
/// has it), without the per-call setup (AtSync.Benchmarks <c>bench-sync</c>, VerifyBackendBenchmarks). The library is
/// checked against the platform's digest on known inputs before use; anywhere else, or if that check fails, every call
/// is <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/>. Thread-safe (no shared state after start).
/// </summary>
public static unsafe class Sha256Digest
{
    public const int Length = 32;

    /// <summary>Inputs up to this size hash without a GC transition (under a microsecond of native code).</summary>
    private const int SuppressTransitionLimit = 1024;

    /// <summary>OpenSSL's SHA256_CTX is 112 bytes; room to spare.</summary>
    private const int ContextSize = 256;

    private static readonly Native? Lib = Native.TryLoad();

    /// <summary>Which implementation hashes: <c>libcrypto SHA256_*</c> or <c>platform SHA256</c>.</summary>
    public static string Backend => Lib is null ? "platform SHA256" : "libcrypto SHA256_*";

    /// <summary>Writes SHA-256(<paramref name="data"/>) into the first 32 bytes of <paramref name="digest"/>.</summary>
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> digest)
    {
        if (digest.Length < Length)
        {
            throw new ArgumentException("A SHA-256 digest needs 32 bytes.", nameof(digest));
        }

        var lib = Lib;
        if (lib is null)
        {
            SHA256.HashData(data, digest);
            return;
        }

        lib.Hash(data, digest);
    }

    /// <summary>The function pointers into libcrypto; <see cref="TryLoad"/> checks them before they are used.</summary>
    private sealed class Native
    {
        private readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int> _initFast;
        private readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, byte*, nuint, int> _updateFast;
        private readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, byte*, int> _finalFast;
        private readonly delegate* unmanaged[Cdecl]<byte*, byte*, nuint, int> _update;

        private Native(nint init, nint update, nint final)
        {
            _initFast = (delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int>)init;
            _updateFast = (delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, byte*, nuint, int>)update;
            _finalFast = (delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, byte*, int>)final;
            _update = (delegate* unmanaged[Cdecl]<byte*, byte*, nuint, int>)update;
        }

        public void Hash(ReadOnlySpan<byte> data, Span<byte> digest)
        {
            var ctx = stackalloc byte[ContextSize];
            fixed (byte* d = data)
            fixed (byte* md = digest)
            {
                var ok = _initFast(ctx) == 1
                    && (data.Length <= SuppressTransitionLimit ? _updateFast(ctx, d, (nuint)data.Length) : _update(ctx, d, (nuint)data.Length)) == 1
                    && _finalFast(md, ctx) == 1;
                if (!ok)
                {
                    // Never expected (these calls only fail for a null context); the platform's digest is always right.
                    SHA256.HashData(data, digest);
                }
            }
        }

        public static Native? TryLoad()
        {
            if (!OperatingSystem.IsLinux())
            {
                return null;
            }

            try
            {
                if (!NativeLibrary.TryLoad("libcrypto.so.3", typeof(Sha256Digest).Assembly, DllImportSearchPath.SafeDirectories, out var handle)
                    || !NativeLibrary.TryGetExport(handle, "SHA256_Init", out var init)
                    || !NativeLibrary.TryGetExport(handle, "SHA256_Update", out var update)
                    || !NativeLibrary.TryGetExport(handle, "SHA256_Final", out var final))
                {
                    return null;
                }

                var native = new Native(init, update, final);
                return native.AgreesWithPlatform() ? native : null;
            }
            catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException or EntryPointNotFoundException)
            {
                return null;
            }
        }

        /// <summary>Known answers: the empty input, one and several blocks, and a length past the no-transition limit.</summary>
        private bool AgreesWithPlatform()
        {
            Span<byte> ours = stackalloc byte[Length];
            Span<byte> theirs = stackalloc byte[Length];
            var input = new byte[SuppressTransitionLimit + 100];
            for (var i = 0; i < input.Length; i++)
            {
                input[i] = (byte)((i * 31) + 7);
            }

            foreach (var length in (ReadOnlySpan<int>)[0, 3, 55, 56, 64, 449, 1000, input.Length])
            {
                Hash(input.AsSpan(0, length), ours);
                SHA256.HashData(input.AsSpan(0, length), theirs);
                if (!ours.SequenceEqual(theirs))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
