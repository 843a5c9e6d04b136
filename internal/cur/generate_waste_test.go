package cur

import "testing"

// TestInventoryListsTheOrganization: the same options list the same
// resources; every linked account has its unattached gp2 volume and old
// snapshots, every other one an idle address; the fleet's volumes are
// attached; IDs are unique.
func TestInventoryListsTheOrganization(t *testing.T) {
	opts := GenerateOptions{Seed: 7, Accounts: 4, Months: 1, Start: testStart, ResourcesPerAccount: 8}
	a, err := Inventory(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Inventory(opts)
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%d then %d items", len(a), len(b))
	}
	seen := map[string]bool{}
	kinds := map[string]int{}
	detached := 0
	for i, it := range a {
		if it.ID != b[i].ID {
			t.Fatalf("item %d: %s then %s", i, it.ID, b[i].ID)
		}
		if seen[it.ID] {
			t.Errorf("%s listed twice", it.ID)
		}
		seen[it.ID] = true
		kinds[it.Kind]++
		if it.Kind == "volume" && it.AttachedTo == "" {
			detached++
			if it.VolumeType != "gp2" {
				t.Errorf("detached volume %s is %s", it.ID, it.VolumeType)
			}
		}
		if it.Kind == "snapshot" && (it.Created.IsZero() || !it.Created.Before(testStart.AddDate(0, 0, -99))) {
			t.Errorf("snapshot %s created %s: not months old", it.ID, it.Created)
		}
	}
	if detached != 4 || kinds["snapshot"] < 4 || kinds["elastic-ip"] != 2 || kinds["instance"] == 0 || kinds["db"] == 0 || kinds["bucket"] == 0 || kinds["natgateway"] == 0 {
		t.Errorf("kinds %v, %d detached volumes", kinds, detached)
	}
}
