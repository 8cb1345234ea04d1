using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("AtSync.Tests")]
[assembly: InternalsVisibleTo("AtSync.Benchmarks")]
