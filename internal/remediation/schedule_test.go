package remediation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/remediation"
)

func officeHours() remediation.Schedule {
	return remediation.Schedule{Name: "office", TagKey: "schedule", TagValue: "office", Regions: []string{"eu-west-1"}, Timezone: "Europe/Paris",
		Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "08:00", Stop: "19:00", SkipDates: []string{"2026-12-25"}}
}

func TestScheduleDesired(t *testing.T) {
	s := officeHours()
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	paris := func(day, hm string) time.Time {
		loc, _ := time.LoadLocation("Europe/Paris")
		tm, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hm, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	for _, c := range []struct{ day, hm, want string }{
		{"2026-12-07", "07:59", "stopped"}, // Monday before start
		{"2026-12-07", "08:00", "running"},
		{"2026-12-07", "18:59", "running"},
		{"2026-12-07", "19:00", "stopped"},
		{"2026-12-05", "12:00", "stopped"}, // Saturday
		{"2026-12-25", "12:00", ""},        // a skip date: no action
	} {
		if got := s.Desired(paris(c.day, c.hm)); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.day, c.hm, got, c.want)
		}
	}
	for _, bad := range []func(*remediation.Schedule){
		func(s *remediation.Schedule) { s.Timezone = "Mars/Olympus" },
		func(s *remediation.Schedule) { s.Stop = "07:00" },
		func(s *remediation.Schedule) { s.Days = []string{"funday"} },
		func(s *remediation.Schedule) { s.SkipDates = []string{"25/12"} },
		func(s *remediation.Schedule) { s.Regions = nil },
		func(s *remediation.Schedule) { s.TagKey = "" },
	} {
		s := officeHours()
		bad(&s)
		if err := s.Check(); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%+v accepted: %v", s, err)
		}
	}
}

func TestOffHoursScheduleStopsAndStartsByTag(t *testing.T) {
	w := newWorld(t, "eu-west-1")
	tagged := map[string]string{"crossbill-remediation": "allowed", "schedule": "office"}
	web := w.instance(tagged, "t3.micro")
	notAllowed := w.instance(map[string]string{"schedule": "office"}, "t3.micro")
	unscheduled := w.instance(allowed(), "t3.micro")
	sc, err := remediation.CreateSchedule(w.ctx, w.env, remediation.ScheduleRequest{Tenant: w.tenant, Schedule: officeHours(), By: w.requester})
	if err != nil || sc.ApprovalState != approval.Pending {
		t.Fatalf("create: %+v %v", sc, err)
	}
	saturday := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	conn := byARNConn(t, w)
	// Not approved yet: nothing happens.
	if ps, err := remediation.RunSchedules(w.ctx, w.env, w.tenant, conn, saturday); err != nil || len(ps) != 0 {
		t.Fatalf("unapproved schedule acted: %v %v", ps, err)
	}
	if _, err := approval.Decide(w.ctx, w.st, w.tenant, sc.ApprovalID, true, "", w.requester); crossbill.ErrorCode(err) != crossbill.CodeAccessDenied {
		t.Fatalf("requester approving their schedule: %v", err)
	}
	must(approval.Decide(w.ctx, w.st, w.tenant, sc.ApprovalID, true, "ok", w.approver))
	ps, err := remediation.RunSchedules(w.ctx, w.env, w.tenant, conn, saturday)
	if err != nil || len(ps) != 1 || ps[0].State != remediation.StateDone {
		t.Fatalf("saturday: %+v %v", ps, err)
	}
	if s, _ := w.instanceState(web); s != "stopped" {
		t.Errorf("web on saturday: %s", s)
	}
	if s, _ := w.instanceState(notAllowed); s != "running" {
		t.Errorf("an instance without the remediation tag was stopped: %s", s)
	}
	if s, _ := w.instanceState(unscheduled); s != "running" {
		t.Errorf("an instance without the schedule tag was stopped: %s", s)
	}
	refused := 0
	for _, it := range ps[0].Items {
		if it.Status == remediation.ItemRefused && strings.Contains(it.Fix, "crossbill-remediation=allowed") {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("plan items: %+v", ps[0].Items)
	}
	// Someone starts web on Saturday afternoon: the schedule does not
	// fight them until the next change.
	w.startInstance(web)
	if ps, _ := remediation.RunSchedules(w.ctx, w.env, w.tenant, conn, saturday.Add(3*time.Hour)); len(ps) != 0 {
		t.Errorf("acted again without a change: %+v", ps)
	}
	w.stopInstance(web)
	monday := time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC) // 09:30 in Paris
	if ps, err := remediation.RunSchedules(w.ctx, w.env, w.tenant, conn, monday); err != nil || len(ps) != 1 {
		t.Fatalf("monday: %+v %v", ps, err)
	}
	if s, _ := w.instanceState(web); s != "running" {
		t.Errorf("web on monday: %s", s)
	}
	views := must(remediation.Schedules(w.ctx, w.st, w.tenant))
	if len(views) != 1 || views[0].LastDesired != "running" || views[0].ApprovalState != approval.Approved {
		t.Errorf("schedules: %+v", views)
	}
	must(0, remediation.DeleteSchedule(w.ctx, w.st, w.tenant, "office", w.requester))
	if ps, _ := remediation.RunSchedules(w.ctx, w.env, w.tenant, conn, saturday.AddDate(0, 0, 7)); len(ps) != 0 {
		t.Errorf("a deleted schedule acted: %+v", ps)
	}
}
