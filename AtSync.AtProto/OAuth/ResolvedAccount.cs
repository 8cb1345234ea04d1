using AtSync.AtProto.Syntax;

namespace AtSync.AtProto.OAuth;

/// <summary>
/// Where an AT identity signs in: its DID, its handle (checked both ways: the handle resolves to the DID and the DID
/// document claims the handle), its PDS, and that PDS's authorization server.
/// </summary>
public sealed record ResolvedAccount(Did Did, Handle? Handle, Uri Pds, AuthorizationServerMetadata Server);
