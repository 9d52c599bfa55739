package scim

// ServiceProviderConfig is the document of /ServiceProviderConfig (RFC
// 7643 §5): what this server supports.
func ServiceProviderConfig(docs string) Resource {
	yes := map[string]any{"supported": true}
	return Resource{
		"schemas":          []any{ServiceProviderConfigSchema},
		"documentationUri": docs,
		"patch":            yes,
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": MaxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             yes,
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "Bearer token",
			"description": "A Seatkeeper operator token, or an admin token of the account, as Authorization: Bearer <token>",
			"primary":     true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": "ServiceProviderConfig"},
	}
}

// MaxResults is the largest page a list answers.
const MaxResults = 1000

// ResourceTypes is the document of /ResourceTypes.
func ResourceTypes() []Resource {
	var out []Resource
	for _, rt := range []*ResourceType{Users, Groups} {
		var exts []any
		for _, e := range rt.Extensions {
			exts = append(exts, map[string]any{"schema": e.ID, "required": false})
		}
		r := Resource{
			"schemas": []any{ResourceTypeSchema}, "id": rt.Name, "name": rt.Name,
			"endpoint": rt.Endpoint, "schema": rt.Schema.ID,
			"meta": map[string]any{"resourceType": "ResourceType", "location": "ResourceTypes/" + rt.Name},
		}
		if exts != nil {
			r["schemaExtensions"] = exts
		}
		out = append(out, r)
	}
	return out
}

// SchemaResource is a schema as served by /Schemas.
func SchemaResource(s *Schema) Resource {
	attrs := s.Attributes
	return Resource{
		"schemas": []any{SchemaSchema}, "id": s.ID, "name": s.Name, "description": s.Description,
		"attributes": attrs,
		"meta":       map[string]any{"resourceType": "Schema", "location": "Schemas/" + s.ID},
	}
}
