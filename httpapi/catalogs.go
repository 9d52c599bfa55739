package httpapi

import (
	"net/http"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
)

type catalogSummary struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Title    string `json:"title"`
	Features int    `json:"features"`
	Licenses int    `json:"licenses"`
	Services int    `json:"services"`
}

type catalogView struct {
	Name     string        `json:"name"`
	Version  string        `json:"version"`
	Title    string        `json:"title"`
	Features []featureView `json:"features"`
	Licenses []licenseView `json:"licenses"`
	Services []serviceView `json:"services"`
}

type featureView struct {
	Key         string `json:"key"`
	Description string `json:"description"`
	Setting     string `json:"setting,omitempty"`
}

type licenseView struct {
	Key            string         `json:"key"`
	Title          string         `json:"title"`
	Kind           string         `json:"kind"`
	Scope          string         `json:"scope"`
	Sale           string         `json:"sale"`
	Models         []string       `json:"models"`
	Grants         []string       `json:"grants"`
	Features       []string       `json:"features"`
	Includes       []string       `json:"includes,omitempty"`
	RequiresOneOf  []string       `json:"requires_one_of,omitempty"`
	Coverage       []string       `json:"coverage,omitempty"`
	ExclusiveGroup string         `json:"exclusive_group,omitempty"`
	MaxPerAccount  int            `json:"max_per_account,omitempty"`
	StorageGB      map[string]int `json:"storage_gb,omitempty"`
	Storage        bool           `json:"storage,omitempty"`
	Data           bool           `json:"data,omitempty"`
	RoleRequired   bool           `json:"role_required,omitempty"`
	Unit           string         `json:"unit,omitempty"`
}

type serviceView struct {
	Key         string           `json:"key"`
	Title       string           `json:"title"`
	Requires    string           `json:"requires,omitempty"`
	DefaultRole string           `json:"default_role,omitempty"`
	Permissions []permissionView `json:"permissions"`
	Roles       []roleView       `json:"roles"`
}

type permissionView struct {
	Key         string `json:"key"`
	Description string `json:"description"`
}

type roleView struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
	Licenses    []string `json:"licenses"`
}

func (s *Server) listCatalogs(w http.ResponseWriter, r *http.Request) {
	items := []catalogSummary{}
	for _, name := range s.Catalogs.Names() {
		c := s.Catalogs[name]
		items = append(items, catalogSummary{Name: c.Name, Version: c.Version, Title: c.Title,
			Features: len(c.Features), Licenses: len(c.Licenses), Services: len(c.Services)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) getCatalog(w http.ResponseWriter, r *http.Request) {
	c, ok := s.Catalogs[r.PathValue("catalog")]
	if !ok {
		writeError(w, r, s.Logger, seatkeeper.Errorf(seatkeeper.ENotFound, "no catalog %q", r.PathValue("catalog")))
		return
	}
	writeJSON(w, http.StatusOK, viewCatalog(c))
}

func viewCatalog(c *catalog.Catalog) catalogView {
	v := catalogView{Name: c.Name, Version: c.Version, Title: c.Title,
		Features: []featureView{}, Licenses: []licenseView{}, Services: []serviceView{}}
	for _, f := range c.Features {
		v.Features = append(v.Features, featureView{Key: f.Key, Description: f.Description, Setting: f.Setting})
	}
	for _, l := range c.Licenses {
		lv := licenseView{
			Key: l.Key, Title: l.Title, Kind: l.Kind.String(), Scope: l.Scope.String(), Sale: l.Sale.String(),
			Grants: nonNil(l.Grants), Features: []string{}, Includes: l.Includes, RequiresOneOf: l.RequiresOneOf,
			Coverage: l.Coverage, ExclusiveGroup: l.ExclusiveGroup, MaxPerAccount: l.MaxPerAccount,
			Storage: l.Storage, Data: l.Data, RoleRequired: l.RoleRequired, Unit: l.Unit,
		}
		for _, m := range l.Models {
			lv.Models = append(lv.Models, m.String())
		}
		l.FeatureSet.Each(func(i int) { lv.Features = append(lv.Features, c.Features[i].Key) })
		if len(l.StorageGB) > 0 {
			lv.StorageGB = map[string]int{}
			for m, gb := range l.StorageGB {
				lv.StorageGB[m.String()] = gb
			}
		}
		v.Licenses = append(v.Licenses, lv)
	}
	for _, svc := range c.Services {
		sv := serviceView{Key: svc.Key, Title: svc.Title, Requires: svc.Requires, DefaultRole: svc.DefaultRole,
			Permissions: []permissionView{}, Roles: []roleView{}}
		for _, p := range svc.Permissions {
			sv.Permissions = append(sv.Permissions, permissionView{Key: p, Description: c.Permissions[c.PermissionIndex(p)].Description})
		}
		for _, r := range svc.Roles {
			sv.Roles = append(sv.Roles, roleView{Name: r.Name, Description: r.Description, Permissions: nonNil(r.Permissions), Licenses: nonNil(r.Licenses)})
		}
		v.Services = append(v.Services, sv)
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
