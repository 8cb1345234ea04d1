using AtSync.Core.Settings;
using AtSync.Core.Storage;

var builder = WebApplication.CreateBuilder(args);
builder.AddLogLevelSetting();
builder.AddServiceDefaults();
builder.AddAtSyncDatabase();
builder.AddForumSettings();
builder.AddNetworkSettings();

var app = builder.Build();
app.MapDefaultEndpoints();
return await app.RunServiceAsync();
