using AtSync.Core.Settings;
using AtSync.Core.Storage;
using AtSync.QueueWorker;

var builder = WebApplication.CreateBuilder(args);
builder.AddLogLevelSetting();
builder.AddServiceDefaults();
builder.AddAtSyncDatabase();
builder.AddForumSettings();
builder.AddQueueWorker();

var app = builder.Build();
app.MapDefaultEndpoints();
return await app.RunServiceAsync();
