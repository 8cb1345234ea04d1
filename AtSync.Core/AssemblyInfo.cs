namespace AtSync.Core;
