using AtSync.Core.Settings;
using AtSync.Core.Storage;
using AtSync.Firehose;

var builder = WebApplication.CreateBuilder(args);
builder.AddLogLevelSetting();
builder.AddServiceDefaults();
builder.AddAtSyncDatabase();
builder.AddFirehose();

var app = builder.Build();
app.MapDefaultEndpoints();
return await app.RunServiceAsync();
