package gateway

// OpenAPIDocument exposes openAPIDocument to the external tests.
var OpenAPIDocument = openAPIDocument
