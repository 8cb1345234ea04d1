using BenchmarkDotNet.Running;

if (args.FirstOrDefault() == "bench-firehose")
{
    return await AtSync.Benchmarks.FirehoseBench.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
