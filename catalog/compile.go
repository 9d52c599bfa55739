package catalog

import "strings"

// compile turns a checked raw catalog into its immutable, indexed form. It
// runs only when check found no problem, so every reference resolves and
// the include graph has no cycle.
func compile(raw *rawCatalog) *Catalog {
	c := &Catalog{
		Name: raw.name, Version: raw.version, Title: raw.title,
		features: map[string]int{}, licenses: map[string]int{},
		services: map[string]int{}, permissions: map[string]int{},
	}
	for i, f := range raw.features {
		c.Features = append(c.Features, Feature{Index: i, Key: f.key, Description: f.description, Setting: f.setting.key})
		c.features[f.key] = i
	}
	for i, r := range raw.licenses {
		c.Licenses = append(c.Licenses, License{
			Index: i, Key: r.key, Title: r.title, Kind: r.kind, Scope: r.scope, Sale: r.sale,
			Models: r.models, Grants: keys(r.grants), Includes: keys(r.includes),
			RequiresOneOf: keys(r.requires), ExclusiveGroup: r.group, MaxPerAccount: r.max,
			Coverage: keys(r.coverage), StorageGB: r.storageGB, Storage: r.storage,
			Data: r.data, RoleRequired: r.roleRequired, Unit: r.unit,
		})
		c.licenses[r.key] = i
		if r.kind == KindPlan {
			c.hasPlans = true
		}
	}
	for i := range c.Licenses {
		lic := &c.Licenses[i]
		lic.GrantSet = c.FeatureBits()
		for _, g := range lic.Grants {
			for _, f := range c.Features {
				if f.Key == g || strings.HasPrefix(f.Key, g+".") {
					lic.GrantSet.Set(f.Index)
				}
			}
		}
		lic.RequiresSet = c.indexSet(lic.RequiresOneOf)
		lic.CoverageSet = c.indexSet(lic.Coverage)
	}
	for i := range c.Licenses {
		lic := &c.Licenses[i]
		lic.Closure = c.closure(i, nil)
		lic.ClosureCover = c.closure(i, lic.CoverageSet)
		lic.FeatureSet = c.featuresOf(lic.Closure)
		lic.FeatureCover = c.featuresOf(lic.ClosureCover)
	}

	services := append([]rawService{accountService()}, raw.services...)
	for si, s := range services {
		svc := Service{Index: si, Key: s.key, Title: s.title, Requires: s.requires.key, DefaultRole: s.defRole.key, BuiltIn: s.builtIn}
		for _, p := range s.permissions {
			c.permissions[p.key] = len(c.Permissions)
			c.Permissions = append(c.Permissions, Permission{Index: len(c.Permissions), Key: p.key, Description: p.description, Service: si})
			svc.Permissions = append(svc.Permissions, p.key)
		}
		for _, r := range s.roles {
			svc.Roles = append(svc.Roles, Role{Name: r.name, Description: r.description, Permissions: keys(r.permissions), Licenses: keys(r.licenses)})
		}
		c.Services = append(c.Services, svc)
		c.services[s.key] = si
	}
	return c
}

func keys(rs []ref) []string {
	if len(rs) == 0 {
		return nil
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.key
	}
	return out
}

func (c *Catalog) indexSet(keys []string) Bits {
	b := c.LicenseBits()
	for _, k := range keys {
		b.Set(c.licenses[k])
	}
	return b
}

// closure returns the licenses reached from license i through includes,
// i itself included. Includes listed in skip are not followed from i (but
// are kept if another include reaches them): this is how a concurrent plan
// leaves out its coverage licenses (R9).
func (c *Catalog) closure(i int, skip Bits) Bits {
	out := c.LicenseBits()
	out.Set(i)
	var walk func(j int)
	walk = func(j int) {
		for _, k := range c.Licenses[j].Includes {
			n := c.licenses[k]
			if j == i && skip != nil && skip.Has(n) {
				continue
			}
			if !out.Has(n) {
				out.Set(n)
				walk(n)
			}
		}
	}
	walk(i)
	return out
}

func (c *Catalog) featuresOf(lics Bits) Bits {
	out := c.FeatureBits()
	lics.Each(func(i int) { out.Or(c.Licenses[i].GrantSet) })
	return out
}
