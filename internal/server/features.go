package server

// featureRoutes are the routes of the feature packages (connections, costs,
// commitments, review, annex) wired into this build.
func (s *Server) featureRoutes() []route {
	return nil
}

// featureSchemas are the OpenAPI schemas of featureRoutes.
func (s *Server) featureSchemas() obj {
	return obj{}
}

// registerRunners registers the scheduler's job kinds.
func (s *Server) registerRunners() {}

// closeFeatures releases what feature packages opened (cost stores).
func (s *Server) closeFeatures() error { return nil }
