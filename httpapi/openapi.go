package httpapi

import _ "embed"

// openAPIDocument is the OpenAPI 3.1 description of the API. A test keeps
// its paths in step with the registered routes.
//
//go:embed openapi.json
var openAPIDocument []byte
