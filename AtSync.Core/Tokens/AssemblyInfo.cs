using System.Runtime.CompilerServices;

// Token test vectors seal with a fixed nonce (TokenCipher.Encrypt(string, nonce)), which only tests may do.
[assembly: InternalsVisibleTo("AtSync.Tests")]
