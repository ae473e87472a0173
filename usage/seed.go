package usage

import "github.com/dcrflow/dcrflow"

// DomainOf is the domain a resource of a kind belongs to: Okta's live on the portal's
// authorization server, the rest in the Konnect org.
func DomainOf(kind dcrflow.Kind, authServerID string) string {
	switch kind {
	case dcrflow.KindScope, dcrflow.KindClaim, dcrflow.KindAccessPolicy:
		return OktaDomain(authServerID)
	}
	return KonnectDomain
}

// KeyOf is a resource's key in its domain's record: a publication by its id (api id
// and portal id), everything else by name.
func KeyOf(r dcrflow.Resource) Key {
	if r.Kind == dcrflow.KindPublication {
		return Key{Kind: r.Kind, Name: r.ID}
	}
	return Key{Kind: r.Kind, Name: r.Name}
}

// SeedsFrom are the uses an onboarding result shows for one domain. authServerID is
// the run's authorization server ("" when unknown: its Okta resources count for
// every Okta domain, so that nothing in use is taken for unused).
func SeedsFrom(domain, portal, run, authServerID string, resources []dcrflow.Resource) []Seed {
	var out []Seed
	for _, r := range resources {
		d := DomainOf(r.Kind, authServerID)
		if d != domain && !(authServerID == "" && d != KonnectDomain && domain != KonnectDomain) {
			continue
		}
		if r.Name == "" && r.ID == "" {
			continue
		}
		s := Seed{Key: KeyOf(r), Portal: portal, Run: run, Created: r.Action == dcrflow.ActionCreated}
		switch r.Action {
		case dcrflow.ActionPublished:
			s.Changed = true
		case dcrflow.ActionUpdated:
			s.Changed, s.Before = true, r.Previous
		}
		out = append(out, s)
	}
	return out
}
