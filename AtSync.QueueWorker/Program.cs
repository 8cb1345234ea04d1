using AtSync.Core.Settings;
using AtSync.Core.Storage;
using AtSync.QueueWorker;

var builder = WebApplication.CreateBuilder(args);
builder.AddLogLevelSetting();
builder.AddServiceDefaults();
builder.AddAtSyncDatabase();
builder.AddForumSettings(requireAccessToken: true);
builder.AddQueueWorker();

var app = builder.Build();
app.MapDefaultEndpoints();
return await app.RunServiceAsync();
