package workflows

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

// CompareDrift judges one portal: what the file declares (spec), what exists now (the
// read-only plan of the portal, judged alone: PlanPortal, without MarkShared) and
// what its last onboarding recorded (last, nil when none completed). Every item of
// the plan is ok (adopt, unchanged), drifted (conflict, republish: the plan's diffs
// are the fields), or missing (create, publish, or something the run needs and never
// creates). What the last onboarding created or published and the file no longer
// declares is extra. Pure: the workflows and `dcrflow check` judge alike.
func CompareDrift(spec dcrflow.PortalSpec, plan dcrflow.PortalPlan, last *dcrflow.OnboardResult) dcrflow.PortalDrift {
	d := dcrflow.PortalDrift{Portal: spec.Key, Items: []dcrflow.DriftItem{}, Onboarded: last != nil}
	for _, it := range plan.Items {
		item := dcrflow.DriftItem{Kind: it.Kind, Name: it.Name, ID: it.ID}
		switch it.Action {
		case dcrflow.PlanAdopt, dcrflow.PlanUnchanged:
			item.State = dcrflow.DriftOK
		case dcrflow.PlanConflict, dcrflow.PlanRepublish:
			item.State, item.Fields = dcrflow.DriftDrifted, slices.Clone(it.Diffs)
		default: // create, publish, missing
			item.State = dcrflow.DriftMissing
			if it.Action == dcrflow.PlanMissing {
				item.Fields = []string{"onboarding needs it and never creates it"}
			}
		}
		d.Items = append(d.Items, item)
	}
	// The plan's problems that an item already says (a conflict, something missing)
	// are not repeated; the others (a refused lookup, an ambiguous name) are kept.
	for _, pr := range plan.Problems {
		if !slices.ContainsFunc(d.Items, func(it dcrflow.DriftItem) bool {
			return it.State != dcrflow.DriftOK && it.Name != "" && strings.Contains(pr, it.Name)
		}) {
			d.Problems = append(d.Problems, pr)
		}
	}
	if last != nil {
		d.Items = append(d.Items, extras(spec, *last)...)
	}
	// Problems that are not already a missing item (a refused lookup) are drift too:
	// the portal cannot be onboarded as it stands.
	d.State = dcrflow.DriftOK
	for _, it := range d.Items {
		if it.State != dcrflow.DriftOK {
			d.State = dcrflow.DriftDrifted
		}
	}
	if d.State == dcrflow.DriftOK && len(d.Problems) > 0 {
		d.State = dcrflow.DriftUnknown
	}
	if d.State != dcrflow.DriftOK && last == nil && !slices.ContainsFunc(d.Items, func(it dcrflow.DriftItem) bool { return it.State == dcrflow.DriftOK }) {
		d.State = dcrflow.DriftMissing // never onboarded, nothing of it exists
	}
	return d
}

// extras are what the last onboarding made (created, or published where nothing
// was) that the file no longer declares.
func extras(spec dcrflow.PortalSpec, last dcrflow.OnboardResult) []dcrflow.DriftItem {
	declared := map[string]bool{
		string(dcrflow.KindClaim) + "\x00" + spec.ClaimName:            true,
		string(dcrflow.KindDCRProvider) + "\x00" + spec.DCRProvider:    true,
		string(dcrflow.KindAuthStrategy) + "\x00" + spec.Strategy.Name: true,
	}
	for _, s := range spec.Scopes {
		declared[string(dcrflow.KindScope)+"\x00"+s.Name] = true
	}
	for _, api := range spec.APIs {
		declared[string(dcrflow.KindPublication)+"\x00"+api.API] = true
	}
	var out []dcrflow.DriftItem
	seen := map[string]bool{}
	for _, r := range last.Resources {
		if r.Action != dcrflow.ActionCreated && r.Action != dcrflow.ActionPublished {
			continue
		}
		key := string(r.Kind) + "\x00" + r.Name
		extra := !declared[key]
		if r.Kind == dcrflow.KindAccessPolicy {
			extra = spec.AccessPolicy != dcrflow.AccessPolicyEnsure
		}
		if !extra || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, dcrflow.DriftItem{Kind: r.Kind, Name: r.Name, ID: r.ID, State: dcrflow.DriftExtra,
			Fields: []string{"dcrflow's last onboarding " + string(r.Action) + " it; the file no longer declares it (offboard or prune removes it)"}})
	}
	return out
}

// healPlan says what --heal does for a drifted portal: the scopes dcrflow made to put
// back before onboarding runs again, or why it cannot heal (""/nil when it can).
// Onboarding creates what is missing and adopts what matches; it never overwrites
// what differs, and nothing here deletes anything.
func healPlan(d dcrflow.PortalDrift) (repair []string, refuse string, onboard bool) {
	var why []string
	for _, it := range d.Items {
		switch {
		case it.State == dcrflow.DriftMissing:
			switch it.Kind {
			case activities.KindAuthServer, activities.KindPortal, activities.KindAPI, activities.KindDCRToken, activities.KindValidationOwner:
				why = append(why, fmt.Sprintf("%s %s is missing and onboarding never creates it", it.Kind, it.Name))
			default:
				onboard = true
			}
		case it.State == dcrflow.DriftDrifted && it.Kind == dcrflow.KindScope:
			repair, onboard = append(repair, it.Name), true
		case it.State == dcrflow.DriftDrifted && it.Kind == dcrflow.KindPublication:
			onboard = true // onboarding republishes it as the file says
		case it.State == dcrflow.DriftDrifted:
			why = append(why, fmt.Sprintf("%s %s differs (%s) and onboarding never overwrites it; fix it by hand", it.Kind, it.Name, strings.Join(it.Fields, "; ")))
		}
	}
	if len(why) == 0 && len(d.Problems) > 0 {
		why = d.Problems
	}
	if len(why) > 0 {
		return nil, strings.Join(why, "; "), false
	}
	return repair, "", onboard
}
