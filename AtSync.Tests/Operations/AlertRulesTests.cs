namespace AtSync.Tests.Operations;

/// <summary>ops/prometheus/alerts.yml, unit-tested with promtool (Debian's prometheus package) as part of the suite.</summary>
public sealed class AlertRulesTests
{
    private static readonly string[] RequiredAlerts =
    [
        "AtSyncCursorStale", "AtSyncQueueBacklog", "AtSyncDeadLetters", "AtSyncContainerRestarting", "AtSyncContainerMemoryHigh",
        "AtSyncMysqlConnectionsHigh",
    ];

    [Fact]
    public void Promtool_accepts_the_rules_and_the_prometheus_configuration()
    {
        var rules = OpsFiles.Promtool(OpsFiles.PrometheusDir, "check", "rules", "alerts.yml");
        Assert.True(rules.ExitCode == 0, rules.Output);
        Assert.Contains("SUCCESS: 6 rules found", rules.Output, StringComparison.Ordinal);
        var config = OpsFiles.Promtool(OpsFiles.PrometheusDir, "check", "config", "prometheus.yml");
        Assert.True(config.ExitCode == 0, config.Output);
    }

    [Fact]
    public void Promtool_rule_tests_pass()
    {
        var (code, output) = OpsFiles.Promtool(OpsFiles.PrometheusDir, "test", "rules", "alerts.test.yml");
        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_threshold_of_the_deployment_brief_has_an_alert_and_each_alert_is_tested_quiet_and_firing()
    {
        Assert.Equal(RequiredAlerts.Order(), OpsFiles.AlertRules().Select(r => r.Name).Order());
        var tests = OpsFiles.LoadYaml(OpsFiles.AlertTestsFile);
        var cases = ((YamlDotNet.RepresentationModel.YamlSequenceNode)tests["tests"])
            .Cast<YamlDotNet.RepresentationModel.YamlMappingNode>()
            .SelectMany(t => (YamlDotNet.RepresentationModel.YamlSequenceNode)t["alert_rule_test"])
            .Cast<YamlDotNet.RepresentationModel.YamlMappingNode>()
            .Select(c => (Name: c["alertname"].ToString(), Fires: ((YamlDotNet.RepresentationModel.YamlSequenceNode)c["exp_alerts"]).Children.Count > 0))
            .ToList();
        foreach (var alert in RequiredAlerts)
        {
            Assert.True(cases.Count(c => c.Name == alert && !c.Fires) >= 2, $"{alert}: needs a case before it fires and one after it cleared");
            Assert.Contains((alert, true), cases);
        }
    }

    /// <summary>The rule tests catch a rule that fires too early: a lowered threshold or a shortened <c>for:</c> fails them.</summary>
    [Theory]
    [InlineData("max(atsync_queue_pending) > 100", "max(atsync_queue_pending) > 99", "AtSyncQueueBacklog")]
    [InlineData("for: 10m", "for: 5m", "AtSyncQueueBacklog")]
    [InlineData("> 300", "> 299", "AtSyncCursorStale")]
    [InlineData("[1h]) > 3", "[1h]) > 2", "AtSyncContainerRestarting")]
    [InlineData("> 0) > 0.8", "> 0) > 0.79", "AtSyncContainerMemoryHigh")]
    public void A_rule_that_fires_too_early_fails_the_rule_tests(string original, string mutated, string alert)
    {
        var dir = Directory.CreateTempSubdirectory("atsync-alerts-");
        try
        {
            var rules = File.ReadAllText(OpsFiles.AlertsFile);
            Assert.Contains(original, rules, StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(dir.FullName, "alerts.yml"), rules.Replace(original, mutated, StringComparison.Ordinal));
            File.Copy(OpsFiles.AlertTestsFile, Path.Combine(dir.FullName, "alerts.test.yml"));
            var (code, output) = OpsFiles.Promtool(dir.FullName, "test", "rules", "alerts.test.yml");
            Assert.NotEqual(0, code);
            Assert.Contains($"alertname: {alert}", output, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
