package entitlement

// BuildAccess works out the access set afresh, bypassing the memo, for the
// benchmark of its cost.
func (e *Entitlements) BuildAccess(signedIn bool) Access { return e.buildAccess(signedIn) }
