using System.Globalization;
using System.Text;

namespace AtSync.Tests.Deployment.Live;

/// <summary>One measured figure of the deployment test with the bound it is held to.</summary>
public sealed record DeploymentFigure(string Measure, string Value, string Bound, bool Met);

/// <summary>
/// The deployment test's figures: each measure with its value and bound, printed as a markdown table and written to
/// <c>$ATSYNC_ARTIFACTS/deployment-figures.md</c> when that folder is given (.ci/run gives artifacts/ci). Every
/// figure is recorded before it is asserted, so a failing run still leaves the whole table behind.
/// </summary>
public sealed class DeploymentFigures
{
    public const string ArtifactsVariable = "ATSYNC_ARTIFACTS";

    private readonly List<DeploymentFigure> _figures = [];
    private readonly List<string> _notes = [];

    public IReadOnlyList<DeploymentFigure> All => _figures;

    public void Seconds(string measure, double seconds, double maxSeconds) =>
        Add(measure, seconds.ToString("F1", CultureInfo.InvariantCulture) + " s", "< " + maxSeconds.ToString(CultureInfo.InvariantCulture) + " s", seconds < maxSeconds);

    public void Count(string measure, long value, long expected) =>
        Add(measure, value.ToString(CultureInfo.InvariantCulture), "= " + expected.ToString(CultureInfo.InvariantCulture), value == expected);

    public void AtLeast(string measure, long value, long minimum) =>
        Add(measure, value.ToString(CultureInfo.InvariantCulture), "≥ " + minimum.ToString(CultureInfo.InvariantCulture), value >= minimum);

    public void Mebibytes(string measure, double value, double limit) =>
        Add(measure, value.ToString("F0", CultureInfo.InvariantCulture) + " MiB", "< " + limit.ToString("F0", CultureInfo.InvariantCulture) + " MiB (compose limit)", value < limit);

    public void Check(string measure, string value, string bound, bool met) => Add(measure, value, bound, met);

    public void Info(string measure, string value) => Add(measure, value, "(information)", true);

    public void Note(string note) => _notes.Add(note);

    private void Add(string measure, string value, string bound, bool met)
    {
        _figures.Add(new DeploymentFigure(measure, value, bound, met));
        Write();
    }

    public string Markdown()
    {
        var text = new StringBuilder();
        text.AppendLine("# Deployment test: docker-compose.generated.yml brought up for real").AppendLine();
        text.AppendLine("| measure | value | bound | met |").AppendLine("|---|---|---|---|");
        foreach (var f in _figures) text.AppendLine($"| {f.Measure} | {f.Value} | {f.Bound} | {(f.Met ? "yes" : "**NO**")} |");
        if (_notes.Count > 0)
        {
            text.AppendLine();
            foreach (var note in _notes) text.AppendLine("- " + note);
        }
        return text.ToString();
    }

    /// <summary>Writes the table where .ci/run collects it (no-op when no folder is given).</summary>
    public void Write()
    {
        var folder = Environment.GetEnvironmentVariable(ArtifactsVariable);
        if (string.IsNullOrWhiteSpace(folder)) return;
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "deployment-figures.md"), Markdown());
    }

    /// <summary>Fails with the whole table when any figure missed its bound.</summary>
    public void AssertAllMet()
    {
        var missed = _figures.Where(f => !f.Met).ToList();
        Assert.True(missed.Count == 0, "figures out of bounds: " + string.Join("; ", missed.Select(f => $"{f.Measure} = {f.Value} (bound {f.Bound})")) + "\n" + Markdown());
    }
}
