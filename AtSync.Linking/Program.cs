using AtSync.Core.Settings;
using AtSync.Core.Storage;
using AtSync.Linking;

var builder = WebApplication.CreateBuilder(args);
builder.AddLogLevelSetting();
builder.AddServiceDefaults();
builder.AddAtSyncDatabase();
builder.AddLinking();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapLinking();
return await app.RunServiceAsync();
