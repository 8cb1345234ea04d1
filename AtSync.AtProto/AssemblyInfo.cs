namespace AtSync.AtProto;
