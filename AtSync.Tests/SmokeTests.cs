namespace AtSync.Tests;
