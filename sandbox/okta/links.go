package okta

// HAL links as Okta writes them in _links.
type link struct {
	Name  string `json:"name,omitempty"`
	Href  string `json:"href"`
	Hints *hints `json:"hints,omitempty"`
}

type hints struct {
	Allow []string `json:"allow"`
}

func linkTo(href string, allow ...string) *link {
	return &link{Href: href, Hints: &hints{Allow: allow}}
}

// selfLinks is the _links of scopes and claims.
type selfLinks struct {
	Self *link `json:"self"`
}

// lifecycleLinks is the _links of policies and rules.
type lifecycleLinks struct {
	Self       *link `json:"self"`
	Activate   *link `json:"activate,omitempty"`
	Deactivate *link `json:"deactivate,omitempty"`
	Rules      *link `json:"rules,omitempty"`
}

// lifecycle links the transition away from status.
func lifecycle(base, status string) (activate, deactivate *link) {
	if status == statusActive {
		return nil, linkTo(base+"/lifecycle/deactivate", "POST")
	}
	return linkTo(base+"/lifecycle/activate", "POST"), nil
}

func (e *Emulator) serverURL(serverID string) string {
	return e.opts.BaseURL + "/api/v1/authorizationServers/" + serverID
}
