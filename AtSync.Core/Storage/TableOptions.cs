namespace AtSync.Core.Storage;

/// <summary>SQL fragments shared by AtSync's table definitions (MySQL 8.0+ and MariaDB 10.6+).</summary>
public static class TableOptions
{
    /// <summary>InnoDB, utf8mb4, binary collation: identifiers (DIDs, AT-URIs, CIDs) compare exactly.</summary>
    public const string InnoDbUtf8Mb4 = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

    /// <summary>AT identifiers are ASCII: one byte a character keeps unique indexes within InnoDB's 3072-byte limit.</summary>
    public const string Ascii = "CHARACTER SET ascii COLLATE ascii_bin";
}
