using System.Reflection;

namespace AtSync.Core.Storage;

/// <summary>Every <see cref="ISchemaMigration"/> in this assembly, in version order. Versions must be unique.</summary>
public static class SchemaMigrations
{
    private static readonly Lazy<IReadOnlyList<ISchemaMigration>> Catalog = new(Discover);

    public static IReadOnlyList<ISchemaMigration> All => Catalog.Value;

    private static IReadOnlyList<ISchemaMigration> Discover()
    {
        var migrations = typeof(ISchemaMigration).Assembly.GetTypes()
            .Where(type => type is { IsClass: true, IsAbstract: false } && typeof(ISchemaMigration).IsAssignableFrom(type))
            .Select(type => (ISchemaMigration)Activator.CreateInstance(type, nonPublic: true)!)
            .OrderBy(migration => migration.Version)
            .ToList();
        var duplicate = migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException(
                $"Schema migration version {duplicate.Key} is used by {string.Join(", ", duplicate.Select(m => m.GetType().Name))}.");
        }
        return migrations;
    }
}
