package catalog

// BoolSettings are the boolean account settings (SPEC §5) a feature may be
// gated on with `setting:` (R13). The settings themselves, with their types
// and ranges, belong to the account; the catalog only names the switches.
var BoolSettings = []string{
	"qm.analyze_recordings",
	"qm.track_silence",
	"qm.track_crosstalk",
	"qm.screen_recording",
	"qm.recording_banner",
}

// accountService is the service every catalog has: account roles are
// independent of service roles (R11), and only they may grant
// account.settings.edit (R13).
func accountService() rawService {
	all := []string{
		"account.settings.edit", "account.users.manage", "account.licenses.assign",
		"account.roles.manage", "account.billing.view", "account.reports.view",
		"account.audit.view",
	}
	desc := map[string]string{
		"account.settings.edit":   "Edit account settings, including the Quality Management section",
		"account.users.manage":    "Create, change and deactivate users",
		"account.licenses.assign": "Assign and unassign licenses",
		"account.roles.manage":    "Assign roles and edit custom roles",
		"account.billing.view":    "See subscriptions, usage and statements",
		"account.reports.view":    "See reports",
		"account.audit.view":      "See the audit trail",
	}
	s := rawService{key: "account", title: "Account administration", builtIn: true}
	for _, p := range all {
		s.permissions = append(s.permissions, rawPermission{key: p, description: desc[p]})
	}
	s.roles = []rawRole{
		{name: "owner", description: "Owns the account; can do everything in it", permissions: refs(all)},
		{name: "admin", description: "Administers the account", permissions: refs(all)},
		{name: "member", description: "An ordinary user: no administration"},
	}
	return s
}

func refs(keys []string) []ref {
	out := make([]ref, len(keys))
	for i, k := range keys {
		out[i] = ref{key: k}
	}
	return out
}
